"""The monitoring pages of this work line: the alert centre, the indicator catalogue, and the
office's entry pages for targets, population figures, thresholds and settings. Thin views over
monitoring.alerts / monitoring.indicators for reading and monitoring.services for every change.
(The dashboards and generated documents live in monitoring.dashboards / monitoring.reports.)"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from core import audit
from core.roles import Role, has_any_role
from core.views import ObjectListView, RoleRequiredMixin, ServiceFormView
from monitoring import alerts, services
from monitoring.filtersets import PopulationFigureFilterSet, ThresholdFilterSet
from monitoring.forms import MonitoringSettingsForm, PopulationForm, TargetForm, ThresholdForm
from monitoring.models import READER_ROLES, MonitoringSettings, PopulationFigure, Target, Threshold
from monitoring.periods import EARLIEST, Period, latest_day
from monitoring.tables import PopulationFigureTable, ThresholdTable

OFFICE = frozenset({Role.OFFICE})


def _visible_jurisdiction(user, code: str | None):
    """The jurisdiction named by ``code`` if it is in the user's area; the user's own without one."""
    from jurisdictions.models import Jurisdiction

    if not code:
        return user.jurisdiction
    node = Jurisdiction.objects.visible_to(user).filter(code=code).first()
    if node is None:
        raise Http404
    return node


def _year(request, text: str | None) -> int:
    """The year asked for, within the years that can be reported; this year, with the error
    shown, for anything else."""
    this_year = timezone.localdate().year
    if not text:
        return this_year
    first, last = EARLIEST.year, latest_day().year
    try:
        year = int(text)
    except ValueError:
        year = None
    if year is None or not first <= year <= last:
        messages.error(request, _("A year between %(first)s and %(last)s, please.") % {"first": first, "last": last})
        return this_year
    return year


def _period(text: str | None, today) -> tuple[Period, str]:
    if not text:
        return Period.containing(today), ""
    try:
        return Period.parse(text), ""
    except ValueError as error:
        return Period.containing(today), str(error)


class AlertCentreView(RoleRequiredMixin, TemplateView):
    """Open flags, overdue check-ins and crossed thresholds per area, with owner and age."""

    required_roles = READER_ROLES
    capability = gettext_lazy("Alert centre")
    template_name = "monitoring/alerts.html"

    # What the page may be narrowed to (筛选: 按类型), each a section of the page.
    TYPES = {"flags": gettext_lazy("Open flags"), "overdue": gettext_lazy("Missed check-ins"),
             "thresholds": gettext_lazy("Thresholds crossed"), "assignments": gettext_lazy("Assignments (督办)")}

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        period, period_error = _period(self.request.GET.get("period"), today)
        shown_type = self.request.GET.get("type", "")
        shown_type = shown_type if shown_type in self.TYPES else ""
        pages = {name: self.request.GET.get(name) or 1 for name in ("flags_page", "overdue_page", "assignments_page")}
        centre = alerts.alert_centre(self.request.user, today=today, period=period, **pages)
        personal = centre.personal
        from monitoring.indicators import WITHHELD_MARK, suppress

        def counts(area):
            return {name: getattr(area, name) if personal else suppress(getattr(area, name), self.request.user)
                    for name in ("open_flags", "overdue_items", "overdue_persons")}

        areas = [{"area": area, **counts(area)} for area in centre.areas]
        if not personal:
            _withhold_alerts(self.request.user, centre, areas, today)
        totals = {"area": centre.totals(), **counts(centre.totals())}
        if not personal:
            # A total beside a hidden cell would give the hidden one away (total − the others).
            for name in ("open_flags", "overdue_items", "overdue_persons"):
                if any(not isinstance(row[name], int) for row in areas):
                    totals[name] = WITHHELD_MARK
        breaches = [(b, b.value.display(suppress_small=not personal)) for b in centre.breaches]
        if personal:  # the lines naming persons are a list of personal data: audited as one page
            criteria = {key: self.request.GET[key] for key in ("period", "type") if self.request.GET.get(key)}
            if centre.overdue_page.number != 1:
                criteria["overdue_page"] = centre.overdue_page.number
            audit.record_list(actor=self.request.user, object_repr=str(self.capability), criteria=criteria,
                              page=centre.flags_page.number,
                              rows=len(centre.flags) + len(centre.overdue),
                              results=centre.flags_total + centre.overdue_total)
        from monitoring.supervision import ANSWER_ROLES, ASSIGNER_ROLES

        return super().get_context_data(
            centre=centre, areas=areas, totals=totals, breaches=breaches, period_error=period_error,
            period_text=self.request.GET.get("period", ""), types=self.TYPES.items(), shown_type=shown_type,
            can_open_persons=personal, can_assign=has_any_role(self.request.user, ASSIGNER_ROLES),
            can_answer=has_any_role(self.request.user, ANSWER_ROLES), **kwargs)


def _withhold_alerts(user, centre, areas, today) -> None:
    """For a viewer without personal-data rights, what the dashboard withholds is withheld here
    too (monitoring.disclosure): an area's overdue check-ins are its overdue-items figure, and a
    crossed threshold shows the indicator's value."""
    from monitoring.disclosure import WITHHELD, Disclosure
    from monitoring.indicators import WITHHELD_MARK

    month = Period.containing(today)
    own = Disclosure(user, centre.jurisdiction, month, as_of=today)
    for row in areas:
        area = row["area"].jurisdiction
        if area.pk != centre.jurisdiction.pk and own.state(area.pk, "overdue_items") == WITHHELD:
            row["overdue_items"] = WITHHELD_MARK
    by_place = {}
    for breach in centre.breaches:
        place = breach.jurisdiction
        if place.pk not in by_place:
            by_place[place.pk] = Disclosure(user, place, centre.period, as_of=today)
        by_place[place.pk].apply({breach.indicator.code: breach.value}, place)
    # A threshold crossed by a figure not shown bounds it ("<5" and above 3 is 4): not listed.
    centre.breaches = [b for b in centre.breaches if b.value.display(suppress_small=True) == b.value.display()]
    for row in areas:
        row["area"].breaches = [b for b in row["area"].breaches if b in centre.breaches]


