from core.navigation import menu_for
from core.roles import role_codes


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    menu = menu_for(user)
    menu["active"] = _active_section(request, menu)
    return {"menu": menu, "user_role_codes": role_codes(user)}


def _active_section(request, menu) -> str:
    """The menu entry to highlight: 'home', a work-line code or 'admin'. A page counts for the
    entry that links to it, else for the entry whose pages share its URL namespace (a user's
    detail page belongs with the user list)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    if match.view_name == "home":
        return "home"
    if match.view_name == "core:work_line":
        return match.kwargs.get("code", "")
    sections = [(entry["line"].code, entry["items"]) for entry in menu["work_lines"]]
    sections.append(("admin", menu["admin_items"]))
    for code, items in sections:
        if any(item.url_name == match.view_name for item in items):
            return code
    for code, items in sections:
        if match.namespace and any(item.url_name.split(":")[0] == match.namespace for item in items):
            return code
    return ""
