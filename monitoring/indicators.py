"""The indicator library (指标库, SPEC §3.7): each indicator defined once and used identically by
the dashboards, the generated reports, the targets, the alert centre, the API and later the
assessment. Other work lines add theirs with ``register`` (and their counts with
``register_source``) in their ``AppConfig.ready()``.

Contract (monitoring.dashboards / monitoring.reports code against it)::

    INDICATORS: dict[str, Indicator]          # the registry, in registration order
    register(indicator) -> None               # another work line adds its own
    register_source(name, fetch) -> None      # ... and the counts it is computed from

    Indicator(code, name (lazy gettext), definition (Chinese 口径 text), unit ("人", "%", "人次",
              "项", "‰", "人/名"), levels (frozenset of jurisdiction levels), higher_is_better
              (True/False/None), source (the seed or law it comes from), inputs, formula,
              decimals, category, list_filter)

    evaluate(codes, jurisdiction, period, *, as_of=None, compare=True) -> dict[code, Value]
        rolled up over the jurisdiction's subtree; ``codes=None`` means every indicator that
        applies at the jurisdiction's level. With ``compare`` the same period last year (同比)
        and the previous period (环比) are computed too.
    evaluate_children(codes, jurisdiction, period, *, as_of=None, compare=False)
        -> dict[child pk, dict[code, Value]]   (township ranking, map) — the same number of
        queries however many children there are.
    series(code, jurisdiction, periods, *, as_of=None) -> list[Value]     (trends; no 同比/环比)
    series_many(codes, jurisdiction, periods, *, as_of=None) -> dict[code, list[Value]]   (read together)
    breakdown(name, jurisdiction, *, as_of=None) -> list[(key, label, count)]
        name in BREAKDOWNS: "status", "age", "substance", "risk", "sex", "living"; over the
        persons registered on ``as_of`` (default today), zero rows included, in a fixed order.
    breakdowns(names, jurisdiction, *, as_of=None) -> dict[name, list[(key, label, count)]]   (read together)
    suppress(count, viewer) -> str            "<5" for 1..4 when the viewer lacks personal-data rights
    percent_change(current, base) -> Decimal | None     the 同比/环比 rule as a pure function

    Value: indicator, jurisdiction, period, value (int for counts, Decimal rounded to the
           indicator's decimals otherwise; rates in percent, Decimal("81.6")), numerator,
           denominator, previous_year, previous_period, yoy, mom (relative change in percent,
           Decimal("72.9"), None without a base), yoy_points / mom_points (for "%" and "‰"
           indicators: the difference in percentage points), target, target_met,
           display(suppress_small=False, precision=None) -> "81.6%" (precision=0: "82%"),
           yoy_sentence() -> "同比上升91.4%" / "同比下降3.2%" / "与去年同期持平" / "同比提高2.1个百分点",
           mom_sentence(), display_target(), as_dict()

How numbers are read (the same for every indicator):

* **Where**: a jurisdiction and its whole subtree (``jurisdiction__path__startswith``); persons are
  placed by their file's village, as it is now.
* **When**: flows (newly found, report-ins, tests due) count events dated inside the period up to
  ``as_of``; stocks (registered, status, execution) are read on the period's last day, or on
  ``as_of`` if that is earlier. A person's control status on a day comes from the status history
  (StatusChange), so a past month gives the same figures after later changes.
* **How**: aggregate SQL only (COUNT with GROUP BY over the subtree, children grouped by the prefix
  of their path) through *sources*: ``fetch(scope, window, names)`` returns the named counts per
  group. A later rollup table can replace a source without touching an indicator.
* **Who**: nothing here knows the user. Views decide what a viewer may see (``suppress``).
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    When,
)
from django.db.models import Value as V
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jurisdictions.choices import Level
from monitoring.periods import Period

ALL_LEVELS = frozenset(Level.values)
AREA_LEVELS = frozenset({Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE})
POPULATION_LEVELS = frozenset({Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP})
STAFF_LEVELS = frozenset({Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP})
PERCENT_UNITS = frozenset({"%", "‰"})
COUNT_UNITS = frozenset({"人", "人次", "项", "起", "个", "名"})
SMALL_COUNT = 5  # counts below this are shown as "<5" to viewers without personal-data rights
WITHHELD_MARK = "*"  # a figure withheld so that a small count cannot be worked out (monitoring.disclosure)

# Ages (周岁) of the age indicators and breakdown. Seed 004: "35岁以下青少年6932名,占41.7%",
# "35岁以下占比73.3%,未成年吸毒人员占比3.3%"; 未成年 = under 18 (民法典 第十七条).
YOUNG_AGE = 35
ADULT_AGE = 18
# 戒毒条例 第七条: three years after the end of a measure without using again, dynamic control ends;
# the relapse indicator watches the persons released within those three years.
RELAPSE_YEARS = 3
# A planned drug test more than this many days overdue means the measure is not executed normally.
EXECUTION_OVERDUE_DAYS = 30
# Flags that mean a measure is not executed normally (persons.rules): 戒毒条例 第十四条 / 第二十条,
# 禁毒法 第三十八条第一款第（二）项.
BREACH_RULES = ("serious_breach", "report_in_overdue", "use_during_measure")


# --- the pure rules --------------------------------------------------------------------------------


def _quantize(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def percent_change(current, base, decimals: int = 1) -> Decimal | None:
    """同比/环比 in percent, rounded half up: (current − base) ÷ base × 100. None without a base
    (no figure, or a base of zero). Seed 004: 16,631 registered against 9,618 → +72.9."""
    if current is None or base is None:
        return None
    base = Decimal(base)
    if base == 0:
        return None
    return _quantize((Decimal(current) - base) / base * 100, decimals)


def ratio(numerator: int | None, denominator: int | None, scale: int = 100, decimals: int = 1) -> Decimal | None:
    """numerator ÷ denominator × scale, rounded half up; None when the denominator is 0.
    Seed 004: 1,182 of 1,448 executing normally → Decimal("81.6")."""
    if numerator is None or not denominator:
        return None
    return _quantize(Decimal(numerator) * scale / Decimal(denominator), decimals)


def change_sentence(change: Decimal | None, points: Decimal | None, base, *, against: str,
                    unit: str = "") -> str:
    """"同比上升91.4%" / "同比下降3.2%" / "与去年同期持平"; for rates the change in percentage
    points ("同比提高2.1个百分点"). ``against`` is "同比" or "环比"."""
    same = {"同比": "与去年同期持平", "环比": "与上期持平"}[against]
    if unit in PERCENT_UNITS:
        if points is None:
            return ""
        if points == 0:
            return same
        word = "提高" if points > 0 else "下降"
        suffix = "个百分点" if unit == "%" else "个千分点"
        return f"{against}{word}{_plain(abs(points))}{suffix}"
    if change is None:
        if base == 0:
            return {"同比": "去年同期为0", "环比": "上期为0"}[against]
        return ""
    if change == 0:
        return same
    word = "上升" if change > 0 else "下降"
    return f"{against}{word}{_plain(abs(change))}%"


def _plain(number: Decimal) -> str:
    text = format(number, "f")
    return text


def suppress(count: int | None, viewer) -> str:
    """A count as a viewer may see it: "<5" for 1 to 4 when the viewer has no personal-data
    rights (the leadership, the administrators), the number otherwise; "—" for no figure."""
    from core.roles import may_see_personal_data

    if count is None:
        return "—"
    if getattr(count, "withheld", False) and not may_see_personal_data(viewer):
        return WITHHELD_MARK
    if 0 < count < SMALL_COUNT and not may_see_personal_data(viewer):
        return f"<{SMALL_COUNT}"
    return str(count)


# --- indicators ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """What a formula may know about the place besides the counts: its settings and population."""

    path: str
    hidden_ratio: Decimal
    staffing_standard: int
    population: int | None


@dataclass(frozen=True)
class Result:
    value: Any
    numerator: int | None = None
    denominator: int | None = None
    exact: Decimal | None = None  # unrounded, for displays at another precision


Formula = Callable[[dict[str, int], Place], Result]


def count_of(name: str) -> Formula:
    def formula(counts, place):
        number = counts.get(name, 0)
        return Result(number, number, None, Decimal(number))
    return formula


def rate_of(numerator: str, denominator: str, scale: int = 100, decimals: int = 1) -> Formula:
    def formula(counts, place):
        top, bottom = counts.get(numerator, 0), counts.get(denominator, 0)
        exact = Decimal(top) * scale / Decimal(bottom) if bottom else None
        return Result(ratio(top, bottom, scale, decimals), top, bottom, exact)
    return formula


@dataclass(frozen=True)
class Indicator:
    code: str
    name: Any  # lazy gettext
    definition: str  # 统计口径, in Chinese: it is printed in reports as written
    unit: str
    levels: frozenset = ALL_LEVELS
    higher_is_better: bool | None = None
    source: str = ""  # the seed, law or guidance the indicator and its definition come from
    inputs: tuple[str, ...] = ()  # "source.count" names the formula reads
    formula: Formula | None = None
    decimals: int = 0
    category: str = "persons"
    # The person list filters that show the records behind the number (for roles that may see
    # them), e.g. {"status": "community_treatment"}; None when there is no such list.
    list_filter: dict | None = None
    needs_place: bool = False  # the formula reads settings or population

    @property
    def is_rate(self) -> bool:
        return self.unit in PERCENT_UNITS

    @property
    def is_count(self) -> bool:
        return self.unit in COUNT_UNITS

    def compute(self, counts: dict[str, int], place: Place | None) -> Result:
        return self.formula(counts, place)


INDICATORS: dict[str, Indicator] = {}


def register(indicator: Indicator) -> None:
    """Add an indicator to the library (idempotent for the same definition)."""
    for name in indicator.inputs:
        source = name.split(".", 1)[0]
        if source not in SOURCES:
            raise ValueError(f"indicator {indicator.code}: unknown source {source!r}; register_source first")
    INDICATORS[indicator.code] = indicator


# --- values ----------------------------------------------------------------------------------------


@dataclass
class Value:
    indicator: Indicator
    jurisdiction: Any
    period: Period
    value: Any = None
    numerator: int | None = None
    denominator: int | None = None
    previous_year: Any = None
    previous_period: Any = None
    yoy: Decimal | None = None
    mom: Decimal | None = None
    yoy_points: Decimal | None = None
    mom_points: Decimal | None = None
    target: Decimal | None = None
    target_met: bool | None = None
    as_of: datetime.date | None = None
    exact: Decimal | None = field(default=None, repr=False)
    # Withheld for a viewer without personal-data rights, so that no small count can be worked
    # out from it (monitoring.disclosure): shown as "*".
    withheld: bool = False

    @property
    def code(self) -> str:
        return self.indicator.code

    def display(self, suppress_small: bool = False, precision: int | None = None) -> str:
        """The value as shown: "81.6%" (one decimal for rates), "82%" with ``precision=0``,
        "16631" for counts. ``suppress_small``: counts of 1 to 4 become "<5", and a rate over
        fewer than 5 persons is not shown ("—"), for viewers without personal-data rights; a
        figure withheld to protect a small count (monitoring.disclosure) is "*"."""
        if suppress_small and self.withheld and self.value is not None:
            return WITHHELD_MARK
        return format_number(self.indicator, self.value, self.exact, suppress_small=suppress_small,
                             precision=precision, denominator=self.denominator)

    def display_target(self) -> str:
        if self.target is None:
            return ""
        return format_number(self.indicator, self.target, Decimal(self.target), precision=None)

    def yoy_sentence(self) -> str:
        return change_sentence(self.yoy, self.yoy_points, self.previous_year, against="同比",
                               unit=self.indicator.unit)

    def mom_sentence(self) -> str:
        return change_sentence(self.mom, self.mom_points, self.previous_period, against="环比",
                               unit=self.indicator.unit)

    def as_dict(self, suppress_small: bool = False) -> dict:
        hide = suppress_small and self.indicator.is_count
        small = hide and self.value is not None and 0 < self.value < SMALL_COUNT
        small = small or (suppress_small and self.withheld)
        return {
            "code": self.code, "name": str(self.indicator.name), "unit": self.indicator.unit,
            "period": self.period.code, "jurisdiction": getattr(self.jurisdiction, "code", None),
            "value": None if small else _json_number(self.value),
            "display": self.display(suppress_small=suppress_small),
            "numerator": None if suppress_small else self.numerator,
            "denominator": None if suppress_small else self.denominator,
            "previous_year": None if hide and self.previous_year and self.previous_year < SMALL_COUNT
            else _json_number(self.previous_year),
            "previous_period": None if hide and self.previous_period and self.previous_period < SMALL_COUNT
            else _json_number(self.previous_period),
            "yoy": _json_number(self.yoy), "mom": _json_number(self.mom),
            "yoy_points": _json_number(self.yoy_points), "mom_points": _json_number(self.mom_points),
            "target": _json_number(self.target), "target_met": self.target_met,
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }


def _json_number(number):
    if isinstance(number, Decimal):
        return float(number)
    return number


def format_number(indicator: Indicator, value, exact: Decimal | None = None, *, suppress_small: bool = False,
                  precision: int | None = None, denominator: int | None = None) -> str:
    if value is None:
        return "—"
    if indicator.is_count and suppress_small and 0 < value < SMALL_COUNT:
        return f"<{SMALL_COUNT}"
    if indicator.is_rate and suppress_small and denominator is not None and 0 < denominator < SMALL_COUNT:
        return "—"
    decimals = indicator.decimals if precision is None else precision
    if isinstance(value, int) and precision is None:
        text = str(value)
    else:
        number = exact if exact is not None else Decimal(value)
        text = format(_quantize(Decimal(number), decimals), "f")
    return f"{text}{indicator.unit}" if indicator.is_rate else text


# --- sources: the counts behind the indicators -------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Rows under ``path``; with ``group_length`` grouped by the first characters of their path
    (the path of the direct child they belong to), otherwise one group keyed ``None``."""

    path: str
    group_length: int | None = None


