"""Base API classes: every viewset's queryset is ``visible_to(request.user)`` and its roles
are declared, as in the HTML views. For models with ``audit_reads = True`` every list page
and every record read is audited, as on the pages: a program reading files is still reading them."""

from rest_framework import permissions, viewsets

from core import audit
from core.models import AuditEntry
from core.roles import has_any_role


class HasRequiredRole(permissions.BasePermission):
    def has_permission(self, request, view):
        return has_any_role(request.user, getattr(view, "required_roles", frozenset()))


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    model = None
    required_roles: frozenset = frozenset()
    permission_classes = [permissions.IsAuthenticated, HasRequiredRole]

    def get_queryset(self):
        return self.restrict(self.model.objects.visible_to(self.request.user))

    def restrict(self, queryset):
        return queryset

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        if response.status_code == 200 and getattr(self.model, "audit_reads", False):
            criteria = audit.criteria(self.model, request.query_params, skip=("format", "page"))
            data = response.data
            rows = len(data.get("results", [])) if isinstance(data, dict) else len(data)
            count = data.get("count", rows) if isinstance(data, dict) else rows
            page = getattr(getattr(self.paginator, "page", None), "number", 1)
            audit.record_list(actor=request.user, object_repr=f"{self.model._meta.verbose_name_plural} (API)",
                              criteria=criteria, page=page, rows=rows, results=count)
        return response

    def get_object(self):
        obj = super().get_object()
        if getattr(self.model, "audit_reads", False):
            audit.record(AuditEntry.Action.VIEW, actor=self.request.user, obj=obj)
        return obj
