from rest_framework.routers import DefaultRouter

from accounts.api.views import UserViewSet
from jurisdictions.api.views import JurisdictionViewSet

router = DefaultRouter()
router.register("jurisdictions", JurisdictionViewSet, basename="jurisdiction")
router.register("users", UserViewSet, basename="user")

urlpatterns = router.urls
