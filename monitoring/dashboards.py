"""What the drug-situation dashboard shows (issue 6, SPEC §3.7): the numbers come from the
indicator library (monitoring.indicators) — the same calls the generated documents make — and
are shaped here into KPI cards and chart data for monitoring/static/monitoring/dashboard.js.

Privacy (SPEC §2, §4): a viewer without personal-data rights (the leadership) gets every count
from 1 to 4 as "<5" — in the cards, and in the charts, where the point carries no number at all
— the figures that would let one work such a count out withheld as "*" (monitoring.disclosure),
and no links to person lists. Links go to the person list filtered to the number's people,
and only when that list reproduces it: the current period (the list shows today's files) and a
filter the list has (area, status, substance, risk).

A dashboard is a fixed number of library calls whatever the size of the data: one evaluation
of the cards, one of the children, one series per trend line, one breakdown per chart.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from core.roles import Role, has_any_role, may_see_personal_data
from jurisdictions.choices import LEVEL_ORDER, Level
from jurisdictions.models import Jurisdiction
from monitoring import indicators, rollups, shapes
from monitoring.disclosure import Disclosure
from monitoring.periods import MONTH, Period

# SPEC §2: the office, the township workers and the police at their level; the leadership
# (aggregates only).
DASHBOARD_ROLES = frozenset({Role.OFFICE, Role.TOWNSHIP, Role.POLICE, Role.LEADERSHIP})
# Levels a dashboard is drawn for: a node with areas below it worth comparing.
DASHBOARD_LEVELS = (Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP)

# The KPI cards, in order: the situation first, then the work the office is assessed on
# (seed 003's targets), then what needs action now.
CARD_CODES = [
    "registered", "newly_found", "young_share", "synthetic_share", "estimated_users", "relapse_rate",
    "execution_rate", "test_completion_rate", "grid_rate", "abstinence_rate", "overdue_items",
    "serious_breach_flags",
]
# Trend chart: a stock on the left axis, a flow (bars) on the right.
TREND_CODES = [("registered", False), ("newly_found", True)]
TREND_RATE_CODES = ["execution_rate", "test_completion_rate", "grid_rate"]
TREND_MONTHS = 24
RATE_MONTHS = 12
# The ranking of the areas below: the indicators one may rank by (the first is shown first).
RANKING_CODES = ["registered", "newly_found", "execution_rate", "test_completion_rate", "grid_rate",
                 "high_risk_share", "overdue_items"]
MAP_CODE = "registered"
BREAKDOWN_NAMES = ("status", "age", "substance", "risk")
# Filters of the person list (persons.filtersets.PersonFilterSet) per breakdown.
BREAKDOWN_FILTERS = {"status": "status", "substance": "substance", "risk": "risk"}
TILE_COLUMNS = 5
# A slice's colour by what it means, not by its place in the ring (issue 20): high risk red,
# medium orange, low green, and what was not recorded or assessed grey, in every breakdown.
UNRECORDED_COLOUR = "#9aa0ac"
CATEGORY_COLOURS = {
    "risk": {"high": "#d63939", "medium": "#f76707", "low": "#2fb344", "": UNRECORDED_COLOUR},
}


def category_colour(breakdown: str, key: str) -> str:
    """The colour of a breakdown's category: the table's, grey for "not recorded" (the empty
    key) in any breakdown, and "" (the chart's palette) for categories that carry no meaning."""
    colours = CATEGORY_COLOURS.get(breakdown, {})
    if key in colours:
        return colours[key]
    return UNRECORDED_COLOUR if key == "" else ""


def may_open_lists(user) -> bool:
    from persons.models import Person  # the work line's roles, read when asked (monitoring knows no app)

    return has_any_role(user, Person.scope_roles)


def jurisdiction_choices(user):
    """The places the viewer may draw a dashboard for: their own and those below it down to
    townships. One query."""
    levels = [level for level in DASHBOARD_LEVELS]
    return list(Jurisdiction.objects.visible_to(user).filter(level__in=levels)
                .only("pk", "code", "name", "level", "path", "depth").order_by("path"))


def period_choices(today: datetime.date) -> list[tuple[str, str]]:
    """The last 24 months, the last 8 quarters and the last 5 years, newest first."""
    current = Period.containing(today)
    months, period = [], current
    for _i in range(24):
        months.append(period)
        period = period.previous()
    quarters, period = [], Period.containing(today, "quarter")
    for _i in range(8):
        quarters.append(period)
        period = period.previous()
    years = [Period.year(today.year - i) for i in range(5)]
    return [(p.code, p.label) for p in months + quarters + years]


@dataclass
class Card:
    code: str
    name: str
    definition: str
    unit: str
    value: str
    yoy: str = ""
    arrow: str = ""  # "up", "down" or ""
    trend: str = "neutral"  # "good", "bad" or "neutral"
    target: str = ""
    met: bool | None = None
    url: str = ""


@dataclass
class Dashboard:
    jurisdiction: Jurisdiction
    period: Period
    as_of: datetime.date
    suppressed: bool
    links: bool
    cards: list[Card] = field(default_factory=list)
    charts: dict = field(default_factory=dict)
    children_label: str = ""

    def data(self) -> dict:
        """What the page hands to dashboard.js (json_script)."""
        return {"links": self.links, "charts": self.charts,
                "text": {"open_list": _("Click to open the list"), "target": _("Target")}}


class Builder:
    def __init__(self, user, jurisdiction: Jurisdiction, period: Period, *, today: datetime.date | None = None):
        self.user = user
        self.jurisdiction = jurisdiction
        self.period = period
        self.today = today or timezone.localdate()
        self.as_of = period.as_of(self.today)
        self.suppressed = not may_see_personal_data(user)
        self.current = period.contains(self.today)
        self.area = self._area_parameter()
        self.links = may_open_lists(user) and self.area is not None

    def _area_parameter(self) -> dict | None:
        """The person-list filter that selects this jurisdiction: nothing for the viewer's own
        area (the list is scoped to it), the ``area`` code for a township or village; None when
        the list cannot select it (a county seen from the city)."""
        own = getattr(self.user, "jurisdiction", None)
        if own is not None and own.pk == self.jurisdiction.pk:
            return {}
        if self.jurisdiction.level in (Level.TOWNSHIP, Level.VILLAGE):
            return {"area": self.jurisdiction.code}
        return None

    # --- numbers and links ----------------------------------------------------------------

    def count_point(self, name: str, count: int | None, url: str = "") -> dict:
        """A chart point for a count: without a number when the viewer may not see it."""
        shown = indicators.suppress(count, self.user)
        hidden = count is None or shown != str(count)
        return {"name": name, "value": None if hidden else count, "label": shown, "url": url}

    def value_point(self, name: str, value, url: str = "") -> dict:
        """A chart point for an indicator's value. What the viewer may not see ("<5", or a rate
        over fewer than 5 persons) travels as its label only, never as a number."""
        label = value.display(suppress_small=self.suppressed)
        hidden = value.value is None or label != value.display()
        return {"name": name, "value": None if hidden else float(value.value), "label": label, "url": url}

    def list_url(self, **filters) -> str:
        if not self.links:
            return ""
        params = {**self.area, **{k: v for k, v in filters.items() if v}}
        base = reverse("persons:list")
        return f"{base}?{urlencode(params)}" if params else base

    def current_list_url(self, **filters) -> str:
        """A link only for the current period: the list shows today's files, not a past month's."""
        return self.list_url(**filters) if self.current else ""

    # --- the parts --------------------------------------------------------------------------

    def build(self) -> Dashboard:
        dashboard = Dashboard(self.jurisdiction, self.period, self.as_of, self.suppressed, self.links)
        # Nothing for a viewer with personal-data rights; for the leadership, what is withheld so
        # that no small count can be worked out (monitoring.disclosure).
        disclosure = Disclosure(self.user, self.jurisdiction, self.period, as_of=self.as_of)
        values = disclosure.apply(indicators.evaluate(CARD_CODES, self.jurisdiction, self.period, as_of=self.as_of),
                                  self.jurisdiction)
        dashboard.cards = [self.card(values[code]) for code in CARD_CODES if code in values]
        children = list(Jurisdiction.objects.filter(parent=self.jurisdiction).order_by("code")
                        .only("pk", "code", "name", "level", "path"))
        dashboard.children_label = _level_plural(children[0].level) if children else ""
        months = self._months()
        trends = indicators.series_many([code for code, _bar in TREND_CODES] + TREND_RATE_CODES, self.jurisdiction,
                                        months, as_of=self.as_of)
        disclosure.apply_trends(trends, months, self.jurisdiction)
        charts = {"trend": self.trend(months, trends), "rates": self.rate_trend(months, trends)}
        if children:
            by_child = disclosure.apply_children(indicators.evaluate_children(
                sorted(set(RANKING_CODES) | {MAP_CODE}), self.jurisdiction, self.period, as_of=self.as_of))
            charts["ranking"] = self.ranking(children, by_child)
            charts["map"] = self.map(children, by_child)
        rows = disclosure.protect_breakdowns(indicators.breakdowns(list(BREAKDOWN_NAMES), self.jurisdiction,
                                                                   as_of=self.as_of))
        for name in BREAKDOWN_NAMES:
            charts[name] = self.breakdown(name, rows[name])
        dashboard.charts = charts
        return dashboard

    def card(self, value) -> Card:
        indicator = value.indicator
        card = Card(code=indicator.code, name=str(indicator.name), definition=indicator.definition,
                    unit=indicator.unit, value=value.display(suppress_small=self.suppressed))
        # For rates the change in percentage points, for counts the relative change.
        change = value.yoy_points if indicator.is_rate else value.yoy
        hidden = card.value != value.display() or value.previous_year is None
        if change is not None and not hidden:
            change = float(change)
            card.yoy = value.yoy_sentence()
            card.arrow = "up" if change > 0 else "down" if change < 0 else ""
            if change and indicator.higher_is_better is not None:
                card.trend = "good" if (change > 0) == bool(indicator.higher_is_better) else "bad"
        if value.target is not None:
            card.target = _format_target(value)
            card.met = value.target_met
        if indicator.list_filter is not None:
            card.url = self.current_list_url(**indicator.list_filter)
        return card

    def _months(self) -> list[Period]:
        last = self.period.months()[-1]
        months = [last]
        while len(months) < TREND_MONTHS:
            months.append(months[-1].previous())
        return list(reversed(months))

    def trend(self, months: list[Period], trends: dict) -> dict:
        """The stock and the flow over the last 24 months (``trends``: indicators.series_many's)."""
        series = []
        for axis, (code, bar) in enumerate(TREND_CODES):
            indicator = indicators.INDICATORS[code]
            values = trends[code]
            series.append({"name": str(indicator.name), "bar": bar, "axis": axis,
                           "points": [self.value_point(p.label, v) for p, v in zip(months, values, strict=True)]})
        return {"kind": "line", "title": _("Monthly trend"), "categories": [_month_tick(p) for p in months],
                "axes": [indicators.INDICATORS[code].unit for code, _bar in TREND_CODES], "series": series}

    def rate_trend(self, months: list[Period], trends: dict) -> dict:
        """The rates over the last 12 of the same months."""
        months = months[-RATE_MONTHS:]
        series = []
        for code in TREND_RATE_CODES:
            indicator = indicators.INDICATORS[code]
            values = trends[code][-RATE_MONTHS:]
            series.append({"name": str(indicator.name), "bar": False, "axis": 0,
                           "points": [self.value_point(p.label, v) for p, v in zip(months, values, strict=True)]})
        return {"kind": "line", "title": _("Rates by month"), "categories": [_month_tick(p) for p in months],
                "axes": ["%"], "series": series}

    def ranking(self, children, by_child) -> dict:
        options = []
        for code in RANKING_CODES:
            indicator = indicators.INDICATORS[code]
            items = []
            for child in children:
                value = by_child.get(child.pk, {}).get(code)
                if value is None:
                    continue
                point = self.value_point(child.name, value, self._child_url(child, code))
                point["target"] = _format_target(value) if value.target is not None else ""
                point["met"] = value.target_met if value.target is not None else None
                # A figure the viewer may not see takes no place in the order (it would bound it).
                items.append((value.value if point["value"] is not None else None, point))
            # Best first (lowest first where lower is better); areas without a figure last.
            sign = 1 if indicator.higher_is_better is False else -1
            items = [point for raw, point in sorted(items, key=lambda row: (row[0] is None, sign * (row[0] or 0)))]
            options.append({"code": code, "name": str(indicator.name), "unit": indicator.unit, "items": items})
        return {"kind": "ranking", "title": _("Ranking"), "options": options}

    def _child_url(self, child, code) -> str:
        """The person list of one area below, with the indicator's own filter."""
        list_filter = indicators.INDICATORS[code].list_filter
        if not self.current or not self.links or list_filter is None:
            return ""
        return f"{reverse('persons:list')}?{urlencode({'area': child.code, **list_filter})}"

    def map(self, children, by_child) -> dict:
        indicator = indicators.INDICATORS[MAP_CODE]
        items = []
        for child in children:
            value = by_child.get(child.pk, {}).get(MAP_CODE)
            point = (self.value_point(child.name, value, self._child_url(child, MAP_CODE)) if value is not None
                     else {"name": child.name, "value": None, "label": "—", "url": ""})
            point["code"] = child.code
            items.append(point)
        geojson = shapes.feature_collection(children)
        spec = {"indicator": str(indicator.name), "unit": indicator.unit, "items": items}
        if geojson is not None:
            spec.update(kind="map", geojson=geojson, map_name=f"jurisdiction-{self.jurisdiction.code}")
        else:
            spec.update(kind="tiles", columns=min(TILE_COLUMNS, max(1, len(items))))
        return spec

    def breakdown(self, name: str, rows: list) -> dict:
        parameter = BREAKDOWN_FILTERS.get(name)
        items = [self.count_point(str(label), count,
                                  self.current_list_url(**{parameter: key}) if parameter else "")
                 | {"key": key, "colour": category_colour(name, key)}
                 for key, label, count in rows]
        kind = "bar" if name == "age" else "pie"
        titles = {"status": _("Control status"), "age": _("Age structure"), "substance": _("Substances"),
                  "risk": _("Risk levels")}
        return {"kind": kind, "title": str(titles[name]), "items": items,
                "suppressed": [item["name"] for item in items if item["value"] is None and item["label"] != "—"]}


def build(user, jurisdiction: Jurisdiction, period: Period, *, today=None) -> Dashboard:
    with rollups.one_reading():
        return Builder(user, jurisdiction, period, today=today).build()


def default_period(today: datetime.date | None = None) -> Period:
    return Period.containing(today or timezone.localdate(), MONTH)


def _format_target(value) -> str:
    unit = value.indicator.unit
    text = value.display_target()
    return text if value.indicator.is_rate else f"{text} {unit}".strip()


def _month_tick(period: Period) -> str:
    return f"{period.start.year % 100:02d}/{period.start.month:02d}"


def _level_plural(level: str) -> str:
    return {Level.COUNTY: _("Counties"), Level.TOWNSHIP: _("Townships"), Level.VILLAGE: _("Villages"),
            Level.CITY: _("Cities")}.get(level, "")


def visible_jurisdiction(user, code: str | None) -> Jurisdiction | None:
    """The jurisdiction a dashboard is asked for, if the viewer may see it and it is a level a
    dashboard is drawn for; the viewer's own when no code is given."""
    own = getattr(user, "jurisdiction", None)
    if not code:
        return own if own is not None and LEVEL_ORDER[own.level] <= LEVEL_ORDER[Level.TOWNSHIP] else None
    return (Jurisdiction.objects.visible_to(user).filter(Q(code=code), level__in=DASHBOARD_LEVELS).first())
