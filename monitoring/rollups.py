"""Rollups: the counts behind the indicators, per jurisdiction a person is filed under (a
village), kept current by the services — the province dashboard sums a few thousand rows
instead of scanning 100,000 person files and millions of check-ins (issue «Province scale»).

What is stored (monitoring.models), for each village:

* ``RollupMonth`` — per month, every *stock* (how many persons are registered, in each status,
  age band, substance, risk level; executing a measure, executing it normally, released within
  three years; overdue plan items and the persons they concern; open flags) as it stood on the
  day before the month began, and every *flow* (newly found, measures decided / due / reported
  on time, drug tests due / done, relapses) of the month's cohort that had happened by the
  month's end;
* ``RollupDay`` — the changes of the stocks day by day, and the flow events day by day with
  their cohort month (``late`` for an event after its cohort's month, a test done late).

A stock on a day D is the balance of D's month plus the changes of that month up to D (on a
month's last day: the next month's balance); a flow over a period read on a day L is the sum
of the cohorts of the period's months up to L. So a person's status on a past day, read from
the status history, is what the direct computation (monitoring.indicators sources) gives too:
the rollups hold each person's whole timeline, including what will change by itself later
(a birthday, a term running out, a test becoming overdue), so they stay right until the next
change of the records — which recomputes the village.

Kept current: persons.services sends ``persons.signals.persons_changed`` in the transaction
of every change (one per batch in bulk paths); ``on_persons_changed`` recomputes the villages
concerned in the same transaction, from the records (never by increments, so nothing drifts).
``jindu rollups rebuild`` recomputes everything (or one area); ``verify`` compares stored
rows with a fresh computation (the daily sweep checks one county a day).

Which reads the rollups answer (``read``): every count of the sources persons, measures, plan
and flags, for a month, quarter or year (a custom span only when it starts on a month's first
day and ends on a month's last), read on any day whose month is within the rollups' range
(``LOOKBACK_MONTHS`` before the month they were computed in to ``AHEAD_MONTHS`` after; day
rows from ``DAILY_BACK_MONTHS`` before) — the relapse count only for single months; and every
breakdown. Anything else — an older day, a span cut inside a month, an area with a village
never rolled up (records written outside the services, as the test builders do) — falls back
to the direct computation, with the same result.
"""

from __future__ import annotations

import contextlib
import datetime
import threading
from collections import defaultdict
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.db.models import Value as V
from django.db.models.functions import Greatest, Substr, TruncMonth
from django.utils import timezone

from core import bulk
from monitoring.models import ROLLUP_COLUMNS, ROLLUP_FLOWS, ROLLUP_STOCKS, RollupDay, RollupMonth, RollupState

LOOKBACK_MONTHS = 37  # month rows from 37 months before the month of computation: three years and 同比
DAILY_BACK_MONTHS = 13  # day rows from 13 months before: a running month and the same month last year
AHEAD_MONTHS = 12  # both up to 12 months after: rollups stay right that long without a change
FAR = datetime.date.max
ONE_DAY = datetime.timedelta(days=1)
RELAPSE_YEARS = 3
YOUNG_AGE, ADULT_AGE = 35, 18
EXECUTION_OVERDUE_DAYS = 30
BREACH_RULES = ("serious_breach", "report_in_overdue", "use_during_measure")
# Flows whose events can fall after their cohort's month (a report-in or a test after the month
# it was due in); the others happen inside it (found, decided, due tests) or are cut there (relapse).
LATE_FLOWS = frozenset({"measures_due", "measures_on_time", "plan_tests_done"})


def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(month: datetime.date) -> datetime.date:
    return month + relativedelta(months=1) - ONE_DAY


