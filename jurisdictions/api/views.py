from core.api import ScopedReadOnlyViewSet
from core.roles import ALL_ROLES
from jurisdictions.api.serializers import JurisdictionSerializer
from jurisdictions.filtersets import JurisdictionFilterSet
from jurisdictions.models import Jurisdiction


class JurisdictionViewSet(ScopedReadOnlyViewSet):
    model = Jurisdiction
    serializer_class = JurisdictionSerializer
    filterset_class = JurisdictionFilterSet
    required_roles = ALL_ROLES
    lookup_field = "code"

    def restrict(self, queryset):
        return queryset.select_related("parent")
