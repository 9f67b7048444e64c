"""Account pages: scoped lists and details, role-gated forms, and audited logins."""

import html

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import User
from accounts.tests.factories import PASSWORD, MemberUnitFactory, UserFactory
from accounts.views import USER_READERS
from core.models import AuditEntry
from core.roles import ALL_ROLES, Role

SYSTEM_ADMIN = frozenset({Role.SYSTEM_ADMIN})
SECURITY_ADMIN = frozenset({Role.SECURITY_ADMIN})
MEMBER_UNIT_READERS = frozenset({Role.SYSTEM_ADMIN, Role.OFFICE})
MARKER = "target-account"


@pytest.fixture
def target(township):
    return UserFactory(username=MARKER, full_name="目标用户", jurisdiction=township, roles=[Role.SOCIAL_WORKER])


@pytest.fixture
def client():
    return Client()


def _login(client, jurisdiction, *roles, **kwargs):
    user = UserFactory(jurisdiction=jurisdiction, roles=list(roles), **kwargs)
    client.force_login(user)
    return user


# --- scope ------------------------------------------------------------------------------------


def test_user_list_is_scoped(scope_matrix, target, client):
    scope_matrix.check_list(client, reverse("accounts:user_list"), marker=MARKER, allowed_roles=USER_READERS)


def test_user_detail_is_scoped(scope_matrix, target, client):
    scope_matrix.check_detail(client, reverse("accounts:user_detail", args=[target.pk]), allowed_roles=USER_READERS)


def test_user_edit_page_is_scoped_to_the_system_admin(scope_matrix, target, client):
    scope_matrix.check_detail(client, reverse("accounts:user_edit", args=[target.pk]), allowed_roles=SYSTEM_ADMIN)


def test_user_roles_page_is_scoped_to_the_security_admin(scope_matrix, target, client):
    scope_matrix.check_detail(client, reverse("accounts:user_roles", args=[target.pk]),
                              allowed_roles=SECURITY_ADMIN)


def test_member_unit_list_is_scoped(scope_matrix, township, client):
    MemberUnitFactory(name="目标成员单位", jurisdiction=township)
    scope_matrix.check_list(client, reverse("accounts:member_unit_list"), marker="目标成员单位",
                            allowed_roles=MEMBER_UNIT_READERS)


@pytest.mark.parametrize("url_name", ["accounts:user_create", "accounts:member_unit_create"])
@pytest.mark.parametrize("role", sorted(ALL_ROLES))
def test_create_pages_only_for_the_system_admin(tree, client, url_name, role):
    _login(client, tree["county"], role)
    assert client.get(reverse(url_name)).status_code == (200 if role == Role.SYSTEM_ADMIN else 403)


def test_pages_need_a_login(target, client):
    for url in (reverse("accounts:user_list"), reverse("accounts:user_detail", args=[target.pk]),
                reverse("accounts:user_create"), reverse("accounts:member_unit_list")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_actions_follow_the_role(tree, target, client):
    detail = reverse("accounts:user_detail", args=[target.pk])
    edit, roles = reverse("accounts:user_edit", args=[target.pk]), reverse("accounts:user_roles", args=[target.pk])
    _login(client, tree["county"], Role.SYSTEM_ADMIN)
    body = client.get(detail).content.decode()
    assert edit in body and roles not in body
    assert reverse("accounts:user_create") in client.get(reverse("accounts:user_list")).content.decode()
    _login(client, tree["county"], Role.SECURITY_ADMIN)
    body = client.get(detail).content.decode()
    assert roles in body and edit not in body
    assert reverse("accounts:user_create") not in client.get(reverse("accounts:user_list")).content.decode()


# --- create, edit, roles ----------------------------------------------------------------------


def test_create_user(tree, township, client):
    admin = _login(client, tree["county"], Role.SYSTEM_ADMIN)
    response = client.post(reverse("accounts:user_create"), {
        "username": "newworker", "full_name": "新社工", "phone": "", "jurisdiction": township.pk,
        "password": "Qz7!wlmk"})
    user = User.objects.get(username="newworker")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:user_detail", args=[user.pk])
    assert (user.jurisdiction, user.role_codes) == (township, frozenset())
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, actor=admin, object_id=str(user.pk)).exists()


def test_create_user_outside_the_area_is_refused(tree, client):
    _login(client, tree["townships"][0], Role.SYSTEM_ADMIN)
    response = client.post(reverse("accounts:user_create"), {
        "username": "outsider", "full_name": "外人", "jurisdiction": tree["townships"][1].pk, "password": "Qz7!wlmk"})
    assert response.status_code == 400
    assert "jurisdiction" in response.context["form"].errors
    assert not User.objects.filter(username="outsider").exists()


def test_create_user_with_a_weak_password_shows_the_error(tree, township, client):
    _login(client, tree["county"], Role.SYSTEM_ADMIN)
    response = client.post(reverse("accounts:user_create"), {
        "username": "weak", "full_name": "弱", "jurisdiction": township.pk, "password": "abcdefgh"})
    assert response.status_code == 400
    assert response.context["form"].errors
    assert not User.objects.filter(username="weak").exists()


def test_edit_user(tree, target, client):
    _login(client, tree["county"], Role.SYSTEM_ADMIN)
    url = reverse("accounts:user_edit", args=[target.pk])
    assert client.get(url).context["form"].initial["version"] == 1
    response = client.post(url, {"full_name": "改名", "phone": "", "jurisdiction": target.jurisdiction_id,
                                 "is_active": "on", "version": 1})
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.full_name, target.version, target.is_active) == ("改名", 2, True)


