"""The person pages: scoped (the matrix), audited, within a fixed number of queries, and forms
that refuse bad input in Chinese without changing anything."""

import datetime
import io
import re
import zipfile

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.models import AuditEntry
from core.roles import ALL_ROLES, Role
from jindu.testing.scope import TASKED
from persons import queries, services, support
from persons.choices import (
    CheckInKind,
    ControlStatus,
    DrugTestResult,
    FlagState,
    MeasureKind,
    MeasureState,
    Substance,
    TransferState,
)
from persons.models import CheckIn, Flag, Person, PlannedCheckIn
from persons.tests import people

MARKER = "目标人员"
# Who reaches a person file that is assigned to nobody: the roles of Person.scope_roles except
# the social worker, who sees only the files assigned to them, and the member unit, which sees a
# person only with a support task for them (TASKED), and then what the task needs.
READERS = frozenset({Role.OFFICE, Role.TOWNSHIP, Role.POLICE, TASKED})
LISTERS = frozenset({Role.OFFICE, Role.TOWNSHIP, Role.POLICE})  # a member unit has its task list instead
WRITERS = frozenset({Role.OFFICE, Role.TOWNSHIP, Role.POLICE})
# What a member unit must not receive of the person of its task (SPEC §2, 最小必要).
NOT_FOR_MEMBER_UNITS = ["戒毒条例 第二十条", "风险", "艾滋病病毒感染", "精神障碍", "社区戒毒", "推荐到县工业园区就业",
                        "示公(禁)社戒决字", "毒品检测", "拒绝或逃避检测"]
TODAY = timezone.localdate


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def village(tree):
    return tree["villages"][0]


@pytest.fixture
def target(village):
    return people.under_treatment(village, name=MARKER, phone="13912345678")


def _login(client, jurisdiction, *roles):
    user = UserFactory(jurisdiction=jurisdiction, roles=list(roles))
    client.force_login(user)
    return user


def _refuse_three_tests(person):
    for days in (60, 30, 2):
        services.do_record_check_in(person, CheckInKind.DRUG_TEST, TODAY() - datetime.timedelta(days=days),
                                    acting_user=None, result=DrugTestResult.REFUSED)
    return person.flags.get(rule="serious_breach", state=FlagState.OPEN)


def xlsx_text(content: bytes) -> str:
    """Every string of an xlsx file (its shared strings and inline cells)."""
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return "".join(book.read(name).decode() for name in book.namelist() if name.startswith("xl/"))


# --- scope: the matrix for every endpoint ------------------------------------------------------


def test_list_is_scoped(scope_matrix, target, client):
    scope_matrix.add_tasked_member_units(target)
    scope_matrix.check_list(client, reverse("persons:list"), marker=MARKER, allowed_roles=LISTERS)


def _full_file(person):
    """A file with something of every kind a member unit must not read: refused tests and the
    flag they raise, HIV and a mental disorder, a risk assessment, another unit's support."""
    services.do_update_person(person, expected_version=person.version, acting_user=None, hiv_positive=True,
                              mental_disorder=True)
    person.refresh_from_db()
    _refuse_three_tests(person)
    services.do_assess_risk(person, acting_user=None)
    from persons import support

    support.do_record_support(person, "employment", TODAY(), "推荐到县工业园区就业", acting_user=None)


def test_detail_is_scoped(scope_matrix, target, client):
    """The page of a person: to the file roles in the area and to a member unit with a task for
    the person — without tests, flags, health, risk, measure, birth date or other support."""
    _full_file(target)
    scope_matrix.add_tasked_member_units(target)
    url = reverse("persons:detail", args=[target.pk])
    hidden = list(NOT_FOR_MEMBER_UNITS)  # the birth date is on no page (the age instead)
    _login(client, scope_matrix.target, Role.TOWNSHIP)
    office_page = client.get(url).content.decode()
    assert [text for text in hidden if text not in office_page] == []  # each is on the file's page
    scope_matrix.check_detail(client, url, allowed_roles=READERS, hidden={TASKED: hidden})


def test_export_is_scoped(scope_matrix, target, client):
    """An export outside one's role is refused; outside one's area it holds nobody from there."""
    failures = []
    for case in scope_matrix.cases:
        client.force_login(case.user)
        response = client.get(reverse("persons:list") + "?export=xlsx")
        visible = scope_matrix.expected(case, WRITERS)
        has_marker = response.status_code == 200 and MARKER in xlsx_text(response.content)
        if visible != has_marker or response.status_code not in (200, 403):
            failures.append(f"{case}: {response.status_code}, {'with' if has_marker else 'without'} the person")
    assert failures == []


@pytest.mark.parametrize("url_name", ["persons:check_in", "persons:edit", "persons:status",
                                      "persons:measure_decide"])
def test_person_forms_are_scoped(scope_matrix, target, client, url_name):
    scope_matrix.check_detail(client, reverse(url_name, args=[target.pk]), allowed_roles=WRITERS)


@pytest.mark.parametrize("url_name", ["persons:flag_decide", "persons:flag_dismiss"])
def test_flag_forms_are_scoped(scope_matrix, target, client, url_name):
    flag = _refuse_three_tests(target)
    scope_matrix.check_detail(client, reverse(url_name, args=[flag.pk]), allowed_roles=WRITERS)


def test_measure_forms_are_scoped(scope_matrix, target, client):
    measure = target.measures.get()
    scope_matrix.check_detail(client, reverse("persons:measure_end", args=[measure.pk]), allowed_roles=WRITERS)


