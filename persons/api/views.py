from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view

from core.api import ScopedReadOnlyViewSet
from persons import queries
from persons.api.serializers import PersonSerializer
from persons.filtersets import AREA_PATTERN, ID_NUMBER_PATTERN, PersonApiFilterSet
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
        return queries.person_rows(queryset).prefetch_related("substances")
