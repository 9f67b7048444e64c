import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.choices import UnitKind
from accounts.models import MemberUnit, User
from core.filtersets import YesNoFilter
from core.roles import Role


class UserFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    role = django_filters.ChoiceFilter(label=_("Role"), choices=Role.choices, field_name="role_grants__role")
    is_active = YesNoFilter(
        label=_("active"), widget=forms.Select(choices=[("", _("All")), ("true", _("yes")), ("false", _("no"))]))

    class Meta:
        model = User
        fields = ["q", "role", "is_active"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(username__icontains=value) | Q(full_name__contains=value))


class MemberUnitFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), field_name="name", lookup_expr="contains")
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=UnitKind.choices)

    class Meta:
        model = MemberUnit
        fields = ["q", "kind"]
