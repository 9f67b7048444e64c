"""persons.queries: the today list (urgency order, one line per person and kind, scope, a fixed
number of queries), the pickers and the timeline."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
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
    assert lines[0] == ("逾期者", "missed", True)
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
    soon = people.under_treatment(village, name="将到期", decided_days_ago=30, reported_days_ago=27)
    item = next(i for i in queries.today_list(worker).items if i.person_id == soon.pk)
    assert not item.overdue and item.title == "毒品检测、谈话"  # one line per person
    assert [a.url for a in item.actions] == [f"/persons/{soon.pk}/check-ins/new/?kind=drug_test",
                                             f"/persons/{soon.pk}/check-ins/new/?kind=interview"]
    # Missed ones are not recorded late but explained: one action for all of them.
    late = people.under_treatment(village, name="逾期者", decided_days_ago=45, reported_days_ago=40)
    item = next(i for i in queries.today_list(worker).items if i.person_id == late.pk)
    assert item.kind == "missed" and item.title == "漏检：毒品检测、谈话" and not item.actions
    assert item.action_url == f"/persons/{late.pk}/missed/explain/?back=today"


def test_missed_due_dates_are_one_line_per_person_and_kind(village, worker):
    # Reported three months and a fortnight ago (120 days reach the 4th monthly date when the
    # months include February).
    reported = TODAY() - relativedelta(months=3, days=15)
    days = (TODAY() - reported).days
    person = people.under_treatment(village, name="多次逾期", decided_days_ago=days + 10, reported_days_ago=days)
    items = [i for i in queries.today_list(worker).items if i.kind == "missed"]
    assert len(items) == 1  # one line for the person
    # Three monthly dates passed for the test (the 4th is not yet), and those of the other kinds.
    missed = person.planned_check_ins.filter(due_on__lt=TODAY())
    assert missed.filter(kind=CheckInKind.DRUG_TEST).count() == 3
    assert f"漏检{missed.count()}次" in items[0].detail


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


TODAY_QUERIES = 6  # planned check-ins, report-ins, older open flags counted, new flags, transfers, 待补录措施


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
    # 15 (the 待补录措施 section is one), and the today list's audit entry (savepoint, anchor row, insert and anchor update, release).
    with django_assert_max_num_queries(19):
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
    events = queries.PersonFile(person).timeline()
    kinds = {e.kind for e in events}
    assert {"status", "measure", "check_in", "flag"} <= kinds
    assert [e.on for e in events] == sorted((e.on for e in events), reverse=True)
    assert len({e.anchor for e in events}) == len(events)
    assert any("已驳回" in e.title for e in events)


def test_the_plan_lists_the_overdue_and_the_next_due_in_date_order(village):
    person = people.under_treatment(village, name="计划", decided_days_ago=730, reported_days_ago=720)
    measure = person.measures.get()
    today = timezone.localdate()
    open_items = list(measure.planned.filter(done__isnull=True).order_by("due_on", "id"))
    late = [item for item in open_items if item.due_on < today]
    coming = [item for item in open_items if item.due_on >= today]
    assert len(late) > queries.PLAN_OVERDUE_SHOWN and len(coming) > 5  # both sides are cut
    records = queries.PersonFile(person)
    summary = records.plan(today)
    assert summary["overdue"] == late[:queries.PLAN_OVERDUE_SHOWN] and summary["explained"] == []
    assert summary["next"] == coming[:5]
    assert records.plan(today, upcoming=2)["next"] == coming[:2]
    later = today + datetime.timedelta(days=3650)  # everything overdue, nothing next
    assert records.plan(later) == {"overdue": open_items[:queries.PLAN_OVERDUE_SHOWN], "explained": [], "next": []}


def test_the_person_file_reads_the_cards_from_the_timeline_records(tree, village):
    person = people.under_treatment(village, name="卡片")
    _refuse_three_tests(person)
    services.do_assess_risk(person, acting_user=None)
    services.do_hand_over(person, tree["townships"][1], "搬家", timezone.localdate(), acting_user=None)
    records = queries.PersonFile(person)
    assert records.current_measure == person.measures.get()
    assert records.open_flags == list(person.flags.filter(state="open").order_by("-raised_on", "-id"))
    assert records.open_flags
    assert records.latest_risk is not None
    assert records.latest_risk == person.risk_assessments.order_by("-assessed_on", "-id").first()
    assert records.pending_transfer == person.transfers.get(state="handed_over")


def test_the_person_file_asks_only_for_the_sparse_records_a_person_has(tree, village, django_assert_num_queries):
    from persons.models import Person

    with_records = people.under_treatment(village, name="有记录")
    _refuse_three_tests(with_records)
    services.do_hand_over(with_records, tree["townships"][1], "搬家", timezone.localdate(), acting_user=None)
    without = people.person(village, name="无记录")
    read = queries.PersonFile.with_presence(Person.objects.all())
    full = queries.PersonFile(read.get(pk=with_records.pk))
    assert full.flags and full.transfers and full.open_flags and full.pending_transfer
    assert [e.anchor for e in full.timeline()] == [e.anchor for e in queries.PersonFile(with_records).timeline()]
    lean = read.get(pk=without.pk)
    with django_assert_num_queries(6):  # no flags, supports, transfers or support tasks: not asked for
        records = queries.PersonFile(lean)
    assert records.flags == records.supports == records.transfers == records.support_tasks == []
    with django_assert_num_queries(10):  # a person read without the annotations: every kind asked
        queries.PersonFile(without)


def test_measure_clocks(village):
    person = people.person(village, name="待报到")
    decided = TODAY() - datetime.timedelta(days=16)
    measure = services.do_decide_measure(person, MeasureKind.COMMUNITY_TREATMENT, decided, acting_user=None)
    clocks = queries.measure_clocks(measure)
    assert clocks[0].on == decided + datetime.timedelta(days=15) and clocks[0].overdue


def test_a_transfer_waits_on_both_today_lists(tree, village, worker):
    person = people.under_treatment(village, name="移交者")
    transfer = services.do_hand_over(person, tree["townships"][1], "迁居", TODAY(), acting_user=None)
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


# --- the fast paths at province scale (docs/scaling.md): bounded queries, the same look ----------


def _mixed_people(tree, count: int):
    """Persons in both townships (villages and a township itself), some under treatment with
    missed check-ins and open flags, some with a risk level, women and men."""
    from persons.models import Person

    places = [*tree["villages"], *tree["townships"]]
    made = []
    for n in range(count):
        place = places[n % len(places)]
        if n % 3 == 0:
            someone = people.under_treatment(place, name=f"治疗{n}")
            if n % 6 == 0:
                _refuse_three_tests(someone)
        else:
            someone = people.person(place, name=f"人员{n}", sex="F" if n % 2 else "M")
        made.append(someone)
    Person.objects.filter(pk__in=[p.pk for p in made[::4]]).update(risk_level="high")
    Person.objects.filter(pk__in=[p.pk for p in made[1::4]]).update(risk_level="low")
    Person.objects.filter(pk__in=[p.pk for p in made[2::4]]).update(risk_level="")
    return made


def test_the_person_table_body_renders_as_django_tables2_would(tree, rf):
    """PersonTable.body_rows() (the list page's fast path) gives, cell by cell, what
    django-tables2's own rendering gives, and the same even/odd row classes."""
    from persons.models import Person
    from persons.tables import PersonTable

    _mixed_people(tree, 14)
    office = UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE])
    table = PersonTable(queries.person_rows(Person.objects.visible_to(office)).order_by("name", "id"))
    table.paginate(per_page=50)
    fast = table.body_rows()
    slow = [(row.attrs["class"], [row.get_cell(column.name) for column in table.columns])
            for row in table.paginated_rows]
    assert len(fast) == 14
    assert [(css, [str(c) for c in cells]) for css, cells in fast] == [
        (css, [str(c) for c in cells]) for css, cells in slow]
    rendered = " ".join(str(c) for _css, cells in fast for c in cells)
    assert "badge bg-red-lt" in rendered and "badge bg-green-lt" in rendered and "—" in rendered
    assert "badge bg-red text-red-fg" in rendered  # open flags


