"""What the office enters for the indicators (SPEC §3.7): population figures, yearly targets,
alert thresholds and a few settings per county. The indicators themselves are computed from
the records (monitoring.indicators), never stored here.

None of these is personal data: every business role in the area may read them (the leadership
too); only the office changes them, through monitoring.services. A target, a threshold and the
settings set for a jurisdiction apply below it unless a lower jurisdiction sets its own
(``services.target_for`` and ``services.settings_for`` walk up the path).
"""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel
from core.roles import ADMIN_ROLES, ALL_ROLES, Role
from core.scoping import ScopedManager
from monitoring.choices import Comparison

READER_ROLES = frozenset(ALL_ROLES - ADMIN_ROLES)

# Seed 004 (宁德市人大调研报告): "按显隐性1:5比例测算" — one registered user stands for five.
DEFAULT_HIDDEN_RATIO = Decimal("5")
# SPEC §3.1 and seed 004 (XX县执法检查报告): "超过30:1的比例配备标准"; some places use 20:1
# (seed 004, 常州: "社区戒毒康复人数与专职工作人员20:1的比例"), so it is a setting.
DEFAULT_STAFFING_STANDARD = 30


class PopulationFigure(BaseModel):
    """实有人口 of a jurisdiction in a year, entered by the office (for shares of population)."""

    jurisdiction = models.ForeignKey("jurisdictions.Jurisdiction", verbose_name=_("jurisdiction"),
                                     on_delete=models.PROTECT, related_name="population_figures")
    year = models.PositiveSmallIntegerField(_("year"))
    population = models.PositiveBigIntegerField(_("population"), validators=[MinValueValidator(1)])
    source = models.CharField(_("source"), max_length=200, blank=True)

    objects = ScopedManager()
    scope_path = "jurisdiction__path"
    scope_roles = READER_ROLES

    class Meta:
        ordering = ["jurisdiction__path", "-year"]
        verbose_name = _("population figure")
        verbose_name_plural = _("population figures")
        constraints = [models.UniqueConstraint(fields=["jurisdiction", "year"], name="unique_population_year")]

    def __str__(self):
        return f"{self.jurisdiction} {self.year}: {self.population}"


