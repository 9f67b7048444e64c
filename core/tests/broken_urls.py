"""Deliberately broken views, mounted only by core/tests/test_scoping.py (``@pytest.mark.urls``),
to prove that the scope matrix notices a forgotten scope or a forgotten role check."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.views import View

from core.api import ScopedReadOnlyViewSet
from core.roles import ALL_ROLES
from core.views import ObjectDetailView, ObjectListView, RoleRequiredMixin
from jindu.urls import urlpatterns as site_urlpatterns
from jurisdictions.api.serializers import JurisdictionSerializer
from jurisdictions.filtersets import JurisdictionFilterSet
from jurisdictions.models import Jurisdiction
from jurisdictions.tables import JurisdictionTable


class UnscopedListView(ObjectListView):
    model = Jurisdiction
    filterset_class = JurisdictionFilterSet
    table_class = JurisdictionTable
    required_roles = ALL_ROLES

    def get_queryset(self):
        return Jurisdiction.objects.all()  # the bug: no visible_to


class UnscopedDetailView(ObjectDetailView):
    model = Jurisdiction
    required_roles = ALL_ROLES
    slug_field = slug_url_kwarg = "code"
    queryset = Jurisdiction.objects.all()

    def get_queryset(self):
        return self.queryset  # the bug: no visible_to


def unscoped_function_view(request, code):
    node = get_object_or_404(Jurisdiction.objects.all(), code=code)  # the bug: no visible_to
    return HttpResponse(node.name)


class UnscopedViewSet(ScopedReadOnlyViewSet):
    model = Jurisdiction
    serializer_class = JurisdictionSerializer
    required_roles = ALL_ROLES
    lookup_field = "code"

    def get_queryset(self):
        return Jurisdiction.objects.all()  # the bug: no visible_to


class AdminPageForAllView(RoleRequiredMixin, View):
    """Meant for the system administrator, but declares every role (the bug)."""

    required_roles = ALL_ROLES

    def get(self, request, code):
        node = get_object_or_404(Jurisdiction.objects.visible_to(request.user), code=code)
        return HttpResponse(node.name)


urlpatterns = [
    path("broken/list/", UnscopedListView.as_view()),
    path("broken/detail/<str:code>/", UnscopedDetailView.as_view()),
    path("broken/function/<str:code>/", unscoped_function_view),
    path("broken/api/<str:code>/", UnscopedViewSet.as_view({"get": "retrieve"})),
    path("broken/admin/<str:code>/", AdminPageForAllView.as_view()),
    *site_urlpatterns,
]
