"""Rollups (monitoring.rollups): kept current by the services, equal to a rebuild from scratch,
and giving every indicator and breakdown the same figures as the direct computation from the
records — for the running month, past months, quarters, years, trends and days inside a month."""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from monitoring import indicators, rollups
from monitoring.models import RollupDay, RollupMonth, RollupState
from monitoring.periods import Period
from persons import services
from persons.choices import CheckInKind, ControlStatus, FlagState
from persons.models import Flag
from persons.tests import people

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def county(tree):
    return tree["county"]


@pytest.fixture
def scenario(tree):
    """Persons made and changed only through the services: files, statuses, measures decided,
    reported in and ended, tests (one positive after release: a relapse), flags decided, a
    move to another village."""
    today = timezone.localdate()
    v1, v2, v3 = tree["villages"][:3]
    a = people.person(v1, "甲", since_days=900, substances=["methamphetamine", "heroin"])
    b = people.under_treatment(v1, "乙", decided_days_ago=400, reported_days_ago=395)
    people.under_treatment(v2, "丙", decided_days_ago=40, reported_days_ago=None)
    d = people.under_treatment(v3, "丁", decided_days_ago=1300, reported_days_ago=1290)
    people.person(v3, "戊", status=ControlStatus.THREE_YEAR_ABSTINENCE, since_days=30, sex="F")
    services.do_record_check_in(b, CheckInKind.DRUG_TEST, today - 300 * DAY, acting_user=None, method="urine",
                                result="negative")
    services.do_end_measure(d.measures.get(), today - 200 * DAY, acting_user=None,
                            next_status=ControlStatus.SOCIAL_CONTROL)
    services.do_record_check_in(d, CheckInKind.DRUG_TEST, today - 3 * DAY, acting_user=None, method="urine",
                                result="positive", substance="heroin")
    services.do_change_status(a, ControlStatus.WHEREABOUTS_UNKNOWN, today - 100 * DAY, acting_user=None)
    flag = Flag.objects.filter(state=FlagState.OPEN).order_by("pk").first()
    if flag is not None:
        services.do_decide_flag(flag, "已约谈并书面警告", acting_user=None)
    a.refresh_from_db()
    services.do_update_person(a, expected_version=a.version, acting_user=None, jurisdiction=v2)
    return today


def _stored(county):
    keys = {RollupMonth: ("jurisdiction_id", "month"), RollupDay: ("jurisdiction_id", "day", "cohort", "late")}
    return {model.__name__: rollups._as_table(model.objects.filter(jurisdiction__path__startswith=county.path), key)
            for model, key in keys.items()}


def _cases(today):
    month = Period.containing(today)
    last_month = month.previous()
    return [
        (month, today), (last_month, today), (last_month, last_month.start + 9 * DAY),
        (Period.containing(today, "quarter"), today), (Period.year(today.year), today),
        (month.same_last_year(), today), (month.previous().previous(), today),
    ]


def _figures(county, today):
    out = {}
    for period, as_of in _cases(today):
        for code, value in indicators.evaluate(None, county, period, as_of=as_of).items():
            out[(period.code, as_of, code)] = (value.value, value.numerator, value.denominator, value.previous_year,
                                               value.previous_period)
        for pk, values in indicators.evaluate_children(None, county, period, as_of=as_of).items():
            for code, value in values.items():
                out[(period.code, as_of, pk, code)] = (value.value, value.numerator, value.denominator)
    months = []
    period = Period.containing(today)
    for _i in range(24):
        months.append(period)
        period = period.previous()
    for code in ("registered", "newly_found", "execution_rate", "test_completion_rate", "relapse_rate",
                 "overdue_items", "report_in_rate", "serious_breach_flags", "high_risk_share"):
        out[("series", code)] = [(v.value, v.numerator, v.denominator) for v in
                                 indicators.series(code, county, months, as_of=today)]
    codes = ["registered", "newly_found", "execution_rate", "test_completion_rate", "grid_rate"]
    together = indicators.series_many(codes, county, months, as_of=today)
    out[("series together",)] = {code: [(v.value, v.numerator, v.denominator) for v in values]
                                 for code, values in together.items()}
    for name in indicators.BREAKDOWNS:
        for day in (today, today - 45 * DAY):
            out[("breakdown", name, day)] = indicators.breakdown(name, county, as_of=day)
    for day in (today, today - 45 * DAY):
        together = indicators.breakdowns(list(indicators.BREAKDOWNS), county, as_of=day)
        assert list(together) == list(indicators.BREAKDOWNS)
        for name, rows in together.items():
            assert rows == out[("breakdown", name, day)]  # read together, the same as one by one
    return out


