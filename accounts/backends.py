"""The authentication backend: Django's ModelBackend, with the signed-in user's jurisdiction
read in the same query as the user (every page needs it for scoping and the menu)."""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from accounts.models import User


class UserBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            found = User._default_manager.select_related("jurisdiction").filter(
                pk=User._meta.pk.to_python(user_id)).first()
        except ValidationError:  # not a key: a session that was tampered with
            return None
        return found if found is not None and self.user_can_authenticate(found) else None
