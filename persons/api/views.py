from core.api import ScopedReadOnlyViewSet
from persons import queries, support
from persons.api.serializers import PersonSerializer, TaskPersonSerializer
from persons.filtersets import PersonFilterSet, TaskPersonFilterSet
from persons.models import Person


class PersonViewSet(ScopedReadOnlyViewSet):
    """/api/persons/: read-only, scoped and filtered like the person list; reads and list
    pages are audited by the base class (Person.audit_reads)."""

    model = Person
    serializer_class = PersonSerializer
    filterset_class = PersonFilterSet
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