def test_a_worker_of_another_township_cannot_flag_or_record(tree, target, client):
    flag = _refuse_three_tests(target)
    _login(client, tree["townships"][1], Role.TOWNSHIP)
    posts = [
        (reverse("persons:flag_decide", args=[flag.pk]), {f"decide-{flag.pk}-decision": "已决定强制隔离戒毒"}),
        (reverse("persons:flag_dismiss", args=[flag.pk]), {f"dismiss-{flag.pk}-reason": "情况不属实，已核实"}),
        (reverse("persons:check_in", args=[target.pk]), {"kind": "interview", "occurred_on": TODAY().isoformat()}),
    ]
    check_ins = CheckIn.objects.count()
    for url, data in posts:
        assert client.post(url, data).status_code == 404
    flag.refresh_from_db()
    assert flag.state == FlagState.OPEN and CheckIn.objects.count() == check_ins


def test_social_worker_sees_only_assigned_persons(tree, township, village, target, client):
    other = people.person(village, name="别人的人员")
    assigned = UserFactory(jurisdiction=township, roles=[Role.SOCIAL_WORKER])
    colleague = UserFactory(jurisdiction=township, roles=[Role.SOCIAL_WORKER])
    services.do_update_person(target, expected_version=target.version, acting_user=None, assigned_worker=assigned)
    client.force_login(assigned)
    body = client.get(reverse("persons:list")).content.decode()
    assert MARKER in body and "别人的人员" not in body
    assert client.get(reverse("persons:detail", args=[target.pk])).status_code == 200
    assert client.get(reverse("persons:detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("persons:check_in", args=[target.pk])).status_code == 200
    client.force_login(colleague)
    assert MARKER not in client.get(reverse("persons:list")).content.decode()
    assert client.get(reverse("persons:detail", args=[target.pk])).status_code == 404


@pytest.mark.parametrize("role", sorted(ALL_ROLES - WRITERS - {Role.SOCIAL_WORKER}))
def test_create_page_only_for_writers(tree, client, role):
    _login(client, tree["county"], role)
    assert client.get(reverse("persons:create")).status_code == 403


def test_pages_need_a_login(target, client):
    for url in (reverse("persons:list"), reverse("persons:detail", args=[target.pk]), reverse("persons:today")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


# --- query counts ------------------------------------------------------------------------------

# session, user, policy, roles, area; the area choices; the count; the audit entry (savepoint,
# anchor row, insert, anchor update, release); the page; the session's renewal (the first page).
LIST_QUERIES = 16


def _populate(village, count: int):
    for n in range(count):
        if n % 4 == 0:
            someone = people.under_treatment(village, name=f"人员{n}")
            if n % 8 == 0:
                _refuse_three_tests(someone)
        else:
            people.person(village, name=f"人员{n}", substances=[Substance.HEROIN])


@pytest.mark.parametrize("count", [5, 40])
def test_list_query_count_does_not_grow_with_rows(township, village, client, count, django_assert_max_num_queries):
    _populate(village, count)
    _login(client, township, Role.TOWNSHIP)
    url = reverse("persons:list") + "?status=&overdue=&q=人员"
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == count


@pytest.mark.parametrize("count", [5, 40])
def test_export_query_count_does_not_grow_with_rows(township, village, client, count, django_assert_max_num_queries):
    _populate(village, count)
    _login(client, township, Role.TOWNSHIP)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(reverse("persons:list") + "?export=xlsx")
    assert response.status_code == 200


# --- the list: filters, masking, audit ---------------------------------------------------------


@pytest.fixture
def listing(tree, village, client):
    """Four persons in two villages and a township user who sees them all."""
    other_village = tree["villages"][1]
    persons = {
        "zhang": people.person(village, name="张伟", substances=[Substance.METHAMPHETAMINE],
                               number=people.id_number(serial=311)),
        "li": people.under_treatment(other_village, name="李娜", sex="F"),
        "wang": people.person(other_village, name="王强", status=ControlStatus.WHEREABOUTS_UNKNOWN),
        "zhao": people.under_treatment(village, name="赵敏"),
    }
    _refuse_three_tests(persons["zhao"])
    _login(client, tree["townships"][0], Role.TOWNSHIP)
    return persons


def _names(client, query: str) -> set:
    response = client.get(reverse("persons:list") + query)
    assert response.status_code == 200
    return {row.record.name for row in response.context["table"].page.object_list}


def test_filters(listing, client, tree):
    everyone = {"张伟", "李娜", "王强", "赵敏"}
    assert _names(client, "") == everyone
    assert _names(client, "?q=张") == {"张伟"}
    assert _names(client, "?q=ZW") == {"张伟"}  # pinyin initials, any case
    assert _names(client, "?q=l") == {"李娜"}
    assert _names(client, "?id_number=" + listing["zhang"].id_number.lower()) == {"张伟"}
    assert _names(client, f"?area={tree['villages'][1].code}") == {"李娜", "王强"}
    assert _names(client, f"?area={tree['townships'][0].code}") == everyone
    assert _names(client, "?status=whereabouts_unknown") == {"王强"}
    assert _names(client, "?substance=methamphetamine") == {"张伟"}
    assert _names(client, "?overdue=true") == {"李娜", "赵敏"}
    assert _names(client, "?overdue=false") == {"张伟", "王强"}
    assert _names(client, "?flagged=true") == {"赵敏"}
    assert _names(client, "?flagged=true&area=" + tree["villages"][1].code) == set()


def test_a_wrong_id_number_is_an_error_not_a_search(listing, client):
    response = client.get(reverse("persons:list") + "?id_number=110101199003071235")
    assert response.status_code == 200
    assert not response.context["table"].page.object_list
    assert "校验位不对" in response.content.decode()


def test_an_area_outside_ones_own_is_refused(listing, client, tree):
    response = client.get(reverse("persons:list") + f"?area={tree['townships'][1].code}")
    assert not response.context["table"].page.object_list
    assert response.context["filter"].errors


def test_list_masks_id_numbers_and_counts_flags(listing, client):
    body = client.get(reverse("persons:list")).content.decode()
    for person in listing.values():
        assert person.id_number not in body
        assert person.id_number[:6] + "*" * 10 + person.id_number[-2:] in body
    row = next(r for r in client.get(reverse("persons:list") + "?q=赵").context["table"].page.object_list)
    assert row.record.open_flags == 1


def test_a_search_is_audited_with_its_criteria(listing, client):
    client.get(reverse("persons:list") + "?q=张&status=")
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.SEARCH).latest("seq")
    assert entry.changes == {"criteria": {"q": "*"}, "page": 1, "rows": 1, "results": 1}  # a name searched is masked


def test_export_holds_no_full_id_number_and_is_audited(listing, client):
    response = client.get(reverse("persons:list") + "?overdue=true&export=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    text = xlsx_text(response.content)
    assert "李娜" in text and "赵敏" in text and "张伟" not in text
    assert not re.search(r"\d{17}[\dX]", text), "a full ID number in the export"
    for person in listing.values():
        assert person.id_number not in text
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).get()
    assert entry.changes == {"rows": 2, "filters": {"overdue": "true"}, "layout": "xlsx"}


def test_roster_is_the_filed_layout_masked_audited_and_read_back_by_the_import(listing, client, tree):
    import io

    import openpyxl

    from persons.importers import read_ledger

    response = client.get(reverse("persons:list") + "?overdue=true&export=roster")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert "登记在册吸毒人员花名册" in sheet.cell(row=1, column=1).value
    assert sheet.cell(row=2, column=1).value.startswith("填报单位")
    assert [c.value for c in sheet[3]][:4] == ["序号", "姓名", "性别", "身份证号码"]
    text = xlsx_text(response.content)
    assert "李娜" in text and "赵敏" in text and "张伟" not in text
    assert not re.search(r"\d{17}[\dX]", text), "a full ID number in the roster"
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).get()
    assert entry.changes == {"rows": 2, "filters": {"overdue": "true"}, "layout": "roster"}
    # The import recognises every column of the roster by its name.
    ledger = read_ledger(response.content, "花名册.xlsx")
    assert ledger.header_row == 3 and not ledger.warnings and ledger.rows_read == 2


def test_member_units_cannot_export_the_roster_nor_an_unknown_layout(listing, client, tree):
    _login(client, tree["county"], Role.MEMBER_UNIT)
    assert client.get(reverse("persons:list") + "?export=roster").status_code == 403
    _login(client, tree["county"], Role.OFFICE)
    assert client.get(reverse("persons:list") + "?export=pdf").status_code == 403


def test_member_units_have_no_person_list_and_cannot_export(listing, client, tree):
    """A member unit searches its support tasks, not the register (which it listed whole before)."""
    _login(client, tree["county"], Role.MEMBER_UNIT)
    assert client.get(reverse("persons:list")).status_code == 403
    assert client.get(reverse("persons:list") + "?q=李").status_code == 403
    assert client.get(reverse("persons:list") + "?export=xlsx").status_code == 403


def test_quick_filters_are_plain_links(listing, client):
    body = client.get(reverse("persons:list") + "?overdue=true").content.decode()
    assert 'href="?overdue=true" aria-current="true"' in body
    assert 'href="?flagged=true"' in body


# --- the person page ---------------------------------------------------------------------------


def test_person_page_shows_the_file_the_flag_and_the_timeline(target, township, client):
    flag = _refuse_three_tests(target)
    user = _login(client, township, Role.TOWNSHIP)
    response = client.get(reverse("persons:detail", args=[target.pk]))
    body = response.content.decode()
    assert target.id_number not in body and "139****5678" in body  # masked, with a reveal button
    assert f'id="flag-{flag.pk}"' in body and "戒毒条例 第二十条" in body
    assert reverse("persons:flag_decide", args=[flag.pk]) in body
    assert body.count('<li id="checkin-') == 3
    for event in response.context["timeline"]:
        assert f'id="{event.anchor}"' in body
    for _flag, evidence, _decide, _dismiss in response.context["open_flags"]:
        for item in evidence:  # each piece of evidence links to its line on the timeline
            assert f'href="#{item["anchor"]}"' in body and f'id="{item["anchor"]}"' in body
    dates = [event.on for event in response.context["timeline"]]
    assert dates == sorted(dates, reverse=True)
    assert response.context["measure"].state == MeasureState.IN_EFFECT
    assert response.context["plan"]["overdue"]  # reported in 120 days ago, nothing done since
    assert AuditEntry.objects.filter(action=AuditEntry.Action.VIEW, actor=user, object_id=str(target.pk)).count() == 1


# The loop the page template had.
OLD_TIMELINE_LOOP = """{% for event in timeline %}
          <li id="{{ event.anchor }}" class="timeline-row">
            <span class="status-dot status-{{ event.tone }} timeline-dot"></span>
            <span class="timeline-date">{{ event.on|date:"Y-m-d" }}</span>
            <span class="timeline-body"><span class="timeline-title">{{ event.title }}</span>{% if event.detail %} \
<span class="text-secondary small">{{ event.detail }}</span>{% endif %}</span>
          </li>
          {% endfor %}"""  # (the backslash joins two lines of the template's one)


def test_the_timeline_rows_are_the_html_the_template_wrote(target):
    """persons.views.timeline_rows writes what the page's {% for %} loop over the events wrote."""
    from django.template import Context, Template

    from persons.queries import TimelineEvent
    from persons.views import timeline_rows

    _refuse_three_tests(target)
    events = queries.PersonFile(target).timeline() + [
        TimelineEvent(datetime.date(987, 6, 5), "check_in", "checkin-1", '<b>"尿检" & 阴性</b>', "", "red"),
        TimelineEvent(datetime.date(2026, 1, 2), "flag", "flag-event-2", "标题", "<i>'细节'</i> & more", "blue")]
    expected = Template(OLD_TIMELINE_LOOP).render(Context({"timeline": events}))
    assert timeline_rows(events) == expected
    assert "&lt;b&gt;&quot;尿检&quot; &amp; 阴性&lt;/b&gt;" in expected and "0987-06-05" in expected


def test_health_flags_only_for_health_roles(target, township, tree, client):
    services.do_update_person(target, expected_version=target.version, acting_user=None, hiv_positive=True)
    _login(client, township, Role.TOWNSHIP)
    assert "艾滋病病毒感染" in client.get(reverse("persons:detail", args=[target.pk])).content.decode()
    unit = _login(client, tree["county"], Role.MEMBER_UNIT)
    assert client.get(reverse("persons:detail", args=[target.pk])).status_code == 404  # no task
    support.do_assign_support_task(target, unit.member_unit, "schooling", "协助复学", TODAY(), acting_user=None)
    body = client.get(reverse("persons:detail", args=[target.pk])).content.decode()
    assert MARKER in body and "协助复学" in body and "艾滋病病毒感染" not in body
    assert reverse("persons:check_in", args=[target.pk]) not in body  # member units do not keep files


# session, user, roles, policy, area; the person; the audit entry (savepoint, anchor row, insert,
# anchor update, release); the person's file (queries.PersonFile): substances, open check-in
# plan and seven kinds of records.
PERSON_QUERIES = 20


def test_person_page_query_count(target, township, client, django_assert_max_num_queries):
    _refuse_three_tests(target)
    services.do_assess_risk(target, acting_user=None)
    _login(client, township, Role.TOWNSHIP)
    client.get(reverse("persons:detail", args=[target.pk]))  # the first page of a session renews its time-out
    with django_assert_max_num_queries(PERSON_QUERIES):
        response = client.get(reverse("persons:detail", args=[target.pk]))
    assert response.status_code == 200
    assert response.context["open_flags"] and response.context["risk"] and response.context["plan"]


# --- forms: good input changes one thing, bad input changes nothing ----------------------------


def _new_person_data(village, **overrides):
    data = {"name": "孙丽", "id_number": people.id_number(serial=422, sex="F"), "jurisdiction": village.pk,
            "grid": "", "control_status": ControlStatus.COMMUNITY_TREATMENT,
            "control_status_since": TODAY().isoformat(), "document_number": "", "substances": ["heroin", "ketamine"],
            "phone": "13700000001", "found_how": "", "living_situation": "housed", "family_support": "on"}
    data.update(overrides)
    return data


def test_create_person(township, village, client):
    _login(client, township, Role.TOWNSHIP)
    data = _new_person_data(village)
    response = client.post(reverse("persons:create"), data)
    person = Person.objects.get(name="孙丽")
    assert response.status_code == 302 and response["Location"] == reverse("persons:detail", args=[person.pk])
    assert person.sex == "F" and person.jurisdiction == village and person.living_situation == "housed"
    assert sorted(person.substances.values_list("substance", flat=True)) == ["heroin", "ketamine"]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("id_number", "110101199003071235", "校验位不对"),
    ("id_number", people.id_number(birth="19900230"), "出生日期不存在"),
    ("name", "", "该字段是必填项。"),
    ("control_status_since", "2999-01-01", "日期不能晚于今天。"),
])
def test_create_person_refuses_bad_input_in_chinese(township, village, client, field, value, message):
    _login(client, township, Role.TOWNSHIP)
    response = client.post(reverse("persons:create"), _new_person_data(village, **{field: value}))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not Person.objects.exists()


