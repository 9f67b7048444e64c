"""Every change to what the office enters for the indicators goes through these functions; each
validates, saves (``save_versioned`` for edits) and writes its own audit entry (STYLE: Zulip).
The read helpers below walk up the jurisdiction path: a value set for a county applies to its
townships and villages unless one of them sets its own.

Contract::

    target_for(code, jurisdiction, year) -> Decimal | None     nearest ancestor-or-self target
    targets_for(codes, nodes, year) -> {(code, node.path): Decimal}   (one query)
    settings_for(jurisdiction) -> Settings(hidden_ratio, staffing_standard, jurisdiction_set_at)
    population_for(jurisdiction, year) -> int | None            the latest figure up to that year
    do_set_target(code, jurisdiction, year, value, *, acting_user, note="", expected_version=None)
    do_clear_target(target, *, acting_user)
    do_set_population(jurisdiction, year, population, *, acting_user, source="", expected_version=None)
    do_set_threshold(code, jurisdiction, comparison, value, *, acting_user, active=True, note="",
                     expected_version=None)
    do_delete_threshold(threshold, *, acting_user)
    do_set_monitoring_settings(jurisdiction, *, acting_user, hidden_ratio, staffing_standard,
                               expected_version=None)
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core import audit
from core.models import AuditEntry
from core.roles import Role, has_any_role
from core.services import save_versioned
from monitoring.choices import Comparison
from monitoring.models import (
    DEFAULT_HIDDEN_RATIO,
    DEFAULT_STAFFING_STANDARD,
    MonitoringSettings,
    PopulationFigure,
    Target,
    Threshold,
)

EDITOR_ROLES = frozenset({Role.OFFICE})
MIN_YEAR, MAX_YEAR = 2000, 2100


class NotAllowed(PermissionError):
    pass


# --- reading -------------------------------------------------------------------------------------


def _codes_up(jurisdiction) -> list[str]:
    """The codes of the jurisdiction and its ancestors, root first."""
    return jurisdiction.path.strip("/").split("/")


def target_for(code: str, jurisdiction, year: int) -> Decimal | None:
    """The target of ``code`` for ``jurisdiction`` in ``year``: its own, or the nearest
    ancestor's (a county's target is inherited by its townships and villages)."""
    return targets_for([code], [jurisdiction], year).get((code, jurisdiction.path))


def targets_for(codes, nodes, year: int) -> dict[tuple[str, str], Decimal]:
    """{(code, node path): target} for every node that has one (own or inherited); one query."""
    wanted = {code for node in nodes for code in _codes_up(node)}
    rows = (Target.objects.filter(indicator__in=list(codes), year=year, jurisdiction__code__in=wanted)
            .values_list("indicator", "jurisdiction__path", "value"))
    by_path: dict[str, dict[str, Decimal]] = {}
    for code, path, value in rows:
        by_path.setdefault(path, {})[code] = value
    result = {}
    for node in nodes:
        for code in codes:
            for path in _ancestor_paths(node):  # deepest first
                if code in by_path.get(path, {}):
                    result[(code, node.path)] = by_path[path][code]
                    break
    return result


def inherited_target(code: str, jurisdiction, year: int) -> tuple[Decimal | None, object | None]:
    """(value, the jurisdiction that set it) from the ancestors only, for the entry page."""
    parent_paths = _ancestor_paths(jurisdiction)[1:]
    target = (Target.objects.filter(indicator=code, year=year, jurisdiction__path__in=parent_paths)
              .select_related("jurisdiction").order_by("-jurisdiction__depth").first())
    return (target.value, target.jurisdiction) if target else (None, None)


def _ancestor_paths(node) -> list[str]:
    """The node's path and its ancestors' paths, deepest first."""
    codes = _codes_up(node)
    return ["/".join(codes[: i + 1]) + "/" for i in range(len(codes) - 1, -1, -1)]


@dataclass(frozen=True)
class Settings:
    hidden_ratio: Decimal
    staffing_standard: int
    set_at: object | None  # the jurisdiction whose settings apply; None for the defaults


def settings_for(jurisdiction) -> Settings:
    return _settings_map([jurisdiction])[jurisdiction.path]


def _settings_map(nodes) -> dict[str, Settings]:
    paths = {p for node in nodes for p in _ancestor_paths(node)}
    rows = {s.jurisdiction.path: s for s in
            MonitoringSettings.objects.filter(jurisdiction__path__in=paths).select_related("jurisdiction")}
    result = {}
    for node in nodes:
        for path in _ancestor_paths(node):
            if path in rows:
                row = rows[path]
                result[node.path] = Settings(row.hidden_ratio, row.staffing_standard, row.jurisdiction)
                break
        else:
            result[node.path] = Settings(DEFAULT_HIDDEN_RATIO, DEFAULT_STAFFING_STANDARD, None)
    return result


def population_for(jurisdiction, year: int) -> int | None:
    return _population_map([jurisdiction], year).get(jurisdiction.path)


def _population_map(nodes, year: int) -> dict[str, int]:
    """The latest figure entered for each node up to ``year`` (population changes slowly; a
    missing year uses the one before)."""
    rows = (PopulationFigure.objects.filter(jurisdiction__in=[n.pk for n in nodes], year__lte=year)
            .order_by("jurisdiction_id", "-year").values_list("jurisdiction__path", "population"))
    result: dict[str, int] = {}
    for path, population in rows:
        result.setdefault(path, population)
    return result


def places_for(nodes, year: int) -> dict:
    """monitoring.indicators.Place for each node (by path): settings and population, two queries."""
    from monitoring.indicators import Place

    settings = _settings_map(nodes)
    population = _population_map(nodes, year)
    return {node.path: Place(node.path, settings[node.path].hidden_ratio, settings[node.path].staffing_standard,
                             population.get(node.path)) for node in nodes}


# --- checks ------------------------------------------------------------------------------------------


def _require_office(acting_user, jurisdiction):
    if acting_user is None:
        return  # the command-line operator
    if not has_any_role(acting_user, EDITOR_ROLES):
        raise NotAllowed(_("Only the drug-control office sets targets, population figures, thresholds and "
                           "monitoring settings."))
    from jurisdictions.models import Jurisdiction

    if not Jurisdiction.objects.visible_to(acting_user).filter(pk=jurisdiction.pk).exists():
        raise NotAllowed(_("%(name)s is outside your area.") % {"name": jurisdiction.name})


def _indicator(code: str):
    from monitoring.indicators import INDICATORS

    if code not in INDICATORS:
        raise ValidationError({"indicator": _("Unknown indicator “%(code)s”.") % {"code": code}})
    return INDICATORS[code]


def _year(year) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": _("Enter a year such as 2024.")}) from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError({"year": _("The year must be between %(low)s and %(high)s.")
                               % {"low": MIN_YEAR, "high": MAX_YEAR}})
    return year


def _decimal(value, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({field: _("Enter a number.")}) from None
    if not number.is_finite():
        raise ValidationError({field: _("Enter a number.")})
    if abs(number) >= Decimal("1e12"):
        raise ValidationError({field: _("The number is too large.")})
    return number.quantize(Decimal("0.01"))


def _check_target_value(indicator, value: Decimal):
    if value < 0:
        raise ValidationError({"value": _("A target cannot be negative.")})
    if indicator.unit == "%" and value > 100:
        raise ValidationError({"value": _("A rate cannot exceed 100%.")})
    if indicator.unit in ("人", "人次", "项", "名", "个", "起") and value != value.to_integral_value():
        raise ValidationError({"value": _("A count target is a whole number.")})


def _save(instance, created: bool, expected_version, fields: list[str]):
    if created:
        instance.save()
    else:
        save_versioned(instance, expected_version, fields)


# --- targets ---------------------------------------------------------------------------------------


@transaction.atomic
def do_set_target(code: str, jurisdiction, year, value, *, acting_user, note: str = "",
                  expected_version: int | None = None) -> Target:
    """Set the yearly target of an indicator for a jurisdiction (inherited below it)."""
    _require_office(acting_user, jurisdiction)
    indicator = _indicator(code)
    year = _year(year)
    value = _decimal(value, "value")
    _check_target_value(indicator, value)
    if indicator.higher_is_better is None:
        raise ValidationError({"indicator": _("“%(name)s” has no better direction, so it takes no target.")
                               % {"name": indicator.name}})
    target = Target.objects.select_for_update().filter(indicator=code, jurisdiction=jurisdiction, year=year).first()
    created = target is None
    before = {} if created else {"value": target.value, "note": target.note}
    if created:
        target = Target(indicator=code, jurisdiction=jurisdiction, year=year)
    target.value, target.note = value, note
    _save(target, created, expected_version, ["value", "note"])
    changes = audit.diff(before, {"value": value, "note": note})
    if changes:
        audit.record(AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE, actor=acting_user,
                     obj=target, changes=changes | {"indicator": code, "year": year})
    return target


@transaction.atomic
def do_clear_target(target: Target, *, acting_user) -> None:
    """Remove a jurisdiction's own target: the inherited one applies again."""
    _require_office(acting_user, target.jurisdiction)
    audit.record(AuditEntry.Action.DELETE, actor=acting_user, obj=target,
                 changes={"indicator": target.indicator, "year": target.year, "value": target.value})
    target.delete()


