"""/api/users/: read-only, scoped like the pages, for the user readers only."""

from django.test import Client

from accounts.tests.factories import MemberUnitFactory, UserFactory
from accounts.views import USER_READERS
from core.roles import Role

LIST = "/api/users/"
MARKER = "target-account"


def _target(township):
    return UserFactory(username=MARKER, jurisdiction=township, roles=[Role.MEMBER_UNIT],
                       member_unit=MemberUnitFactory(name="测试教育局", jurisdiction=township))


def test_list_is_scoped(scope_matrix, township):
    _target(township)
    scope_matrix.check_list(Client(), LIST, marker=f'"{MARKER}"', allowed_roles=USER_READERS)


def test_detail_is_scoped(scope_matrix, township):
    target = _target(township)
    scope_matrix.check_detail(Client(), f"{LIST}{target.pk}/", allowed_roles=USER_READERS)


def test_fields_and_no_secrets(tree, township):
    target = _target(township)
    client = Client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    data = client.get(f"{LIST}{target.pk}/").json()
    assert data == {"id": target.pk, "username": MARKER, "full_name": target.full_name,
                    "jurisdiction_code": township.code, "roles": ["member_unit"], "member_unit": "测试教育局",
                    "is_active": True}


def test_filter_by_role(tree, township):
    _target(township)
    UserFactory(username="police-one", jurisdiction=township, roles=[Role.POLICE])
    client = Client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.SECURITY_ADMIN]))
    names = {u["username"] for u in client.get(f"{LIST}?role=police").json()["results"]}
    assert names == {"police-one"}


def test_read_only(tree, township):
    target = _target(township)
    client = Client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN]))
    assert client.post(LIST, {"username": "x"}).status_code == 405
    assert client.patch(f"{LIST}{target.pk}/", {"full_name": "x"}, content_type="application/json").status_code == 405


def test_anonymous_gets_nothing(township):
    response = Client().get(LIST)
    assert response.status_code in (302, 401, 403)
    assert MARKER not in response.content.decode()


def test_query_count_does_not_grow_with_rows(tree, township, django_assert_max_num_queries):
    unit = MemberUnitFactory(jurisdiction=township)
    for number in range(60):
        UserFactory(username=f"bulk{number:02d}", jurisdiction=township, member_unit=unit,
                    roles=[Role.MEMBER_UNIT, Role.POLICE] if number % 2 else [Role.TOWNSHIP])
    client = Client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    client.get(LIST)
    # A fixed bound, whatever the rows: it includes the one SEARCH audit entry per list page
    # (on PostgreSQL one query more: the advisory lock of the audit chain).
    with django_assert_max_num_queries(17):
        response = client.get(LIST)
    assert len(response.json()["results"]) == 50


def test_api_reads_of_accounts_are_audited(tree, township):
    from core.models import AuditEntry

    target = UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP])
    client = Client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    client.get(f"/api/users/{target.pk}/")
    client.get(LIST, {"q": target.username})
    assert AuditEntry.objects.filter(action=AuditEntry.Action.VIEW, object_id=str(target.pk)).count() == 1
    search = AuditEntry.objects.filter(action=AuditEntry.Action.SEARCH).latest("seq")
    assert search.changes["criteria"] == {"q": target.username} and search.changes["results"] == 1
