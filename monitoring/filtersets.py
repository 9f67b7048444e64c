import django_filters
from django.utils.translation import gettext_lazy as _

from monitoring.models import PopulationFigure, Threshold


class PopulationFigureFilterSet(django_filters.FilterSet):
    year = django_filters.NumberFilter(label=_("year"))

    class Meta:
        model = PopulationFigure
        fields = ["year"]


class ThresholdFilterSet(django_filters.FilterSet):
    indicator = django_filters.ChoiceFilter(label=_("indicator"), choices=[], empty_label=_("All"))

    class Meta:
        model = Threshold
        fields = ["indicator"]

    def __init__(self, *args, **kwargs):
        from monitoring.forms import indicator_choices

        super().__init__(*args, **kwargs)
        self.filters["indicator"].extra["choices"] = indicator_choices()
