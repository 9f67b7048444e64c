"""The authentication backend: Django's ModelBackend, with the signed-in user's jurisdiction
read in the same query as the user (every page needs it for scoping and the menu), by one
statement compiled once (core.statements)."""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from accounts.models import User
from core.statements import Statement


@Statement
def _user(pk):
    return User._default_manager.select_related("jurisdiction").filter(pk=pk)


class UserBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            found = _user(User._meta.pk.to_python(user_id))
        except ValidationError:  # not a key: a session that was tampered with
            return None
        if not found:
            return None
        return found[0] if self.user_can_authenticate(found[0]) else None
