import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jurisdictions.choices import Level
from jurisdictions.models import Jurisdiction


class JurisdictionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    level = django_filters.ChoiceFilter(label=_("Level"), choices=Level.choices)
    within = django_filters.CharFilter(label=_("Within (code)"), method="filter_within")

    class Meta:
        model = Jurisdiction
        fields = ["q", "level", "within"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__contains=value.strip()) | Q(code__startswith=value.strip()))

    def filter_within(self, queryset, name, value):
        # Match whole path segments: "990101/" alone would also match a village 420101990101.
        code = value.strip()
        return queryset.filter(Q(path__startswith=f"{code}/") | Q(path__contains=f"/{code}/"))