def months_between(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month += relativedelta(months=1)
    return months


def threshold(day: datetime.date, years: int) -> datetime.date:
    """The first date D with ``day <= D − years`` (the SQL's ``day > D − years`` ends there); a
    birthday on 29 February comes of age on 1 March in a common year."""
    try:
        first = day + relativedelta(years=years)
    except OverflowError:
        return FAR
    if first - relativedelta(years=years) < day:
        first += ONE_DAY
    return first


@dataclass(frozen=True)
class Span:
    first_month: datetime.date
    daily_from: datetime.date
    last_month: datetime.date

    @classmethod
    def around(cls, today: datetime.date) -> Span:
        month = month_of(today)
        return cls(month - relativedelta(months=LOOKBACK_MONTHS), month - relativedelta(months=DAILY_BACK_MONTHS),
                   month + relativedelta(months=AHEAD_MONTHS))

    @property
    def last_end(self) -> datetime.date:
        return month_end(self.last_month)


# --- the timeline of one person ------------------------------------------------------------------


def _constants():
    from monitoring.indicators import AGE_BANDS
    from persons.choices import (
        ACTIVE_STATUSES,
        SYNTHETIC_SUBSTANCES,
        ControlStatus,
        LivingSituation,
        MeasureKind,
        Sex,
        Substance,
    )

    S = ControlStatus
    stocks = set(ROLLUP_STOCKS)
    return {
        "gone": (S.DECEASED, S.MOVED_OUT),
        "active": frozenset(ACTIVE_STATUSES),
        "community_status": (S.COMMUNITY_TREATMENT, S.COMMUNITY_REHABILITATION),
        "community_kinds": (MeasureKind.COMMUNITY_TREATMENT, MeasureKind.COMMUNITY_REHABILITATION),
        "S": S,
        "status_col": {s: f"status_{s}" for s in S.values if f"status_{s}" in stocks},
        "synthetic": frozenset(SYNTHETIC_SUBSTANCES),
        "substances": frozenset(Substance.values),
        "sex": frozenset(Sex.values),
        "living": frozenset(LivingSituation.values),
        "bands": [(f"age_{key}", youngest, oldest) for key, _label, youngest, oldest in AGE_BANDS],
    }


class _Person:
    """One person's counts through time: value changes and interval counters, swept in date order."""

    def __init__(self):
        self.values = defaultdict(list)  # date -> [(dimension, value)] in the order they apply
        self.counters = defaultdict(list)  # date -> [(dimension, +1/-1)]

    def value(self, on, dim, val):
        if on is not None and on < FAR:
            self.values[on].append((dim, val))

    def interval(self, dim, start, end):
        """``dim`` holds on days start <= D < end (end FAR: still holds)."""
        if start is None or end is not None and end <= start:
            return
        self.counters[start].append((dim, 1))
        if end is not None and end < FAR:
            self.counters[end].append((dim, -1))


def _members(state, counters, fixed, k) -> frozenset:
    """The stock columns a person counts in, given the dimensions on a day (the same predicates
    as monitoring.indicators._person_counts and the breakdowns)."""
    status = state["status"]
    S = k["S"]
    cols = []
    registered = status is not None and status not in k["gone"]
    active = status in k["active"]
    if registered:
        cols.append("persons_registered")
        cols.extend(fixed)
        column = k["status_col"].get(status)
        if column:
            cols.append(column)
        if state["young"]:
            cols.append("persons_young")
        if state["minor"]:
            cols.append("persons_minor")
        if state["band"]:
            cols.append(state["band"])
        cols.append(f"risk_{state['risk'] or 'none'}")
    if active:
        cols.append("persons_active")
        if state["gridded"]:
            cols.append("persons_gridded")
        if state["risk"] == "high":
            cols.append("persons_high_risk")
    if status in k["community_status"]:
        cols.append("persons_community")
    elif status == S.COMPULSORY_TREATMENT:
        cols.append("persons_compulsory")
    elif status == S.WHEREABOUTS_UNKNOWN:
        cols.append("persons_unknown")
    elif status == S.THREE_YEAR_ABSTINENCE:
        cols.append("persons_abstinent")
    if counters["executing"] > 0:
        cols.append("persons_executing")
        if (counters["reported"] > 0 and counters["breach"] <= 0 and counters["test_overdue"] <= 0
                and status != S.WHEREABOUTS_UNKNOWN):
            cols.append("persons_normal")
    if counters["released"] > 0:
        cols.append("persons_released")
    if counters["overdue"] > 0:
        cols.append("plan_overdue_persons")
    return frozenset(cols)


class _Accumulator:
    """Stock changes and flow events per village, summed as persons are swept."""

    def __init__(self, span: Span):
        self.span = span
        self.base = span.first_month - ONE_DAY  # everything before is folded into this day
        self.stock = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))  # village -> day -> col -> n
        self.flow = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))  # village -> (cohort, day) -> col

    def stock_change(self, village, day, column, delta):
        if day > self.span.last_end:
            return
        self.stock[village][max(day, self.base)][column] += delta

    def event(self, village, day, column, delta=1, cohort=None):
        cohort = month_of(day) if cohort is None else cohort
        if cohort < self.span.first_month or cohort > self.span.last_month or day > self.span.last_end:
            return
        self.flow[village][(cohort, day)][column] += delta


