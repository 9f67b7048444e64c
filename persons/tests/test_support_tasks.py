"""Support tasks (帮扶任务) and the member unit's least privilege (SPEC §2, 个人信息保护法 最小必要):
a member unit sees only the persons it has a current task for, and of them what the task needs.
Before the tasks, a member-unit user read every person file of its area."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import MemberUnitFactory, UserFactory
from core import services as core_services
from core.models import AuditEntry, BreakGlassGrant
from core.roles import Role
from jindu.testing.scope import TASKED
from persons import services, support
from persons.choices import CheckInKind, DrugTestResult, SupportKind, SupportTaskState
from persons.models import CheckIn, Flag, Measure, Person, RiskAssessment, Support, SupportTask
from persons.tests import people

TODAY = timezone.localdate
IN_A_MONTH = lambda: TODAY() + datetime.timedelta(days=30)  # noqa: E731


@pytest.fixture
def village(tree):
    return tree["villages"][0]


@pytest.fixture
def person(village):
    someone = people.under_treatment(village, name="任务对象", phone="13912345678")
    for days in (60, 30, 2):
        services.do_record_check_in(someone, CheckInKind.DRUG_TEST, TODAY() - datetime.timedelta(days=days),
                                    acting_user=None, result=DrugTestResult.REFUSED)
    services.do_assess_risk(someone, acting_user=None)
    return someone


@pytest.fixture
def unit_user(tree):
    """The county's 教育局 (the demo's unit_edu)."""
    unit = MemberUnitFactory(name="测试县教育局", jurisdiction=tree["county"])
    return UserFactory(jurisdiction=tree["county"], roles=[Role.MEMBER_UNIT], member_unit=unit)


@pytest.fixture
def township_user(township):
    return UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP])


def _task(person, unit_user, **fields):
    values = {"kind": SupportKind.SCHOOLING, "request": "协助其子女复学", "due_on": IN_A_MONTH()} | fields
    return support.do_assign_support_task(person, unit_user.member_unit, values["kind"], values["request"],
                                          values["due_on"], acting_user=None)


def _sees(user, person) -> bool:
    return Person.objects.visible_to(user).filter(pk=person.pk).exists()


# --- scope ---------------------------------------------------------------------------------------


def test_a_member_unit_sees_a_person_only_for_a_current_task(person, unit_user, tree):
    assert not _sees(unit_user, person)  # before: every person of the county
    task = _task(person, unit_user)
    assert _sees(unit_user, person)
    other_unit = UserFactory(jurisdiction=tree["county"], roles=[Role.MEMBER_UNIT])
    assert not _sees(other_unit, person)  # another unit's task gives it nothing
    support.do_close_support_task(task, "已复学", acting_user=unit_user)
    assert _sees(unit_user, person)  # a month more, to record the last help given
    # The month over (visible_until on the database's clock): nothing again.
    SupportTask.objects.filter(pk=task.pk).update(visible_until=timezone.now() - datetime.timedelta(minutes=1))
    assert not _sees(unit_user, person)
    assert not SupportTask.objects.visible_to(unit_user).exists()


def test_a_member_unit_without_a_unit_sees_nothing(person, unit_user, tree):
    _task(person, unit_user)
    stray = UserFactory(jurisdiction=tree["county"], roles=[Role.MEMBER_UNIT])
    type(stray).objects.filter(pk=stray.pk).update(member_unit=None)
    stray.refresh_from_db()
    assert not Person.objects.visible_to(stray).exists() and not Support.objects.visible_to(stray).exists()


def test_the_file_stays_closed_to_a_member_unit_with_a_task(person, unit_user, township_user):
    _task(person, unit_user)
    mine = support.do_record_support(person, SupportKind.SCHOOLING, TODAY(), "联系学校", acting_user=unit_user)
    theirs = support.do_record_support(person, SupportKind.METHADONE, TODAY(), "美沙酮门诊转介",
                                       acting_user=township_user)
    for model in (CheckIn, Flag, Measure, RiskAssessment):
        assert model.objects.filter(person=person).exists()
        assert not model.objects.visible_to(unit_user).exists(), model
    assert list(Support.objects.visible_to(unit_user)) == [mine]
    assert set(Support.objects.visible_to(township_user)) == {mine, theirs}


def test_break_glass_gives_a_member_unit_nothing(person, unit_user):
    """A reason is no way round the task: a member unit gets no grant, and none would open anything."""
    with pytest.raises(PermissionError):
        core_services.do_break_glass(Person, person.pk, "上门走访需要核对其家庭情况", acting_user=unit_user)
    assert not BreakGlassGrant.objects.filter(user=unit_user).exists()
    assert not _sees(unit_user, person)


def test_a_member_unit_that_is_also_a_social_worker(person, village, township):
    """Assigned persons: the whole file; the persons of the unit's tasks: the task view."""
    user = UserFactory(jurisdiction=township, roles=[Role.MEMBER_UNIT, Role.SOCIAL_WORKER])
    assigned = people.under_treatment(village, name="分配对象", assigned_worker=user)
    support.do_assign_support_task(person, user.member_unit, SupportKind.SCHOOLING, "协助复学", IN_A_MONTH(),
                                   acting_user=None)
    assert set(Person.objects.visible_to(user)) == {person, assigned}
    assert set(Flag.objects.visible_to(user).values_list("person", flat=True)) <= {assigned.pk}
    assert support.sees_file(user, assigned) and not support.sees_file(user, person)
    # Support: every record of the assigned person, only the unit's own of the task's person.
    on_assigned = support.do_record_support(assigned, SupportKind.RELIEF, TODAY(), "低保", acting_user=None)
    others = support.do_record_support(person, SupportKind.MEDICAL, TODAY(), "美沙酮门诊转介", acting_user=None)
    own = support.do_record_support(person, SupportKind.SCHOOLING, TODAY(), "联系学校", acting_user=user)
    assert own.member_unit == user.member_unit and set(Support.objects.visible_to(user)) == {on_assigned, own}
    assert others not in Support.objects.visible_to(user)
    client = Client()
    client.force_login(user)
    task_page = client.get(reverse("persons:detail", args=[person.pk])).content.decode()
    assert "帮扶任务所需信息" in task_page and "美沙酮" not in task_page and "拒绝或逃避检测" not in task_page
    file_page = client.get(reverse("persons:detail", args=[assigned.pk])).content.decode()
    assert "帮扶任务所需信息" not in file_page and "低保" in file_page