@dataclass(frozen=True)
class Window:
    period: Period
    day: datetime.date  # the day stocks are read on
    last: datetime.date  # flows count events up to this day (the period's end or as_of)
    # Rates over due items (drug tests of the plan) count the items due up to this day, and done
    # by it: the period's end once it is over, the day before today while it runs
    # (monitoring.rules.last_due_day); before the period's start when nothing is due yet.
    due: datetime.date | None = None

    def __post_init__(self):
        if self.due is None:
            object.__setattr__(self, "due", self.last)

    @classmethod
    def of(cls, period: Period, as_of: datetime.date | None, today: datetime.date | None = None) -> Window:
        day = period.as_of(as_of)
        return cls(period, day, day, due_day(period, day, today))


def due_day(period: Period, day: datetime.date, today: datetime.date | None = None) -> datetime.date:
    """``Window.due`` of ``period`` read on ``day``: the last due date counted
    (monitoring.rules.last_due_day), or the day before the period when none is."""
    from monitoring.rules import last_due_day

    last = last_due_day(period.start, period.end, day, today or timezone.localdate())
    return last if last is not None else period.start - datetime.timedelta(days=1)


Fetch = Callable[[Scope, Window, set[str]], dict[Any, dict[str, int]]]
SOURCES: dict[str, Fetch] = {}