def _sweep_person(person, facts, acc: _Accumulator, k) -> None:
    (pid, village, birth, sex, living, grid_id, found_on, status_now, since) = person
    p = _Person()
    # Control status: the history up to the file's current status (indicators.status_on).
    for on, _pk, status in facts["changes"].get(pid, ()):
        if since is None or on < since:
            p.value(on, "status", status)
    if since is not None:
        p.value(since, "status", status_now)
    # Ages (indicators: birth_date > day − N years), the age bands of the breakdown.
    if birth is not None:
        p.value(threshold(birth, YOUNG_AGE), "young", False)
        p.value(threshold(birth, ADULT_AGE), "minor", False)
        for column, youngest, _oldest in k["bands"]:
            p.value(threshold(birth, youngest), "band", column)
        p.value(threshold(birth, k["bands"][-1][2] + 1), "band", "")
    for on, _pk, level in facts["risks"].get(pid, ()):
        p.value(on, "risk", level)
    first_completed_end = None
    for kind, state, decided, reported, _starts, ends, ended in facts["measures"].get(pid, ()):
        if kind in k["community_kinds"]:
            if state != "refused":
                end = min(ended or FAR, (ends + ONE_DAY) if ends else FAR)
                p.interval("executing", decided, end)
                if reported is not None:
                    p.interval("reported", max(decided, reported), end)
            # Report-in (fetch_measures): decided; due once 15 days have passed or reported; on time.
            cohort = month_of(decided)
            acc.event(village, decided, "measures_decided", cohort=cohort)
            due_day = decided + datetime.timedelta(days=16)
            if reported is not None:
                due_day = min(due_day, max(decided, reported))
            acc.event(village, due_day, "measures_due", cohort=cohort)
            if reported is not None and reported <= decided + datetime.timedelta(days=15):
                acc.event(village, max(decided, reported), "measures_on_time", cohort=cohort)
        if state == "completed" and ended is not None:
            p.interval("released", ended, threshold(ended, RELAPSE_YEARS))
            first_completed_end = ended if first_completed_end is None else min(first_completed_end, ended)
    for rule, state, raised, resolved in facts["flags"].get(pid, ()):
        end = FAR if state == "open" else (resolved if resolved is not None else raised)
        if rule in BREACH_RULES:
            p.interval("breach", raised, end)
        if end > raised:
            acc.stock_change(village, raised, "flags_open", 1)
            if end < FAR:
                acc.stock_change(village, end, "flags_open", -1)
            if rule == "serious_breach":
                acc.stock_change(village, raised, "flags_serious_breach", 1)
                if end < FAR:
                    acc.stock_change(village, end, "flags_serious_breach", -1)
    for kind, due, starts, ended, done in facts["overdue"].get(pid, ()):
        if starts is None:
            continue
        end = min(done or FAR, ended or FAR)
        start = max(due + ONE_DAY, starts)
        if end > start:
            p.interval("overdue", start, end)
            acc.stock_change(village, start, "plan_overdue_items", 1)
            if end < FAR:
                acc.stock_change(village, end, "plan_overdue_items", -1)
        if kind == "drug_test":
            p.interval("test_overdue", max(due + datetime.timedelta(days=EXECUTION_OVERDUE_DAYS + 1), starts), end)
    if found_on is not None:
        acc.event(village, found_on, "persons_found")

    fixed = []
    if sex in k["sex"]:
        fixed.append(f"sex_{sex.lower()}")
    fixed.append(f"living_{living}" if living in k["living"] else "living_none")
    substances = facts["substances"].get(pid, set())
    fixed.extend(f"substance_{s}" for s in sorted(substances & k["substances"]))
    if substances & k["synthetic"]:
        fixed.append("persons_synthetic")

    state = {"status": None, "young": birth is not None, "minor": birth is not None, "band": "", "risk": None,
             "gridded": grid_id is not None}
    counters = defaultdict(int)
    released_changes = []
    members = frozenset()
    base = acc.base
    days = sorted(set(p.values) | set(p.counters))
    folded = False
    for day in days:
        if day > base and not folded:
            members = _record(acc, village, base, members, _members(state, counters, fixed, k))
            folded = True
        if day > acc.span.last_end:
            break
        for dim, val in p.values.get(day, ()):
            state[dim] = val
        for dim, delta in p.counters.get(day, ()):
            counters[dim] += delta
            if dim == "released":
                released_changes.append((day, counters["released"]))
        if folded:
            members = _record(acc, village, day, members, _members(state, counters, fixed, k))
    if not folded:
        _record(acc, village, base, members, _members(state, counters, fixed, k))
    # Relapse (fetch_persons "relapsed"): released on the day read, with a positive test in the
    # month after the first completed measure; a cohort of its own per month.
    if first_completed_end is not None:
        _relapses(acc, village, facts["positives"].get(pid, ()), first_completed_end, p)


