from accounts.api.serializers import UserSerializer
from accounts.filtersets import UserFilterSet
from accounts.models import User
from accounts.views import USER_READERS
from core.api import ScopedReadOnlyViewSet


class UserViewSet(ScopedReadOnlyViewSet):
    model = User
    serializer_class = UserSerializer
    filterset_class = UserFilterSet
    required_roles = USER_READERS

    def restrict(self, queryset):
        return queryset.select_related("jurisdiction", "member_unit").prefetch_related("role_grants").distinct()
