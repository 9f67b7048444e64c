"""persons.queries: the today list (urgency order, one line per person and kind, scope, a fixed
number of queries), the pickers and the timeline."""

import datetime

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.roles import Role
from persons import queries, services
from persons.choices import CheckInKind, DrugTestResult, MeasureKind
from persons.models import Flag
from persons.tests import people

TODAY = timezone.localdate


@pytest.fixture
def village(tree):
    return tree["villages"][0]


@pytest.fixture
def worker(township):
    return UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP])


def _refuse_three_tests(person):
    for days in (60, 30, 2):
        services.do_record_check_in(person, CheckInKind.DRUG_TEST, TODAY() - datetime.timedelta(days=days),
                                    acting_user=None, result=DrugTestResult.REFUSED)


def test_today_list_puts_the_overdue_first_then_by_date(village, worker):
    # Reported in 40 days ago: the first monthly test and interview are about 10 days overdue;
    # reported in 27 days ago: they fall due within the week.
    people.under_treatment(village, name="逾期者", decided_days_ago=45, reported_days_ago=40)
    people.under_treatment(village, name="将到期", decided_days_ago=30, reported_days_ago=27)
    awaiting = people.person(village, name="待报到")
    services.do_decide_measure(awaiting, MeasureKind.COMMUNITY_TREATMENT, TODAY() - datetime.timedelta(days=3),
                               acting_user=None)
    result = queries.today_list(worker)
    lines = [(item.person_name, item.kind, item.overdue) for item in result.items]
    assert lines[0] == ("逾期者", "check_in", True)
    assert ("待报到", "report_in", False) in lines
    assert ("将到期", "check_in", False) in lines
    assert all(not item.overdue for item in result.items[1:])
    tier_two = [item.on for item in result.items if not item.overdue and item.kind != "flag"]
    assert tier_two == sorted(tier_two)
    report_in = next(item for item in result.items if item.kind == "report_in")
    assert report_in.on == TODAY() + datetime.timedelta(days=12)
    assert report_in.action_url.endswith(f"/measures/{awaiting.measures.get().pk}/report-in/")
    assert result.overdue_count == 1


def test_the_check_in_link_is_pre_filled_with_person_and_kind(village, worker):
    late = people.under_treatment(village, name="逾期者", decided_days_ago=45, reported_days_ago=40)
    item = next(i for i in queries.today_list(worker).items if i.person_id == late.pk)
    assert item.overdue and item.title == "毒品检测、谈话"  # one line per person
    assert [a.url for a in item.actions] == [f"/persons/{late.pk}/check-ins/new/?kind=drug_test",
                                             f"/persons/{late.pk}/check-ins/new/?kind=interview"]


def test_missed_due_dates_are_one_line_per_person_and_kind(village, worker):
    people.under_treatment(village, name="多次逾期", decided_days_ago=130, reported_days_ago=120)
    items = [i for i in queries.today_list(worker).items if i.kind == "check_in" and i.overdue]
    assert len(items) == 1  # one line for the person
    test = next(a for a in items[0].actions if a.label == "毒品检测")
    assert test.count == 3  # three monthly dates passed; the 4th is not yet


def test_open_flags_are_urgent_and_link_to_the_flag(village, worker):
    person = people.under_treatment(village, name="违规者")
    _refuse_three_tests(person)
    flag = person.flags.get(rule="serious_breach", state="open")
    item = next(i for i in queries.today_list(worker).items if i.kind == "flag")
    assert "戒毒条例 第二十条" in item.detail
    assert [s.key for s in queries.today_list(worker).sections if s.items][:2] == ["overdue", "flags"]
    assert item.action_url == f"/persons/{person.pk}/#flag-{flag.pk}"


def test_decided_flags_and_ended_measures_leave_the_list(village, worker):
    person = people.under_treatment(village, name="已处理")
    _refuse_three_tests(person)
    services.do_decide_flag(person.flags.get(rule="serious_breach", state="open"), "已决定强制隔离戒毒",
                            acting_user=None)
    services.do_end_measure(person.measures.get(), TODAY(), acting_user=None, completed=False, reason="强戒")
    assert [i for i in queries.today_list(worker).items if i.person_id == person.pk and i.kind != "flag"] == []
    assert not [i for i in queries.today_list(worker).items if i.kind == "flag" and "第二十条" in i.detail]


def test_today_list_is_scoped(tree, village, township):
    people.under_treatment(village, name="本镇人员")
    other_township = tree["townships"][1]
    assert queries.today_list(UserFactory(jurisdiction=other_township, roles=[Role.TOWNSHIP])).items == []
    assert queries.today_list(UserFactory(jurisdiction=township, roles=[Role.LEADERSHIP])).items == []
    assert queries.today_list(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE])).items