def test_the_services_keep_the_rollups_current(county, scenario, tree, django_capture_on_commit_callbacks):
    today = scenario
    call_command("rollups", "rebuild", "--jurisdiction", county.code)
    assert rollups.answers(rollups.coverage(county.path), [rollups.Need(today)])
    rebuilt = _stored(county)
    # One more change through a service: its commit recomputes the village, without a rebuild.
    with django_capture_on_commit_callbacks(execute=True):
        people.under_treatment(tree["villages"][3], "己", decided_days_ago=20, reported_days_ago=18)
    assert not RollupState.objects.filter(dirty=True).exists()
    after_service = _stored(county)
    assert after_service != rebuilt
    assert rollups.verify(county) == []
    call_command("rollups", "rebuild", "--jurisdiction", county.code)
    assert _stored(county) == after_service  # incremental == from scratch


def test_a_change_marks_its_village_and_the_next_read_recomputes_it(county, scenario, tree):
    call_command("rollups", "rebuild", "--jurisdiction", county.code)
    # The test's transaction never commits: the village stays marked, as after a crash between
    # a commit and its recomputation.
    people.under_treatment(tree["villages"][3], "庚", decided_days_ago=20, reported_days_ago=18)
    assert list(RollupState.objects.filter(dirty=True).values_list("jurisdiction", flat=True)) == [
        tree["villages"][3].pk]
    assert rollups.coverage(county.path) is not None  # the read recomputes it first
    assert not RollupState.objects.filter(dirty=True).exists()
    assert rollups.verify(county) == []


def test_rollups_give_the_figures_of_the_records(county, scenario):
    today = scenario
    call_command("rollups", "rebuild")
    assert rollups.answers(rollups.coverage(county.path), [rollups.Need(today)])
    from_rollups = _figures(county, today)
    RollupState.objects.all().delete()  # no rollups: every figure is computed from the records
    assert rollups.coverage(county.path) is None
    direct = _figures(county, today)
    assert from_rollups == direct
    assert from_rollups[(Period.containing(today).code, today, "registered")][0] == 5


def test_one_reading_refreshes_and_checks_an_area_once(county, scenario, tree, django_assert_num_queries):
    call_command("rollups", "rebuild")
    cover = rollups.coverage(county.path)
    with rollups.one_reading():
        with django_assert_num_queries(2):  # the dirty villages (none), the coverage
            assert rollups.coverage(county.path) == cover
        with django_assert_num_queries(0):
            assert rollups.coverage(county.path) == cover
            with rollups.one_reading():  # nested: the outer block's answers
                assert rollups.coverage(county.path) == cover
        with django_assert_num_queries(2):  # another area is checked on its own
            assert rollups.coverage(tree["villages"][0].path) is not None
    # Outside the block every read looks again: a village changed since is recomputed first.
    people.under_treatment(tree["villages"][3], "辛", decided_days_ago=20, reported_days_ago=18)
    assert RollupState.objects.filter(dirty=True).exists()
    assert rollups.coverage(county.path) == cover
    assert not RollupState.objects.filter(dirty=True).exists()


def test_a_village_without_rollups_means_the_records_are_read(county, scenario, tree):
    call_command("rollups", "rebuild")
    RollupState.objects.filter(jurisdiction=tree["villages"][3]).delete()
    assert rollups.coverage(county.path) is None
    assert rollups.coverage(tree["villages"][0].path) is not None


def test_days_before_the_rollups_are_read_from_the_records(county, scenario):
    today = scenario
    call_command("rollups", "rebuild")
    old = today - datetime.timedelta(days=31 * (rollups.LOOKBACK_MONTHS + 2))
    need = rollups.Need(old)
    assert not rollups.answers(rollups.coverage(county.path), [need])
    figure = indicators.evaluate(["registered"], county, Period.containing(old), as_of=old)["registered"]
    RollupState.objects.all().delete()
    direct = indicators.evaluate(["registered"], county, Period.containing(old), as_of=old)["registered"]
    assert figure.value == direct.value == 1  # 丁, in community treatment then: read from the records


