"""The authentication backend: Django's ModelBackend, with the signed-in user's jurisdiction
and roles read in the same query as the user (every page needs them for scoping, the role
checks and the menu). The roles are read on every request, so a role taken away counts at once."""

from django.contrib.auth.backends import ModelBackend
from django.db.models import Aggregate, CharField, OuterRef, Subquery

from accounts.models import User, UserRole


class CommaJoined(Aggregate):
    """The values joined with commas: STRING_AGG on PostgreSQL, GROUP_CONCAT on SQLite."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)


def role_list():
    """The user's role codes joined with commas, as a sub-query of a query of users."""
    return Subquery(UserRole.objects.filter(user=OuterRef("pk")).order_by().values("user")
                    .annotate(codes=CommaJoined("role")).values("codes"))


class UserBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            user = (User._default_manager.select_related("jurisdiction").annotate(role_list=role_list())
                    .get(pk=user_id))
        except User.DoesNotExist:
            return None
        user.__dict__["role_codes"] = frozenset(user.role_list.split(",")) if user.role_list else frozenset()
        return user if self.user_can_authenticate(user) else None