def register_source(name: str, fetch: Fetch) -> None:
    SOURCES[name] = fetch


def _grouped(queryset, scope: Scope, path_field: str):
    """Restrict a queryset to the scope and add the group key ``g``."""
    queryset = queryset.filter(**{f"{path_field}__startswith": scope.path})
    key = Substr(path_field, 1, scope.group_length) if scope.group_length else V("", output_field=CharField())
    return queryset.annotate(g=key)


def _key(scope: Scope, g):
    return g if scope.group_length else None


# Persons: every per-person fact a count may need is a *dimension* (an expression per row); the
# rows are grouped by the dimensions that were asked for and counted once, and each named count
# adds up the groups its predicate accepts. Only the dimensions needed are computed.


def status_on(day: datetime.date):
    """A person's control status on ``day`` from the status history; the file's current status
    when it dates from that day or earlier (no subquery then). NULL before the file existed."""
    from persons.models import StatusChange

    latest = (StatusChange.objects.filter(person=OuterRef("pk"), changed_on__lte=day)
              .order_by("-changed_on", "-id").values("status")[:1])
    return Case(When(control_status_since__lte=day, then=F("control_status")), default=Subquery(latest),
                output_field=CharField())


def _flag_open_on(day: datetime.date) -> Q:
    """A flag raised by ``day`` and not resolved by then."""
    return Q(raised_on__lte=day) & (Q(state="open") | Q(resolved_at__date__gt=day))


def _person_dimensions(window: Window) -> dict[str, Callable[[], Any]]:
    from persons.choices import SYNTHETIC_SUBSTANCES, CheckInKind, DrugTestResult, MeasureKind, MeasureState
    from persons.models import CheckIn, Flag, Measure, PersonSubstance, PlannedCheckIn, RiskAssessment

    day = window.day
    community = [MeasureKind.COMMUNITY_TREATMENT, MeasureKind.COMMUNITY_REHABILITATION]

    def boolean(q):
        return ExpressionWrapper(q, output_field=BooleanField())

    def running():
        # 在执行期内: a community measure decided by the day, neither ended nor refused by then, and
        # whose term (once it started) has not run out.
        return (Measure.objects.filter(person=OuterRef("pk"), kind__in=community, decided_on__lte=day)
                .exclude(state=MeasureState.REFUSED)
                .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=day))
                .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day)))

    def first_completed_end():
        return (Measure.objects.filter(person=OuterRef("person"), state=MeasureState.COMPLETED,
                                       ended_on__isnull=False)
                .order_by("ended_on").values("ended_on")[:1])

    return {
        "status": lambda: status_on(day),
        "young": lambda: boolean(Q(birth_date__gt=day - relativedelta(years=YOUNG_AGE))),
        "minor": lambda: boolean(Q(birth_date__gt=day - relativedelta(years=ADULT_AGE))),
        "synthetic": lambda: Exists(PersonSubstance.objects.filter(person=OuterRef("pk"),
                                                                   substance__in=SYNTHETIC_SUBSTANCES)),
        "gridded": lambda: boolean(Q(grid__isnull=False)),
        "found": lambda: boolean(Q(first_found_on__gte=window.period.start, first_found_on__lte=window.last)),
        "risk": lambda: Subquery(RiskAssessment.objects.filter(person=OuterRef("pk"), assessed_on__lte=day)
                                 .order_by("-assessed_on", "-id").values("level")[:1],
                                 output_field=CharField()),
        "executing": lambda: Exists(running()),
        "reported": lambda: Exists(running().filter(reported_on__isnull=False, reported_on__lte=day)),
        "breach": lambda: Exists(Flag.objects.filter(person=OuterRef("pk"), rule__in=BREACH_RULES)
                                 .filter(_flag_open_on(day))),
        "test_overdue": lambda: Exists(
            PlannedCheckIn.objects.filter(person=OuterRef("pk"), kind=CheckInKind.DRUG_TEST,
                                          due_on__lt=day - datetime.timedelta(days=EXECUTION_OVERDUE_DAYS),
                                          measure__starts_on__lte=day)
            .filter(Q(measure__ended_on__isnull=True) | Q(measure__ended_on__gt=day))
            .filter(Q(done__isnull=True) | Q(done__occurred_on__gt=day))),
        "released": lambda: Exists(Measure.objects.filter(
            person=OuterRef("pk"), state=MeasureState.COMPLETED,
            ended_on__gt=day - relativedelta(years=RELAPSE_YEARS), ended_on__lte=day)),
        "relapsed": lambda: Exists(CheckIn.objects.filter(
            person=OuterRef("pk"), kind=CheckInKind.DRUG_TEST, result=DrugTestResult.POSITIVE,
            occurred_on__gte=window.period.start, occurred_on__lte=window.last,
            occurred_on__gt=Subquery(first_completed_end()))),
    }


def _registered(row) -> bool:
    from persons.choices import ControlStatus

    return row["status"] is not None and row["status"] not in (ControlStatus.DECEASED, ControlStatus.MOVED_OUT)


def _active(row) -> bool:
    from persons.choices import ACTIVE_STATUSES

    return row["status"] in ACTIVE_STATUSES


def _status_in(*statuses):
    return lambda row: row["status"] in statuses


def _normal(row) -> bool:
    from persons.choices import ControlStatus

    return (row["executing"] and row["reported"] and not row["breach"] and not row["test_overdue"]
            and row["status"] != ControlStatus.WHEREABOUTS_UNKNOWN)


def _person_counts() -> dict[str, tuple[tuple[str, ...], Callable[[dict], bool]]]:
    from persons.choices import ControlStatus as S

    return {
        "registered": (("status",), _registered),
        "active": (("status",), _active),
        "community": (("status",), _status_in(S.COMMUNITY_TREATMENT, S.COMMUNITY_REHABILITATION)),
        "compulsory": (("status",), _status_in(S.COMPULSORY_TREATMENT)),
        "unknown": (("status",), _status_in(S.WHEREABOUTS_UNKNOWN)),
        "abstinent": (("status",), _status_in(S.THREE_YEAR_ABSTINENCE)),
        "young": (("status", "young"), lambda r: _registered(r) and r["young"]),
        "minor": (("status", "minor"), lambda r: _registered(r) and r["minor"]),
        "synthetic": (("status", "synthetic"), lambda r: _registered(r) and r["synthetic"]),
        "gridded": (("status", "gridded"), lambda r: _active(r) and r["gridded"]),
        "found": (("found",), lambda r: r["found"]),
        "high_risk": (("status", "risk"), lambda r: _active(r) and r["risk"] == "high"),
        "executing": (("executing",), lambda r: r["executing"]),
        "normal": (("status", "executing", "reported", "breach", "test_overdue"), _normal),
        "released": (("released",), lambda r: r["released"]),
        "relapsed": (("released", "relapsed"), lambda r: r["released"] and r["relapsed"]),
    }