# --- services ------------------------------------------------------------------------------------


def test_assigning_a_task(person, unit_user, township_user, tree):
    task = support.do_assign_support_task(person, unit_user.member_unit, SupportKind.SCHOOLING, "协助复学",
                                          IN_A_MONTH(), acting_user=township_user)
    assert (task.state, task.assigned_on, task.recorded_by) == (SupportTaskState.OPEN, TODAY(), township_user)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.CREATE, object_type="persons.SupportTask",
                                   object_id=str(task.pk))
    assert entry.changes["member_unit"] == [None, unit_user.member_unit.pk] and entry.changes["request"][1] == "协助复学"
    for role in (Role.POLICE, Role.SOCIAL_WORKER, Role.MEMBER_UNIT, Role.LEADERSHIP):
        with pytest.raises(services.NotAllowed):
            support.do_assign_support_task(person, unit_user.member_unit, SupportKind.SCHOOLING, "协助复学",
                                           IN_A_MONTH(), acting_user=UserFactory(jurisdiction=tree["county"],
                                                                                 roles=[role]))
    elsewhere = UserFactory(jurisdiction=tree["townships"][1], roles=[Role.TOWNSHIP])
    with pytest.raises(services.NotAllowed):
        support.do_assign_support_task(person, unit_user.member_unit, SupportKind.SCHOOLING, "协助复学",
                                       IN_A_MONTH(), acting_user=elsewhere)
    sibling_unit = MemberUnitFactory(jurisdiction=tree["townships"][1])
    bad = [(sibling_unit, SupportKind.SCHOOLING, "协助复学", IN_A_MONTH(), "member_unit"),
           (unit_user.member_unit, "flying", "协助复学", IN_A_MONTH(), "kind"),
           (unit_user.member_unit, SupportKind.SCHOOLING, "  ", IN_A_MONTH(), "request"),
           (unit_user.member_unit, SupportKind.SCHOOLING, "协助复学", TODAY() - datetime.timedelta(days=1), "due_on")]
    for unit, kind, request, due_on, field in bad:
        with pytest.raises(ValidationError) as raised:
            support.do_assign_support_task(person, unit, kind, request, due_on, acting_user=township_user)
        assert field in raised.value.error_dict
    assert person.support_tasks.count() == 1