def test_create_person_outside_the_area_is_refused(township, tree, client):
    _login(client, township, Role.TOWNSHIP)
    elsewhere = tree["villages"][-1]  # a village of the other township
    response = client.post(reverse("persons:create"), _new_person_data(elsewhere))
    assert response.status_code == 400 and "jurisdiction" in response.context["form"].errors
    assert not Person.objects.exists()


def test_create_person_twice_is_refused(township, village, client):
    _login(client, township, Role.TOWNSHIP)
    data = _new_person_data(village)
    client.post(reverse("persons:create"), data)
    response = client.post(reverse("persons:create"), data | {"name": "孙丽丽"})
    assert response.status_code == 400 and "档案已存在" in " ".join(response.context["form"].errors["id_number"])
    assert Person.objects.count() == 1


def test_village_picker_holds_only_the_users_area(township, tree, client):
    _login(client, township, Role.TOWNSHIP)
    form = client.get(reverse("persons:create")).context["form"]
    values = {value for _group, options in form.fields["jurisdiction"].choices[1:] for value, _label in options}
    assert values == {township.pk, *(v.pk for v in tree["villages"] if v.parent_id == township.pk)}


def test_edit_person_and_a_stale_version(target, township, client):
    _login(client, township, Role.TOWNSHIP)
    url = reverse("persons:edit", args=[target.pk])
    form = client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(current_address="新地址1号", family_support="on", substances=[], jurisdiction=target.jurisdiction_id,
                grid="", assigned_worker="")
    data = {k: v for k, v in data.items() if not isinstance(v, bool) or v}
    assert client.post(url, data).status_code == 302
    target.refresh_from_db()
    assert target.current_address == "新地址1号"
    response = client.post(url, data | {"current_address": "旧版本"})  # the version posted is now stale
    assert response.status_code == 409
    target.refresh_from_db()
    assert target.current_address == "新地址1号"


