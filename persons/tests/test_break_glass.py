"""Break-glass access to a person file (紧急查阅), attacked as township2 did in issue 19: a grant
opens one file outside the user's area for reading only, at most a few at a time, with a
reason of its own; the office sees it at once and the audit administrator gets the day's list;
the page answers the same whether the id exists or not."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import timezone

from accounts.tests.factories import MemberUnitFactory, UserFactory
from core import sweep
from core.models import AuditEntry, BreakGlassGrant
from core.roles import Role
from jurisdictions.choices import Level
from jurisdictions.tests.factories import JurisdictionFactory
from persons import services, support
from persons.choices import CheckInKind, DrugTestResult, FlagState, SupportKind
from persons.models import Person
from persons.tests import people

TODAY = timezone.localdate
REASONS = ["邻镇转来衔接材料，核对其报到情况", "群众举报此人在本镇出现，核实身份", "协助派出所核查其近期尿检记录",
           "其家属来本镇求助，了解帮扶情况", "本镇网格员发现疑似此人，核对住址", "对方镇专干请假，代为了解执行情况",
           "核对此人与本镇一名人员是否为同一人", "县禁毒办交办，了解其风险评估依据", "走访对象临时住在本镇，核对档案",
           "医院来电询问其美沙酮治疗情况，核实"]


@pytest.fixture
def places(tree):
    own, other = tree["townships"]
    return {"own": own, "other": other, "village": next(v for v in tree["villages"] if v.parent_id == other.pk),
            "county": tree["county"]}


@pytest.fixture
def attacker(places):
    """township2: a township worker of the other township, signed in."""
    client = Client()
    user = UserFactory(jurisdiction=places["own"], roles=[Role.TOWNSHIP], username="township2")
    client.force_login(user)
    client.user = user
    return client


def _glass_url(pk):
    return reverse("core:break_glass", args=["persons.Person", pk])


def _break_glass(client, person_pk, reason=REASONS[0]):
    return client.post(_glass_url(person_pk), {"reason": reason})


def _write_targets(person):
    """Every persons URL that takes a key, with the record of the granted person it names."""
    for days in (60, 30, 2):
        services.do_record_check_in(person, CheckInKind.DRUG_TEST, TODAY() - datetime.timedelta(days=days),
                                    acting_user=None, result=DrugTestResult.REFUSED)
    flag = person.flags.get(rule="serious_breach", state=FlagState.OPEN)
    risk = services.do_assess_risk(person)
    elsewhere = JurisdictionFactory(level=Level.TOWNSHIP, parent=person.jurisdiction.parent.parent,
                                    name="第三镇")
    transfer = services.do_hand_over(person, elsewhere, "外出务工，到第三镇执行", TODAY(), acting_user=None)
    measure = person.measures.get()
    unit = MemberUnitFactory(name="测试县民政局", jurisdiction=person.jurisdiction.parent.parent)
    task = support.do_assign_support_task(person, unit, SupportKind.RELIEF, "协助申请低保", TODAY() + datetime.timedelta(days=30),
                                          acting_user=None)
    return {"support_task_new": person, "support_task_close": task, "edit": person, "status": person, "measure_decide": person, "check_in": person, "explain_missed": person, "measure_missing": person, "hand_over": person,
            "support": person, "transfer_acknowledge": transfer, "transfer_cancel": transfer, "transfer_refuse": transfer,
            "risk_override": risk, "report_in": measure, "measure_end": measure, "flag_decide": flag,
            "flag_dismiss": flag}


def _keyed_url_names() -> set[str]:
    """The persons URLs whose path takes a record's key (the person page and the ledger imports'
    pages aside): a new one must be added to _write_targets, so this test cannot miss it."""
    persons = get_resolver().namespace_dict["persons"][1]
    names = {name for name, entries in persons.reverse_dict.lists() if isinstance(name, str)
             and any("pk" in params for possibilities, *_rest in entries for _text, params in possibilities)}
    return names - {"detail", "import_detail", "import_progress", "import_report"}


def test_a_grant_opens_the_file_for_reading_and_every_write_is_refused(places, attacker):
    person = people.under_treatment(places["village"], name="王五", phone="13912345678")
    targets = _write_targets(person)
    assert _keyed_url_names() == set(targets)
    detail = person.get_absolute_url()
    assert attacker.get(detail).status_code == 404
    assert _break_glass(attacker, person.pk).status_code == 302
    page = attacker.get(detail)
    assert page.status_code == 200 and "王五" in page.content.decode()
    assert page.context["by_grant"] and not page.context["can_write"] and not page.context["can_support"]
    assert reverse("persons:edit", args=[person.pk]) not in page.content.decode()
    before = Person.objects.values().get(pk=person.pk)
    written = []
    for name, record in targets.items():
        url = reverse(f"persons:{name}", args=[record.pk])
        get, post = attacker.get(url), attacker.post(url, {"reason": "改一下", "version": 1})
        if get.status_code != 404 or post.status_code != 404:
            written.append(f"{name}: GET {get.status_code}, POST {post.status_code}")
    # The edit form filled in as the file's own township would, posted by the granted user.
    keeper = Client()
    keeper.force_login(UserFactory(jurisdiction=places["other"], roles=[Role.TOWNSHIP]))
    form = keeper.get(reverse("persons:edit", args=[person.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, bool)}
    data.update(current_address="被越权修改的地址", substances=[], grid="", assigned_worker="")
    edit = attacker.post(reverse("persons:edit", args=[person.pk]), data)
    if edit.status_code != 404:
        written.append(f"edit with a whole form: {edit.status_code}")
    person.refresh_from_db()
    assert written == [] and person.current_address != "被越权修改的地址"
    assert Person.objects.values().get(pk=person.pk) == before
    # The services refuse a person reached only through a grant, whatever calls them.
    user = attacker.user
    for call in (lambda: services.do_update_person(person, expected_version=person.version, acting_user=user,
                                                   current_address="服务层修改"),
                 lambda: services.do_record_check_in(person, CheckInKind.INTERVIEW, TODAY(), acting_user=user),
                 lambda: support.do_record_support(person, "employment", TODAY(), "介绍工作", acting_user=user),
                 lambda: services.do_decide_flag(targets["flag_decide"], "已决定", acting_user=user)):
        with pytest.raises(PermissionError):
            call()
    assert not AuditEntry.objects.filter(actor=user, action__in=["create", "update", "delete"]).exists()


def test_break_glass_rows_of_the_scope_matrix(tree, client):
    """Every role outside the file's area: a grant where the role reads person files, then the
    file's page and no form of it."""
    from jindu.testing.scope import ScopeMatrix
    village = tree["villages"][0]
    person = people.under_treatment(village, name="孙八")
    targets = _write_targets(person)
    matrix = ScopeMatrix(village)
    writes = [reverse(f"persons:{name}", args=[record.pk]) for name, record in targets.items()]
    matrix.check_break_glass(client, person, person.get_absolute_url(), writes, read_roles=Person.scope_roles)