def _record(acc, village, day, before: frozenset, after: frozenset) -> frozenset:
    for column in after - before:
        acc.stock_change(village, day, column, 1)
    for column in before - after:
        acc.stock_change(village, day, column, -1)
    return after


def _relapses(acc, village, positives, first_end, p: _Person) -> None:
    released = sorted((day, delta) for day, changes in p.counters.items() for dim, delta in changes
                      if dim == "released")
    seen = set()
    for on in positives:
        if on <= first_end or month_of(on) in seen:
            continue
        cohort = month_of(on)
        seen.add(cohort)
        last = month_end(cohort)
        level = sum(delta for day, delta in released if day <= on)
        member = level > 0
        if member:
            acc.event(village, on, "persons_relapsed", 1, cohort)
        for day, delta in released:
            if day <= on or day > last:
                continue
            level += delta
            if (level > 0) != member:
                member = level > 0
                acc.event(village, day, "persons_relapsed", 1 if member else -1, cohort)


# --- reading the records of some villages ----------------------------------------------------------


def _facts(village_ids: list[int], span: Span) -> tuple[list, dict]:
    from persons.models import (
        CheckIn,
        Flag,
        Measure,
        Person,
        PersonSubstance,
        PlannedCheckIn,
        RiskAssessment,
        StatusChange,
    )

    persons = list(Person.objects.filter(jurisdiction_id__in=village_ids).order_by("pk").values_list(
        "pk", "jurisdiction_id", "birth_date", "sex", "living_situation", "grid_id", "first_found_on",
        "control_status", "control_status_since"))
    of_persons = {"person_id__in": [row[0] for row in persons]}  # the index on person, not a join
    facts = {key: defaultdict(list) for key in ("changes", "risks", "measures", "flags", "overdue", "positives")}
    for pid, on, pk, status in (StatusChange.objects.filter(**of_persons).order_by("person_id", "changed_on", "pk")
                                .values_list("person_id", "changed_on", "pk", "status")):
        facts["changes"][pid].append((on, pk, status))
    previous = {}
    for pid, on, pk, level in (RiskAssessment.objects.filter(**of_persons).order_by("person_id", "assessed_on", "pk")
                               .values_list("person_id", "assessed_on", "pk", "level")):
        if previous.get(pid) != level:  # a reassessment at the same level changes nothing
            facts["risks"][pid].append((on, pk, level))
            previous[pid] = level
    for row in (Measure.objects.filter(**of_persons).values_list(
            "person_id", "kind", "state", "decided_on", "reported_on", "starts_on", "ends_on", "ended_on")):
        facts["measures"][row[0]].append(row[1:])
    local = timezone.get_current_timezone()
    for pid, rule, state, raised, resolved_at in Flag.objects.filter(**of_persons).values_list(
            "person_id", "rule", "state", "raised_on", "resolved_at"):
        resolved = timezone.localtime(resolved_at, local).date() if resolved_at is not None else None
        facts["flags"][pid].append((rule, state, raised, resolved))
    # Plan items that are ever overdue after the rollups' first month: not done by their due day.
    base = span.first_month - ONE_DAY
    overdue = (PlannedCheckIn.objects.filter(**of_persons, measure__starts_on__isnull=False,
                                             due_on__lt=span.last_end)
               .filter(Q(done__isnull=True) | (Q(done__occurred_on__gt=F("due_on")) & Q(done__occurred_on__gt=base)))
               .filter(Q(measure__ended_on__isnull=True) | (Q(measure__ended_on__gt=F("due_on"))
                                                             & Q(measure__ended_on__gt=base))))
    for pid, kind, due, starts, ended, done in overdue.values_list(
            "person_id", "kind", "due_on", "measure__starts_on", "measure__ended_on", "done__occurred_on"):
        facts["overdue"][pid].append((kind, due, starts, ended, done))
    for pid, on in (CheckIn.objects.filter(**of_persons, kind="drug_test", result="positive",
                                           occurred_on__gte=span.first_month, occurred_on__lte=span.last_end)
                    .order_by("person_id", "occurred_on").values_list("person_id", "occurred_on")):
        facts["positives"][pid].append(on)
    substances = defaultdict(set)
    for pid, substance in PersonSubstance.objects.filter(**of_persons).values_list("person_id", "substance"):
        substances[pid].add(substance)
    facts["substances"] = substances
    return persons, facts


