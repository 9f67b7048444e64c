from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from core.navigation import menu_for
from core.roles import Role, has_any_role, role_codes
from jurisdictions.choices import Level
from jurisdictions.models import Jurisdiction
from monitoring.dashboards import DASHBOARD_ROLES
from persons.services import WRITER_ROLES as PERSON_WRITER_ROLES
from persons.views import read_today_list


class HomeView(TemplateView):
    """The landing page: the user's area at a glance and the work lines open to them; for those
    who keep person files, first of all what their people need today (SPEC §3.1)."""

    template_name = "home.html"

    def get(self, request, *args, **kwargs):
        # The leadership sees aggregates only: the drug-situation dashboard is its home page.
        if role_codes(request.user) == {Role.LEADERSHIP} and request.user.jurisdiction is not None:
            return redirect("monitoring:dashboard")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        counts = dict(
            Jurisdiction.objects.visible_to(user).values_list("level").annotate(n=Count("id")).order_by()
        )
        context["jurisdiction"] = user.jurisdiction
        context["level_counts"] = [
            (label, counts.get(value, 0)) for value, label in Level.choices
            if user.jurisdiction is None or Level.values.index(value) > user.jurisdiction.level_rank
        ]
        context["work_lines"] = menu_for(user)["work_lines"]
        context["dashboard"] = has_any_role(user, DASHBOARD_ROLES) and user.jurisdiction is not None
        if has_any_role(user, PERSON_WRITER_ROLES):
            context["today_list"] = read_today_list(user)
        return context


def health(request):
    return JsonResponse({"status": "ok"})


def api_not_found(request, rest=""):
    """An /api/ address that names no operation (a record key that is not one, a path that does
    not exist) gets the API's JSON 404, as the schema says, not the HTML page."""
    return JsonResponse({"detail": _("Not found.")}, status=404)
