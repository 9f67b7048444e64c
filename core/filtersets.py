import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from core import audit_display
from core.models import AuditEntry, BreakGlassGrant

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


class YesNoField(forms.NullBooleanField):
    """``true``, ``false`` or empty (no criterion), as the yes/no selects send them; anything
    else is refused instead of being read as "no criterion" (``?flagged=-1`` listed everyone)."""

    default_error_messages = {"invalid": _("Choose yes (true) or no (false).")}

    def to_python(self, value):
        if value in (True, False, None, ""):
            return None if value == "" else value
        if value in ("true", "false"):
            return value == "true"
        raise ValidationError(self.error_messages["invalid"], code="invalid")

    def validate(self, value):
        pass


@extend_schema_field({"type": "string", "enum": ["", "true", "false"]})
class YesNoFilter(django_filters.BooleanFilter):
    field_class = YesNoField


class AuditEntryFilterSet(django_filters.FilterSet):
    user = django_filters.CharFilter(label=_("user"), field_name="actor_username", lookup_expr="icontains")
    action = django_filters.ChoiceFilter(label=_("action"), choices=AuditEntry.Action.choices)
    object_type = django_filters.ChoiceFilter(label=_("object type"), choices=audit_display.object_type_choices)
    object = django_filters.CharFilter(label=_("object"), method="filter_object")
    since = django_filters.DateFilter(label=_("from"), field_name="at", lookup_expr="date__gte",
                                      widget=DATE_INPUT)
    until = django_filters.DateFilter(label=_("to"), field_name="at", lookup_expr="date__lte",
                                      widget=DATE_INPUT)

    class Meta:
        model = AuditEntry
        fields = ["user", "action", "object_type", "object", "since", "until"]

    def filter_object(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(object_id=value) | queryset.filter(object_repr__icontains=value)


class BreakGlassGrantFilterSet(django_filters.FilterSet):
    user = django_filters.CharFilter(label=_("user"), field_name="user__username", lookup_expr="icontains")
    since = django_filters.DateFilter(label=_("from"), field_name="granted_at", lookup_expr="date__gte",
                                      widget=DATE_INPUT)
    day = django_filters.DateFilter(label=_("day"), field_name="granted_at", lookup_expr="date", widget=DATE_INPUT)

    class Meta:
        model = BreakGlassGrant
        fields = ["user", "since", "day"]