LIST_FILTERS = ["", "?overdue=true", "?flagged=true", "?risk=high", "?status=community_treatment", "?q=zl",
                "?q=人员", "?status=social_control&overdue=false&flagged=false", "?sort=-place&page=2"]


def _list_queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm the session and the user's cached roles
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context.captured_queries)


@pytest.mark.parametrize("place", ["county", "township", "worker"])
def test_list_pages_run_the_same_queries_for_few_and_many_people(tree, client, place):
    """Each filtered list page, for a county office, a township and a social worker, runs the
    same number of queries with 6 persons as with 60 (and at most LIST_PAGE_QUERIES)."""
    from persons.models import Person

    if place == "county":
        user = UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE])
    elif place == "township":
        user = UserFactory(jurisdiction=tree["townships"][0], roles=[Role.TOWNSHIP])
    else:
        user = UserFactory(jurisdiction=tree["townships"][0], roles=[Role.SOCIAL_WORKER])
    client.force_login(user)
    counts = []
    for total in (6, 60):
        made = _mixed_people(tree, total - Person.objects.count())
        if place == "worker":
            Person.objects.filter(pk__in=[p.pk for p in made]).update(assigned_worker=user)
        counts.append({url: _list_queries(client, "/persons/" + url) for url in LIST_FILTERS})
    few, many = counts
    assert few == many
    assert max(many.values()) <= LIST_PAGE_QUERIES, many


