from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from monitoring.periods import Period, check_day


class IndicatorSerializer(serializers.Serializer):
    """An indicator of the library: its definition (统计口径) and where it applies."""

    code = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    definition = serializers.CharField()
    source = serializers.CharField()
    levels = serializers.ListField(child=serializers.CharField())
    higher_is_better = serializers.BooleanField(allow_null=True)
    category = serializers.CharField()

    def to_representation(self, indicator):
        return {"code": indicator.code, "name": str(indicator.name), "unit": indicator.unit,
                "definition": indicator.definition, "source": indicator.source,
                "levels": sorted(indicator.levels), "higher_is_better": indicator.higher_is_better,
                "category": indicator.category}


class IndicatorValueSerializer(serializers.Serializer):
    """One indicator's value for a jurisdiction and period (monitoring.indicators.Value.as_dict).
    For viewers without personal-data rights counts of 1–4 are null and shown as "<5", and
    numerators and denominators are left out."""

    code = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    period = serializers.CharField()
    jurisdiction = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    display = serializers.CharField()
    numerator = serializers.IntegerField(allow_null=True)
    denominator = serializers.IntegerField(allow_null=True)
    previous_year = serializers.FloatField(allow_null=True)
    previous_period = serializers.FloatField(allow_null=True)
    yoy = serializers.FloatField(allow_null=True, help_text="同比, percent change")
    mom = serializers.FloatField(allow_null=True, help_text="环比, percent change")
    yoy_points = serializers.FloatField(allow_null=True, help_text="同比 in percentage points (rates)")
    mom_points = serializers.FloatField(allow_null=True, help_text="环比 in percentage points (rates)")
    target = serializers.FloatField(allow_null=True)
    target_met = serializers.BooleanField(allow_null=True)
    as_of = serializers.DateField(allow_null=True)

    def to_representation(self, value):
        return value


class TrueOrFalseField(serializers.BooleanField):
    """``true`` or ``false``, nothing else (DRF's own also reads 1, yes, on…, which the schema's
    boolean does not say)."""

    default_error_messages = {"invalid": gettext_lazy("Choose yes (true) or no (false).")}

    def to_internal_value(self, data):
        if data in ("true", True):
            return True
        if data in ("false", False):
            return False
        self.fail("invalid", input=data)


class IndicatorValuesQuerySerializer(serializers.Serializer):
    jurisdiction = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                         help_text="jurisdiction code; default: the user's own")
    period = serializers.CharField(required=False, help_text="2024-06, 2024-Q2, 2024 or 2024-01-01..2024-03-31; "
                                                             "default: this month")
    codes = serializers.CharField(required=False, help_text="comma-separated indicator codes; default: all that "
                                                            "apply at the jurisdiction's level")
    as_of = serializers.DateField(required=False, help_text="read the figures as they stood on this day")
    children = TrueOrFalseField(required=False, default=False,
                                        help_text="one set of values per direct child jurisdiction")

    def validate_period(self, text):
        """The period read (monitoring.periods.Period), refused with its message when it is not
        one or lies outside the years that can be reported."""
        try:
            return Period.parse(text)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None

    def validate_as_of(self, day):
        try:
            return check_day(day)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None

    def validate_codes(self, text):
        from monitoring import indicators

        codes = [code.strip() for code in text.split(",") if code.strip()]
        unknown = [code for code in codes if code not in indicators.INDICATORS]
        if unknown:
            raise serializers.ValidationError(_("Unknown indicators: %(codes)s.") % {"codes": "，".join(unknown)})
        return codes