def test_record_a_refused_test_from_the_check_in_form(target, township, client):
    _login(client, township, Role.TOWNSHIP)
    url = reverse("persons:check_in", args=[target.pk])
    form = client.get(url + "?kind=drug_test").context["form"]
    assert form.initial["occurred_on"] == TODAY() and "result" in form.fields
    response = client.post(url, {"kind": "drug_test", "occurred_on": TODAY().isoformat(), "result": "refused"})
    assert response.status_code == 302
    check_in = target.check_ins.get()
    assert (check_in.kind, check_in.result, check_in.recorded_by.jurisdiction) == ("drug_test", "refused", township)


def test_check_in_form_shows_only_the_fields_of_its_kind(target, township, client):
    _login(client, township, Role.TOWNSHIP)
    url = reverse("persons:check_in", args=[target.pk])
    assert set(client.get(url + "?kind=departure").context["form"].fields) == {
        "kind", "occurred_on", "returned_on", "notes"}
    assert set(client.get(url + "?kind=interview").context["form"].fields) == {"kind", "occurred_on", "notes"}


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"kind": "drug_test", "result": ""}, "result", "该字段是必填项。"),
    ({"kind": "drug_test", "result": "positive", "method": "urine"}, "substance", "阳性结果须填写检出物质。"),
    ({"kind": "drug_test", "result": "negative"}, "method", "请选择检测方式。"),
    ({"kind": "interview", "occurred_on": "2999-01-01"}, "occurred_on", "日期不能晚于今天。"),
    ({"kind": "departure", "occurred_on": "2026-01-10", "returned_on": "2026-01-01"}, "returned_on",
     "返回日期不能早于离开日期。"),
])
def test_check_in_form_refuses_bad_input_in_chinese(target, township, client, data, field, message):
    _login(client, township, Role.TOWNSHIP)
    payload = {"occurred_on": TODAY().isoformat()} | data
    response = client.post(reverse("persons:check_in", args=[target.pk]), payload)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not target.check_ins.exists()