def fetch_persons(scope: Scope, window: Window, names: set[str]) -> dict[Any, dict[str, int]]:
    """Counts over person files (persons.Person) in one GROUP BY query."""
    from persons.models import Person

    counts = _person_counts()
    unknown = names - set(counts)
    if unknown:
        raise KeyError(f"persons source has no counts {sorted(unknown)}")
    dims = sorted({d for name in names for d in counts[name][0]})
    builders = _person_dimensions(window)
    queryset = _grouped(Person.objects.all(), scope, "jurisdiction__path")
    queryset = queryset.annotate(**{f"d_{d}": builders[d]() for d in dims})
    rows = queryset.order_by().values("g", *[f"d_{d}" for d in dims]).annotate(n=Count("pk"))
    result: dict[Any, dict[str, int]] = {}
    for row in rows:
        facts = {d: row[f"d_{d}"] for d in dims}
        totals = result.setdefault(_key(scope, row["g"]), dict.fromkeys(names, 0))
        for name in names:
            if counts[name][1](facts):
                totals[name] += row["n"]
    return result


def fetch_measures(scope: Scope, window: Window, names: set[str]) -> dict[Any, dict[str, int]]:
    """Community measures decided in the period (report-in rate, 戒毒条例 第十四条第一款,
    第三十八条第一款): ``due`` = the 15-day deadline has passed by the day or the person reported
    in; ``on_time`` = reported in within the 15 days (persons.rules.report_in_deadline)."""
    from persons import rules
    from persons.choices import MeasureKind
    from persons.models import Measure

    day = window.last
    deadline = F("decided_on") + datetime.timedelta(days=rules.REPORT_IN_DAYS)
    queryset = _grouped(Measure.objects.filter(
        kind__in=[MeasureKind.COMMUNITY_TREATMENT, MeasureKind.COMMUNITY_REHABILITATION],
        decided_on__gte=window.period.start, decided_on__lte=day), scope, "person__jurisdiction__path")
    # The deadline passed by the day: decided_on + 15 < day  ⇔  decided_on < day − 15.
    passed = Q(decided_on__lt=day - datetime.timedelta(days=rules.REPORT_IN_DAYS))
    reported = Q(reported_on__isnull=False, reported_on__lte=day)
    aggregates = {
        "decided": Count("pk"),
        "due": Count("pk", filter=passed | reported),
        "on_time": Count("pk", filter=reported & Q(reported_on__lte=deadline)),
    }
    rows = queryset.order_by().values("g").annotate(**{n: aggregates[n] for n in names})
    return {_key(scope, row["g"]): {n: row[n] for n in names} for row in rows}


def fetch_plan(scope: Scope, window: Window, names: set[str]) -> dict[Any, dict[str, int]]:
    """Planned check-ins (persons.PlannedCheckIn): drug tests due in the period up to the window's
    due day (a running period: only those whose due day is over, monitoring.rules.last_due_day)
    and those done by then; items overdue on the day (due before it, not done by it, of a measure
    running then) and the persons they concern."""
    from persons.choices import CheckInKind
    from persons.models import PlannedCheckIn

    day = window.last
    not_done = Q(done__isnull=True) | Q(done__occurred_on__gt=day)
    due_test = Q(kind=CheckInKind.DRUG_TEST, due_on__gte=window.period.start, due_on__lte=window.due)
    overdue = (Q(due_on__lt=day, measure__starts_on__lte=day) & not_done
               & (Q(measure__ended_on__isnull=True) | Q(measure__ended_on__gt=day)))
    aggregates = {
        "tests_due": Count("pk", filter=due_test),
        "tests_done": Count("pk", filter=due_test & Q(done__occurred_on__lte=window.due)),
        "overdue_items": Count("pk", filter=overdue),
        "overdue_persons": Count("person", filter=overdue, distinct=True),
    }
    queryset = _grouped(PlannedCheckIn.objects.all(), scope, "person__jurisdiction__path")
    rows = queryset.order_by().values("g").annotate(**{n: aggregates[n] for n in names})
    return {_key(scope, row["g"]): {n: row[n] for n in names} for row in rows}


def fetch_flags(scope: Scope, window: Window, names: set[str]) -> dict[Any, dict[str, int]]:
    """Rule flags (persons.Flag) open on the day: all of them, and serious breaches (戒毒条例 第二十条)."""
    from persons.models import Flag

    day = window.day
    aggregates = {
        "open": Count("pk"),
        "serious_breach": Count("pk", filter=Q(rule="serious_breach")),
    }
    queryset = _grouped(Flag.objects.filter(_flag_open_on(day)), scope, "person__jurisdiction__path")
    rows = queryset.order_by().values("g").annotate(**{n: aggregates[n] for n in names})
    return {_key(scope, row["g"]): {n: row[n] for n in names} for row in rows}


def fetch_staff(scope: Scope, window: Window, names: set[str]) -> dict[Any, dict[str, int]]:
    """Active user accounts with the social-worker role (社区禁毒社工) placed in the area. The
    accounts have no history: the count is today's whatever the period."""
    from accounts.models import User
    from core.roles import Role

    queryset = _grouped(User.objects.filter(is_active=True, role_grants__role=Role.SOCIAL_WORKER),
                        scope, "jurisdiction__path")
    rows = queryset.order_by().values("g").annotate(social_workers=Count("pk", distinct=True))
    return {_key(scope, row["g"]): {"social_workers": row["social_workers"]} for row in rows}


register_source("persons", fetch_persons)
register_source("measures", fetch_measures)
register_source("plan", fetch_plan)
register_source("flags", fetch_flags)
register_source("staff", fetch_staff)


# --- formulas that read the place ------------------------------------------------------------------


def _estimated_users(counts, place: Place) -> Result:
    registered = counts.get("persons.registered", 0)
    exact = Decimal(registered) * place.hidden_ratio
    return Result(int(_quantize(exact, 0)), registered, None, exact)


def _estimated_per_mille(counts, place: Place) -> Result:
    if not place.population:
        return Result(None)
    estimate = Decimal(counts.get("persons.registered", 0)) * place.hidden_ratio
    exact = estimate * 1000 / Decimal(place.population)
    return Result(_quantize(exact, 2), int(_quantize(estimate, 0)), place.population, exact)


def _registered_per_mille(counts, place: Place) -> Result:
    if not place.population:
        return Result(None)
    registered = counts.get("persons.registered", 0)
    exact = Decimal(registered) * 1000 / Decimal(place.population)
    return Result(_quantize(exact, 2), registered, place.population, exact)


def _staffing_ratio(counts, place: Place) -> Result:
    persons = counts.get("persons.community", 0)
    workers = counts.get("staff.social_workers", 0)
    if not workers:
        return Result(None, persons, workers)
    exact = Decimal(persons) / Decimal(workers)
    return Result(_quantize(exact, 1), persons, workers, exact)


def _staffing_shortfall(counts, place: Place) -> Result:
    persons = counts.get("persons.community", 0)
    workers = counts.get("staff.social_workers", 0)
    needed = math.ceil(persons / place.staffing_standard) if place.staffing_standard else 0
    gap = max(0, needed - workers)
    return Result(gap, needed, workers, Decimal(gap))


# --- the first set (SPEC §3.1/§3.7, seeds 003 and 004) --------------------------------------------------

# Sources as a user reads them: the document by its title, the law by article (issue 20: the
# catalogue said "SPEC §3.7; seed 004"). Seed 004 holds three reports: 宁德's (2019), a
# county's, and 常州's (2017); each figure cites the one it comes from.
QIANJIANG = "潜江市禁毒人民战争暨禁毒重点整治总体行动方案（2019—2021年）"
NINGDE = "宁德市人大常委会禁毒工作调研报告（2019年）"
COUNTY_REPORT = "县人大禁毒工作调研报告"
CHANGZHOU = "常州市人大常委会禁毒工作调研报告（2017年）"
DISTRICT_SPEECH = "2023年全区禁毒工作会议讲话"
PLATFORM = "本平台统计口径"