def _plan_flows(village_of: dict[int, int], span: Span, acc: _Accumulator) -> None:
    """Drug tests due in a period and those done by the day read (fetch_plan), aggregated in SQL:
    a test's cohort is the month it is due, it counts as done from the later of due and done."""
    from persons.models import PlannedCheckIn

    tests = PlannedCheckIn.objects.filter(person_id__in=list(village_of), kind="drug_test",
                                          due_on__gte=span.first_month, due_on__lte=span.last_end)
    for person, due, n in tests.order_by().values_list("person_id", "due_on").annotate(n=Count("pk")):
        acc.event(village_of[person], due, "plan_tests_due", n)
    done = (tests.filter(done__isnull=False)
            .annotate(cohort=TruncMonth("due_on"), on=Greatest("due_on", "done__occurred_on"))
            .order_by().values_list("person_id", "cohort", "on").annotate(n=Count("pk")))
    for person, cohort, on, n in done:
        village = village_of[person]
        if isinstance(cohort, datetime.datetime):
            cohort = cohort.date()
        if isinstance(on, str):
            on = datetime.date.fromisoformat(on)
        acc.event(village, on, "plan_tests_done", n, cohort)


def compute(village_ids: list[int], span: Span) -> tuple[list[RollupMonth], list[RollupDay]]:
    """Fresh rollup rows of these jurisdictions, from their persons' records."""
    from jurisdictions.models import Jurisdiction

    k = _constants()
    acc = _Accumulator(span)
    persons, facts = _facts(village_ids, span)
    for person in persons:
        _sweep_person(person, facts, acc, k)
    _plan_flows({row[0]: row[1] for row in persons}, span, acc)
    county = dict(Jurisdiction.objects.filter(pk__in=village_ids).values_list("pk", "county_code"))
    months = months_between(span.first_month, span.last_month)
    month_rows, day_rows = [], []
    for village in sorted(set(acc.stock) | set(acc.flow)):
        changes = acc.stock.get(village, {})
        flows = acc.flow.get(village, {})
        cc = county.get(village, "")
        ordered = sorted(changes)
        totals = defaultdict(int)
        position = 0
        month_flows = defaultdict(lambda: defaultdict(int))
        for (cohort, day), counts in flows.items():
            if day <= month_end(cohort):
                for column, n in counts.items():
                    month_flows[cohort][column] += n
        for month in months:
            while position < len(ordered) and ordered[position] < month:
                for column, n in changes[ordered[position]].items():
                    totals[column] += n
                position += 1
            values = {c: n for c, n in totals.items() if n} | {c: n for c, n in month_flows.get(month, {}).items()
                                                                 if n}
            if values:
                month_rows.append(RollupMonth(jurisdiction_id=village, county_code=cc, month=month, **values))
        for day in ordered:
            if day >= span.daily_from:
                values = {c: n for c, n in changes[day].items() if n}
                if values:
                    day_rows.append(RollupDay(jurisdiction_id=village, county_code=cc, day=day, cohort=month_of(day),
                                              **values))
        for (cohort, day), counts in sorted(flows.items()):
            late = day > month_end(cohort)
            if cohort >= span.daily_from or late:
                values = {c: n for c, n in counts.items() if n}
                if values:
                    day_rows.append(RollupDay(jurisdiction_id=village, county_code=cc, day=day, cohort=cohort,
                                              late=late, **values))
    return month_rows, day_rows


def recompute(village_ids, today: datetime.date | None = None) -> None:
    """Replace the rollups of these jurisdictions by a fresh computation (in the caller's
    transaction)."""
    from core import bulk

    ids = sorted({int(pk) for pk in village_ids if pk is not None})
    if not ids:
        return
    span = Span.around(today or timezone.localdate())
    with transaction.atomic():
        # The villages' state rows are locked before their facts are read: a change that commits
        # meanwhile marks them dirty only after this transaction (its mark waits for the lock),
        # and a change marked before makes this wait for its commit and read it. The rows are
        # updated in place, so that waiting mark finds them.
        held = set(_locked_states(ids))
        month_rows, day_rows = compute(ids, span)
        RollupMonth.objects.filter(jurisdiction_id__in=ids).delete()
        RollupDay.objects.filter(jurisdiction_id__in=ids).delete()
        bulk.insert(RollupMonth, month_rows)
        bulk.insert(RollupDay, day_rows)
        from jurisdictions.models import Jurisdiction

        now = timezone.now()
        RollupState.objects.filter(jurisdiction_id__in=held).update(
            first_month=span.first_month, daily_from=span.daily_from, last_month=span.last_month, computed_at=now,
            dirty=False)
        RollupState.objects.bulk_create([
            RollupState(jurisdiction_id=pk, county_code=cc, first_month=span.first_month, daily_from=span.daily_from,
                        last_month=span.last_month, computed_at=now)
            for pk, cc in Jurisdiction.objects.filter(pk__in=set(ids) - held).values_list("pk", "county_code")],
            ignore_conflicts=True)