def test_decide_a_flag(target, township, client):
    flag = _refuse_three_tests(target)
    _login(client, township, Role.TOWNSHIP)
    response = client.post(reverse("persons:flag_decide", args=[flag.pk]), {
        f"decide-{flag.pk}-decision": "已决定强制隔离戒毒", f"decide-{flag.pk}-document_number": "示公强决字〔2026〕3号"})
    assert response.status_code == 302
    flag.refresh_from_db()
    assert (flag.state, flag.document_number) == (FlagState.DECIDED, "示公强决字〔2026〕3号")


def test_dismiss_a_flag_needs_a_reason(target, township, client):
    flag = _refuse_three_tests(target)
    _login(client, township, Role.TOWNSHIP)
    url = reverse("persons:flag_dismiss", args=[flag.pk])
    response = client.post(url, {f"dismiss-{flag.pk}-reason": "否"})
    assert response.status_code == 400 and response.context["form"].errors["reason"]
    assert Flag.objects.get(pk=flag.pk).state == FlagState.OPEN
    assert client.post(url, {f"dismiss-{flag.pk}-reason": "检测记录录入错误，已更正"}).status_code == 302
    assert Flag.objects.get(pk=flag.pk).state == FlagState.DISMISSED


def test_a_flag_dealt_with_already_says_so(target, township, client):
    flag = _refuse_three_tests(target)
    services.do_dismiss_flag(flag, "已经核实处理", acting_user=None)
    _login(client, township, Role.TOWNSHIP)
    response = client.post(reverse("persons:flag_decide", args=[flag.pk]), {f"decide-{flag.pk}-decision": "强戒"})
    assert response.status_code == 400 and "该预警已处理" in response.content.decode()


def test_decide_measure_report_in_and_end(village, township, client):
    someone = people.person(village, name="周杰")
    _login(client, township, Role.TOWNSHIP)
    decided = TODAY() - datetime.timedelta(days=5)
    response = client.post(reverse("persons:measure_decide", args=[someone.pk]), {
        "kind": "community_treatment", "decided_on": decided.isoformat(), "decision_number": "示公社戒决字〔2026〕9号",
        "deciding_authority": "示范县公安局"})
    assert response.status_code == 302
    measure = someone.measures.get()
    assert measure.state == MeasureState.AWAITING_REPORT
    body = client.get(reverse("persons:detail", args=[someone.pk])).content.decode()
    assert reverse("persons:report_in", args=[measure.pk]) in body and "报到期限" in body
    response = client.post(reverse("persons:report_in", args=[measure.pk]), {"reported_on": "2000-01-01"})
    assert response.status_code == 400  # before the decision: the service says so
    assert client.post(reverse("persons:report_in", args=[measure.pk]),
                       {"reported_on": TODAY().isoformat()}).status_code == 302
    measure.refresh_from_db()
    assert measure.state == MeasureState.IN_EFFECT and measure.planned.exists()
    response = client.post(reverse("persons:measure_end", args=[measure.pk]), {
        "ended_on": TODAY().isoformat(), "outcome": "terminated", "reason": ""})
    assert response.status_code == 400 and "提前终止的原因" in response.content.decode()
    assert client.post(reverse("persons:measure_end", args=[measure.pk]), {
        "ended_on": TODAY().isoformat(), "outcome": "terminated", "reason": "决定强制隔离戒毒",
        "next_status": "compulsory_treatment"}).status_code == 302
    measure.refresh_from_db()
    someone.refresh_from_db()
    assert measure.ended_on == TODAY() and someone.control_status == ControlStatus.COMPULSORY_TREATMENT


