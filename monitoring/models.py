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
from core.roles import ADMIN_ROLES, ALL_ROLES
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


# dashboards: jurisdiction outlines for the map (monitoring/shapes.py)
from monitoring.shapes import JurisdictionShape  # noqa: E402, F401