def test_at_most_three_grants_at_a_time(places, attacker, settings):
    persons = [people.person(places["village"], name=f"测试{n}") for n in range(10)]
    answers = [_break_glass(attacker, person.pk, reason).status_code for person, reason in zip(persons, REASONS, strict=True)]
    assert answers == [302] * 3 + [400] * 7
    assert BreakGlassGrant.objects.filter(user=attacker.user).count() == 3
    assert "3" in _break_glass(attacker, persons[9].pk, REASONS[9]).content.decode()
    # an expired grant frees its place; the limit is a setting
    oldest = BreakGlassGrant.objects.filter(user=attacker.user).order_by("pk").first()
    BreakGlassGrant.objects.filter(pk=oldest.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert _break_glass(attacker, persons[3].pk, REASONS[3]).status_code == 302
    settings.JINDU_BREAK_GLASS_MAX_ACTIVE = 4
    assert _break_glass(attacker, persons[4].pk, REASONS[4]).status_code == 302


def test_a_reason_must_be_given_for_this_record(places, attacker):
    first, second, third = (people.person(places["village"], name=f"测试{n}") for n in range(3))
    assert _break_glass(attacker, first.pk, "工作需要").status_code == 400  # too short
    assert _break_glass(attacker, first.pk, "工作需要工作需要工作需要").status_code == 400  # says nothing
    assert _break_glass(attacker, first.pk, REASONS[0]).status_code == 302
    # the same reason again for another file is a stock reason
    assert _break_glass(attacker, second.pk, REASONS[0]).status_code == 400
    assert _break_glass(attacker, second.pk, " " + REASONS[0].replace("，", ",") + "。").status_code == 400
    assert _break_glass(attacker, third.pk, REASONS[1]).status_code == 302


def _normalised(response) -> str:
    """The page without what changes on every answer (the CSRF token, the CSP nonce)."""
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", text)
    text = re.sub(r'"X-CSRFToken": "[^"]+"', "CSRF", text)
    return re.sub(r'nonce="[^"]+"', "NONCE", text)


def test_the_page_does_not_tell_whether_a_record_exists(places, attacker):
    person = people.person(places["village"], name="赵六")
    missing = Person.objects.order_by("-pk").first().pk + 1000
    for method, data in (("get", None), ("post", {"reason": "短"}), ("post", {"reason": ""})):
        existing = getattr(attacker, method)(_glass_url(person.pk), data)
        absent = getattr(attacker, method)(_glass_url(missing), data)
        assert existing.status_code == absent.status_code
        assert _normalised(existing) == _normalised(absent).replace(str(missing), str(person.pk))
    assert "赵六" not in attacker.get(_glass_url(person.pk)).content.decode()
    granted, nothing = _break_glass(attacker, person.pk, REASONS[0]), _break_glass(attacker, missing, REASONS[1])
    assert (granted.status_code, nothing.status_code) == (302, 302)
    assert granted["Location"] == reverse("persons:detail", args=[person.pk])
    assert nothing["Location"] == reverse("persons:detail", args=[missing])


def test_the_office_is_told_at_once_and_the_auditor_gets_the_days_list(places, attacker):
    person = people.person(places["village"], name="钱七")
    assert _break_glass(attacker, person.pk, REASONS[2]).status_code == 302
    office = Client()
    office.force_login(UserFactory(jurisdiction=places["county"], roles=[Role.OFFICE]))
    page = office.get(reverse("monitoring:alerts")).content.decode()
    assert "township2" in page and REASONS[2] in page
    neighbour = Client()  # the office of another county is not told
    neighbour.force_login(UserFactory(jurisdiction=places["county"].parent.children.exclude(
        pk=places["county"].pk).get(), roles=[Role.OFFICE]))
    assert REASONS[2] not in neighbour.get(reverse("monitoring:alerts")).content.decode()
    # the daily list: a sweep job writes yesterday's grants into the audit log, once
    BreakGlassGrant.objects.update(granted_at=timezone.now() - datetime.timedelta(days=1))
    sweep.jobs()["break_glass_daily"]()
    sweep.jobs()["break_glass_daily"]()
    entries = AuditEntry.objects.filter(object_repr__contains="越权调阅日报")
    assert entries.count() == 1
    listed = entries.get().changes
    assert listed["grants"] == 1 and listed["list"][0]["user"] == "township2"
    auditor = Client()
    auditor.force_login(UserFactory(jurisdiction=places["county"], roles=[Role.AUDIT_ADMIN]))
    day = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    listing = auditor.get(reverse("core:break_glass_list") + f"?day={day}").content.decode()
    assert REASONS[2] in listing and day in listing
