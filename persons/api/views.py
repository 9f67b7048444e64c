from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view

from core.api import ScopedReadOnlyViewSet
from persons import queries, support
from persons.api.serializers import PersonSerializer, TaskPersonSerializer
from persons.filtersets import AREA_PATTERN, ID_NUMBER_PATTERN, PersonApiFilterSet, TaskPersonFilterSet
from persons.models import Person


def _or_empty(pattern: str) -> str:
    """An empty value is no criterion."""
    return f"^(|{pattern[1:-1]})$"


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("id_number", {"type": "string", "pattern": _or_empty(ID_NUMBER_PATTERN)},
                     description="exact ID number (18 characters, or 15 digits); a number no person can hold "
                                 "finds nobody"),
    OpenApiParameter("area", {"type": "string", "pattern": _or_empty(AREA_PATTERN)},
                     description="code of a township or village; outside the user's area it finds nobody"),
]))
class PersonViewSet(ScopedReadOnlyViewSet):
    """/api/persons/: read-only, scoped and filtered like the person list; reads and list
    pages are audited by the base class (Person.audit_reads)."""

    model = Person
    serializer_class = PersonSerializer
    filterset_class = PersonApiFilterSet
    required_roles = Person.scope_roles

    def restrict(self, queryset):
        if self._task_only():
            return queryset.select_related("jurisdiction")
        return queries.person_rows(queryset).prefetch_related("substances")

    def _task_only(self) -> bool:
        """A member unit: the persons of its support tasks, and of them what the task needs."""
        request = getattr(self, "request", None)
        return request is not None and support.task_only(request.user)

    def get_serializer_class(self):
        return TaskPersonSerializer if self._task_only() else PersonSerializer

    def filter_queryset(self, queryset):
        if self._task_only():
            filterset = TaskPersonFilterSet(self.request.query_params, queryset=queryset, request=self.request)
            return filterset.qs if filterset.is_valid() else queryset.none()
        return super().filter_queryset(queryset)
