"""Generic views every app builds on (STYLE: NetBox generic views).

A list or detail view names its model, and the queryset always comes from
``Model.objects.visible_to(request.user)``: a view cannot forget the scope. Every view also
names the roles it serves; a view that names none serves nobody (fail closed).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core import navigation
from core.roles import has_any_role


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
