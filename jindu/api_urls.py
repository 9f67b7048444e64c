from django.contrib.auth.decorators import login_not_required
from rest_framework.routers import DefaultRouter

from accounts.api.views import UserViewSet
from jurisdictions.api.views import JurisdictionViewSet
from monitoring.api.views import IndicatorViewSet
from persons.api.views import PersonViewSet

router = DefaultRouter()
router.register("jurisdictions", JurisdictionViewSet, basename="jurisdiction")
router.register("users", UserViewSet, basename="user")
router.register("persons", PersonViewSet, basename="person")
router.register("indicators", IndicatorViewSet, basename="indicator")

urlpatterns = router.urls
# The API answers for itself (DRF: 403 without a session) instead of redirecting a program to
# the HTML login page; the viewsets' permissions and visible_to still apply.
for pattern in urlpatterns:
    pattern.callback = login_not_required(pattern.callback)
