"""Base API classes: every viewset's queryset is ``visible_to(request.user)`` and its roles
are declared, as in the HTML views. For models with ``audit_reads = True`` every list page
and every record read is audited, as on the pages: a program reading files is still reading them."""

from rest_framework import permissions, viewsets

from core import audit
from core.models import AuditEntry
from core.roles import has_any_role


class HasRequiredRole(permissions.BasePermission):
    def has_permission(self, request, view):
        return has_any_role(request.user, getattr(view, "required_roles", frozenset()))


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    model = None
    required_roles: frozenset = frozenset()
    permission_classes = [permissions.IsAuthenticated, HasRequiredRole]

    def get_queryset(self):
        return self.restrict(self.model.objects.visible_to(self.request.user))

    def restrict(self, queryset):
        return queryset

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        if response.status_code == 200 and getattr(self.model, "audit_reads", False):
            criteria = audit.criteria(self.model, request.query_params, skip=("format", "page"))
            data = response.data
            rows = len(data.get("results", [])) if isinstance(data, dict) else len(data)
            count = data.get("count", rows) if isinstance(data, dict) else rows
            page = getattr(getattr(self.paginator, "page", None), "number", 1)
            audit.record_list(actor=request.user, object_repr=f"{self.model._meta.verbose_name_plural} (API)",
                              criteria=criteria, page=page, rows=rows, results=count)
        return response

    def get_object(self):
        obj = super().get_object()
        if getattr(self.model, "audit_reads", False):
            audit.record(AuditEntry.Action.VIEW, actor=self.request.user, obj=obj)
        return obj


# --- the schema (drf-spectacular) ----------------------------------------------------------------
# Every answer an operation can give is in the schema, and every query parameter says what it
# accepts, so that a client (and schemathesis, jindu/tests/test_api_schemathesis.py) can rely on it.

ERROR_SCHEMAS = {
    "Error": {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"],
              "description": "403: not signed in, or the role has no access; 404: no such record in "
                             "the user's area, or no such page"},
    "ValidationErrors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                         "description": "400: the refused parameters, each with its messages"},
}
NO_NUL = "^[^\\x00]*$"  # PostgreSQL text cannot hold NUL; Django's form fields refuse it


def _response(name: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


def document_errors_and_parameters(result, generator, request, public):
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS): the 400, 403 and 404 answers
    of every operation, and what the query parameters accept: an empty value means "no
    criterion" (the HTML forms send it), text holds no NUL, a page number starts at 1."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_SCHEMAS)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            parameters = operation.get("parameters", [])
            query = [p for p in parameters if p["in"] == "query"]
            responses = operation.setdefault("responses", {})
            responses.setdefault("403", _response("Error", "not signed in, or the role has no access"))
            if query or any(p["in"] == "path" for p in parameters):
                responses.setdefault("404", _response("Error", "no such record or page in the user's area"))
            if query:
                responses.setdefault("400", _response("ValidationErrors", "a parameter was refused"))
            for parameter in query:
                schema = parameter["schema"]
                if parameter["name"] == "page" and schema.get("type") == "integer":
                    schema["minimum"] = 1
                elif schema.get("type") == "string" and "enum" in schema and "" not in schema["enum"]:
                    schema["enum"] = ["", *schema["enum"]]
                elif schema.get("type") == "string" and not ({"pattern", "enum", "format"} & set(schema)):
                    schema["pattern"] = NO_NUL
    return result