LIST_PAGE_QUERIES = 18  # session, user, roles, policy, area choices, count, page, audit entry (+ its lock)


@pytest.mark.parametrize("place", ["county", "worker"])
def test_today_list_of_a_county_office_and_a_worker_is_bounded(tree, place, django_assert_max_num_queries):
    from persons.models import Person

    made = _mixed_people(tree, 30)
    if place == "county":
        user = UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE])
    else:
        user = UserFactory(jurisdiction=tree["townships"][0], roles=[Role.SOCIAL_WORKER])
        Person.objects.filter(pk__in=[p.pk for p in made]).update(assigned_worker=user)
    user.role_codes  # noqa: B018 - read once per request, before the page
    with django_assert_max_num_queries(TODAY_QUERIES):
        result = queries.today_list(user)
    assert result.overdue_count >= 5


@pytest.mark.django_db
def test_the_postgresql_indexes_of_the_fast_paths_exist():
    """Migration 0003: the trigram index for the name search and the covering index of open
    due dates per person (PostgreSQL; on SQLite only the latter, without INCLUDE)."""
    from django.db import connection

    with connection.cursor() as cursor:
        indexes = {i for i in connection.introspection.get_constraints(cursor, "persons_plannedcheckin")}
        assert "planned_open_person_due" in indexes
        if connection.vendor != "postgresql":
            return
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'persons_person'")
        definitions = dict(cursor.fetchall())
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'planned_open_person_due'")
        planned = cursor.fetchone()[0]
    assert "gin_trgm_ops" in definitions["person_name_trgm"]
    assert "INCLUDE (measure_id)" in planned and "WHERE (done_id IS NULL)" in planned
    assert any("name_initials" in d and "varchar_pattern_ops" in d for d in definitions.values())


# The person table's body as persons/_person_table.html wrote it with {% for %}, before
# PersonTable.body_html took it over.
OLD_TABLE_BODY_LOOP = """{% for css_class, cells in table.body_rows %}
                    <tr class="{{ css_class }}">{% for cell in cells %}
                            <td >{{ cell }}</td>{% endfor %}
                    </tr>
                {% endfor %}"""


def test_the_person_table_body_html_is_what_the_template_wrote(tree):
    from django.template import Context, Template

    from persons.models import Person
    from persons.tables import PersonTable

    made = _mixed_people(tree, 9)
    Person.objects.filter(pk=made[0].pk).update(name='<b>"王" & 李</b>')
    office = UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE])

    def table():  # fresh each time: django-tables2 counts the rows it hands out for even/odd
        made = PersonTable(queries.person_rows(Person.objects.visible_to(office)).order_by("name", "id"))
        made.paginate(per_page=50)
        return made

    expected = Template(OLD_TABLE_BODY_LOOP).render(Context({"table": table()}))
    assert table().body_html() == expected
    assert "&lt;b&gt;&quot;王&quot; &amp; 李&lt;/b&gt;" in expected and expected.count("<tr ") == 9
