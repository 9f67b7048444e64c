from core.api import ScopedReadOnlyViewSet
from persons import queries
from persons.api.serializers import PersonSerializer
from persons.filtersets import PersonFilterSet
from persons.models import Person


class PersonViewSet(ScopedReadOnlyViewSet):
    """/api/persons/: read-only, scoped and filtered like the person list; reads and list
    pages are audited by the base class (Person.audit_reads)."""

    model = Person
    serializer_class = PersonSerializer
    filterset_class = PersonFilterSet
    required_roles = Person.scope_roles

    def restrict(self, queryset):
        return queries.person_rows(queryset).prefetch_related("substances")