def _locked_states(village_ids) -> list[int]:
    """Lock these villages' state rows, always in the same order (no deadlock between two
    transactions locking overlapping sets); the ids of those that exist."""
    return list(RollupState.objects.select_for_update().filter(jurisdiction_id__in=list(village_ids))
                .order_by("jurisdiction_id").values_list("jurisdiction_id", flat=True))


def on_persons_changed(sender=None, *, person_ids=(), jurisdiction_ids=(), villages=None, **kwargs) -> None:
    """persons.signals.persons_changed: mark the villages of these persons (and the places named
    besides) dirty in the change's transaction — one UPDATE, so a service call stays quick — and
    recompute them once after the commit, however many changes the transaction made. A read of
    an area first recomputes any dirty village in it (``refresh``), so no figure is ever stale,
    even if the process ended between the commit and the recomputation. The persons' villages
    are read unless the sender gave them (``villages``)."""
    from persons.models import Person

    marked = set(jurisdiction_ids or ())
    if villages is not None:
        marked |= set(villages)
    else:
        with bulk.key_set(pk for pk in (person_ids or ()) if pk is not None) as keys:
            marked |= set(Person.objects.filter(pk__in=keys).values_list("jurisdiction_id", flat=True).distinct())
    marked.discard(None)
    if not marked:
        return
    # Every mark takes the rows' locks (also of villages dirty already), in order: it waits for a
    # recomputation reading them and is seen by the next one.
    RollupState.objects.filter(jurisdiction_id__in=_locked_states(marked)).update(dirty=True)
    _pending().update(marked)
    transaction.on_commit(_recompute_pending)


_local = threading.local()  # one database connection per thread: the villages its transactions changed


def _pending() -> set[int]:
    if not hasattr(_local, "villages"):
        _local.villages = set()
    return _local.villages


def _recompute_pending() -> None:
    """After a commit: recompute what was marked (a failure leaves the villages dirty for the
    next read to repair)."""
    import logging

    villages = set(_pending())
    _pending().clear()
    if not villages:
        return  # another callback of the same commit did them
    if len(villages) > INLINE_VILLAGES:
        # A large change (an import, a sweep batch): the worker recomputes, the writer goes on.
        from monitoring.tasks import recompute_rollups

        recompute_rollups.enqueue(sorted(villages))
        return
    try:
        with transaction.atomic():
            recompute(villages)  # also rolls up a village that had no rollups yet
    except Exception:
        logging.getLogger(__name__).exception("rollups of %s villages left dirty", len(villages))


INLINE_VILLAGES = 20  # more villages changed at once are recomputed by the background worker


def recompute_dirty(village_ids) -> int:
    """The background task's work: the villages still marked (a read may have done some)."""
    ids = list(RollupState.objects.filter(jurisdiction_id__in=list(village_ids), dirty=True)
               .values_list("jurisdiction_id", flat=True))
    missing = set(village_ids) - set(RollupState.objects.filter(jurisdiction_id__in=list(village_ids))
                                     .values_list("jurisdiction_id", flat=True))
    todo = sorted(set(ids) | missing)
    for start in range(0, len(todo), 200):
        with transaction.atomic():
            recompute(todo[start:start + 200])
    return len(todo)


def refresh(path: str) -> int:
    """Recompute the dirty villages under ``path`` before they are read; one query when none is."""
    dirty = list(RollupState.objects.filter(dirty=True, jurisdiction__path__startswith=path)
                 .values_list("jurisdiction_id", flat=True))
    if dirty:
        with transaction.atomic():
            recompute(dirty)
    return len(dirty)


