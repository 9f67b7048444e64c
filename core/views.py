"""Generic views every app builds on (STYLE: NetBox generic views).

A list or detail view names its model, and the queryset always comes from
``Model.objects.visible_to(request.user)``: a view cannot forget the scope. Every view also
names the roles it serves; a view that names none serves nobody (fail closed).
"""

import json

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core import audit, exports, navigation
from core.filtersets import AuditEntryFilterSet
from core.models import AuditEntry
from core.roles import Role, has_any_role
from core.tables import AuditEntryTable


class RoleRequiredMixin:
    required_roles: frozenset = frozenset()

    def dispatch(self, request, *args, **kwargs):
        if not has_any_role(request.user, self.required_roles):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ScopedQuerysetMixin:
    model = None

    def get_queryset(self):
        return self.restrict(self.model.objects.visible_to(self.request.user))

    def restrict(self, queryset):
        """Hook for select_related / annotations; the scope is already applied."""
        return queryset


class ObjectListView(RoleRequiredMixin, ScopedQuerysetMixin, SingleTableMixin, FilterView):
    template_name = "core/object_list.html"
    paginate_by = 50
    title = ""
    actions: list = []  # [(label, url_name, roles)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.title or self.model._meta.verbose_name_plural
        roles = self.request.user.role_codes
        context["actions"] = [(label, url) for label, url, allowed in self.actions if roles & allowed]
        return context


class ObjectDetailView(RoleRequiredMixin, ScopedQuerysetMixin, DetailView):
    template_name = "core/object_detail.html"


class WorkLineView(TemplateView):
    """The landing page of a work line: its pages, or a plain statement that it is not built yet."""

    template_name = "core/work_line.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            line = navigation.work_line(kwargs["code"])
        except KeyError:
            raise Http404 from None
        if not has_any_role(self.request.user, line.roles):
            raise PermissionDenied
        roles = self.request.user.role_codes
        context["line"] = line
        context["items"] = [i for i in line.items if roles & i.roles]
        return context


class AuditEntryListView(ObjectListView):
    """The audit log, for the audit administrator only (三员分立); ?export=xlsx downloads
    the filtered entries, and that download is itself audited."""

    model = AuditEntry
    filterset_class = AuditEntryFilterSet
    table_class = AuditEntryTable
    required_roles = frozenset({Role.AUDIT_ADMIN})
    template_name = "core/audit_list.html"
    paginate_by = 100

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") == "xlsx":
            return self.export()
        return super().get(request, *args, **kwargs)

    def export(self):
        filterset = self.filterset_class(self.request.GET, queryset=self.get_queryset())
        entries = filterset.qs.order_by("seq") if filterset.is_valid() else AuditEntry.objects.none()
        headers = [str(AuditEntry._meta.get_field(name).verbose_name) for name in EXPORT_FIELDS]
        rows = (_export_row(entry) for entry in entries.iterator())
        content, count = exports.xlsx_bytes(str(AuditEntry._meta.verbose_name_plural), headers, rows)
        audit.record(AuditEntry.Action.EXPORT, actor=self.request.user, object_repr="audit log",
                     changes={"rows": count, "filters": {k: v for k, v in self.request.GET.items() if k != "export"}})
        return exports.xlsx_response("audit-log", content)


def _export_row(entry: AuditEntry) -> list:
    row = []
    for name in EXPORT_FIELDS:
        if name == "action":
            row.append(entry.get_action_display())
        elif name == "changes":
            row.append(json.dumps(entry.changes, ensure_ascii=False))
        else:
            row.append(getattr(entry, name))
    return row


EXPORT_FIELDS = ["seq", "at", "actor_username", "actor_jurisdiction", "action", "object_type", "object_id",
                 "object_repr", "ip_address", "request_id", "changes", "hash"]