def _first_set() -> list[Indicator]:
    from persons.choices import ControlStatus as S

    persons_levels = AREA_LEVELS
    return [
        Indicator(
            "registered", _("Registered drug users"),
            "登记在册吸毒人员：统计日（期末，或更早的截至日）管控现状不为“死亡”“迁出”的人员档案数，"
            "按档案现所在村（社区）归属辖区；管控现状取自管控现状变更记录，历史期间可重现。",
            "人", persons_levels, None, f"{CHANGZHOU}（登记吸毒人员16631名，比2012年的9618名增长72.9%）",
            ("persons.registered",), count_of("persons.registered"), category="persons", list_filter={}),
        Indicator(
            "active", _("Persons under control in the community"),
            "社会面管控人员：统计日管控现状为社区戒毒、社区康复、自愿戒毒、药物维持治疗、社会面管控或下落不明的人数。",
            "人", persons_levels, None, PLATFORM, ("persons.active",), count_of("persons.active"),
            list_filter={}),
        Indicator(
            "community_measures", _("Persons under community measures"),
            "在社区戒毒、社区康复人员：统计日管控现状为社区戒毒或社区康复的人数。",
            "人", persons_levels, None, "禁毒法 第三十三条、第四十八条", ("persons.community",),
            count_of("persons.community"), list_filter={"status": S.COMMUNITY_TREATMENT}),
        Indicator(
            "compulsory_treatment", _("Persons in compulsory treatment"),
            "强制隔离戒毒人员：统计日管控现状为强制隔离戒毒的人数。",
            "人", persons_levels, None, "禁毒法 第三十八条、第四十七条", ("persons.compulsory",),
            count_of("persons.compulsory"), list_filter={"status": S.COMPULSORY_TREATMENT}),
        Indicator(
            "whereabouts_unknown", _("Persons whose whereabouts are unknown"),
            "失控（下落不明）人员：统计日管控现状为下落不明的人数。",
            "人", persons_levels, False, f"{CHANGZHOU}（努力做到社会面上基本无失控吸毒人员）", ("persons.unknown",),
            count_of("persons.unknown"), list_filter={"status": S.WHEREABOUTS_UNKNOWN}),
        Indicator(
            "newly_found", _("Newly found persons"),
            "新发现吸毒人员：首次发现日期在统计期间内（至截至日）的人员档案数。",
            "人", persons_levels, False, f"{QIANJIANG}（新生吸毒人员明显减缓）",
            ("persons.found",), count_of("persons.found")),
        Indicator(
            "young_share", _("Share under 35"),
            "35岁以下人员占比：统计日登记在册人员中未满35周岁者所占比例（周岁按统计日计算）。",
            "%", persons_levels, False, f"{CHANGZHOU}（35岁以下青少年6932名，占41.7%）",
            ("persons.young", "persons.registered"), rate_of("persons.young", "persons.registered"), decimals=1),
        Indicator(
            "minor_share", _("Share of minors"),
            "未成年人占比：统计日登记在册人员中未满18周岁者所占比例。",
            "%", persons_levels, False, f"{NINGDE}（未成年吸毒人员占比3.3%）",
            ("persons.minor", "persons.registered"), rate_of("persons.minor", "persons.registered"), decimals=1),
        Indicator(
            "synthetic_share", _("Synthetic-drug share"),
            "滥用合成毒品人员占比：统计日登记在册人员中，所吸食毒品含冰毒、氯胺酮、摇头丸、新精神活性物质或"
            "卡西酮类（合成毒品）者所占比例。",
            "%", persons_levels, False, f"{NINGDE}（吸食毒品由传统的海洛因转向新型毒品为主）",
            ("persons.synthetic", "persons.registered"), rate_of("persons.synthetic", "persons.registered"),
            decimals=1),
        Indicator(
            "execution_rate", _("Execution rate of community measures"),
            "社区戒毒社区康复执行率 = 正常执行人数 ÷ 在执行期内人数。在执行期内：统计日有已决定、未终止、未拒绝"
            "且执行期未届满的社区戒毒或社区康复措施的人员。正常执行：其中已在统计日前报到，管控现状不是下落不明，"
            "没有未处理的严重违反协议、逾期未报到或执行期间吸毒的规则提示，且没有逾期30日以上未做的检测。",
            "%", persons_levels, True,
            f"{CHANGZHOU}（在执行期内的社区戒毒康复人员1448人，其中正常执行的1182人，执行率为82%）；"
            f"{QIANJIANG}（执行率2019年80%、2020年90%、2021年100%）",
            ("persons.normal", "persons.executing"), rate_of("persons.normal", "persons.executing"), decimals=1,
            category="measures"),
        Indicator(
            "executing", _("Persons in their execution period"),
            "在执行期内的社区戒毒、社区康复人数（执行率的分母）。",
            "人", persons_levels, None, CHANGZHOU, ("persons.executing",), count_of("persons.executing"),
            category="measures"),
        Indicator(
            "report_in_rate", _("Report-in rate"),
            "按期报到率：统计期间内决定的社区戒毒、社区康复中，在决定后15日内报到的比例；分母为截至日报到期限已过"
            "或已报到的决定。",
            "%", persons_levels, True, "戒毒条例 第十四条第一款、第三十八条第一款",
            ("measures.on_time", "measures.due"), rate_of("measures.on_time", "measures.due"), decimals=1,
            category="measures"),
        Indicator(
            "test_completion_rate", _("Drug-test completion rate"),
            "检测完成率：检测计划中应检日期在统计期间内的毒品检测，到期末已完成的比例。统计期间尚未结束时，只计应检日期"
            "已过的检测（截至前一日），完成情况也截至前一日；同比、环比取上年同期、上期的相同天数。",
            "%", persons_levels, True, f"{PLATFORM}（检测计划：第一年每月、第二年每两月、第三年每季度）",
            ("plan.tests_done", "plan.tests_due"), rate_of("plan.tests_done", "plan.tests_due"), decimals=1,
            category="measures"),
        Indicator(
            "grid_rate", _("Grid-management rate"),
            "吸毒人员网格化服务管理率：统计日社会面管控人员中已落实到网格的比例。",
            "%", persons_levels, True, f"{QIANJIANG}（网格化服务管理率2019年80%、2020年90%、2021年100%）",
            ("persons.gridded", "persons.active"), rate_of("persons.gridded", "persons.active"), decimals=1),
        Indicator(
            "abstinence_count", _("Persons in three-year abstinence"),
            "戒断三年未复吸人数：统计日管控现状为戒断三年未复吸的人数。",
            "人", persons_levels, True, "戒毒条例 第七条", ("persons.abstinent",),
            count_of("persons.abstinent"), list_filter={"status": S.THREE_YEAR_ABSTINENCE}),
        Indicator(
            "abstinence_rate", _("Three-year abstinence rate"),
            "戒断三年未复吸率：戒断三年未复吸人数 ÷ 登记在册人数。",
            "%", persons_levels, True, "戒毒条例 第七条",
            ("persons.abstinent", "persons.registered"), rate_of("persons.abstinent", "persons.registered"),
            decimals=1),
        Indicator(
            "relapse_rate", _("Relapse rate"),
            "复吸率：统计日前三年内执行完毕（社区戒毒、社区康复或强制隔离戒毒期满）的人员中，统计期间内在首次执行"
            "完毕之后毒品检测呈阳性者所占比例。",
            "%", persons_levels, False, "禁毒法 第三十八条第一款第（四）项; 戒毒条例 第七条",
            ("persons.relapsed", "persons.released"), rate_of("persons.relapsed", "persons.released"), decimals=1,
            category="measures"),
        Indicator(
            "overdue_items", _("Overdue check-ins"),
            "逾期未完成的检测、谈话、走访等计划事项数：截至统计日应完成而未完成、其措施仍在执行的计划事项。",
            "项", persons_levels, False, PLATFORM, ("plan.overdue_items",), count_of("plan.overdue_items"),
            category="measures", list_filter={"overdue": "true"}),
        Indicator(
            "serious_breach_flags", _("Open serious-breach flags"),
            "未处理的严重违反社区戒毒（康复）协议提示数：统计日已提出且尚未作出决定或排除的提示。",
            "项", persons_levels, False, "戒毒条例 第二十条", ("flags.serious_breach",),
            count_of("flags.serious_breach"), category="measures", list_filter={"flagged": "true"}),
        Indicator(
            "high_risk_share", _("High-risk share"),
            "高风险人员占比：统计日社会面管控人员中，最近一次风险分类评估为高风险者所占比例。",
            "%", persons_levels, False, f"{DISTRICT_SPEECH}（按社会面吸毒人员风险分类评估办法，定期开展风险评估，分类管理）",
            ("persons.high_risk", "persons.active"), rate_of("persons.high_risk", "persons.active"), decimals=1,
            list_filter={"risk": "high"}),
        Indicator(
            "social_workers", _("Social workers"),
            "专职禁毒社工人数：辖区内在用的社区禁毒社工账号数（当前数）。",
            "名", STAFF_LEVELS, True, PLATFORM, ("staff.social_workers",), count_of("staff.social_workers"),
            category="staffing"),
        Indicator(
            "staffing_ratio", _("Persons per social worker"),
            "社工配备比：在社区戒毒、社区康复人数 ÷ 专职禁毒社工人数，对照配备标准（默认30:1，可按县设置）。",
            "人/名", STAFF_LEVELS, False,
            f"{COUNTY_REPORT}（超过30:1的比例配备标准）；{CHANGZHOU}（按20:1的比例配备）",
            ("persons.community", "staff.social_workers"), _staffing_ratio, decimals=1, category="staffing",
            needs_place=True),
        Indicator(
            "staffing_shortfall", _("Social workers missing against the standard"),
            "社工缺口：按配备标准应配备的社工人数（在社区戒毒、社区康复人数 ÷ 标准，向上取整）减去实有人数，不足0计0。",
            "名", STAFF_LEVELS, False, f"{CHANGZHOU}（全市应配备禁毒专职社工70余名，但目前仅有12名）",
            ("persons.community", "staff.social_workers"), _staffing_shortfall, category="staffing",
            needs_place=True),
        Indicator(
            "estimated_users", _("Estimated drug users (visible and hidden)"),
            "按显隐性比例测算的实际吸毒人数 = 登记在册人数 × 比例（默认1:5，可按县设置）。",
            "人", POPULATION_LEVELS, False, f"{NINGDE}（按显隐性1:5比例测算，实际吸毒人员超过5万名）",
            ("persons.registered",), _estimated_users, needs_place=True, category="population"),
        Indicator(
            "estimated_users_per_mille", _("Estimated drug users per thousand inhabitants"),
            "测算吸毒人数占实有人口的千分比（实有人口由禁毒办按年录入）。",
            "‰", POPULATION_LEVELS, False, f"{NINGDE}（占全市实有人口的1.56%）",
            ("persons.registered",), _estimated_per_mille, decimals=2, needs_place=True, category="population"),
        Indicator(
            "registered_per_mille", _("Registered persons per thousand inhabitants"),
            "登记在册人数占实有人口的千分比。",
            "‰", POPULATION_LEVELS, False, PLATFORM,
            ("persons.registered",), _registered_per_mille, decimals=2, needs_place=True, category="population"),
    ]