def rebuild(jurisdiction=None, *, today: datetime.date | None = None, progress=None) -> dict:
    """Recompute the rollups of every jurisdiction in the area (everything without one), a
    county at a time, each in its own transaction."""
    from jurisdictions.models import Jurisdiction

    nodes = Jurisdiction.objects.all()
    if jurisdiction is not None:
        nodes = nodes.filter(path__startswith=jurisdiction.path)
    groups = defaultdict(list)
    for pk, county_code in nodes.order_by("path").values_list("pk", "county_code"):
        groups[county_code].append(pk)
    done = 0
    for number, (county_code, ids) in enumerate(sorted(groups.items()), 1):
        with transaction.atomic():
            recompute(ids, today)
        done += len(ids)
        if progress:
            progress(number, len(groups), county_code)
    return {"jurisdictions": done, "groups": len(groups)}


def verify(jurisdiction, today: datetime.date | None = None) -> list[str]:
    """Differences between the stored rollups of the area and a fresh computation (empty when
    they agree); jurisdictions without rollups are not compared."""
    from jurisdictions.models import Jurisdiction

    spans = defaultdict(list)  # villages recomputed on different days cover different months
    for pk, first, daily, last in RollupState.objects.filter(jurisdiction__path__startswith=jurisdiction.path).values_list(
            "jurisdiction_id", "first_month", "daily_from", "last_month"):
        spans[Span(first, daily, last)].append(pk)
    codes = dict(Jurisdiction.objects.filter(path__startswith=jurisdiction.path).values_list("pk", "code"))
    differences = []
    for span, ids in spans.items():
        month_rows, day_rows = compute(ids, span)
        for model, fresh, keys in ((RollupMonth, month_rows, ("jurisdiction_id", "month")),
                                   (RollupDay, day_rows, ("jurisdiction_id", "day", "cohort", "late"))):
            expected = _as_table(fresh, keys)
            stored = _as_table(model.objects.filter(jurisdiction_id__in=ids), keys)
            for key in sorted(set(expected) | set(stored), key=str):
                if expected.get(key) != stored.get(key):
                    differences.append(f"{model.__name__} {codes.get(key[0])} {key[1:]}: stored {stored.get(key)} "
                                       f"computed {expected.get(key)}")
    return differences


def sweep(today: datetime.date | None = None) -> dict:
    """Daily (core.sweep): verify the rollups of one county (a different one each day) and
    rebuild it on a difference; recompute the villages whose range ends within three months (no
    change for the last nine), so the rollups keep answering. Keeping them current is the
    services' work, not this."""
    from jurisdictions.choices import Level
    from jurisdictions.models import Jurisdiction

    today = today or timezone.localdate()
    counties = list(Jurisdiction.objects.filter(level=Level.COUNTY, rollup_state__isnull=False).order_by("path"))
    result = {"county": None, "differences": 0, "extended": 0}
    if counties:
        county = counties[today.toordinal() % len(counties)]
        # Villages a change marked and the worker has not reached yet are recomputed first, as a
        # read would: a difference is then drift, not work still queued (an earlier sweep job's).
        refresh(county.path)
        differences = verify(county, today)
        result.update(county=county.code, differences=len(differences))
        if differences:
            rebuild(county, today=today)
    horizon = month_of(today) + relativedelta(months=3)
    stale = list(RollupState.objects.filter(last_month__lt=horizon).order_by("pk")
                 .values_list("jurisdiction_id", flat=True)[:2000])
    if stale:
        with transaction.atomic():
            recompute(stale, today)
        result["extended"] = len(stale)
    return result


def _as_table(rows, keys) -> dict:
    table = defaultdict(lambda: defaultdict(int))
    for row in rows:
        key = tuple(getattr(row, k) for k in keys)
        for column in ROLLUP_COLUMNS:
            value = getattr(row, column)
            if value:
                table[key][column] += value
    return {key: dict(values) for key, values in table.items() if any(values.values())}


# --- reading ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    """One read: stocks on ``day``; flows of the cohorts ``first``..``last`` (months) up to ``until``."""

    day: datetime.date
    first: datetime.date | None = None
    last: datetime.date | None = None
    until: datetime.date | None = None

    def stock_month(self) -> tuple[datetime.date, bool]:
        """The month row to read and whether the day rows of its month up to ``day`` are added."""
        if self.day == month_end(month_of(self.day)):
            return month_of(self.day + ONE_DAY), False
        return month_of(self.day), True

    def cohorts(self) -> list[datetime.date]:
        return months_between(self.first, self.last) if self.first is not None else []


