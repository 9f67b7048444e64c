"""Login and session policy, lock-out, second factor, encrypted and masked phone numbers."""

import datetime

import pyotp
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import LoginFailure, SecurityPolicy, User
from accounts.tests.factories import PASSWORD, UserFactory
from core import crypto
from core.models import AuditEntry
from core.roles import Role

LOGIN = "/accounts/login/"


def _login(client, username, password=PASSWORD, ip="10.1.2.3"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.fixture
def office(township):
    return UserFactory(username="zhang", jurisdiction=township, roles=[Role.OFFICE])


# --- lock-out -------------------------------------------------------------------------------


def test_six_failed_logins_lock_the_account_and_the_lock_is_audited(client, office):
    for _ in range(5):
        assert _login(client, "zhang", "wrong-Password1").status_code == 200
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOCKOUT).count() == 1
    lock = AuditEntry.objects.get(action=AuditEntry.Action.LOCKOUT)
    assert lock.object_repr == "zhang" and lock.ip_address == "10.1.2.3"
    response = _login(client, "zhang", "wrong-Password1")  # the sixth
    assert "锁定" in response.content.decode()
    # Even the right password is refused while the lock lasts …
    response = _login(client, "zhang")
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOCKOUT).count() == 1
    # … and works once the 15 minutes have passed.
    LoginFailure.objects.update(at=timezone.now() - datetime.timedelta(minutes=16))
    assert _login(client, "zhang").status_code == 302
    assert not LoginFailure.objects.filter(username="zhang").exists()


def test_lock_per_address_across_usernames(client, office):
    for n in range(20):
        _login(client, f"guess{n}", "wrong-Password1", ip="10.9.9.9")
    assert _login(client, "zhang", ip="10.9.9.9").status_code == 200  # the address is locked
    assert _login(client, "zhang", ip="10.1.1.1").status_code == 302  # another address is not


def test_policy_changes_the_threshold(client, office, tree):
    secadmin = UserFactory(jurisdiction=tree["county"], roles=[Role.SECURITY_ADMIN])
    services.do_update_policy(expected_version=1, acting_user=secadmin, max_failures=3, max_failures_per_ip=3)
    for _ in range(3):
        _login(client, "zhang", "wrong-Password1")
    assert services.lockout_until("zhang", "10.1.2.3") is not None


# --- password policy ------------------------------------------------------------------------


@pytest.mark.parametrize(("password", "ok"), [
    ("Short1!", False), ("alllowercase1", False), ("ALLUPPER-ONLY", False), ("Lower-and-UPPER", True),
    ("abc12345!", True), ("Jindu-Xq7", True),
])
def test_password_policy(db, password, ok):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)


def test_policy_floor_cannot_be_lowered_and_changes_are_audited(tree):
    from django.core.exceptions import ValidationError

    secadmin = UserFactory(jurisdiction=tree["county"], roles=[Role.SECURITY_ADMIN])
    with pytest.raises(ValidationError):
        services.do_update_policy(expected_version=1, acting_user=secadmin, min_password_length=6)
    with pytest.raises(ValidationError):
        services.do_update_policy(expected_version=1, acting_user=secadmin, idle_timeout_minutes=120)
    services.do_update_policy(expected_version=1, acting_user=secadmin, min_password_length=12)
    assert SecurityPolicy.current().min_password_length == 12
    entry = AuditEntry.objects.get(action=AuditEntry.Action.POLICY)
    assert entry.changes == {"min_password_length": [8, 12]}
    with pytest.raises(services.NotAllowed):
        services.do_update_policy(expected_version=2, acting_user=UserFactory(
            jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN]), min_password_length=10)


def test_policy_page_for_the_security_admin(client, tree, scope_matrix):
    scope_matrix.check_detail(client, reverse("accounts:policy"), allowed_roles={Role.SECURITY_ADMIN},
                              positions={"in_scope", "sibling", "above", "other"})
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.SECURITY_ADMIN]))
    data = {"min_password_length": 10, "min_character_classes": 3, "max_failures": 5, "max_failures_per_ip": 5,
            "lockout_minutes": 15, "idle_timeout_minutes": 20, "password_max_age_days": 90, "version": 1}
    assert client.post(reverse("accounts:policy"), data).status_code == 302
    assert SecurityPolicy.current().idle_timeout_minutes == 20
    # A stale form (version 1 again) is refused instead of overwriting.
    response = client.post(reverse("accounts:policy"), data | {"idle_timeout_minutes": 25})
    assert response.status_code == 409 and SecurityPolicy.current().idle_timeout_minutes == 20


# --- forced password change and session time-out -------------------------------------------