for _indicator in _first_set():
    register(_indicator)


# --- evaluation ----------------------------------------------------------------------------------------


def _needed(indicators: list[Indicator]) -> dict[str, set[str]]:
    by_source: dict[str, set[str]] = {}
    for indicator in indicators:
        for name in indicator.inputs:
            source, count = name.split(".", 1)
            by_source.setdefault(source, set()).add(count)
    return by_source


# Counts the rollups (monitoring.rollups) hold: "source.count" -> rollup column. The relapse count
# is a cohort of single months; the staff count is always read from the accounts.
ROLLUP_COUNTS = {
    **{f"persons.{name}": f"persons_{name}" for name in (
        "registered", "active", "community", "compulsory", "unknown", "abstinent", "young", "minor", "synthetic",
        "gridded", "found", "high_risk", "executing", "normal", "released", "relapsed")},
    "measures.decided": "measures_decided", "measures.due": "measures_due", "measures.on_time": "measures_on_time",
    "plan.tests_due": "plan_tests_due", "plan.tests_done": "plan_tests_done",
    "plan.overdue_items": "plan_overdue_items", "plan.overdue_persons": "plan_overdue_persons",
    "flags.open": "flags_open", "flags.serious_breach": "flags_serious_breach",
}
# The counts read up to a window's due day rather than its last day (fetch_plan).
DUE_COUNTS = frozenset({"plan.tests_due", "plan.tests_done"})


def _need(window: Window):
    """What the rollups must hold to answer a window; None when its period is cut inside a month."""
    from monitoring import rollups

    period = window.period
    if period.start.day != 1 or period.end != rollups.month_end(rollups.month_of(period.end)):
        return None
    return rollups.Need(window.day, period.start, rollups.month_of(period.end), window.last)


def _fetch_windows(indicators, parent, scopes: list[Scope], windows: dict) -> dict[Any, dict[Any, dict[str, int]]]:
    """{label: {group key: {"source.count": n}}} for each window: from the rollups for every source
    they can answer for these windows (two queries for all windows), directly otherwise (one
    query per source, scope and window)."""
    from monitoring import rollups

    needed = _needed(indicators)
    wanted = sorted(f"{source}.{name}" for source, names in needed.items() for name in names)
    needs = {label: _need(window) for label, window in windows.items()}
    # The due drug tests of a running period are read up to its due day, the other flows up to
    # its last day: one more need of the same read for each such window.
    due_needs = {label: dataclasses.replace(needs[label], until=window.due) for label, window in windows.items()
                 if needs[label] is not None and window.due != window.last}
    served: list[str] = []
    if all(needs.values()):
        single = all(n.first == n.last for n in needs.values())
        served = [n for n in wanted if n in ROLLUP_COUNTS and (n != "persons.relapsed" or single)]
        if served and not rollups.answers(rollups.coverage(parent.path),
                                          list(needs.values()) + list(due_needs.values())):
            served = []
    counts: dict[Any, dict[Any, dict[str, int]]] = {label: {} for label in windows}
    if served:
        names = served
        columns = sorted({ROLLUP_COUNTS[n] for n in names})
        reads = [(label, needs[label], False) for label in windows] + [
            (label, need, True) for label, need in due_needs.items()]
        for scope in scopes:
            results = rollups.read(scope.path, scope.group_length, [need for _l, need, _d in reads], columns)
            for (label, _need_read, due), result in zip(reads, results, strict=True):
                for key, sums in result.items():
                    bucket = counts[label].setdefault(key, {})
                    for name in names:
                        if (name in DUE_COUNTS) == due or (not due and label not in due_needs):
                            bucket[name] = sums.get(ROLLUP_COUNTS[name], 0)
    rest: dict[str, set[str]] = {}
    for name in wanted:
        if name not in served:
            source, count = name.split(".", 1)
            rest.setdefault(source, set()).add(count)
    for label, window in windows.items():
        for scope in scopes:
            for source, names in rest.items():
                for key, values in SOURCES[source](scope, window, names).items():
                    bucket = counts[label].setdefault(key, {})
                    for name, number in values.items():
                        bucket[f"{source}.{name}"] = number
    return counts