def test_closing_a_task(person, unit_user, township_user, tree):
    task = _task(person, unit_user)
    other_unit = UserFactory(jurisdiction=tree["county"], roles=[Role.MEMBER_UNIT])
    for user in (other_unit, UserFactory(jurisdiction=tree["county"], roles=[Role.POLICE])):
        with pytest.raises(services.NotAllowed):
            support.do_close_support_task(task, "已复学", acting_user=user)
    with pytest.raises(ValidationError):
        support.do_close_support_task(task, " ", acting_user=unit_user)
    support.do_close_support_task(task, "已复学", acting_user=township_user)
    task.refresh_from_db()
    assert (task.state, task.closed_on, task.outcome) == (SupportTaskState.CLOSED, TODAY(), "已复学")
    assert task.visible_until > timezone.now() + datetime.timedelta(days=support.ACCESS_DAYS - 1)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE, object_type="persons.SupportTask",
                                     object_id=str(task.pk)).count() == 1
    with pytest.raises(ValidationError):
        support.do_close_support_task(task, "再次结束", acting_user=township_user)
    # The task closed, the unit records no more support (though it still sees the person).
    with pytest.raises(services.NotAllowed):
        support.do_record_support(person, SupportKind.SCHOOLING, TODAY(), "回访", acting_user=unit_user)


# --- pages and API -------------------------------------------------------------------------------


def test_the_township_gives_a_task_from_the_person_page(person, unit_user, township_user):
    client = Client()
    client.force_login(township_user)
    body = client.get(reverse("persons:detail", args=[person.pk])).content.decode()
    url = reverse("persons:support_task_new", args=[person.pk])
    assert url in body
    form = client.get(url).context["form"]
    assert unit_user.member_unit in form.fields["member_unit"].queryset
    response = client.post(url, {"member_unit": unit_user.member_unit.pk, "kind": "schooling",
                                 "request": "协助其子女复学", "due_on": IN_A_MONTH().isoformat()})
    assert response.status_code == 302
    task = person.support_tasks.get()
    body = client.get(reverse("persons:detail", args=[person.pk])).content.decode()
    assert "测试县教育局" in body and "协助其子女复学" in body
    assert reverse("persons:support_task_close", args=[task.pk]) in body
    assert client.post(url, {"member_unit": unit_user.member_unit.pk, "kind": "schooling", "request": "",
                             "due_on": IN_A_MONTH().isoformat()}).status_code == 400
    unit = Client()
    unit.force_login(unit_user)
    assert unit.get(url).status_code == 403


