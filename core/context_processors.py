from core.navigation import menu_for
from core.roles import role_codes


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"menu": menu_for(user), "user_role_codes": role_codes(user)}
