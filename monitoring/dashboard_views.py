"""The drug-situation dashboard, the generated documents behind its download buttons (issue 6),
and the import page of the outlines its map is drawn from (issue 20).
Thin views: the numbers come from monitoring.dashboards and monitoring.reports, both built on the
indicator library."""

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from core import audit, exports
from core.importing import FileRejected
from core.models import AuditEntry
from core.roles import Role, has_any_role
from core.views import RoleRequiredMixin
from monitoring import dashboards, reports, shapes
from monitoring.forms import BoundaryImportForm
from monitoring.periods import Period


class DashboardMixin(RoleRequiredMixin):
    required_roles = dashboards.DASHBOARD_ROLES

    def selection(self):
        """The jurisdiction (the viewer's own unless another visible one is asked for) and the
        period (this month unless another is asked for) from the query string."""
        jurisdiction = dashboards.visible_jurisdiction(self.request.user, self.request.GET.get("jurisdiction"))
        if jurisdiction is None:
            raise Http404(_("No dashboard for this area."))
        text = self.request.GET.get("period", "").strip()
        period = None
        if text:
            try:
                period = Period.parse(text)
            except ValueError as error:
                self.period_error = str(error)
        return jurisdiction, period or dashboards.default_period()

    period_error = ""


class DashboardView(DashboardMixin, TemplateView):
    template_name = "monitoring/dashboard.html"
    capability = gettext_lazy("Dashboard")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        jurisdiction, period = self.selection()
        if self.period_error:
            messages.error(self.request, self.period_error)
        today = timezone.localdate()
        dashboard = dashboards.build(self.request.user, jurisdiction, period, today=today)
        choices = [(code, label) for code, label in dashboards.period_choices(today)]
        if period.code not in dict(choices):
            choices.insert(0, (period.code, period.label))
        context.update(
            dashboard=dashboard,
            dashboard_data=dashboard.data(),
            jurisdiction_choices=dashboards.jurisdiction_choices(self.request.user),
            period_choices=choices,
            query=self.request.GET.urlencode(),
            selection_query=f"jurisdiction={jurisdiction.code}&period={period.code}",
            may_import_boundaries=has_any_role(self.request.user, {Role.SYSTEM_ADMIN}),
        )
        return context


class ReportDownloadView(DashboardMixin, View):
    """The monthly statistical report (xlsx) or the 毒情通报 (docx) for the dashboard's
    jurisdiction and period; the download is audited like every export."""

    document = "statistics"  # or "bulletin"
    capability = gettext_lazy("Monthly statistical report and situation bulletin")

    def get(self, request):
        jurisdiction, period = self.selection()
        if self.period_error:
            # A hand-written address: back to the dashboard of the same area, the error shown there.
            messages.error(request, self.period_error)
            return redirect(f"{reverse('monitoring:dashboard')}?jurisdiction={jurisdiction.code}")
        document = reports.build(self.document, jurisdiction, period, viewer=request.user)
        audit.record(AuditEntry.Action.EXPORT, actor=request.user, obj=jurisdiction, object_repr=document.title,
                     changes={"document": self.document, "jurisdiction": jurisdiction.code, "period": period.code,
                              "format": document.extension, "suppressed": document.suppressed})
        response = HttpResponse(document.content, content_type=document.content_type)
        response["Content-Disposition"] = exports.attachment(f"{document.filename}.{document.extension}",
                                                             f"{self.document}-{jurisdiction.code}-{period.code}.{document.extension}")
        return response


class BoundaryImportView(RoleRequiredMixin, TemplateView):
    """The system administrator loads jurisdiction outlines for the dashboard's map (issue 20):
    every file checked whole (monitoring.shapes), loaded through do_import_shapes, audited."""

    required_roles = frozenset({Role.SYSTEM_ADMIN})
    capability = gettext_lazy("Import jurisdiction boundaries")
    template_name = "monitoring/boundaries.html"

    def get_context_data(self, **kwargs):
        from jurisdictions.choices import Level
        from jurisdictions.models import Jurisdiction

        # The areas a map is drawn for, with how many of their children have an outline.
        nodes = (Jurisdiction.objects.visible_to(self.request.user).exclude(level=Level.VILLAGE)
                 .annotate(children_count=Count("children", distinct=True),
                           outlined=Count("children__shape", distinct=True))
                 .filter(children_count__gt=0).order_by("path"))
        return super().get_context_data(form=kwargs.pop("form", None) or BoundaryImportForm(), coverage=nodes,
                                        **kwargs)

    def post(self, request):
        form = BoundaryImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        files = form.cleaned_data["files"]
        try:
            rows = shapes.read_files([(upload.name, upload.read()) for upload in files])
            count = shapes.do_import_shapes(rows, acting_user=request.user,
                                            source="、".join(upload.name for upload in files))
        except FileRejected as rejected:
            return self.render_to_response(self.get_context_data(form=form, errors=rejected.errors), status=400)
        messages.success(request, _("%(count)d jurisdiction outlines loaded.") % {"count": count})
        return redirect("monitoring:boundaries")