def _resolve(codes, jurisdiction) -> list[Indicator]:
    if codes is None:
        return [i for i in INDICATORS.values() if jurisdiction.level in i.levels]
    missing = [c for c in codes if c not in INDICATORS]
    if missing:
        raise KeyError(f"unknown indicators {missing}")
    return [INDICATORS[c] for c in codes]


def _places(indicators, nodes, year: int) -> dict[str, Place]:
    """Settings and population for each node (by path), in two queries, only when needed."""
    if not any(i.needs_place for i in indicators):
        return {}
    from monitoring.services import places_for

    return places_for(nodes, year)


def _targets(indicators, nodes, year: int) -> dict[tuple[str, str], Decimal]:
    from monitoring.services import targets_for

    return targets_for([i.code for i in indicators], nodes, year)


def _value(indicator, node, period, counts, place, as_of) -> Value:
    result = indicator.compute(counts or {}, place)
    return Value(indicator=indicator, jurisdiction=node, period=period, value=result.value,
                 numerator=result.numerator, denominator=result.denominator, exact=result.exact, as_of=as_of)


def _compare(value: Value, previous_year: Value | None, previous_period: Value | None):
    if previous_year is not None:
        value.previous_year = previous_year.value
        value.yoy = percent_change(value.value, previous_year.value)
        if value.indicator.is_rate and value.value is not None and previous_year.value is not None:
            value.yoy_points = Decimal(value.value) - Decimal(previous_year.value)
    if previous_period is not None:
        value.previous_period = previous_period.value
        value.mom = percent_change(value.value, previous_period.value)
        if value.indicator.is_rate and value.value is not None and previous_period.value is not None:
            value.mom_points = Decimal(value.value) - Decimal(previous_period.value)


def met(indicator: Indicator, value, target) -> bool | None:
    """Whether a value meets its target: at least it when higher is better, at most it when lower
    is better; None without a value, a target or a direction."""
    if value is None or target is None or indicator.higher_is_better is None:
        return None
    return Decimal(value) >= target if indicator.higher_is_better else Decimal(value) <= target


def _apply_target(value: Value, target):
    value.target = target
    value.target_met = met(value.indicator, value.value, target)


def _default_as_of(as_of):
    return as_of if as_of is not None else timezone.localdate()


def _evaluate_nodes(indicators, parent, nodes, period, as_of, compare, grouped: bool):
    """Values for ``nodes``: the parent itself (grouped=False) or its direct children."""
    periods = {"current": period}
    if compare:
        periods |= {"year": period.same_last_year(), "previous": period.previous()}
    key_of = {}
    scopes = []
    if grouped:
        lengths = {}
        for node in nodes:
            lengths.setdefault(len(node.path), []).append(node)
            key_of[node.pk] = node.path
        scopes = [Scope(parent.path, length) for length in sorted(lengths)]
    else:
        key_of[parent.pk] = None
        scopes = [Scope(parent.path)]
    windows = {"current": Window.of(period, as_of)}
    if compare:
        # A running period is compared with the same stretch of its bases: the stocks on the
        # same day, the due items over the same span of due dates (1–4 December against 1–4
        # December last year and 1–4 November).
        due = windows["current"].due
        for label, years in (("year", 1), ("previous", 0)):
            base = periods[label]
            day = base.as_of(comparable_as_of(period, base, as_of, years=years))
            due_cut = comparable_as_of(period, base, due, years=years)
            windows[label] = Window(base, day, day, base.end if due_cut is None else due_cut)
    counts = _fetch_windows(indicators, parent, scopes, windows)
    places = _places(indicators, nodes, period.end.year)
    places_year = _places(indicators, nodes, period.same_last_year().end.year) if compare else {}
    places_prev = _places(indicators, nodes, period.previous().end.year) if compare else {}
    targets = _targets(indicators, nodes, period.end.year)
    result = {}
    for node in nodes:
        key = key_of[node.pk]
        values = {}
        for indicator in indicators:
            current = _value(indicator, node, period, counts["current"].get(key), places.get(node.path),
                             periods["current"].as_of(as_of))
            if compare:
                _compare(current,
                         _value(indicator, node, periods["year"], counts["year"].get(key), places_year.get(node.path),
                                None),
                         _value(indicator, node, periods["previous"], counts["previous"].get(key),
                                places_prev.get(node.path), None))
            _apply_target(current, targets.get((indicator.code, node.path)))
            values[indicator.code] = current
        result[node.pk] = values
    return result


def comparable_as_of(period: Period, base: Period, as_of: datetime.date, years: int = 0) -> datetime.date | None:
    """The day to read a comparison period on, so that a period still running is compared with
    the same stretch of its base (1–15 June against 1–15 June last year, not all of last June);
    None — the whole base period — once the period is over."""
    if as_of >= period.end:
        return None
    if years:
        return min(base.end, as_of - relativedelta(years=years))
    return min(base.end, base.start + (as_of - period.start))


def evaluate(codes: list[str] | None, jurisdiction, period: Period, *, as_of: datetime.date | None = None,
             compare: bool = True) -> dict[str, Value]:
    """The indicators for ``jurisdiction`` and its subtree in ``period``, read on the period's end
    or ``as_of`` (default today) if earlier; with 同比 and 环比 when ``compare``. No user: the
    caller decides what a viewer may see."""
    as_of = _default_as_of(as_of)
    indicators = _resolve(codes, jurisdiction)
    return _evaluate_nodes(indicators, jurisdiction, [jurisdiction], period, as_of, compare, grouped=False)[
        jurisdiction.pk]


def evaluate_children(codes: list[str] | None, jurisdiction, period: Period, *, as_of: datetime.date | None = None,
                      compare: bool = False) -> dict[int, dict[str, Value]]:
    """The same for each direct child of ``jurisdiction`` (keyed by the child's pk), in a number
    of queries that does not depend on how many children there are."""
    from jurisdictions.models import Jurisdiction

    as_of = _default_as_of(as_of)
    indicators = _resolve(codes, jurisdiction) if codes is not None else [
        i for i in INDICATORS.values() if _child_level(jurisdiction) in i.levels]
    children = list(Jurisdiction.objects.filter(parent=jurisdiction).order_by("path"))
    if not children:
        return {}
    return _evaluate_nodes(indicators, jurisdiction, children, period, as_of, compare, grouped=True)


def _child_level(jurisdiction) -> str:
    from jurisdictions.choices import LEVEL_ORDER

    order = LEVEL_ORDER[jurisdiction.level]
    levels = list(LEVEL_ORDER)
    return levels[min(order + 1, len(levels) - 1)]


def series(code: str, jurisdiction, periods: list[Period], *, as_of: datetime.date | None = None) -> list[Value]:
    """One indicator over several periods (a trend), without 同比/环比; periods after ``as_of``
    are read on ``as_of``. From the rollups all periods are read together (a few queries);
    directly, one evaluation per period."""
    return series_many([code], jurisdiction, periods, as_of=as_of)[code]


