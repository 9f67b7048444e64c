from django.db.models import Count
from django.http import JsonResponse
from django.views.generic import TemplateView

from core.navigation import menu_for
from jurisdictions.choices import Level
from jurisdictions.models import Jurisdiction


class HomeView(TemplateView):
    """The landing page: the user's area at a glance and the work lines open to them."""

    template_name = "home.html"

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
        return context


def health(request):
    return JsonResponse({"status": "ok"})
