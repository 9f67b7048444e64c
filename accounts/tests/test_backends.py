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


def test_the_user_comes_with_the_jurisdiction_and_a_session_key_that_is_not_a_key_is_nobody(tree):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE])
    backend = UserBackend()
    assert backend.get_user(str(user.pk)).pk == user.pk  # the session keeps the key as text
    with CaptureQueriesContext(connection) as queries:
        found = backend.get_user(user.pk)
        assert found.jurisdiction.code == tree["county"].code
    assert len(queries.captured_queries) == 1
    assert backend.get_user("1 OR 1=1") is None


def test_an_expired_session_is_no_session(client, tree):
    import datetime

    from django.conf import settings
    from django.contrib.sessions.models import Session
    from django.core.cache import caches
    from django.utils import timezone

    user = UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE])
    client.force_login(user)
    assert client.get("/").status_code == 200
    # Expired in the database, and gone from the sessions' cache, whose entries are kept only
    # for the session's age (cached_db): what the passing time does to both.
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    caches[settings.SESSION_CACHE_ALIAS].clear()
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