def coverage(path: str) -> tuple[datetime.date, datetime.date, datetime.date] | None:
    """(first month, first month with day rows, last month) that every jurisdiction in the area
    has rollups for; None when one of them has none. Dirty villages of the area are recomputed
    first (``refresh``); two queries when none is — once per area inside ``one_reading()``."""
    from jurisdictions.models import Jurisdiction

    known = getattr(_local, "coverage", None)
    if known is not None and path in known:
        return known[path]
    refresh(path)
    row = Jurisdiction.objects.filter(path__startswith=path).aggregate(
        total=Count("pk"), rolled=Count("rollup_state"), first=Max("rollup_state__first_month"),
        daily=Max("rollup_state__daily_from"), last=Min("rollup_state__last_month"))
    cover = None if not row["total"] or row["rolled"] != row["total"] else (row["first"], row["daily"], row["last"])
    if known is not None:
        known[path] = cover
    return cover


@contextlib.contextmanager
def one_reading():
    """A page made of several reads of the same area (a dashboard, a report's data): the area's
    rollups are refreshed and their coverage checked once, by the first read, for all of them.
    Nothing inside the block may write the records it reads."""
    if getattr(_local, "coverage", None) is not None:
        yield
        return
    _local.coverage = {}
    try:
        yield
    finally:
        _local.coverage = None


def answers(cover, needs: list[Need]) -> bool:
    if cover is None:
        return False
    first, daily, last = cover
    for need in needs:
        month, days = need.stock_month()
        if not first <= month <= last or (days and month < daily):
            return False
        for cohort in need.cohorts():
            if not first <= cohort <= last:
                return False
            if need.until < month_end(cohort) and cohort < daily:
                return False
    return True


def read(path: str, group_length: int | None, needs: list[Need], columns: list[str]) -> list[dict]:
    """For each need, {group key: {column: sum}} over the jurisdictions under ``path`` (grouped by
    the first ``group_length`` characters of their path, or one group keyed None). Two queries
    whatever the number of needs."""
    stocks = [c for c in columns if c in ROLLUP_STOCKS]
    flows = [c for c in columns if c in ROLLUP_FLOWS]
    key = Substr("jurisdiction__path", 1, group_length) if group_length else V("")
    # Month rows: stock balances; flow totals of cohorts over by the day read.
    month_keys = set()
    for need in needs:
        if stocks:
            month_keys.add(need.stock_month()[0])
        if flows:
            month_keys |= {c for c in need.cohorts() if need.until >= month_end(c)}
    by_month = defaultdict(dict)
    if month_keys:
        rows = (RollupMonth.objects.filter(jurisdiction__path__startswith=path, month__in=sorted(month_keys))
                .annotate(g=key).order_by().values("g", "month")
                .annotate(**{c: Sum(c) for c in columns}))
        for row in rows:
            by_month[row["month"]][row["g"]] = row
    # Day rows: stock changes of a month read inside it; flow events of cohorts still running on
    # the day read, and late events of the others.
    conditions = Q()
    settled, until = set(), None
    for need in needs:
        month, days = need.stock_month()
        if stocks and days:
            conditions |= Q(cohort=month, day__lte=need.day, late=False)
        for cohort in need.cohorts() if flows else ():
            if need.until >= month_end(cohort):
                settled.add(cohort)
                until = max(until or need.until, need.until)
            elif need.until >= cohort:
                conditions |= Q(cohort=cohort, day__lte=need.until)
    if settled and LATE_FLOWS.intersection(flows):
        # Late events of cohorts read after their month (filtered per need below).
        conditions |= Q(late=True, cohort__in=sorted(settled), day__lte=until)
    by_day = []
    if conditions:
        by_day = list(RollupDay.objects.filter(conditions, jurisdiction__path__startswith=path)
                      .annotate(g=key).order_by().values("g", "day", "cohort", "late")
                      .annotate(**{c: Sum(c) for c in columns}))
    results = []
    for need in needs:
        result = defaultdict(lambda: dict.fromkeys(columns, 0))
        month, days = need.stock_month()
        for g, row in by_month.get(month, {}).items() if stocks else ():
            for c in stocks:
                result[g][c] += row[c] or 0
        for cohort in need.cohorts() if flows else ():
            if need.until >= month_end(cohort):
                for g, row in by_month.get(cohort, {}).items():
                    for c in flows:
                        result[g][c] += row[c] or 0
        for row in by_day:
            cohort, day = row["cohort"], row["day"]
            if stocks and days and cohort == month and not row["late"] and day <= need.day:
                for c in stocks:
                    result[row["g"]][c] += row[c] or 0
            if flows and need.first is not None and need.first <= cohort <= need.last and day <= need.until and (
                    row["late"] or need.until < month_end(cohort)):
                for c in flows:
                    result[row["g"]][c] += row[c] or 0
        results.append({(g if group_length else None): counts for g, counts in result.items()})
    return results

