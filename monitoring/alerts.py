"""The alert centre (预警中心, SPEC §3.7): open rule flags, overdue check-ins and indicators that
crossed a threshold, per jurisdiction, each with its owner and its age in days.

Counts per area come from aggregate queries over the user's area (names of places are not
personal data); lines naming a person come only through ``visible_to(user)`` and only for roles
with personal-data rights. The leadership sees the counts, with 1 to 4 shown as "<5".

Contract::

    alert_centre(user, *, today=None, period=None) -> AlertCentre
        .areas: list[AreaAlerts]            one per direct child of the user's jurisdiction with
                                            something open (and the jurisdiction itself for its own)
        .flags, .overdue: list of rows      personal lines (empty for roles without the right)
        .breaches: list[Breach]             thresholds crossed in the period (default: this month)
        .break_glass: list[BreakGlassGrant] for the office: break-glass accesses taken in its area
                                            in the last 24 hours (core.services.break_glass_for_office)
    threshold_breaches(thresholds, period, *, as_of=None, within=None) -> list[Breach]
    crossed(comparison, limit, value) -> bool      the threshold rule as a pure function
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Min
from django.db.models.functions import Substr
from django.utils import timezone

from core.roles import has_any_role
from monitoring import indicators as ind
from monitoring.choices import Comparison
from monitoring.models import Threshold
from monitoring.periods import Period
from monitoring.supervision import state_of

PERSONAL_ROWS = 50  # lines per page of a section (the flags, the missed check-ins)


def crossed(comparison: str, limit: Decimal, value: ind.Value) -> bool:
    """Whether ``value`` crosses a threshold: the value above/below the limit, or its 同比/环比
    change in percent rising above +limit or falling beyond −limit."""
    limit = Decimal(limit)
    if comparison == Comparison.VALUE_ABOVE:
        return value.value is not None and Decimal(value.value) > limit
    if comparison == Comparison.VALUE_BELOW:
        return value.value is not None and Decimal(value.value) < limit
    change = value.yoy if comparison in (Comparison.YOY_ABOVE, Comparison.YOY_BELOW) else value.mom
    if change is None:
        return False
    if comparison in (Comparison.YOY_ABOVE, Comparison.MOM_ABOVE):
        return change > limit
    return change < -limit


@dataclass
class Breach:
    threshold: Threshold
    jurisdiction: object
    value: ind.Value

    @property
    def indicator(self):
        return self.value.indicator


@dataclass
class AreaAlerts:
    jurisdiction: object
    open_flags: int = 0
    oldest_flag_days: int | None = None
    overdue_items: int = 0
    overdue_persons: int = 0
    oldest_overdue_days: int | None = None
    breaches: list = field(default_factory=list)


@dataclass
class AlertCentre:
    jurisdiction: object
    today: datetime.date
    period: Period
    personal: bool
    areas: list[AreaAlerts]
    flags: list
    flags_total: int
    overdue: list
    overdue_total: int
    breaches: list[Breach]
    break_glass: list = field(default_factory=list)
    flags_page: object = None  # django.core.paginator.Page of the flag lines
    overdue_page: object = None
    assignments: list = field(default_factory=list)  # 督办 (monitoring.supervision), with their state
    assignments_page: object = None

    def totals(self) -> AreaAlerts:
        """The whole area: the sums of the rows (an area's own row and its children's)."""
        total = AreaAlerts(jurisdiction=self.jurisdiction)
        for area in self.areas:
            total.open_flags += area.open_flags
            total.overdue_items += area.overdue_items
            total.overdue_persons += area.overdue_persons
            for name in ("oldest_flag_days", "oldest_overdue_days"):
                value, best = getattr(area, name), getattr(total, name)
                if value is not None and (best is None or value > best):
                    setattr(total, name, value)
        total.breaches = list(self.breaches)
        return total


def _children_paths(jurisdiction):
    from jurisdictions.models import Jurisdiction

    return list(Jurisdiction.objects.filter(parent=jurisdiction).order_by("path"))


def _by_area(queryset, path_field: str, jurisdiction, children, date_field: str, extra=None):
    """{area path: (count, oldest date, extra)} grouped by the child whose subtree holds the row;
    rows placed on the jurisdiction itself count under its own path. One query per path length."""
    result = {}
    lengths = sorted({len(c.path) for c in children})
    child_paths = {c.path for c in children}
    aggregates = {"n": Count("pk"), "oldest": Min(date_field)} | (extra or {})
    base = queryset.filter(**{f"{path_field}__startswith": jurisdiction.path})
    for length in lengths:
        rows = (base.annotate(g=Substr(path_field, 1, length)).order_by().values("g").annotate(**aggregates))
        for row in rows:
            if row["g"] in child_paths:
                result[row["g"]] = row
    own = base.filter(**{path_field: jurisdiction.path}).order_by().aggregate(**aggregates)
    if own["n"]:
        result[jurisdiction.path] = own
    return result


def threshold_breaches(thresholds, period: Period, *, as_of: datetime.date | None = None, within=None) -> list[Breach]:
    """Each threshold checked on its jurisdiction and each of its direct children; ``within`` (a
    jurisdiction) keeps the places inside it. Queries grow with the number of thresholds only."""
    from jurisdictions.models import Jurisdiction

    breaches = []
    for threshold in thresholds:
        place = threshold.jurisdiction
        codes = [threshold.indicator]
        if threshold.indicator not in ind.INDICATORS:
            continue
        candidates = [(place, ind.evaluate(codes, place, period, as_of=as_of)[threshold.indicator])]
        children = ind.evaluate_children(codes, place, period, as_of=as_of, compare=True)
        if children:
            nodes = {j.pk: j for j in Jurisdiction.objects.filter(pk__in=children)}
            candidates += [(nodes[pk], values[threshold.indicator]) for pk, values in children.items()]
        for node, value in candidates:
            if within is not None and not node.path.startswith(within.path):
                continue
            if crossed(threshold.comparison, threshold.value, value):
                breaches.append(Breach(threshold, node, value))
    return breaches


def applicable_thresholds(jurisdiction):
    """Active thresholds set for the jurisdiction, its ancestors (they watch it and its
    neighbours) or inside its area."""
    codes = jurisdiction.path.strip("/").split("/")
    from django.db.models import Q

    return (Threshold.objects.filter(active=True)
            .filter(Q(jurisdiction__code__in=codes) | Q(jurisdiction__path__startswith=jurisdiction.path))
            .select_related("jurisdiction").order_by("jurisdiction__path", "indicator"))


def _page(queryset, number):
    from django.core.paginator import Paginator

    return Paginator(queryset, PERSONAL_ROWS).get_page(number)


def alert_centre(user, *, today: datetime.date | None = None, period: Period | None = None,
                 flags_page=1, overdue_page=1, assignments_page=1) -> AlertCentre:
    from persons import queries
    from persons.models import Flag, PlannedCheckIn

    today = today or timezone.localdate()
    period = period or Period.containing(today)
    jurisdiction = user.jurisdiction
    children = _children_paths(jurisdiction)
    open_flags = Flag.objects.filter(state="open")
    overdue = queries.open_planned().filter(due_on__lt=today, missed_reason="")  # explained ones are done with
    flag_counts = _by_area(open_flags, "person__jurisdiction__path", jurisdiction, children, "raised_on")
    overdue_counts = _by_area(overdue, "person__jurisdiction__path", jurisdiction, children, "due_on",
                              {"persons": Count("person", distinct=True)})
    breaches = threshold_breaches(applicable_thresholds(jurisdiction), period, as_of=today, within=jurisdiction)
    areas = []
    for node in [jurisdiction, *children]:
        flags_row = flag_counts.get(node.path)
        overdue_row = overdue_counts.get(node.path)
        node_breaches = [b for b in breaches if b.jurisdiction.path == node.path or (
            node is not jurisdiction and b.jurisdiction.path.startswith(node.path))]
        if not (flags_row or overdue_row or node_breaches):
            continue
        areas.append(AreaAlerts(
            jurisdiction=node,
            open_flags=flags_row["n"] if flags_row else 0,
            oldest_flag_days=(today - flags_row["oldest"]).days if flags_row else None,
            overdue_items=overdue_row["n"] if overdue_row else 0,
            overdue_persons=overdue_row["persons"] if overdue_row else 0,
            oldest_overdue_days=(today - overdue_row["oldest"]).days if overdue_row else None,
            breaches=node_breaches,
        ))
    # The lines name persons by their flags and missed check-ins: for the roles that read files
    # (not a member unit, which sees the persons of its support tasks only, and not their flags).
    personal = has_any_role(user, Flag.scope_roles)
    flags, flags_total, overdue_rows, overdue_total = [], 0, [], 0
    pages = {}
    if personal:
        visible_flags = (Flag.objects.visible_to(user).filter(state="open")
                         .select_related("person", "person__jurisdiction", "person__jurisdiction__parent",
                                         "person__assigned_worker")
                         .order_by("raised_on", "pk"))
        pages["flags_page"] = _page(visible_flags, flags_page)
        flags_total = pages["flags_page"].paginator.count
        flags = [_row(flag.person, flag.raised_on, today, flag=flag) for flag in pages["flags_page"]]
        visible_overdue = (PlannedCheckIn.objects.visible_to(user)
                           .filter(pk__in=overdue.values("pk"))
                           .select_related("person", "person__jurisdiction", "person__jurisdiction__parent",
                                           "person__assigned_worker")
                           .order_by("due_on", "pk"))
        pages["overdue_page"] = _page(visible_overdue, overdue_page)
        overdue_total = pages["overdue_page"].paginator.count
        overdue_rows = [_row(item.person, item.due_on, today, item=item) for item in pages["overdue_page"]]
    from core.services import break_glass_for_office

    return AlertCentre(jurisdiction=jurisdiction, today=today, period=period, personal=personal, areas=areas,
                       flags=flags, flags_total=flags_total, overdue=overdue_rows, overdue_total=overdue_total,
                       breaches=breaches, break_glass=list(break_glass_for_office(user)[:PERSONAL_ROWS]),
                       assignments_page=(page := _assignments(user, assignments_page)),
                       assignments=[{"assignment": a, "state": state_of(a, today)} for a in page], **pages)


def _assignments(user, number):
    """One page of the 督办 the user may see: open ones first, by due date."""
    from monitoring.models import AlertAssignment

    return _page(AlertAssignment.objects.visible_to(user).select_related("jurisdiction", "assigned_by")
                 .order_by("state", "due_on", "pk"), number)


def owner_of(person) -> str:
    """Who answers for a person's open items: the assigned social worker, else the township."""
    worker = person.assigned_worker
    if worker is not None:
        return worker.full_name or worker.username
    place = person.jurisdiction
    from jurisdictions.choices import Level

    if place.level != Level.TOWNSHIP and place.parent is not None:
        place = place.parent
    return place.name


def _row(person, since: datetime.date, today: datetime.date, **extra) -> dict:
    return {"person": person, "since": since, "age_days": (today - since).days, "owner": owner_of(person),
            "place": person.jurisdiction.name} | extra