# --- population ------------------------------------------------------------------------------------


@transaction.atomic
def do_set_population(jurisdiction, year, population, *, acting_user, source: str = "",
                      expected_version: int | None = None) -> PopulationFigure:
    _require_office(acting_user, jurisdiction)
    year = _year(year)
    try:
        population = int(population)
    except (TypeError, ValueError):
        raise ValidationError({"population": _("Enter the population as a whole number.")}) from None
    if population < 1:
        raise ValidationError({"population": _("The population must be at least 1.")})
    figure = PopulationFigure.objects.select_for_update().filter(jurisdiction=jurisdiction, year=year).first()
    created = figure is None
    before = {} if created else {"population": figure.population, "source": figure.source}
    if created:
        figure = PopulationFigure(jurisdiction=jurisdiction, year=year)
    figure.population, figure.source = population, source
    _save(figure, created, expected_version, ["population", "source"])
    changes = audit.diff(before, {"population": population, "source": source})
    if changes:
        audit.record(AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE, actor=acting_user,
                     obj=figure, changes=changes | {"year": year})
    return figure


# --- thresholds ------------------------------------------------------------------------------------


@transaction.atomic
def do_set_threshold(code: str, jurisdiction, comparison: str, value, *, acting_user, active: bool = True,
                     note: str = "", expected_version: int | None = None) -> Threshold:
    """An alert threshold on an indicator for a jurisdiction and its direct children (e.g. newly
    found rising more than 20% 同比)."""
    _require_office(acting_user, jurisdiction)
    _indicator(code)
    if comparison not in Comparison.values:
        raise ValidationError({"comparison": _("Unknown comparison.")})
    value = _decimal(value, "value")
    if comparison in (Comparison.YOY_BELOW, Comparison.MOM_BELOW, Comparison.YOY_ABOVE, Comparison.MOM_ABOVE) \
            and value < 0:
        raise ValidationError({"value": _("Give the change as a positive percentage; the comparison says "
                                          "whether it is a rise or a fall.")})
    threshold = (Threshold.objects.select_for_update()
                 .filter(indicator=code, jurisdiction=jurisdiction, comparison=comparison).first())
    created = threshold is None
    before = {} if created else {"value": threshold.value, "active": threshold.active, "note": threshold.note}
    if created:
        threshold = Threshold(indicator=code, jurisdiction=jurisdiction, comparison=comparison)
    threshold.value, threshold.active, threshold.note = value, active, note
    _save(threshold, created, expected_version, ["value", "active", "note"])
    changes = audit.diff(before, {"value": value, "active": active, "note": note})
    if changes:
        audit.record(AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE, actor=acting_user,
                     obj=threshold, changes=changes | {"indicator": code, "comparison": comparison})
    return threshold