class IndicatorCatalogueView(RoleRequiredMixin, TemplateView):
    """Every indicator's definition, unit, direction and source (指标口径)."""

    required_roles = READER_ROLES
    capability = gettext_lazy("Indicator catalogue")
    template_name = "monitoring/indicators.html"

    def get_context_data(self, **kwargs):
        from monitoring.indicators import INDICATORS

        return super().get_context_data(indicators=list(INDICATORS.values()), **kwargs)


class TargetListView(RoleRequiredMixin, TemplateView):
    """The targets of one year for one area: its own, the inherited one and where it was set."""

    required_roles = READER_ROLES
    capability = gettext_lazy("Targets")
    template_name = "monitoring/targets.html"

    def get_context_data(self, **kwargs):
        from monitoring.indicators import INDICATORS

        user = self.request.user
        place = _visible_jurisdiction(user, self.request.GET.get("jurisdiction"))
        year = _year(self.request, self.request.GET.get("year"))
        codes = [c for c, i in INDICATORS.items() if i.higher_is_better is not None]
        own = {t.indicator: t for t in Target.objects.filter(jurisdiction=place, year=year, indicator__in=codes)}
        parent_paths = services._ancestor_paths(place)[1:]
        inherited = {}
        for target in (Target.objects.filter(year=year, indicator__in=codes, jurisdiction__path__in=parent_paths)
                       .select_related("jurisdiction").order_by("jurisdiction__depth")):
            inherited[target.indicator] = target  # the deepest ancestor wins
        rows = [{"indicator": INDICATORS[c], "own": own.get(c), "inherited": inherited.get(c),
                 "edit_url": reverse("monitoring:target_edit", args=[c, year]) + "?" + urlencode(
                     {"jurisdiction": place.code})} for c in codes]
        from monitoring.forms import area_choices

        return super().get_context_data(
            rows=rows, year=year, place=place, years=range(year - 2, year + 3),
            areas=area_choices(user), can_edit=has_any_role(user, OFFICE), **kwargs)


class TargetEditView(ServiceFormView):
    required_roles = OFFICE
    capability = gettext_lazy("Set a target")
    form_class = TargetForm

    def dispatch(self, request, *args, **kwargs):
        from monitoring.indicators import INDICATORS

        if kwargs["code"] not in INDICATORS:
            raise Http404
        self.indicator = INDICATORS[kwargs["code"]]
        self.year = kwargs["year"]
        if not EARLIEST.year <= self.year <= latest_day().year:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_object(self):
        self.place = _visible_jurisdiction(self.request.user, self.request.GET.get("jurisdiction"))
        return Target.objects.filter(indicator=self.indicator.code, jurisdiction=self.place, year=self.year).first()

    def get_initial(self):
        if self.object is None:
            return {}
        return {"value": self.object.value, "note": self.object.note, "version": self.object.version}

    def get_title(self):
        return _("Target %(year)s: %(indicator)s, %(place)s") % {
            "year": self.year, "indicator": self.indicator.name, "place": self.place.name}

    @property
    def intro(self):
        value, where = services.inherited_target(self.indicator.code, self.place, self.year)
        unit = self.indicator.unit
        if value is None:
            return _("No target is set above this area for %(year)s. Leave the value empty to set none.") % {
                "year": self.year}
        return _("Inherited from %(place)s: %(value)s%(unit)s. Leave the value empty to use it.") % {
            "place": where.name, "value": value.normalize(), "unit": unit}

    def perform(self, form):
        value = form.cleaned_data["value"]
        back = reverse("monitoring:targets") + "?" + urlencode({"year": self.year, "jurisdiction": self.place.code})
        if value is None:
            if self.object is not None:
                services.do_clear_target(self.object, acting_user=self.request.user)
            return back
        services.do_set_target(self.indicator.code, self.place, self.year, value, acting_user=self.request.user,
                               note=form.cleaned_data["note"], expected_version=form.cleaned_data["version"])
        return back