def test_a_social_worker_gets_only_their_people(village, township):
    mine = people.under_treatment(village, name="我的人员")
    people.under_treatment(village, name="别人的人员")
    social_worker = UserFactory(jurisdiction=township, roles=[Role.SOCIAL_WORKER])
    services.do_update_person(mine, expected_version=mine.version, acting_user=None, assigned_worker=social_worker)
    assert {i.person_name for i in queries.today_list(social_worker).items} == {"我的人员"}


TODAY_QUERIES = 5  # planned check-ins, report-ins, older open flags counted, new flags, transfers


@pytest.mark.parametrize("count", [5, 40])
def test_today_list_query_count_does_not_grow_with_rows(village, worker, count, django_assert_max_num_queries):
    for n in range(count):
        person = people.under_treatment(village, name=f"人员{n}")
        if n % 5 == 0:
            _refuse_three_tests(person)
    worker.role_codes  # noqa: B018 - the user's roles are read once per request, before the page
    with django_assert_max_num_queries(TODAY_QUERIES):
        result = queries.today_list(worker)
    assert result.overdue_count >= count  # everybody has missed check-ins (listed, or counted past the limit)
    assert all(len(section.items) <= queries.SECTION_LIMIT for section in result.sections)


@pytest.mark.parametrize("count", [5, 40])
def test_home_page_query_count_does_not_grow_with_rows(village, worker, client, count, django_assert_max_num_queries):
    for n in range(count):
        people.under_treatment(village, name=f"人员{n}")
    client.force_login(worker)
    with django_assert_max_num_queries(14):
        assert client.get("/").status_code == 200


def test_area_choices_group_villages_under_their_township(tree, township):
    user = UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE])
    groups = queries.area_choices(user)
    assert [name for name, _options in groups] == [t.name for t in tree["townships"]]
    first = groups[0][1]
    assert first[0] == (township.code, f"{township.name}（全部）")
    assert [code for code, _name in first[1:]] == [v.code for v in tree["villages"] if v.parent_id == township.pk]


def test_area_choices_of_a_village_user(tree):
    village = tree["villages"][0]
    user = UserFactory(jurisdiction=village, roles=[Role.SOCIAL_WORKER])
    assert queries.area_choices(user) == [(village.name, [(village.code, village.name)])]


def test_timeline_holds_every_kind_of_record_newest_first(village):
    person = people.under_treatment(village, name="时间线")
    _refuse_three_tests(person)
    services.do_dismiss_flag(person.flags.get(rule="serious_breach", state="open"), "已经核实处理", acting_user=None)
    events = queries.timeline(person)
    kinds = {e.kind for e in events}
    assert {"status", "measure", "check_in", "flag"} <= kinds
    assert [e.on for e in events] == sorted((e.on for e in events), reverse=True)
    assert len({e.anchor for e in events}) == len(events)
    assert any("已驳回" in e.title for e in events)


def test_measure_clocks(village):
    person = people.person(village, name="待报到")
    decided = TODAY() - datetime.timedelta(days=16)
    measure = services.do_decide_measure(person, MeasureKind.COMMUNITY_TREATMENT, decided, acting_user=None)
    clocks = queries.measure_clocks(measure)
    assert clocks[0].on == decided + datetime.timedelta(days=15) and clocks[0].overdue


def test_a_transfer_waits_on_both_today_lists(tree, village, worker):
    person = people.under_treatment(village, name="移交者")
    transfer = services.do_hand_over(person, tree["villages"][-1], "迁居", TODAY(), acting_user=None)
    sending = next(i for i in queries.today_list(worker).items if i.kind == "transfer")
    receiver = UserFactory(jurisdiction=tree["townships"][1], roles=[Role.TOWNSHIP])
    receiving = next(i for i in queries.today_list(receiver).items if i.kind == "transfer")
    assert receiving.action_url == f"/persons/transfers/{transfer.pk}/receive/"
    assert sending.action_url == f"/persons/{person.pk}/#transfers"
    services.do_acknowledge_transfer(transfer, acting_user=receiver)
    assert not [i for i in queries.today_list(worker).items if i.kind == "transfer"]


def test_old_open_flags_are_counted_not_listed(village, worker):
    person = people.under_treatment(village, name="旧预警")
    _refuse_three_tests(person)
    Flag.objects.filter(person=person).update(raised_on=TODAY() - datetime.timedelta(days=40))
    section = next(s for s in queries.today_list(worker).sections if s.key == "flags")
    assert section.items == [] and section.hidden == 1 and section.more_url == "/persons/?flagged=true"