@transaction.atomic
def do_delete_threshold(threshold: Threshold, *, acting_user) -> None:
    _require_office(acting_user, threshold.jurisdiction)
    audit.record(AuditEntry.Action.DELETE, actor=acting_user, obj=threshold,
                 changes={"indicator": threshold.indicator, "comparison": threshold.comparison,
                          "value": threshold.value})
    threshold.delete()


# --- settings --------------------------------------------------------------------------------------


@transaction.atomic
def do_set_monitoring_settings(jurisdiction, *, acting_user, hidden_ratio, staffing_standard,
                               expected_version: int | None = None) -> MonitoringSettings:
    """The visible-to-hidden ratio (default 1:5, seed 004) and the staffing standard (default 30
    persons per social worker, SPEC §3.1) for a county and below."""
    _require_office(acting_user, jurisdiction)
    errors = {}
    hidden_ratio = _decimal(hidden_ratio, "hidden_ratio")
    if not Decimal("0.5") <= hidden_ratio <= Decimal("50"):
        errors["hidden_ratio"] = _("The ratio must be between 1:0.5 and 1:50.")
    try:
        staffing_standard = int(staffing_standard)
    except (TypeError, ValueError):
        staffing_standard = 0
    if not 1 <= staffing_standard <= 200:
        errors["staffing_standard"] = _("The standard must be between 1 and 200 persons per social worker.")
    if errors:
        raise ValidationError(errors)
    settings = MonitoringSettings.objects.select_for_update().filter(jurisdiction=jurisdiction).first()
    created = settings is None
    before = {} if created else {"hidden_ratio": settings.hidden_ratio,
                                 "staffing_standard": settings.staffing_standard}
    if created:
        settings = MonitoringSettings(jurisdiction=jurisdiction)
    settings.hidden_ratio, settings.staffing_standard = hidden_ratio, staffing_standard
    _save(settings, created, expected_version, ["hidden_ratio", "staffing_standard"])
    changes = audit.diff(before, {"hidden_ratio": hidden_ratio, "staffing_standard": staffing_standard})
    if changes:
        audit.record(AuditEntry.Action.POLICY, actor=acting_user, obj=settings, changes=changes)
    return settings


def today() -> datetime.date:
    from django.utils import timezone

    return timezone.localdate()
