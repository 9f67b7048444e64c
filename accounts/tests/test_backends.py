"""accounts.backends.UserBackend: the signed-in user of each request, with its current roles."""

from accounts.backends import UserBackend
from accounts.models import UserRole
from accounts.tests.factories import UserFactory
from core.roles import Role


def test_a_role_taken_away_counts_on_the_next_request(tree):
    user = UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE, Role.POLICE])
    UserRole.objects.filter(user=user, role=Role.POLICE).delete()
    assert UserBackend().get_user(user.pk).role_codes == frozenset({Role.OFFICE})
    UserRole.objects.filter(user=user).delete()
    assert UserBackend().get_user(user.pk).role_codes == frozenset()


def test_no_such_user_or_inactive(tree):
    user = UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE], is_active=False)
    assert UserBackend().get_user(user.pk) is None
    assert UserBackend().get_user(user.pk + 1000) is None
