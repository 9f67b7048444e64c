"""Validation a user would expect (issue 20): dates that cannot be, values that cannot be and a
default that claimed a fact. One rule each in persons.rules (tables of cases here), taken by
the forms, the services behind them and the ledger import's row check: a Chinese message on the
field, and nothing saved."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.tests.factories import UserFactory
from core.roles import Role
from jindu.testing import clock
from persons import rules, services, support
from persons.choices import CheckInKind, ControlStatus, LivingSituation, MeasureKind
from persons.importers import read_ledger
from persons.models import CheckIn, Person, StatusChange, Support
from persons.tests import people
from persons.tests.ledger_files import COUNTY, HEADER, row, xlsx

TODAY = clock.TODAY
DAY = datetime.timedelta(days=1)
BORN = datetime.date(1990, 3, 7)
pytestmark = pytest.mark.time_machine(clock.NOW)


def zh(text) -> str:
    with translation.override("zh-hans"):
        return str(text)


# --- the rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value", "born", "refused"), [
    ("occurred_on", TODAY, BORN, False),
    ("occurred_on", TODAY + DAY, BORN, True),  # a check-in in the future
    ("occurred_on", BORN - DAY, BORN, True),  # a check-in before the birth
    ("occurred_on", BORN, BORN, False),
    ("occurred_on", BORN - DAY, None, False),  # the birth not known: only the future is refused
    ("returned_on", TODAY + DAY, BORN, True),  # a departure "returned" tomorrow
    ("returned_on", None, BORN, False),  # still away
    ("first_found_on", TODAY + DAY, BORN, True),
    ("first_found_on", datetime.date(1989, 1, 1), BORN, True),
    ("control_status_since", BORN - DAY, BORN, True),  # a status date before the birth
    ("changed_on", BORN - DAY, BORN, True),
    ("nursing_child_born_on", TODAY + DAY, BORN, True),  # an infant born in the future
    ("nursing_child_born_on", BORN - DAY, BORN, True),  # a child older than its mother
    ("nursing_child_born_on", TODAY - 30 * DAY, BORN, False),
    ("decided_on", TODAY + DAY, BORN, True),
    ("provided_on", TODAY + DAY, BORN, True),
    ("due_on", TODAY + 30 * DAY, BORN, False),  # a support task's due date lies ahead
    ("due_on", BORN - DAY, BORN, True),
])
def test_date_problem(field, value, born, refused):
    assert (rules.date_problem(field, value, born=born, today=TODAY) is not None) == refused


def test_date_problems_names_each_field_in_chinese():
    problems = rules.date_problems({"occurred_on": TODAY - 10 * DAY, "returned_on": TODAY - 20 * DAY,
                                    "first_found_on": BORN - DAY}, born=BORN, today=TODAY)
    assert {name: zh(message) for name, message in problems.items()} == {
        "returned_on": "返回日期不能早于离开日期。", "first_found_on": "日期不能早于本人出生日期。"}
    assert zh(rules.date_problem("returned_on", TODAY + DAY, today=TODAY)) == "返回日期不能晚于今天：人员尚未返回时请留空。"
    # No birth date in a message: a member unit closing its task reads none.
    assert "1990" not in rules.date_problem("closed_on", BORN - DAY, born=BORN, today=TODAY)


@pytest.mark.parametrize(("typed", "stored"), [
    ("13812345678", "13812345678"),
    ("138 1234 5678", "13812345678"),
    ("+86 138-1234-5678", "13812345678"),
    ("１３８１２３４５６７８", "13812345678"),
    ("19912345678", "19912345678"),
    ("0519-88881234", "051988881234"),  # a landline keeps its area code with the 0
    ("(010)12345678", "01012345678"),
    ("", ""),
])
def test_normalise_phone(typed, stored):
    assert rules.normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "1381234567", "138123456789", "10012345678", "88881234", "110",
                                   "400-820-8820", "+1 650 253 0000", "无", "母亲电话"])
def test_a_phone_that_is_not_a_phone_is_refused(typed):
    with pytest.raises(rules.PhoneError):
        rules.normalise_phone(typed)


@pytest.mark.parametrize(("sex", "pregnant", "nursing", "refused"), [
    ("M", True, None, True),
    ("M", False, TODAY - 30 * DAY, True),
    ("M", False, None, False),
    ("F", True, None, False),
    ("F", False, TODAY - 30 * DAY, False),
])
def test_pregnancy_problem(sex, pregnant, nursing, refused):
    assert (rules.pregnancy_problem(sex, pregnant, nursing) is not None) == refused


@pytest.mark.parametrize(("kind", "notes", "refused"), [
    (CheckInKind.INTERVIEW, "", True),
    (CheckInKind.INTERVIEW, "  情况稳定  ", True),  # 4 characters
    (CheckInKind.INTERVIEW, "谈话了解近期生活情况", False),  # 10
    (CheckInKind.HOME_VISIT, "入户走访", True),
    (CheckInKind.HOME_VISIT, "入户走访，本人在家，居住环境整洁。", False),
    (CheckInKind.DRUG_TEST, "", False),
    (CheckInKind.DEPARTURE, "", False),
])
def test_notes_problem(kind, notes, refused):
    assert (rules.notes_problem(kind, notes) is not None) == refused


@pytest.mark.parametrize(("support", "present"), [
    (True, set()), (False, {"no_family_support"}), (None, {"family_support_unknown"})])
def test_unknown_family_support_is_not_counted_as_support(support, present):
    facts = rules.PersonRiskFacts(living_situation=LivingSituation.STABLE, family_support=support,
                                  mental_disorder=False, violence_history=False, drug_driving_history=False,
                                  whereabouts_unknown=False)
    factors = rules.risk_factors(facts, [], [], [], TODAY)
    assert {name for name, value in factors.items() if value} == present
    score, _level, contributions = rules.risk_score(factors, rules.DEFAULT_RISK_WEIGHTS)
    assert score == (0 if support else 10)
    assert [c["factor"] for c in contributions] == sorted(present)


# --- the forms and services --------------------------------------------------------------------


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def village(tree):
    return tree["villages"][0]


@pytest.fixture
def target(village):
    """Born 1990-03-07 (a man), under community treatment."""
    return people.under_treatment(village, name="目标人员", number=people.id_number("19900307", serial=231))


@pytest.fixture
def township_client(client, township):
    client.force_login(UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP]))
    return client


def _errors(response, field) -> str:
    assert response.status_code == 400
    return " ".join(response.context["form"].errors[field])


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"kind": "drug_test", "result": "negative", "method": "urine", "occurred_on": "1990-03-06"}, "occurred_on",
     "日期不能早于本人出生日期。"),
    ({"kind": "departure", "occurred_on": (TODAY - 5 * DAY).isoformat(), "returned_on": (TODAY + DAY).isoformat()},
     "returned_on", "返回日期不能晚于今天"),
    ({"kind": "interview", "notes": ""}, "notes", "请写明谈话或走访的情况，至少10个字。"),
    ({"kind": "home_visit", "notes": "在家"}, "notes", "请写明谈话或走访的情况，至少10个字。"),
])
def test_check_in_form_refuses_what_cannot_be(target, township_client, data, field, message):
    payload = {"occurred_on": TODAY.isoformat()} | data
    count = CheckIn.objects.count()
    response = township_client.post(reverse("persons:check_in", args=[target.pk]), payload)
    assert message in _errors(response, field)
    assert CheckIn.objects.count() == count


def test_an_interview_with_its_notes_is_recorded(target, township_client):
    response = township_client.post(reverse("persons:check_in", args=[target.pk]), {
        "kind": "interview", "occurred_on": TODAY.isoformat(), "notes": "谈话了解近期生活情况，情绪稳定。"})
    assert response.status_code == 302
    assert target.check_ins.get(kind="interview").notes == "谈话了解近期生活情况，情绪稳定。"


@pytest.mark.parametrize(("url", "data", "field"), [
    ("persons:status", {"status": ControlStatus.SOCIAL_CONTROL, "changed_on": "1989-01-01"}, "changed_on"),
    ("persons:measure_decide", {"kind": MeasureKind.COMMUNITY_TREATMENT, "decided_on": "1989-01-01",
                                "decision_number": "示公(禁)社戒决字〔2025〕9号"}, "decided_on"),
    ("persons:support", {"kind": "employment", "provided_on": "1989-01-01", "description": "介绍工作"},
     "provided_on"),
])
def test_person_forms_refuse_a_date_before_the_birth(target, township_client, url, data, field):
    before = (StatusChange.objects.count(), target.measures.count(), Support.objects.count())
    response = township_client.post(reverse(url, args=[target.pk]), data)
    assert "日期不能早于本人出生日期。" in _errors(response, field)
    assert (StatusChange.objects.count(), target.measures.count(), Support.objects.count()) == before


def _new_person_data(village, **overrides):
    return {"name": "孙丽", "id_number": people.id_number("19920510", serial=233, sex="F"), "jurisdiction": village.pk,
            "grid": "", "control_status": ControlStatus.SOCIAL_CONTROL, "control_status_since": TODAY.isoformat(),
            "document_number": "", "phone": "", "found_how": "", "living_situation": ""} | overrides


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"first_found_on": (TODAY + DAY).isoformat()}, "first_found_on", "日期不能晚于今天。"),
    ({"control_status_since": "1992-05-09"}, "control_status_since", "日期不能早于本人出生日期。"),
    ({"nursing_child_born_on": (TODAY + DAY).isoformat()}, "nursing_child_born_on", "孩子的出生日期不能晚于今天。"),
    ({"phone": "1381234"}, "phone", "不是有效的中国手机或固定电话号码"),
    ({"id_number": people.id_number("19920510", serial=233, sex="M"), "is_pregnant": "on"}, "is_pregnant",
     "男性"),
])
def test_new_file_form_refuses_what_cannot_be(village, township_client, overrides, field, message):
    response = township_client.post(reverse("persons:create"), _new_person_data(village, **overrides))
    assert message in _errors(response, field)
    assert not Person.objects.filter(name="孙丽").exists()


def test_the_phone_is_stored_in_one_format_and_family_support_starts_unknown(village, township_client):
    response = township_client.post(reverse("persons:create"), _new_person_data(village, phone="0519-8888 1234"))
    person = Person.objects.get(name="孙丽")
    assert response.status_code == 302
    assert person.phone == "051988881234"
    assert person.family_support is None  # nothing entered: unknown, not "是"
    page = township_client.get(person.get_absolute_url()).content.decode()
    assert "家庭支持</div><div class=\"datagrid-content\">未知</div>" in page
    assert {c["factor"] for c in person.risk_assessments.get().contributions} == {"family_support_unknown"}


def test_edit_form_refuses_pregnancy_on_a_man_and_keeps_an_old_phone(target, township_client):
    Person.objects.filter(pk=target.pk).update(phone="无")  # an old file's phone, from before the check
    target.refresh_from_db()
    url = reverse("persons:edit", args=[target.pk])
    form = township_client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, False)}
    data |= {"jurisdiction": target.jurisdiction_id, "grid": "", "substances": [], "family_support": "false"}
    response = township_client.post(url, data | {"is_pregnant": "on"})
    assert "男性" in _errors(response, "is_pregnant")
    response = township_client.post(url, data)  # the old phone, unchanged, does not block the edit
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.family_support, target.phone, target.is_pregnant) == (False, "无", False)


def test_the_services_refuse_what_the_forms_refuse(target):
    """The command line and the demo call the services: the same rules, field by field."""
    with pytest.raises(ValidationError) as refused:
        services.do_record_check_in(target, CheckInKind.HOME_VISIT, TODAY, acting_user=None)
    assert set(refused.value.error_dict) == {"notes"}
    with pytest.raises(ValidationError) as refused:
        services.do_record_check_in(target, CheckInKind.DEPARTURE, TODAY - 3 * DAY, acting_user=None,
                                    returned_on=TODAY + DAY)
    assert set(refused.value.error_dict) == {"returned_on"}
    with pytest.raises(ValidationError) as refused:
        services.do_change_status(target, ControlStatus.SOCIAL_CONTROL, BORN - DAY, acting_user=None)
    assert set(refused.value.error_dict) == {"changed_on"}
    with pytest.raises(ValidationError) as refused:
        support.do_record_support(target, "employment", BORN - DAY, "介绍工作", acting_user=None)
    assert set(refused.value.error_dict) == {"provided_on"}
    version = target.version
    for fields, field in (({"phone": "12345"}, "phone"), ({"is_pregnant": True}, "is_pregnant"),
                          ({"first_found_on": BORN - DAY}, "first_found_on")):
        with pytest.raises(ValidationError) as refused:
            services.do_update_person(target, expected_version=version, acting_user=None, **fields)
        assert set(refused.value.error_dict) == {field}
        target.refresh_from_db()
    assert (target.phone, target.is_pregnant, target.version) == ("", False, version)


def test_a_transfer_takes_the_same_date_rules(tree, target):
    """异地执行 too: a hand-over before the birth, a receipt in the future (the receipt form
    checked the future only in the form, the service not at all)."""
    elsewhere = tree["townships"][-1]  # another township of the tree (rules.hand_over_error)
    assert not elsewhere.path.startswith(target.jurisdiction.parent.path)
    with pytest.raises(ValidationError) as refused:
        services.do_hand_over(target, elsewhere, "外出务工", BORN - DAY, acting_user=None)
    assert set(refused.value.error_dict) == {"handed_over_on"}
    transfer = services.do_hand_over(target, elsewhere, "外出务工", TODAY - DAY, acting_user=None)
    with pytest.raises(ValidationError) as refused:
        services.do_acknowledge_transfer(transfer, acting_user=None, acknowledged_on=TODAY + DAY)
    assert set(refused.value.error_dict) == {"acknowledged_on"}
    transfer.refresh_from_db()
    assert transfer.acknowledged_on is None


# --- the ledger import -------------------------------------------------------------------------


def _import(rows, places, headers=HEADER):
    ledger = read_ledger(xlsx([headers, *rows]), "台账.xlsx")
    return services.do_import_persons(ledger, acting_user=None, jurisdiction=places[COUNTY], source="台账",
                                      skip_invalid=True)


def test_the_import_reads_family_support_or_leaves_it_unknown(sample_tree):
    rows = [[*row(1, "甲", birth="19900307"), "是"], [*row(2, "乙", birth="19910307"), "否"],
            [*row(3, "丙", birth="19920307"), ""], [*row(4, "丁", birth="19930307"), "不详"]]
    result = _import(rows, sample_tree, [*HEADER, "家庭支持"])
    assert (result.imported, result.rejected) == (4, [])
    assert dict(Person.objects.values_list("name", "family_support")) == {"甲": True, "乙": False, "丙": None,
                                                                          "丁": None}
    _import([row(5, "戊", birth="19940307")], sample_tree)  # a ledger without the column
    assert Person.objects.get(name="戊").family_support is None


def test_the_import_refuses_a_phone_and_dates_that_cannot_be(sample_tree):
    rows = [row(1, "甲", birth="19900307", phone="1381234"),
            row(2, "乙", birth="19910307", first_found="1990-01-01"),  # found before the birth
            row(3, "丙", birth="19920307", phone="0519-88881234")]
    result = _import(rows, sample_tree)
    # The date rejects the row; the phone alone is refused (a warning), the rest of its row kept.
    assert [(e.row, e.field) for e in result.rejected] == [(3, "初次发现日期")]
    assert "日期不能早于本人出生日期。" in result.rejected[0].message
    assert [(w.row, w.field) for w in result.warnings] == [(2, "联系电话")]
    assert "不是有效的中国手机或固定电话号码" in result.warnings[0].message
    assert dict(Person.objects.values_list("name", "phone")) == {"甲": "", "丙": "051988881234"}
