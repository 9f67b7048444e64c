"""The security flows in Chromium: an administrator's second factor, and revealing one
masked value through htmx (CSRF header, audit entry)."""

import pyotp
import pytest

pytestmark = pytest.mark.browser


def _second_factor(page, username):
    from accounts.models import User

    assert page.url.endswith("/accounts/second-factor/")
    assert "绑定动态口令" in page.inner_text("body")
    secret = User.objects.get(username=username).totp_secret
    page.fill("#id_code", pyotp.TOTP(secret).now())
    page.click(".card-footer button[type=submit]")
    page.wait_for_load_state()


def test_admin_sets_up_second_factor_then_reveals_a_phone(log_in):
    from accounts.models import User
    from core.models import AuditEntry

    User.objects.filter(username="township").update(phone="13812345678")
    page = log_in("sysadmin")
    _second_factor(page, "sysadmin")
    township = User.objects.get(username="township")
    page.goto(f"/accounts/users/{township.pk}/")
    assert page.inner_text(".masked-value").startswith("138****5678")
    page.click(".masked-value button")
    page.wait_for_selector(".masked-value.revealed")
    assert page.inner_text(".masked-value") == "13812345678"
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL).get()
    assert entry.actor_username == "sysadmin" and entry.object_id == str(township.pk)


def test_second_login_asks_for_the_code(log_in):
    page = log_in("auditor")
    _second_factor(page, "auditor")
    page.click(".navbar .avatar")
    page.click("text=退出登录")
    page.wait_for_load_state()
    page = log_in("auditor")
    assert page.url.endswith("/accounts/login/code/")
    assert "请输入验证器上的动态口令" in page.inner_text("body")
