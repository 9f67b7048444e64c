from core import audit
from core.api import ScopedReadOnlyViewSet
from core.models import AuditEntry
from persons import queries
from persons.api.serializers import PersonSerializer
from persons.filtersets import PersonFilterSet
from persons.models import Person


class PersonViewSet(ScopedReadOnlyViewSet):
    """/api/persons/: read-only, scoped and filtered like the person list. Every list page and
    every record read is audited, as on the pages: a program reading files is still reading them."""

    model = Person
    serializer_class = PersonSerializer
    filterset_class = PersonFilterSet
    required_roles = Person.scope_roles

    def restrict(self, queryset):
        return queries.person_rows(queryset).prefetch_related("substances")

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        if response.status_code == 200:
            criteria = {k: v for k, v in request.query_params.items() if v and k != "format"}
            data = response.data
            count = data.get("count", len(data.get("results", []))) if isinstance(data, dict) else len(data)
            audit.record(AuditEntry.Action.SEARCH, actor=request.user, object_repr="registered persons (API)",
                         changes={"criteria": criteria, "results": count})
        return response

    def get_object(self):
        person = super().get_object()
        audit.record(AuditEntry.Action.VIEW, actor=self.request.user, obj=person)
        return person
