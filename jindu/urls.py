from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from jindu import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("", include("core.urls")),
    path("accounts/", include("accounts.urls")),
    path("jurisdictions/", include("jurisdictions.urls")),
    path("persons/", include("persons.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("api/", include("jindu.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    re_path(r"^api/", login_not_required(views.api_not_found)),
    path("healthz", login_not_required(views.health), name="health"),
]