def test_a_trend_is_a_few_queries_whatever_its_length(county, scenario, django_assert_max_num_queries):
    today = scenario
    call_command("rollups", "rebuild")
    months = [Period.containing(today)]
    for _i in range(23):
        months.insert(0, months[0].previous())
    with django_assert_max_num_queries(7):
        values = indicators.series("registered", county, months, as_of=today)
    assert len(values) == 24 and values[-1].value == 5
    with django_assert_max_num_queries(16):  # coverage, two rollup reads, staff, settings, targets
        indicators.evaluate(None, county, Period.containing(today), as_of=today)


def test_verify_names_a_drifted_row(county, scenario):
    call_command("rollups", "rebuild")
    call_command("rollups", "verify", "--jurisdiction", county.code)  # agrees: no CommandError
    row = RollupMonth.objects.filter(jurisdiction__path__startswith=county.path, persons_registered__gt=0).first()
    RollupMonth.objects.filter(pk=row.pk).update(persons_registered=row.persons_registered + 1)
    assert rollups.verify(county)
    with pytest.raises(CommandError):
        call_command("rollups", "verify", "--jurisdiction", county.code)


def test_thresholds_of_age_and_terms():
    assert rollups.threshold(datetime.date(1988, 2, 29), 35) == datetime.date(2023, 3, 1)
    assert rollups.threshold(datetime.date(1990, 6, 15), 35) == datetime.date(2025, 6, 15)
    assert rollups.threshold(datetime.date(2021, 2, 28), 3) == datetime.date(2024, 2, 28)


def test_the_daily_sweep_checks_a_county_and_repairs_it(county, scenario):
    call_command("rollups", "rebuild")
    assert rollups.sweep(scenario)["differences"] == 0
    RollupMonth.objects.filter(jurisdiction__path__startswith=county.path).delete()
    days = [scenario + n * DAY for n in range(2)]  # one of the two counties each day
    results = [rollups.sweep(day) for day in days]
    assert any(r["county"] == county.code and r["differences"] for r in results)
    assert rollups.verify(county) == []


def test_the_daily_sweep_recomputes_what_is_queued_before_it_compares(county, scenario, monkeypatch):
    """Villages a sweep batch marked for the background worker are not drift: the check
    recomputes them, as a read would, and does not rebuild the county."""
    call_command("rollups", "rebuild")
    village = RollupState.objects.filter(jurisdiction__path__startswith=county.path).first().jurisdiction
    RollupMonth.objects.filter(jurisdiction=village).delete()  # stale, and marked: queued work
    RollupState.objects.filter(jurisdiction=village).update(dirty=True)
    rebuilt = []
    monkeypatch.setattr(rollups, "rebuild", lambda *args, **kwargs: rebuilt.append(args))
    days = [scenario + n * DAY for n in range(2)]  # one of the two counties each day
    results = [rollups.sweep(day) for day in days]
    assert any(r["county"] == county.code for r in results)
    assert not any(r["differences"] for r in results) and not rebuilt
    assert not RollupState.objects.filter(dirty=True).exists() and rollups.verify(county) == []


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_during_a_recomputation_is_marked_after_it(tree, monkeypatch):
    """A recomputation reads the facts of its villages; a change to one of them that commits
    meanwhile must leave the village marked, not marked clean with the figures read before."""
    import threading

    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the two cannot overlap")
    village = tree["villages"][0]
    people.person(village, "甲")
    rollups.rebuild(tree["county"])
    monkeypatch.setattr(rollups, "_recompute_pending", lambda: None)  # as if the change's own recomputation
    locked, go, real_compute = threading.Event(), threading.Event(), rollups.compute  # had not run yet

    def compute(ids, span):
        if threading.current_thread().name == "recomputation":
            locked.set()
            assert go.wait(10)
        return real_compute(ids, span)

    monkeypatch.setattr(rollups, "compute", compute)
    errors = []

    def run(work):
        try:
            work()
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)
        finally:
            connection.close()

    recomputation = threading.Thread(name="recomputation", target=run, args=(
        lambda: transaction.atomic()(rollups.recompute)([village.pk]),))
    change = threading.Thread(name="change", target=run, args=(lambda: people.person(village, "乙"),))
    recomputation.start()
    assert locked.wait(10)
    change.start()
    change.join(1)
    assert change.is_alive()  # its mark waits for the recomputation's lock
    go.set()
    recomputation.join(10)
    change.join(10)
    assert not errors and not recomputation.is_alive() and not change.is_alive()
    assert RollupState.objects.get(jurisdiction=village).dirty  # the next read recomputes it
