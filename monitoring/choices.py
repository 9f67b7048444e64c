from django.db import models
from django.utils.translation import gettext_lazy as _


class Comparison(models.TextChoices):
    """How a threshold (预警阈值) is crossed: by the value itself, or by its change against the
    same period last year (同比) or the period before (环比), in percent."""

    VALUE_ABOVE = "value_above", _("Value above")
    VALUE_BELOW = "value_below", _("Value below")
    YOY_ABOVE = "yoy_above", _("Year-on-year rise above (%)")
    YOY_BELOW = "yoy_below", _("Year-on-year fall beyond (%)")
    MOM_ABOVE = "mom_above", _("Period-on-period rise above (%)")
    MOM_BELOW = "mom_below", _("Period-on-period fall beyond (%)")


class AlertKind(models.TextChoices):
    FLAG = "flag", _("Open flag")
    OVERDUE = "overdue", _("Overdue check-ins")
    THRESHOLD = "threshold", _("Threshold crossed")