class PopulationListView(ObjectListView):
    model = PopulationFigure
    filterset_class = PopulationFigureFilterSet
    table_class = PopulationFigureTable
    required_roles = READER_ROLES
    title = gettext_lazy("Population figures")
    actions = [(gettext_lazy("Enter a population figure"), "monitoring:population_edit", OFFICE)]

    def restrict(self, queryset):
        return queryset.select_related("jurisdiction")


class PopulationEditView(ServiceFormView):
    required_roles = OFFICE
    capability = gettext_lazy("Enter a population figure")
    form_class = PopulationForm
    title = gettext_lazy("Population figure")
    intro = gettext_lazy("The population (实有人口) of an area in a year, for the shares of population. A figure for "
                         "the same area and year replaces the one entered before.")

    def get_form_kwargs(self):
        return {"user": self.request.user}

    def get_initial(self):
        return {"jurisdiction": self.request.user.jurisdiction.code, "year": timezone.localdate().year}

    def perform(self, form):
        place = _visible_jurisdiction(self.request.user, form.cleaned_data["jurisdiction"])
        services.do_set_population(place, form.cleaned_data["year"], form.cleaned_data["population"],
                                   acting_user=self.request.user, source=form.cleaned_data["source"])
        return "monitoring:population"


class ThresholdListView(ObjectListView):
    model = Threshold
    filterset_class = ThresholdFilterSet
    table_class = ThresholdTable
    required_roles = READER_ROLES
    title = gettext_lazy("Alert thresholds")
    actions = [(gettext_lazy("Set a threshold"), "monitoring:threshold_edit", OFFICE)]

    def restrict(self, queryset):
        return queryset.select_related("jurisdiction")


class ThresholdEditView(ServiceFormView):
    required_roles = OFFICE
    capability = gettext_lazy("Set a threshold")
    form_class = ThresholdForm
    title = gettext_lazy("Alert threshold")
    intro = gettext_lazy("The alert centre lists the area, and each area directly below it, whose indicator crosses "
                         "the threshold: e.g. newly found persons rising more than 20% year on year. The same "
                         "indicator, area and comparison replaces the threshold set before.")

    def get_form_kwargs(self):
        return {"user": self.request.user}

    def get_initial(self):
        return {"jurisdiction": self.request.user.jurisdiction.code, "active": True}

    def perform(self, form):
        data = form.cleaned_data
        place = _visible_jurisdiction(self.request.user, data["jurisdiction"])
        services.do_set_threshold(data["indicator"], place, data["comparison"], data["value"],
                                  acting_user=self.request.user, active=data["active"], note=data["note"])
        return "monitoring:thresholds"


class ThresholdDeleteView(RoleRequiredMixin, View):
    required_roles = OFFICE
    capability = gettext_lazy("Remove a threshold")

    def post(self, request, pk):
        threshold = get_object_or_404(Threshold.objects.visible_to(request.user), pk=pk)
        try:
            services.do_delete_threshold(threshold, acting_user=request.user)
        except PermissionError as error:
            raise PermissionDenied(str(error)) from None
        return redirect("monitoring:thresholds")


class MonitoringSettingsView(ServiceFormView):
    """The visible-to-hidden ratio and the staffing standard for the office's own area."""

    required_roles = OFFICE
    capability = gettext_lazy("Monitoring settings")
    form_class = MonitoringSettingsForm

    def get_object(self):
        return MonitoringSettings.objects.filter(jurisdiction=self.request.user.jurisdiction).first()

    def get_title(self):
        return _("Monitoring settings: %(place)s") % {"place": self.request.user.jurisdiction.name}

    @property
    def intro(self):
        current = services.settings_for(self.request.user.jurisdiction)
        if current.set_at is None:
            return _("The defaults apply: 1:5 (seed 004) and 30 persons per social worker (SPEC §3.1).")
        if current.set_at.pk != self.request.user.jurisdiction.pk:
            return _("The settings of %(place)s apply until you save your own.") % {"place": current.set_at.name}
        return ""

    def get_initial(self):
        current = services.settings_for(self.request.user.jurisdiction)
        return {"hidden_ratio": current.hidden_ratio, "staffing_standard": current.staffing_standard,
                "version": self.object.version if self.object else None}

    def perform(self, form):
        services.do_set_monitoring_settings(self.request.user.jurisdiction, acting_user=self.request.user,
                                            hidden_ratio=form.cleaned_data["hidden_ratio"],
                                            staffing_standard=form.cleaned_data["staffing_standard"],
                                            expected_version=form.cleaned_data["version"])
        return "monitoring:settings"
