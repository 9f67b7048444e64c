"""What each role may see and do, read from the code that enforces it (for the security admin).

Nothing here is a hand-written copy: the pages come from the URL patterns and the
``required_roles`` of their views, the records from each model's ``scope_roles``, the
revealable fields from ``masked_fields``, and the personal-data rule from core.roles.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.translation import gettext as _

from core.roles import ANY_AUTHENTICATED, PERSONAL_DATA_ROLES, Role


@dataclass
class RoleCapabilities:
    role: Role
    personal_data: bool
    records: list[str] = field(default_factory=list)
    pages: list[tuple[str, str]] = field(default_factory=list)  # (label, route)
    reveal: list[str] = field(default_factory=list)
    break_glass: list[str] = field(default_factory=list)

    @property
    def page_names(self) -> list[str]:
        """The pages by their Chinese names, each once (a list and its detail, a page and its
        API share a name), for the security administrator to read: no route or class name."""
        return sorted({label for label, _route in self.pages})


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def page_label(view_class) -> str:
    label = getattr(view_class, "capability", None)
    if label:
        return str(label)
    model = getattr(view_class, "model", None)
    if model is not None:
        from core.views import ObjectDetailView, ObjectListView

        if issubclass(view_class, ObjectListView):
            return f"{model._meta.verbose_name_plural}（列表）"
        if issubclass(view_class, ObjectDetailView):
            return f"{model._meta.verbose_name}（详情）"
        return str(model._meta.verbose_name_plural)
    return view_class.__name__  # a view without a label: add `capability` (core/tests/test_capabilities.py)


def capabilities() -> list[RoleCapabilities]:
    table = {role: RoleCapabilities(role=role, personal_data=role in PERSONAL_DATA_ROLES) for role in Role}
    for model in apps.get_models():
        roles = getattr(model, "scope_roles", None)
        if roles is None:
            continue
        name = str(model._meta.verbose_name_plural)
        # Roles that see only their own unit's rows, or the persons of their unit's tasks (core.scoping).
        task_roles = frozenset(getattr(model, "task_roles", ()))
        limited = task_roles | frozenset(getattr(model, "unit_roles", ()))
        for role in roles:
            table[Role(role)].records.append(
                _("%(records)s (own support tasks only)") % {"records": name} if role in limited else name)
            if getattr(model, "break_glass", False) and role not in task_roles:
                table[Role(role)].break_glass.append(name)
        for field_name, (_mask, reveal_roles) in getattr(model, "masked_fields", {}).items():
            label = f"{model._meta.verbose_name}：{model._meta.get_field(field_name).verbose_name}"
            for role in reveal_roles:
                table[Role(role)].reveal.append(label)
    seen = set()
    for route, callback in _walk(get_resolver().url_patterns):
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        roles = getattr(view_class, "required_roles", None) if view_class else None
        if not roles or "<format>" in route:
            continue
        if roles == ANY_AUTHENTICATED:
            roles = frozenset(Role)
        route = "/" + route.replace("^", "").replace("$", "")
        label = page_label(view_class)
        if route.startswith("/api/"):
            label = f"API：{label}"
        if (label, route) in seen:
            continue
        seen.add((label, route))
        for role in roles:
            table[Role(role)].pages.append((label, route))
    for entry in table.values():
        entry.records.sort()
        entry.pages.sort(key=lambda page: page[1])
    return list(table.values())
