"""Base API classes: every viewset's queryset is ``visible_to(request.user)`` and its roles
are declared, as in the HTML views."""

from rest_framework import permissions, viewsets

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