def test_password_set_by_an_administrator_must_be_changed_first(client, township):
    user = UserFactory(username="li", jurisdiction=township, roles=[Role.TOWNSHIP], password_changed_at=None)
    assert _login(client, "li").status_code == 302
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_change")
    response = client.post(reverse("accounts:password_change"), {
        "old_password": PASSWORD, "new_password1": "Brand-new-Pass9", "new_password2": "Brand-new-Pass9"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    user.refresh_from_db()
    assert user.password_changed_at is not None and user.check_password("Brand-new-Pass9")


def test_expired_password_must_be_changed(client, office):
    User.objects.filter(pk=office.pk).update(password_changed_at=timezone.now() - datetime.timedelta(days=91))
    client.force_login(office)
    assert client.get("/")["Location"] == reverse("accounts:password_change")


def test_idle_timeout_follows_the_policy(client, office):
    client.force_login(office)
    client.get("/")
    assert client.session.get_expiry_age() == 30 * 60


# --- second factor --------------------------------------------------------------------------


def test_administrator_sets_up_the_second_factor_then_needs_it_to_log_in(client, tree):
    admin = UserFactory(username="sys", jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN])
    User.objects.filter(pk=admin.pk).update(totp_secret="", totp_confirmed_at=None)
    assert _login(client, "sys").status_code == 302
    assert client.get(reverse("accounts:user_list"))["Location"] == reverse("accounts:totp_setup")
    page = client.get(reverse("accounts:totp_setup"))
    assert page.status_code == 200 and "data:image/svg+xml" in page.content.decode()
    secret = User.objects.get(pk=admin.pk).totp_secret
    assert client.post(reverse("accounts:totp_setup"), {"code": "000000"}).status_code == 400
    assert client.post(reverse("accounts:totp_setup"), {"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert client.get(reverse("accounts:user_list")).status_code == 200
    client.logout()
    # From now on the password alone does not log in.
    response = _login(client, "sys")
    assert response["Location"] == reverse("accounts:login_totp") and "_auth_user_id" not in client.session
    assert client.post(reverse("accounts:login_totp"), {"code": "123456"}).status_code == 400
    assert LoginFailure.objects.filter(username="sys").count() == 1
    # The setup took the current step's code; the next step's is accepted (a clock a step ahead).
    code = pyotp.TOTP(secret).at(timezone.now() + datetime.timedelta(seconds=30))
    assert client.post(reverse("accounts:login_totp"), {"code": code}).status_code == 302
    assert client.get(reverse("accounts:user_list")).status_code == 200


def _pending_totp_session(username):
    from django.test import Client

    session = Client()
    assert _login(session, username)["Location"] == reverse("accounts:login_totp")
    return session


def test_a_code_is_accepted_once(db, tree):
    """The same code logged in two sessions (1 replay accepted); now the second is refused, and
    so is a code of an earlier step than the last accepted."""
    admin = UserFactory(username="sys", jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN])
    totp = pyotp.TOTP(admin.totp_secret)
    first, second, third = (_pending_totp_session("sys") for _ in range(3))
    code = totp.now()
    assert first.post(reverse("accounts:login_totp"), {"code": code}).status_code == 302
    replayed = second.post(reverse("accounts:login_totp"), {"code": code})
    assert replayed.status_code == 400 and "_auth_user_id" not in second.session
    assert "动态口令" in replayed.content.decode()
    # A later step's code (the clock a step ahead) moves the mark; the code before it is spent.
    later = totp.at(timezone.now() + datetime.timedelta(seconds=30))
    assert third.post(reverse("accounts:login_totp"), {"code": later}).status_code == 302
    fourth = _pending_totp_session("sys")
    earlier = totp.at(timezone.now() - datetime.timedelta(seconds=30))
    assert fourth.post(reverse("accounts:login_totp"), {"code": earlier}).status_code == 400
    assert not services.use_totp_code(User.objects.get(pk=admin.pk), code)


def test_the_setup_code_does_not_log_in(client, tree):
    admin = UserFactory(username="sys", jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN])
    User.objects.filter(pk=admin.pk).update(totp_secret="", totp_confirmed_at=None)
    _login(client, "sys")
    client.get(reverse("accounts:totp_setup"))
    code = pyotp.TOTP(User.objects.get(pk=admin.pk).totp_secret).now()
    assert client.post(reverse("accounts:totp_setup"), {"code": code}).status_code == 302
    client.logout()
    assert _login(client, "sys")["Location"] == reverse("accounts:login_totp")
    assert client.post(reverse("accounts:login_totp"), {"code": code}).status_code == 400


def test_business_users_need_no_second_factor_unless_the_policy_says_so(client, office, tree):
    client.force_login(office)
    assert client.get("/").status_code == 200
    SecurityPolicy.objects.create(pk=1, require_totp_for_all=True)
    assert client.get("/")["Location"] == reverse("accounts:totp_setup")


def test_security_admin_resets_a_lost_second_factor(client, tree):
    admin = UserFactory(jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN])
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.SECURITY_ADMIN]))
    assert client.post(reverse("accounts:user_totp_reset", args=[admin.pk])).status_code == 302
    admin.refresh_from_db()
    assert admin.totp_confirmed_at is None and admin.totp_secret == ""
    assert AuditEntry.objects.filter(action=AuditEntry.Action.PERMISSION, object_id=str(admin.pk)).exists()


# --- encryption at rest, masking and reveal -------------------------------------------------


def test_phone_is_encrypted_in_the_table(office):
    User.objects.filter(pk=office.pk).update(phone="13812345678")
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [office.pk])
        raw = cursor.fetchone()[0]
    assert "13812345678" not in raw and raw.startswith("sm4gcm:")
    assert User.objects.get(pk=office.pk).phone == "13812345678"