def test_edit_user_with_a_stale_version_shows_a_conflict(tree, target, client):
    _login(client, tree["county"], Role.SYSTEM_ADMIN)
    url = reverse("accounts:user_edit", args=[target.pk])
    data = {"full_name": "第一个", "phone": "", "jurisdiction": target.jurisdiction_id, "is_active": "on",
            "version": 1}
    assert client.post(url, data).status_code == 302
    response = client.post(url, {**data, "full_name": "第二个"})
    assert response.status_code == 409
    with translation.override("zh-hans"):
        message = gettext("This record was changed by someone else after you opened it. Reload it and apply "
                          "your change again.")
    assert html.escape(message) in response.content.decode()
    target.refresh_from_db()
    assert (target.full_name, target.version) == ("第一个", 2)


def test_grant_roles(tree, target, client):
    _login(client, tree["county"], Role.SECURITY_ADMIN)
    response = client.post(reverse("accounts:user_roles", args=[target.pk]),
                           {"roles": [Role.TOWNSHIP, Role.SOCIAL_WORKER], "version": 1})
    assert response.status_code == 302
    assert User.objects.get(pk=target.pk).role_codes == {Role.TOWNSHIP, Role.SOCIAL_WORKER}


def test_grant_roles_breaking_the_separation_of_duties(tree, target, client):
    _login(client, tree["county"], Role.SECURITY_ADMIN)
    response = client.post(reverse("accounts:user_roles", args=[target.pk]),
                           {"roles": [Role.SYSTEM_ADMIN, Role.OFFICE], "version": 1})
    assert response.status_code == 400
    assert response.context["form"].errors["roles"]
    assert User.objects.get(pk=target.pk).role_codes == {Role.SOCIAL_WORKER}


def test_own_roles_cannot_be_changed(tree, client):
    me = _login(client, tree["county"], Role.SECURITY_ADMIN)
    response = client.post(reverse("accounts:user_roles", args=[me.pk]), {"roles": [Role.OFFICE], "version": 1})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert User.objects.get(pk=me.pk).role_codes == {Role.SECURITY_ADMIN}


def test_create_member_unit(tree, client):
    _login(client, tree["county"], Role.SYSTEM_ADMIN)
    response = client.post(reverse("accounts:member_unit_create"),
                           {"name": "测试县教育局", "kind": "education", "jurisdiction": tree["county"].pk})
    assert response.status_code == 302
    assert tree["county"].member_units.filter(name="测试县教育局").exists()


# --- login, logout ----------------------------------------------------------------------------


def test_login_is_audited_with_the_address(township, client):
    user = UserFactory(username="zhang", jurisdiction=township, roles=[Role.TOWNSHIP])
    response = client.post(reverse("accounts:login"), {"username": "zhang", "password": PASSWORD},
                           REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action=AuditEntry.Action.LOGIN)
    assert (entry.actor, entry.ip_address, entry.actor_jurisdiction) == (user, "203.0.113.7", township.code)
    assert entry.request_id


def test_failed_login_is_audited_with_the_address_and_no_password(township, client):
    UserFactory(username="zhang", jurisdiction=township, roles=[Role.TOWNSHIP])
    response = client.post(reverse("accounts:login"), {"username": "zhang", "password": "Wrong-Passw0rd"},
                           REMOTE_ADDR="203.0.113.8")
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    entry = AuditEntry.objects.get(action=AuditEntry.Action.LOGIN_FAILED)
    assert (entry.actor, entry.object_repr, entry.ip_address) == (None, "zhang", "203.0.113.8")
    assert "Wrong-Passw0rd" not in str(entry.changes)


def test_logout_is_audited(township, client):
    user = _login(client, township, Role.TOWNSHIP)
    response = client.post(reverse("accounts:logout"), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action=AuditEntry.Action.LOGOUT)
    assert (entry.actor, entry.ip_address) == (user, "203.0.113.9")


def test_inactive_user_cannot_log_in(township, client):
    UserFactory(username="gone", jurisdiction=township, roles=[Role.TOWNSHIP], is_active=False)
    response = client.post(reverse("accounts:login"), {"username": "gone", "password": PASSWORD})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


# --- the administrators do not reach personal data --------------------------------------------


@pytest.mark.parametrize("role", sorted(ALL_ROLES))
def test_person_work_line_is_closed_to_admins(tree, client, role):
    _login(client, tree["county"], role)
    status = client.get(reverse("core:work_line", args=["persons"])).status_code
    personal = role not in {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN}
    assert status == (200 if personal else 403)


# --- query counts -----------------------------------------------------------------------------


def test_user_list_query_count_does_not_grow_with_rows(tree, township, client, django_assert_max_num_queries):
    unit = MemberUnitFactory(jurisdiction=tree["county"])
    for number in range(60):
        UserFactory(username=f"bulk{number:02d}", jurisdiction=township, member_unit=unit,
                    roles=[Role.MEMBER_UNIT] if number % 2 else [Role.TOWNSHIP, Role.SOCIAL_WORKER])
    _login(client, tree["county"], Role.OFFICE)
    url = reverse("accounts:user_list")
    client.get(url)
    with django_assert_max_num_queries(15):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == 50