def series_many(codes: list[str], jurisdiction, periods: list[Period], *,
                as_of: datetime.date | None = None) -> dict[str, list[Value]]:
    """Several indicators over the same periods, read together: {code: [Value per period]}."""
    as_of = _default_as_of(as_of)
    chosen = _resolve(list(codes), jurisdiction)
    windows = {n: Window.of(period, as_of) for n, period in enumerate(periods)}
    if not windows:
        return {indicator.code: [] for indicator in chosen}
    counts = _fetch_windows(chosen, jurisdiction, [Scope(jurisdiction.path)], windows)
    years = sorted({period.end.year for period in periods})
    places = {year: _places(chosen, [jurisdiction], year) for year in years}
    targets = {year: _targets(chosen, [jurisdiction], year) for year in years}
    result = {}
    for indicator in chosen:
        values = []
        for n, period in enumerate(periods):
            value = _value(indicator, jurisdiction, period, counts[n].get(None), places[period.end.year].get(
                jurisdiction.path), period.as_of(as_of))
            _apply_target(value, targets[period.end.year].get((indicator.code, jurisdiction.path)))
            values.append(value)
        result[indicator.code] = values
    return result


# --- breakdowns ------------------------------------------------------------------------------------------

BREAKDOWNS = ("status", "age", "substance", "risk", "sex", "living")
AGE_BANDS = [  # (key, label, youngest age, oldest age)
    ("under_18", _("Under 18"), 0, 17),
    ("18_25", _("18–25"), 18, 25),
    ("26_34", _("26–34"), 26, 34),
    ("35_44", _("35–44"), 35, 44),
    ("45_54", _("45–54"), 45, 54),
    ("55_plus", _("55 and over"), 55, 200),
]


def _registered_persons(jurisdiction, day):
    from persons.choices import ControlStatus
    from persons.models import Person

    return (Person.objects.filter(jurisdiction__path__startswith=jurisdiction.path)
            .annotate(status_at=status_on(day)).filter(status_at__isnull=False)
            .exclude(status_at__in=[ControlStatus.DECEASED, ControlStatus.MOVED_OUT]))


def breakdown(name: str, jurisdiction, *, as_of: datetime.date | None = None) -> list[tuple[str, str, int]]:
    """Persons registered on ``as_of`` (default today) in the subtree, by status, age band,
    substance (a person with two substances counts under both), latest risk level, sex, or job
    and home (两有/一有/两无, seed 003). Every category is listed, zeros included; persons with
    no recorded value are counted under key "" ("not recorded"). One query."""
    return breakdowns([name], jurisdiction, as_of=as_of)[name]


def breakdowns(names: list[str], jurisdiction, *, as_of: datetime.date | None = None
               ) -> dict[str, list[tuple[str, str, int]]]:
    """Several breakdowns of the same persons on the same day: {name: rows}, read together from
    the rollups (three queries for all of them) or one query each directly."""
    day = _default_as_of(as_of)
    served = _breakdowns_from_rollups(names, jurisdiction, day)
    if served is not None:
        return served
    return {name: _breakdown_direct(name, jurisdiction, day) for name in names}


def _breakdown_direct(name: str, jurisdiction, day: datetime.date) -> list[tuple[str, str, int]]:
    from persons.choices import ControlStatus, LivingSituation, RiskLevel, Sex, Substance
    from persons.models import PersonSubstance, RiskAssessment

    persons = _registered_persons(jurisdiction, day)
    unrecorded = ("", str(_("Not recorded")))
    if name == "status":
        rows = dict(persons.order_by().values_list("status_at").annotate(n=Count("pk")))
        choices = [(c, label) for c, label in ControlStatus.choices
                   if c not in (ControlStatus.DECEASED, ControlStatus.MOVED_OUT)]
        return [(key, str(label), rows.get(key, 0)) for key, label in choices]
    if name == "age":
        whens = []
        for key, _label, youngest, oldest in AGE_BANDS:
            # age between youngest and oldest ⇔ born after day − (oldest+1) years and on or before day − youngest years
            whens.append(When(birth_date__gt=day - relativedelta(years=oldest + 1),
                              birth_date__lte=day - relativedelta(years=youngest), then=V(key)))
        rows = dict(persons.annotate(band=Case(*whens, default=V(""), output_field=CharField()))
                    .order_by().values_list("band").annotate(n=Count("pk")))
        return [(key, str(label), rows.get(key, 0)) for key, label, _y, _o in AGE_BANDS]
    if name == "substance":
        rows = dict(PersonSubstance.objects.filter(person__in=persons.values("pk")).order_by()
                    .values_list("substance").annotate(n=Count("pk")))
        return [(key, str(label), rows.get(key, 0)) for key, label in Substance.choices]
    if name == "risk":
        latest = Subquery(RiskAssessment.objects.filter(person=OuterRef("pk"), assessed_on__lte=day)
                          .order_by("-assessed_on", "-id").values("level")[:1], output_field=CharField())
        rows = {}
        for level, n in persons.annotate(level=latest).order_by().values_list("level").annotate(n=Count("pk")):
            rows[level or ""] = rows.get(level or "", 0) + n
        return [(key, str(label), rows.get(key, 0)) for key, label in RiskLevel.choices] + [
            (unrecorded[0], unrecorded[1], rows.get("", 0))]
    if name == "sex":
        rows = dict(persons.order_by().values_list("sex").annotate(n=Count("pk")))
        return [(key, str(label), rows.get(key, 0)) for key, label in Sex.choices]
    if name == "living":
        rows = dict(persons.order_by().values_list("living_situation").annotate(n=Count("pk")))
        return [(key, str(label), rows.get(key, 0)) for key, label in LivingSituation.choices] + [
            (unrecorded[0], unrecorded[1], rows.get("", 0))]
    raise KeyError(f"unknown breakdown {name!r}; one of {BREAKDOWNS}")


def _breakdown_rows(name: str) -> list[tuple[str, str, str]]:
    """(key, label, rollup column) of each category of a breakdown, in the order shown."""
    from persons.choices import ControlStatus, LivingSituation, RiskLevel, Sex, Substance

    unrecorded = ("", str(_("Not recorded")))
    if name == "status":
        return [(c, str(label), f"status_{c}") for c, label in ControlStatus.choices
                if c not in (ControlStatus.DECEASED, ControlStatus.MOVED_OUT)]
    if name == "age":
        return [(key, str(label), f"age_{key}") for key, label, _y, _o in AGE_BANDS]
    if name == "substance":
        return [(key, str(label), f"substance_{key}") for key, label in Substance.choices]
    if name == "risk":
        return [(key, str(label), f"risk_{key}") for key, label in RiskLevel.choices] + [
            (*unrecorded, "risk_none")]
    if name == "sex":
        return [(key, str(label), f"sex_{key.lower()}") for key, label in Sex.choices]
    if name == "living":
        return [(key, str(label), f"living_{key}") for key, label in LivingSituation.choices] + [
            (*unrecorded, "living_none")]
    raise KeyError(f"unknown breakdown {name!r}; one of {BREAKDOWNS}")


def _breakdowns_from_rollups(names: list[str], jurisdiction, day: datetime.date):
    """The breakdowns from the rollups (three queries for all), or None when they cannot answer."""
    from monitoring import rollups

    rows = {name: _breakdown_rows(name) for name in names}
    need = rollups.Need(day)
    if not rollups.answers(rollups.coverage(jurisdiction.path), [need]):
        return None
    columns = sorted({column for each in rows.values() for _k, _l, column in each})
    sums = rollups.read(jurisdiction.path, None, [need], columns)[0].get(None, {})
    return {name: [(key, label, sums.get(column, 0)) for key, label, column in each] for name, each in rows.items()}


__all__ = [
    "INDICATORS", "Indicator", "Value", "Place", "Result", "Scope", "Window", "SOURCES", "BREAKDOWNS",
    "register", "register_source", "evaluate", "evaluate_children", "series", "breakdown", "breakdowns", "suppress",
    "percent_change", "ratio", "met", "count_of", "rate_of", "format_number", "status_on",
]