def test_phone_is_masked_and_revealed_one_at_a_time_with_audit(client, office, tree):
    User.objects.filter(pk=office.pk).update(phone="13812345678")
    sysadmin = UserFactory(jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN])
    client.force_login(sysadmin)
    page = client.get(reverse("accounts:user_detail", args=[office.pk])).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    url = reverse("core:reveal", args=["accounts.User", office.pk, "phone"])
    response = client.post(url)
    assert response.status_code == 200 and "13812345678" in response.content.decode()
    reveal = AuditEntry.objects.get(action=AuditEntry.Action.REVEAL)
    assert reveal.actor == sysadmin and reveal.changes == {"field": "phone"}
    assert "13812345678" not in str(reveal.changes)
    # The office may open the account but not reveal the phone.
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    page = client.get(reverse("accounts:user_detail", args=[office.pk])).content.decode()
    assert "138****5678" in page and url not in page
    assert client.post(url).status_code == 403


def test_reveal_respects_the_scope(client, office, tree):
    User.objects.filter(pk=office.pk).update(phone="13812345678")
    client.force_login(UserFactory(jurisdiction=tree["other_county"], roles=[Role.SYSTEM_ADMIN]))
    assert client.post(reverse("core:reveal", args=["accounts.User", office.pk, "phone"])).status_code == 404
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL).exists()


def test_opening_an_account_writes_exactly_one_read_entry(client, office, tree):
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    before = AuditEntry.objects.filter(action=AuditEntry.Action.VIEW).count()
    client.get(reverse("accounts:user_detail", args=[office.pk]))
    views = AuditEntry.objects.filter(action=AuditEntry.Action.VIEW)
    assert views.count() == before + 1 and views.first().object_id == str(office.pk)


def test_searches_are_audited_with_their_result_count(client, office, tree):
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    client.get(reverse("accounts:user_list"), {"q": "zhang"})
    entry = AuditEntry.objects.get(action=AuditEntry.Action.SEARCH)
    assert entry.changes == {"criteria": {"q": "zhang"}, "page": 1, "rows": 1, "results": 1}


def test_keys_rotate_reencrypts_without_losing_a_row(office, township, tmp_path, settings, monkeypatch):
    monkeypatch.delenv("JINDU_FIELD_KEY", raising=False)
    settings.DATA_DIR = tmp_path
    crypto.create_key_file()
    phones = {}
    for n in range(5):
        user = UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP])
        User.objects.filter(pk=user.pk).update(phone=f"1390000000{n}")
        phones[user.pk] = f"1390000000{n}"
    old_key = crypto.keyring()[0].key_id
    call_command("keys", "rotate")
    new_key = crypto.keyring()[0].key_id
    assert new_key != old_key
    from core.management.commands.keys import key_ids_in_use

    assert set(key_ids_in_use()) == {new_key}
    for pk, phone in phones.items():
        assert User.objects.get(pk=pk).phone == phone
    assert not (tmp_path / "field_key.old").exists()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.SYSTEM, object_repr="field key rotation").exists()
    crypto.reset_keyring()


def test_idle_timeout_is_renewed_at_most_once_a_minute():
    from django.contrib.sessions.backends.signed_cookies import SessionStore

    from accounts.middleware import renew_session

    session = SessionStore()
    assert renew_session(session, 1800, now=1_000_000)
    assert session.get_expiry_age() == 1800
    session.modified = False
    assert not renew_session(session, 1800, now=1_000_059)  # a page a second later: no write
    assert not session.modified
    assert renew_session(session, 1800, now=1_000_060)  # a minute on: the time-out starts again
    session.modified = False
    assert renew_session(session, 1200, now=1_000_061)  # the policy changed: at once
    assert session.get_expiry_age() == 1200


def test_pages_within_a_minute_write_no_session(client, office):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(office)
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]


def test_the_policy_is_read_once_for_many_requests_and_again_when_changed(client, office, tree):
    client.force_login(office)
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    assert not [q for q in queries.captured_queries if "accounts_securitypolicy" in q["sql"]]
    SecurityPolicy.objects.create(pk=1, idle_timeout_minutes=7)  # saved in this process: counts at once
    assert SecurityPolicy.current().idle_timeout_minutes == 7
    SecurityPolicy.objects.filter(pk=1).update(idle_timeout_minutes=9)  # as another process would
    assert SecurityPolicy.current().idle_timeout_minutes == 7
    policy, read_at = SecurityPolicy._cached
    SecurityPolicy._cached = (policy, read_at - SecurityPolicy.CACHE_SECONDS)
    assert SecurityPolicy.current().idle_timeout_minutes == 9  # read again once the seconds are past
    SecurityPolicy.objects.filter(pk=1).update(idle_timeout_minutes=11)
    assert SecurityPolicy.current(fresh=True).idle_timeout_minutes == 11  # the policy form's read
    changed = SecurityPolicy.current()
    changed.idle_timeout_minutes = 1  # what a form does to its instance stays with it
    assert SecurityPolicy.current().idle_timeout_minutes == 11