def test_change_status(target, township, client):
    _login(client, township, Role.TOWNSHIP)
    response = client.post(reverse("persons:status", args=[target.pk]), {
        "status": "whereabouts_unknown", "changed_on": TODAY().isoformat(), "document_number": "", "note": "失联"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.control_status == ControlStatus.WHEREABOUTS_UNKNOWN


# --- home page and navigation ------------------------------------------------------------------


def test_home_page_shows_the_today_list_to_those_who_keep_files(target, township, tree, client):
    _refuse_three_tests(target)
    _login(client, township, Role.TOWNSHIP)
    body = client.get(reverse("home")).content.decode()
    assert "today-list" in body and MARKER in body and "戒毒条例 第二十条" in body
    assert reverse("persons:check_in", args=[target.pk]) + "?kind=" in body
    _login(client, tree["county"], Role.LEADERSHIP)
    body = client.get(reverse("home")).content.decode()
    assert "today-card" not in body and MARKER not in body


def test_menu_items_follow_the_role(tree, client):
    _login(client, tree["county"], Role.TOWNSHIP)
    body = client.get(reverse("home")).content.decode()
    for url_name in ("persons:list", "persons:create", "persons:today"):
        assert reverse(url_name) in body
    _login(client, tree["county"], Role.MEMBER_UNIT)
    body = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("persons:support_tasks")}"' in body
    assert f'href="{reverse("persons:list")}"' not in body and reverse("persons:create") not in body


# --- transfers, support, risk ------------------------------------------------------------------


def test_hand_over_and_receive_through_the_forms(tree, target, township, client):
    receiving = tree["townships"][1]
    _login(client, township, Role.TOWNSHIP)
    form = client.get(reverse("persons:hand_over", args=[target.pk])).context["form"]
    offered = dict(form.fields["to_jurisdiction"].choices[1:])
    assert offered == {receiving.pk: f"测试县 / {receiving.name}"}  # townships only, not the own one
    response = client.post(reverse("persons:hand_over", args=[target.pk]), {
        "to_jurisdiction": receiving.pk, "reason": "迁居青山镇", "handed_over_on": TODAY().isoformat()})
    assert response.status_code == 302
    transfer = target.transfers.get()
    receiver = _login(client, receiving, Role.TOWNSHIP)
    body = client.get(reverse("home")).content.decode()
    assert MARKER in body and reverse("persons:transfer_acknowledge", args=[transfer.pk]) in body
    assert client.get(reverse("persons:detail", args=[target.pk])).status_code == 200
    response = client.post(reverse("persons:transfer_acknowledge", args=[transfer.pk]),
                           {"acknowledged_on": TODAY().isoformat()})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.jurisdiction == receiving and receiver.jurisdiction == receiving
    _login(client, township, Role.TOWNSHIP)
    assert client.get(reverse("persons:detail", args=[target.pk])).status_code == 404


def test_the_sending_township_cannot_confirm_receipt(tree, target, township, client):
    transfer = services.do_hand_over(target, tree["townships"][1], "迁居", TODAY(), acting_user=None)
    _login(client, township, Role.TOWNSHIP)
    body = client.get(reverse("persons:detail", args=[target.pk])).content.decode()
    assert reverse("persons:transfer_cancel", args=[transfer.pk]) in body
    assert reverse("persons:transfer_acknowledge", args=[transfer.pk]) not in body
    assert reverse("persons:transfer_refuse", args=[transfer.pk]) not in body
    response = client.post(reverse("persons:transfer_acknowledge", args=[transfer.pk]),
                           {"acknowledged_on": TODAY().isoformat()})
    assert response.status_code == 400 and "只有接收地可以确认接收" in response.content.decode()
    assert client.get(reverse("persons:transfer_refuse", args=[transfer.pk])).status_code == 403
    assert client.post(reverse("persons:transfer_cancel", args=[transfer.pk]), {"reason": "填错了"}).status_code == 302
    target.refresh_from_db()
    assert target.receiving_jurisdiction is None and target.jurisdiction == tree["villages"][0]


def test_the_receiving_township_refuses_but_cannot_withdraw(tree, target, client):
    """Issue 20: the receiving township saw "撤回移交" and could withdraw the hand-over."""
    transfer = services.do_hand_over(target, tree["townships"][1], "迁居", TODAY(), acting_user=None)
    _login(client, tree["townships"][1], Role.TOWNSHIP)
    body = client.get(reverse("persons:detail", args=[target.pk])).content.decode()
    assert reverse("persons:transfer_cancel", args=[transfer.pk]) not in body and "撤回移交" not in body
    assert reverse("persons:transfer_acknowledge", args=[transfer.pk]) in body
    assert reverse("persons:transfer_refuse", args=[transfer.pk]) in body and "拒绝接收" in body
    assert client.get(reverse("persons:transfer_cancel", args=[transfer.pk])).status_code == 403
    assert client.post(reverse("persons:transfer_cancel", args=[transfer.pk]), {"reason": "撤回"}).status_code == 403
    refuse = reverse("persons:transfer_refuse", args=[transfer.pk])
    assert client.get(refuse).status_code == 200
    response = client.post(refuse, {"reason": "  "})
    assert response.status_code == 400 and "请填写拒绝接收的理由" in response.content.decode()
    transfer.refresh_from_db()
    assert transfer.state == TransferState.HANDED_OVER
    assert client.post(refuse, {"reason": "经核实，本人不在本镇居住"}).status_code == 302
    transfer.refresh_from_db()
    assert (transfer.state, transfer.refusal_reason) == (TransferState.REFUSED, "经核实，本人不在本镇居住")
    assert client.get(reverse("persons:detail", args=[target.pk])).status_code == 404  # back with the sender
    _login(client, tree["townships"][0], Role.TOWNSHIP)
    body = client.get(reverse("persons:detail", args=[target.pk])).content.decode()
    assert "经核实，本人不在本镇居住" in body and "接收地拒绝接收" in body


def test_hand_over_needs_a_place_of_the_tree(tree, target, township, client):
    """Issue 20: a code outside the county was accepted. The place comes from the list; a
    made-up value, a village, the own township, a code not in the tree are refused on the field."""
    _login(client, township, Role.TOWNSHIP)
    url = reverse("persons:hand_over", args=[target.pk])
    response = client.post(url, {"to_jurisdiction": "", "reason": "迁居", "handed_over_on": TODAY().isoformat()})
    assert response.status_code == 400 and "请选择接收乡镇" in response.content.decode()
    for value in ("999999999", tree["villages"][-1].pk, township.pk, tree["other_county"].pk, "abc"):
        response = client.post(url, {"to_jurisdiction": value, "to_code": "310101001", "reason": "迁居",
                                     "handed_over_on": TODAY().isoformat()})
        assert response.status_code == 400, value
        assert "to_jurisdiction" in response.context["form"].errors
        assert "请从列表中选择接收乡镇" in response.content.decode()
    assert not target.transfers.exists()
    target.refresh_from_db()
    assert target.receiving_jurisdiction is None


def test_transfer_forms_are_scoped(scope_matrix, tree, target, client):
    transfer = services.do_hand_over(target, tree["townships"][1], "迁居", TODAY(), acting_user=None)
    scope_matrix.check_detail(client, reverse("persons:transfer_cancel", args=[transfer.pk]), allowed_roles=WRITERS)


def test_a_member_unit_records_support(target, tree, client):
    user = _login(client, tree["county"], Role.MEMBER_UNIT)
    assert client.get(reverse("persons:support", args=[target.pk])).status_code == 404  # no task yet
    task = support.do_assign_support_task(target, user.member_unit, "employment", "推荐就业", TODAY(),
                                          acting_user=None)
    body = client.get(reverse("persons:detail", args=[target.pk])).content.decode()
    assert reverse("persons:support", args=[target.pk]) in body
    response = client.post(reverse("persons:support", args=[target.pk]), {
        "kind": "employment", "provided_on": TODAY().isoformat(), "description": "推荐到县工业园区就业"})
    assert response.status_code == 302
    record = target.support_records.get()
    assert record.member_unit == user.member_unit and record.task == task
    assert "推荐到县工业园区就业" in client.get(reverse("persons:detail", args=[target.pk])).content.decode()
    response = client.post(reverse("persons:support", args=[target.pk]), {
        "kind": "employment", "provided_on": TODAY().isoformat(), "description": ""})
    assert response.status_code == 400 and target.support_records.count() == 1


def test_support_form_is_scoped(scope_matrix, target, client):
    scope_matrix.add_tasked_member_units(target)
    scope_matrix.check_detail(client, reverse("persons:support", args=[target.pk]), allowed_roles=WRITERS | {TASKED})


def test_risk_card_and_override(target, township, client):
    assessment = services.do_assess_risk(target, acting_user=None)
    _login(client, township, Role.TOWNSHIP)
    body = client.get(reverse("persons:detail", args=[target.pk])).content.decode()
    assert 'id="risk"' in body and reverse("persons:risk_override", args=[assessment.pk]) in body
    url = reverse("persons:risk_override", args=[assessment.pk])
    assert client.post(url, {"level": "high", "reason": ""}).status_code == 400
    assert client.post(url, {"level": "high", "reason": "近期与吸毒人员频繁接触"}).status_code == 302
    target.refresh_from_db()
    assert target.risk_level == "high"
    assert "近期与吸毒人员频繁接触" in client.get(reverse("persons:detail", args=[target.pk])).content.decode()


# The today list's lines as persons/_today_list.html wrote them with {% for %}, before
# persons.templatetags.today_list took them over.
OLD_TODAY_LOOP = """{% load i18n %}{% for item in section.items %}
    <div class="list-group-item today-item today-{{ item.kind }}{% if item.overdue %} is-overdue{% endif %}">
      <div class="row g-2 align-items-center">
        <div class="col today-text">
          <div><a class="fw-bold" href="{% url 'persons:detail' item.person_id %}">{{ item.person_name }}</a> <span class="text-secondary small">{{ item.place }}</span></div>
          <div class="today-title">{{ item.title }}</div>
          <div class="small {% if item.overdue %}text-danger{% else %}text-secondary{% endif %}">{{ item.detail }}</div>
        </div>
        <div class="col-12 col-sm-auto today-actions">
          {% if item.actions %}{% for action in item.actions %}<a class="btn btn-sm {% if item.overdue %}btn-outline-danger{% else %}btn-outline-primary{% endif %}" href="{{ action.url }}">{% blocktranslate with kind=action.label %}Record {{ kind }}{% endblocktranslate %}{% if action.count > 1 %} <span class="badge bg-red text-red-fg ms-1">{{ action.count }}</span>{% endif %}</a>{% endfor %}
          {% else %}<a class="btn btn-sm {% if item.overdue or item.kind == 'flag' %}btn-danger{% else %}btn-primary{% endif %}" href="{{ item.action_url }}">{{ item.action_label }}</a>{% endif %}
        </div>
      </div>
    </div>
    {% endfor %}"""


def test_the_today_rows_are_the_html_the_template_wrote(target, township):
    """today_rows writes what the list's {% for %} loop over a section's items wrote: check-ins
    with and without missed dates, overdue or not, report-ins, flags and transfers, and values
    that need escaping."""
    from django.template import Context, Template
    from django.utils import translation

    from persons.queries import TodayAction, TodayItem
    from persons.templatetags.today_list import today_rows

    def item(kind, overdue, actions=(), name="张三", **more):
        return TodayItem(kind=kind, overdue=overdue, on=datetime.date(2026, 12, 2), person_id=target.pk,
                         person_name=name, place=more.pop("place", "测试村1-1"), title=more.pop("title", "尿检"),
                         detail=more.pop("detail", "应于2026-12-01"), action_url=more.pop("url", "/x/?a=1&b=2"),
                         action_label=more.pop("label", "处理"), actions=actions)

    items = [
        item("check_in", True, (TodayAction("尿检", "/persons/1/check-in/?kind=drug_test", 3),
                                TodayAction("谈话<b>", "/persons/1/check-in/?kind=interview&x=<y>", 1))),
        item("check_in", False, (TodayAction("家访", "/persons/1/check-in/?kind=home_visit", 1),)),
        item("report_in", True, name='<script>"李四" & 王五</script>', place="镇 & 村", title="报到：<社区戒毒>",
             detail="已超过 3 天", label="记录报到"),
        item("flag", False, title="戒毒条例 第二十条", label="决定"),
        item("transfer", False, label="接收", url="/persons/transfers/9/acknowledge/"),
    ]
    for language in ("zh-hans", "en"):
        with translation.override(language):
            expected = Template(OLD_TODAY_LOOP).render(Context({"section": {"items": items}}))
            assert today_rows(items) == expected, language
    assert "&lt;script&gt;&quot;李四&quot; &amp; 王五&lt;/script&gt;" in expected and "谈话&lt;b&gt;" in expected
    assert today_rows([]) == ""


def test_the_person_page_reads_the_social_workers_name_not_their_secrets(tree, township, target, client):
    """The page shows the assigned social worker by name; the worker's password hash and
    second-factor secret are not read with the person (nor decrypted)."""
    worker = UserFactory(jurisdiction=township, roles=[Role.SOCIAL_WORKER], full_name="陈社工")
    worker.totp_secret = "JBSWY3DPEHPK3PXP"
    worker.save()
    services.do_update_person(target, expected_version=target.version, acting_user=None, assigned_worker=worker)
    _login(client, township, Role.TOWNSHIP)
    response = client.get(reverse("persons:detail", args=[target.pk]))
    assert response.status_code == 200 and "陈社工" in response.content.decode()
    shown = response.context["person"].assigned_worker
    assert {"password", "totp_secret"} <= shown.get_deferred_fields()


def test_a_new_community_file_opens_its_measure(township, village, client):
    """The new-file form opened no measure: a 社区戒毒 file made there had no clock and no plan,
    and waited in 待补录措施. With the measure's dates it opens the measure with its plan."""
    _login(client, township, Role.TOWNSHIP)
    decided, reported = TODAY() - datetime.timedelta(days=40), TODAY() - datetime.timedelta(days=30)
    response = client.post(reverse("persons:create"), _new_person_data(
        village, control_status_since=decided.isoformat(), document_number="青公(禁)决字〔2026〕12号",
        measure_decided_on=decided.isoformat(), measure_reported_on=reported.isoformat()))
    assert response.status_code == 302
    person = Person.objects.get(name="孙丽")
    measure = person.measures.get()
    assert (measure.kind, measure.decided_on, measure.reported_on, measure.starts_on) == (
        MeasureKind.COMMUNITY_TREATMENT, decided, reported, reported)
    assert measure.decision_number == "青公(禁)决字〔2026〕12号" and PlannedCheckIn.objects.filter(person=person).exists()
    # Without the dates the file waits for its measure, as an undated ledger row does.
    client.post(reverse("persons:create"), _new_person_data(
        village, name="钱芳", id_number=people.id_number(serial=424, sex="F")))
    waiting = Person.objects.get(name="钱芳")
    assert not waiting.measures.exists()
    today_list = client.get(reverse("persons:today")).content.decode()
    assert reverse("persons:measure_missing", args=[waiting.pk]) in today_list


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"measure_decided_on": "2026-03-10", "measure_reported_on": "2026-03-01"}, "measure_reported_on",
     "报到日期不能早于决定日期"),
    ({"measure_reported_on": "2026-03-01"}, "measure_decided_on", "缺少决定日期"),
    ({"control_status": ControlStatus.SOCIAL_CONTROL, "measure_decided_on": "2026-03-10"}, "measure_decided_on",
     "社区戒毒"),
])
def test_a_new_files_measure_dates_that_cannot_be_are_refused(township, village, client, overrides, field, message):
    _login(client, township, Role.TOWNSHIP)
    response = client.post(reverse("persons:create"), _new_person_data(village, **overrides))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not Person.objects.exists()