def test_my_support_tasks(person, village, unit_user, tree):
    """我的帮扶任务: the unit's own current tasks, searchable by name; the person page from there
    shows the task, the masked number, the village and the phone, which the unit may reveal."""
    _task(person, unit_user)
    other = people.person(village, name="别人的对象")
    support.do_assign_support_task(other, UserFactory(jurisdiction=tree["county"], roles=[Role.MEMBER_UNIT])
                                   .member_unit, SupportKind.EMPLOYMENT, "推荐就业", IN_A_MONTH(), acting_user=None)
    client = Client()
    client.force_login(unit_user)
    body = client.get(reverse("persons:support_tasks")).content.decode()
    assert "我的帮扶任务" in body and "任务对象" in body and "别人的对象" not in body
    assert person.id_number not in body and person.id_number[:6] + "********" in body
    assert "任务对象" not in client.get(reverse("persons:support_tasks") + "?q=别人").content.decode()
    page = client.get(reverse("persons:detail", args=[person.pk])).content.decode()
    assert "协助其子女复学" in page and "139****5678" in page
    phone = reverse("core:reveal", args=["persons.Person", person.pk, "phone"])
    assert "13912345678</span>" in client.post(phone).content.decode()
    assert client.post(reverse("core:reveal", args=["persons.Person", person.pk, "id_number"])).status_code == 403
    assert client.post(reverse("core:reveal", args=["persons.Person", other.pk, "phone"])).status_code == 404
    assert client.get(reverse("persons:detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("persons:today")).status_code == 403


def test_the_api_tells_a_member_unit_nothing_through_filters(person, village, unit_user):
    """The person list's criteria (flags, risk, status, overdue) do not apply for a member unit:
    they would tell what it may not read."""
    _task(person, unit_user)
    client = Client()
    client.force_login(unit_user)
    answers = {query: client.get("/api/persons/?" + query).json() for query in (
        "", "flagged=true", "flagged=false", "risk=high", "risk=low", "overdue=true", "overdue=false",
        "status=community_treatment", "status=deceased")}
    assert all(answer["count"] == 1 for answer in answers.values()), answers
    [record] = answers[""]["results"]
    assert set(record) == {"id", "name", "id_number", "village_code", "village"}
    assert client.get("/api/persons/?q=任务").json()["count"] == 1
    assert client.get("/api/persons/?q=别人").json()["count"] == 0


def test_a_member_unit_without_a_task_reads_no_person(person, unit_user):
    """The attack of issue 19 (46 of 46 pages and API records, the alert centre's person links):
    each door to a person, for the county's 教育局 without a task. Failed before the tasks."""
    client = Client()
    client.force_login(unit_user)
    assert client.get(reverse("persons:detail", args=[person.pk])).status_code == 404
    assert client.get(f"/api/persons/{person.pk}/").status_code == 404
    assert client.get("/api/persons/").json()["count"] == 0
    assert client.get(reverse("persons:list")).status_code == 403
    assert client.get(reverse("persons:list") + "?export=xlsx").status_code == 403
    alerts = client.get(reverse("monitoring:alerts")).content.decode()
    assert reverse("persons:detail", args=[person.pk]) not in alerts and "任务对象" not in alerts
    assert client.get(reverse("persons:support", args=[person.pk])).status_code == 404


def test_the_task_list_is_audited_bounded_and_closes_tasks(person, village, unit_user, django_assert_max_num_queries):
    _task(person, unit_user)
    for number in range(8):
        _task(people.person(village, name=f"对象{number}"), unit_user, kind=SupportKind.EMPLOYMENT)
    client = Client()
    client.force_login(unit_user)
    with django_assert_max_num_queries(15):  # the same for 9 tasks as for 1 (the user menu reads the unit)
        body = client.get(reverse("persons:support_tasks") + "?q=对象").content.decode()
    assert body.count("对象") >= 9
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.SEARCH, actor_username=unit_user.username).get()
    assert entry.changes == {"criteria": {"q": "对*"}, "page": 1, "rows": 9, "results": 9}  # the name searched masked
    task = person.support_tasks.get()
    url = reverse("persons:support_task_close", args=[task.pk])
    assert client.post(url, {"outcome": "", "closed_on": TODAY().isoformat(), "version": task.version}).status_code == 400
    response = client.post(url, {"outcome": "已复学", "closed_on": TODAY().isoformat(), "version": task.version})
    assert response.status_code == 302 and response["Location"] == reverse("persons:support_tasks")
    task.refresh_from_db()
    assert task.state == SupportTaskState.CLOSED and task.outcome == "已复学"
    stale = client.post(reverse("persons:support_task_close", args=[person.support_tasks.get().pk]),
                        {"outcome": "再次", "closed_on": TODAY().isoformat(), "version": 1})
    assert stale.status_code == 400  # closed already


# --- the matrix for every endpoint of a person a member unit may reach -------------------------

ASSIGNERS = frozenset({Role.OFFICE, Role.TOWNSHIP})


def test_task_endpoints_are_scoped(scope_matrix, person, tree):
    """The task list names the person to the assigners of the area and to the units with a task;
    giving a task is the assigners'; another unit's task cannot be closed by a unit."""
    scope_matrix.add_tasked_member_units(person)
    client = Client()
    scope_matrix.check_list(client, reverse("persons:support_tasks"), marker="任务对象",
                            allowed_roles=ASSIGNERS | {TASKED})
    scope_matrix.check_detail(client, reverse("persons:support_task_new", args=[person.pk]), allowed_roles=ASSIGNERS)
    theirs = _task(person, UserFactory(jurisdiction=tree["county"], roles=[Role.MEMBER_UNIT]))
    scope_matrix.check_detail(client, reverse("persons:support_task_close", args=[theirs.pk]),
                              allowed_roles=ASSIGNERS)


def test_reveal_is_scoped(scope_matrix, person):
    """The phone: to the revealing roles of the area and to a unit with a task (for the visit);
    the ID number: never to a member unit."""
    scope_matrix.add_tasked_member_units(person)
    client = Client()
    revealers = frozenset({Role.OFFICE, Role.TOWNSHIP, Role.POLICE})  # the social worker: assigned persons only
    scope_matrix.check_detail(client, reverse("core:reveal", args=["persons.Person", person.pk, "phone"]),
                              allowed_roles=revealers | {TASKED}, method="post")
    scope_matrix.check_detail(client, reverse("core:reveal", args=["persons.Person", person.pk, "id_number"]),
                              allowed_roles=revealers, method="post")


def test_no_today_list_nor_alert_lines_for_a_member_unit_with_a_task(scope_matrix, person):
    scope_matrix.add_tasked_member_units(person)
    client = Client()
    for case in scope_matrix.cases:
        if case.role != TASKED:
            continue
        client.force_login(case.user)
        assert client.get(reverse("persons:today")).status_code == 403, case
        for url in (reverse("home"), reverse("monitoring:alerts")):
            body = client.get(url).content.decode()
            assert reverse("persons:detail", args=[person.pk]) not in body, (case, url)
