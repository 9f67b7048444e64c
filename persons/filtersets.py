import re

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import blind_lookup
from core.filtersets import YesNoFilter
from core.widgets import PickerSelect, Select
from jurisdictions.models import Jurisdiction
from persons import queries, rules
from persons.choices import ControlStatus, RiskLevel, Substance, SupportTaskState
from persons.forms import IdNumberField
from persons.models import Person, PersonSubstance, SupportTask

LATIN = re.compile(r"^[A-Za-z]+$")
# What /api/persons/ accepts (PersonApiFilterSet): 18 characters (17 digits and a digit or X) or
# a first-generation 15-digit number; a jurisdiction code (at most 20 characters).
ID_NUMBER_PATTERN = r"^([0-9]{17}[0-9Xx]|[0-9]{15})$"
AREA_PATTERN = r"^[^\x00]{1,20}$"
YES_NO = [("", _("All")), ("true", _("yes")), ("false", _("no"))]


class IdNumberFilter(django_filters.CharFilter):
    field_class = IdNumberField


class PersonFilterSet(django_filters.FilterSet):
    """One filterset for the person list, its export and /api/persons/ (STYLE: NetBox).
    Every criterion is a plain GET parameter, so a filtered list is a URL one can share."""

    q = django_filters.CharFilter(label=_("Name"), method="filter_name",
                                  widget=forms.TextInput(attrs={"placeholder": _("name or pinyin initials")}))
    id_number = IdNumberFilter(label=_("ID number"), method="filter_id_number",
                               widget=forms.TextInput(attrs={"placeholder": _("exact, 18 digits"),
                                                             "autocomplete": "off"}))
    # The selects render without the template engine (core.widgets.Select, the same HTML): the
    # area has an option per township and village of the user's area.
    area = django_filters.ChoiceFilter(label=_("Township or village"), method="filter_area", choices=[],
                                       empty_label=_("All"), widget=PickerSelect)
    status = django_filters.ChoiceFilter(label=_("control status"), field_name="control_status",
                                         choices=ControlStatus.choices, empty_label=_("All"), widget=Select)
    risk = django_filters.ChoiceFilter(label=_("risk level"), field_name="risk_level", choices=RiskLevel.choices,
                                       empty_label=_("All"), widget=Select)
    substance = django_filters.ChoiceFilter(label=_("substance"), method="filter_substance",
                                            choices=Substance.choices, empty_label=_("All"), widget=Select)
    overdue = YesNoFilter(label=_("Check-ins overdue"), method="filter_overdue",
                                           widget=Select(choices=YES_NO))
    flagged = YesNoFilter(label=_("Open flags"), method="filter_flagged",
                                           widget=Select(choices=YES_NO))

    class Meta:
        model = Person
        fields = ["q", "id_number", "area", "status", "risk", "substance", "overdue", "flagged"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = getattr(request, "user", None)
        if isinstance(self.filters["area"], django_filters.ChoiceFilter):  # not PersonApiFilterSet's
            self.filters["area"].extra["choices"] = queries.area_choices(user) if user is not None else []

    def filter_name(self, queryset, name, value):
        value = value.strip()
        if LATIN.match(value):
            return queryset.filter(name_initials__startswith=value.lower())
        return queryset.filter(name__contains=value)

    def filter_id_number(self, queryset, name, value):
        return queryset.filter(**blind_lookup(Person, "id_number", value))

    def filter_area(self, queryset, name, value: str):
        # The code was one of the choices, which come from the user's own area.
        path = Jurisdiction.objects.filter(code=value).values_list("path", flat=True).first()
        return queryset.filter(jurisdiction__path__startswith=path) if path else queryset.none()

    def filter_substance(self, queryset, name, value):
        return queryset.filter(Exists(PersonSubstance.objects.filter(person=OuterRef("pk"), substance=value)))

    def filter_overdue(self, queryset, name, value):
        ids = queries.overdue_person_ids(timezone.localdate())
        return queryset.filter(pk__in=ids) if value else queryset.exclude(pk__in=ids)

    def filter_flagged(self, queryset, name, value):
        return queryset.filter(queries.has_open_flag()) if value else queryset.exclude(queries.has_open_flag())


class PersonApiFilterSet(PersonFilterSet):
    """/api/persons/: the list's criteria, for a program that sends its own values rather than
    picking them. A well-formed number that no person can hold (a wrong check digit, a birth
    date that does not exist) and an area code outside the user's area find nobody instead of
    being refused: the answer is the same as for a number or area without persons, and what the
    API accepts is what its schema says (ID_NUMBER_PATTERN, AREA_PATTERN)."""

    id_number = django_filters.CharFilter(label=_("ID number"), method="filter_any_id_number",
                                          validators=[RegexValidator(ID_NUMBER_PATTERN)])
    area = django_filters.CharFilter(label=_("Township or village"), method="filter_area",
                                     validators=[RegexValidator(AREA_PATTERN)])

    def filter_any_id_number(self, queryset, name, value):
        try:
            number = rules.normalise_id_number(value)
        except rules.IdNumberError:
            return queryset.none()
        return self.filter_id_number(queryset, name, number)


class SupportTaskFilterSet(django_filters.FilterSet):
    """The support-task list: by state and by the person's name (the member unit's search)."""

    q = django_filters.CharFilter(label=_("Name"), method="filter_name",
                                  widget=forms.TextInput(attrs={"placeholder": _("name or pinyin initials")}))
    state = django_filters.ChoiceFilter(label=_("state"), choices=SupportTaskState.choices, empty_label=_("All"),
                                        widget=Select)

    class Meta:
        model = SupportTask
        fields = ["q", "state"]

    def filter_name(self, queryset, name, value):
        value = value.strip()
        if LATIN.match(value):
            return queryset.filter(person__name_initials__startswith=value.lower())
        return queryset.filter(person__name__contains=value)


class TaskPersonFilterSet(django_filters.FilterSet):
    """/api/persons/ for a member unit: by name only. The person list's other criteria (status,
    risk, flags, overdue check-ins, substances) would tell what the unit may not read."""

    q = django_filters.CharFilter(label=_("Name"), method="filter_name")

    class Meta:
        model = Person
        fields = ["q"]

    filter_name = PersonFilterSet.filter_name
