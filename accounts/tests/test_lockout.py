"""Lock-out per account and per address (issue 19, item 6): one user's failures lock that
account only; an address is locked by guessing across names; the client address comes from
the proxy only when the proxy is configured; the lock-out length has a ceiling."""

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from accounts import services
from accounts.forms import SecurityPolicyForm
from accounts.models import SecurityPolicy
from accounts.tests.factories import PASSWORD, UserFactory
from core.middleware import client_ip
from core.models import AuditEntry
from core.roles import Role

LOGIN = "/accounts/login/"
OFFICE_ADDRESS = "10.20.30.40"


def _login(client, username, password=PASSWORD, ip=OFFICE_ADDRESS, **headers):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **headers)


@pytest.fixture
def office_users(tree, township):
    return {
        "police": UserFactory(username="police", jurisdiction=township, roles=[Role.POLICE]),
        "office": UserFactory(username="office", jurisdiction=tree["county"], roles=[Role.OFFICE]),
        "auditor": UserFactory(username="auditor", jurisdiction=tree["county"], roles=[Role.AUDIT_ADMIN]),
    }


def _locked(names, ip=OFFICE_ADDRESS):
    return sorted(name for name in names if services.lockout_until(name, ip) is not None)


def test_one_accounts_failures_lock_that_account_only(client, office_users):
    """The attack of the issue: five wrong passwords for police from the office's one address
    locked police, office and auditor (3 accounts); now police alone."""
    for _ in range(5):
        _login(client, "police", "wrong-Password1")
    assert _locked(office_users) == ["police"]
    assert _login(client, "office").status_code == 302  # the right password works for the others
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOCKOUT).count() == 1
    # Twenty failures of that one account still lock nobody else.
    for _ in range(20):
        _login(client, "police", "wrong-Password1")
    assert _locked(office_users) == ["police"]


def test_an_address_is_locked_by_failures_across_names(client, office_users, tree):
    secadmin = UserFactory(jurisdiction=tree["county"], roles=[Role.SECURITY_ADMIN])
    services.do_update_policy(expected_version=1, acting_user=secadmin, max_failures=10)
    # 20 failures over two names (each then locked on its own) do not lock the address …
    for n in range(20):
        _login(client, ["police", "nobody"][n % 2], "wrong-Password1")
    assert _locked(office_users) == ["police"]
    # … failures over three names or more do: guessing across accounts and unknown names.
    _login(client, "guess", "wrong-Password1")
    assert _locked(office_users) == ["auditor", "office", "police"]
    assert services.lockout_until("office", "10.99.0.1") is None  # another address is not locked


def test_the_address_count_is_the_policys(client, office_users, tree):
    secadmin = UserFactory(jurisdiction=tree["county"], roles=[Role.SECURITY_ADMIN])
    services.do_update_policy(expected_version=1, acting_user=secadmin, max_failures_per_ip=6)
    for n in range(6):
        _login(client, f"guess{n % 3}", "wrong-Password1")
    assert _locked(office_users) == ["auditor", "office", "police"]


# --- the client address ------------------------------------------------------------------------


def _request(remote, **headers):
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


def test_proxy_headers_are_ignored_without_configured_proxies(settings):
    settings.JINDU_TRUSTED_PROXIES = frozenset()
    request = _request("127.0.0.1", HTTP_X_FORWARDED_FOR="10.0.0.5", HTTP_X_REAL_IP="10.0.0.6")
    assert client_ip(request) == "127.0.0.1"


def test_the_client_address_comes_from_a_configured_proxy(settings):
    settings.JINDU_TRUSTED_PROXIES = frozenset({"127.0.0.1"})
    # nginx appends the address it saw; what the client wrote in front of it is not believed.
    assert client_ip(_request("127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.5")) == "10.0.0.5"
    assert client_ip(_request("127.0.0.1", HTTP_X_REAL_IP="10.0.0.6")) == "10.0.0.6"
    assert client_ip(_request("127.0.0.1", HTTP_X_FORWARDED_FOR="junk")) == "127.0.0.1"
    # Another machine connecting directly cannot choose its address.
    assert client_ip(_request("10.9.9.9", HTTP_X_FORWARDED_FOR="10.0.0.5")) == "10.9.9.9"


def test_behind_the_proxy_each_user_has_their_own_address(client, office_users, settings):
    """Behind nginx every user had nginx's address; with the proxy configured, failures from
    three machines of the office count per machine, and the audit shows the real address."""
    settings.JINDU_TRUSTED_PROXIES = frozenset({"127.0.0.1"})
    for n in range(21):
        _login(client, f"guess{n % 3}", "wrong-Password1", ip="127.0.0.1",
               HTTP_X_FORWARDED_FOR=f"10.0.0.{n % 3 + 1}")
    assert _locked(office_users, ip="127.0.0.1") == []
    assert _login(client, "office", ip="127.0.0.1", HTTP_X_FORWARDED_FOR="10.0.0.1").status_code == 302
    failed = AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN_FAILED)
    assert set(failed.values_list("ip_address", flat=True)) == {"10.0.0.1", "10.0.0.2", "10.0.0.3"}


# --- the lock-out length's ceiling -------------------------------------------------------------


def test_lockout_minutes_have_a_ceiling(db, tree):
    """65,535 minutes (45 days) was accepted."""
    secadmin = UserFactory(jurisdiction=tree["county"], roles=[Role.SECURITY_ADMIN])
    with pytest.raises(ValidationError) as refused:
        services.do_update_policy(expected_version=1, acting_user=secadmin, lockout_minutes=65535)
    assert "1440" in str(refused.value)
    policy = SecurityPolicy.current(fresh=True)
    data = {name: getattr(policy, name) for name in SecurityPolicyForm.Meta.fields} | {
        "version": policy.version, "lockout_minutes": 65535}
    form = SecurityPolicyForm(data, instance=policy)
    assert not form.is_valid()
    assert form.errors["lockout_minutes"] == ["不能超过 1440 分钟（一天）。"]
    services.do_update_policy(expected_version=1, acting_user=secadmin, lockout_minutes=1440)
    assert SecurityPolicy.current(fresh=True).lockout_minutes == 1440


def test_the_policy_page_says_how_an_address_is_locked(client, tree):
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.SECURITY_ADMIN]))
    page = client.get("/accounts/policy/").content.decode()
    assert "至少 3 个不同的用户名时才锁定该地址" in page and "最多 1440（一天）。" in page
