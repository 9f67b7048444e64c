"""The authentication backend: Django's ModelBackend, with the signed-in user's jurisdiction
read in the same query as the user (every page needs it for scoping and the menu)."""

from django.contrib.auth.backends import ModelBackend

from accounts.models import User


class UserBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            user = User._default_manager.select_related("jurisdiction").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