class Target(BaseModel):
    """A yearly target value of an indicator (目标值; seed 003: 80% → 90% → 100%), set once for a
    county and inherited below unless a township sets its own."""

    indicator = models.CharField(_("indicator"), max_length=60)
    jurisdiction = models.ForeignKey("jurisdictions.Jurisdiction", verbose_name=_("jurisdiction"),
                                     on_delete=models.PROTECT, related_name="indicator_targets")
    year = models.PositiveSmallIntegerField(_("year"))
    value = models.DecimalField(_("target value"), max_digits=14, decimal_places=2)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = ScopedManager()
    scope_path = "jurisdiction__path"
    scope_roles = READER_ROLES

    class Meta:
        ordering = ["indicator", "jurisdiction__path", "-year"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [models.UniqueConstraint(fields=["indicator", "jurisdiction", "year"],
                                               name="unique_indicator_target")]

    def __str__(self):
        return f"{self.indicator} {self.jurisdiction} {self.year}: {self.value}"


class Threshold(BaseModel):
    """An alert threshold (预警阈值): the alert centre lists the jurisdiction — and each of its
    direct children — whose indicator crosses it (e.g. newly found up more than 20% 同比)."""

    indicator = models.CharField(_("indicator"), max_length=60)
    jurisdiction = models.ForeignKey("jurisdictions.Jurisdiction", verbose_name=_("jurisdiction"),
                                     on_delete=models.PROTECT, related_name="indicator_thresholds")
    comparison = models.CharField(_("comparison"), max_length=20, choices=Comparison.choices)
    value = models.DecimalField(_("threshold"), max_digits=14, decimal_places=2)
    active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = ScopedManager()
    scope_path = "jurisdiction__path"
    scope_roles = READER_ROLES

    class Meta:
        ordering = ["jurisdiction__path", "indicator", "id"]
        verbose_name = _("threshold")
        verbose_name_plural = _("thresholds")
        constraints = [models.UniqueConstraint(fields=["indicator", "jurisdiction", "comparison"],
                                               name="unique_indicator_threshold")]

    def __str__(self):
        return f"{self.indicator} {self.get_comparison_display()} {self.value}"


class MonitoringSettings(BaseModel):
    """Per-county parameters of the indicators (the nearest ancestor's apply below it)."""

    jurisdiction = models.OneToOneField("jurisdictions.Jurisdiction", verbose_name=_("jurisdiction"),
                                        on_delete=models.CASCADE, related_name="monitoring_settings")
    hidden_ratio = models.DecimalField(_("hidden users per registered user"), max_digits=5, decimal_places=2,
                                       default=DEFAULT_HIDDEN_RATIO)
    staffing_standard = models.PositiveSmallIntegerField(_("persons under community measures per social worker"),
                                                         default=DEFAULT_STAFFING_STANDARD)

    objects = ScopedManager()
    scope_path = "jurisdiction__path"
    scope_roles = READER_ROLES

    class Meta:
        verbose_name = _("monitoring settings")
        verbose_name_plural = _("monitoring settings")

    def __str__(self):
        return f"{self.jurisdiction}"




# --- rollups (monitoring/rollups.py): the counts behind the indicators, per village ------------------


def _rollup_columns() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The count columns of the rollup tables: stocks (how many on a day) and flows (how many
    events in a period). Breakdown columns follow the choices they count."""
    from monitoring.indicators import AGE_BANDS
    from persons.choices import ControlStatus, LivingSituation, RiskLevel, Sex, Substance

    stocks = ["persons_registered", "persons_active", "persons_community", "persons_compulsory", "persons_unknown",
              "persons_abstinent", "persons_young", "persons_minor", "persons_synthetic", "persons_gridded",
              "persons_high_risk", "persons_executing", "persons_normal", "persons_released",
              "plan_overdue_items", "plan_overdue_persons", "flags_open", "flags_serious_breach"]
    stocks += [f"status_{s}" for s in ControlStatus.values
               if s not in (ControlStatus.DECEASED, ControlStatus.MOVED_OUT)]
    stocks += [f"age_{key}" for key, *_rest in AGE_BANDS]
    stocks += [f"substance_{s}" for s in Substance.values]
    stocks += [f"risk_{level}" for level in RiskLevel.values] + ["risk_none"]
    stocks += [f"sex_{s.lower()}" for s in Sex.values]
    stocks += [f"living_{s}" for s in LivingSituation.values] + ["living_none"]
    flows = ["persons_found", "persons_relapsed", "measures_decided", "measures_due", "measures_on_time",
             "plan_tests_due", "plan_tests_done"]
    return tuple(stocks), tuple(flows)


ROLLUP_STOCKS, ROLLUP_FLOWS = _rollup_columns()
ROLLUP_COLUMNS = ROLLUP_STOCKS + ROLLUP_FLOWS


class RollupState(models.Model):
    """Which months the rollups of one jurisdiction (the place persons are filed under) cover,
    and when they were last computed. A jurisdiction without this row is not rolled up: the
    indicators of any area containing it are computed from the records directly."""

    jurisdiction = models.OneToOneField("jurisdictions.Jurisdiction", on_delete=models.CASCADE, primary_key=True,
                                        related_name="rollup_state")
    county_code = models.CharField(max_length=6, blank=True)
    first_month = models.DateField()  # month balances and month totals from this month on
    daily_from = models.DateField()  # day rows from the first day of this month on
    last_month = models.DateField()  # up to the last day of this month
    computed_at = models.DateTimeField()
    # Set in the transaction of a change to the village's files; cleared by the recomputation
    # that follows the commit (or by the next read of an area containing it).
    dirty = models.BooleanField(default=False, db_index=True)

    def __str__(self):
        return f"rollups of {self.jurisdiction_id}: {self.first_month}..{self.last_month}"


class RollupMonth(models.Model):
    """One jurisdiction, one month: each stock column holds the count on the day before the
    month starts (so the count on a month's last day is the next month's row); each flow column
    the events of the month's cohort that happened by the month's end."""

    jurisdiction = models.ForeignKey("jurisdictions.Jurisdiction", on_delete=models.CASCADE, related_name="+")
    county_code = models.CharField(max_length=6, blank=True)
    month = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "jurisdiction"], name="unique_rollup_month")]

    def __str__(self):
        return f"rollup {self.jurisdiction_id} {self.month}"


class RollupDay(models.Model):
    """One jurisdiction, one day, one cohort month: stock columns hold the day's change (on rows
    whose cohort is the day's month), flow columns the events of the cohort (a flow's cohort is
    the month of the date that places it in a period: found, decided, due); ``late`` rows are
    events after the end of their cohort's month (a test done late)."""

    jurisdiction = models.ForeignKey("jurisdictions.Jurisdiction", on_delete=models.CASCADE, related_name="+")
    county_code = models.CharField(max_length=6, blank=True)
    day = models.DateField()
    cohort = models.DateField()
    late = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["cohort", "day"], name="rollup_day_cohort")]

    def __str__(self):
        return f"rollup {self.jurisdiction_id} {self.day} ({self.cohort})"


for _column in ROLLUP_COLUMNS:
    RollupMonth.add_to_class(_column, models.IntegerField(default=0))
    RollupDay.add_to_class(_column, models.IntegerField(default=0))


# dashboards: jurisdiction outlines for the map (monitoring/shapes.py)
from monitoring.shapes import JurisdictionShape  # noqa: E402, F401


class AlertAssignment(BaseModel):
    """督办: the office hands what the alert centre shows for a township (its open flags, missed
    check-ins, a threshold crossed) to that township with a due date, and follows it: the
    township answers what it did, the office closes it (monitoring.supervision). Whether it is
    overdue is read from the due date (monitoring.rules.assignment_state), not stored."""

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for the township")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    class Kind(models.TextChoices):
        FLAGS = "flags", _("Open flags")
        OVERDUE = "overdue", _("Missed check-ins")
        THRESHOLD = "threshold", _("Threshold crossed")

    jurisdiction = models.ForeignKey("jurisdictions.Jurisdiction", verbose_name=_("township"),
                                     on_delete=models.PROTECT, related_name="alert_assignments")
    kind = models.CharField(_("kind of alert"), max_length=20, choices=Kind.choices)
    request = models.CharField(_("what the township is asked to do"), max_length=500)
    due_on = models.DateField(_("due on"))
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.OPEN)
    assigned_by = models.ForeignKey("accounts.User", verbose_name=_("assigned by"), on_delete=models.PROTECT,
                                    related_name="+", null=True, blank=True)
    answer = models.CharField(_("answer"), max_length=1000, blank=True)
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    objects = ScopedManager()
    scope_path = "jurisdiction__path"
    scope_roles = frozenset({Role.OFFICE, Role.TOWNSHIP})

    class Meta:
        ordering = ["state", "due_on", "id"]
        verbose_name = _("alert assignment")
        verbose_name_plural = _("alert assignments")

    def __str__(self):
        return f"{self.jurisdiction} {self.get_kind_display()} {self.due_on}"
