"""Passwords (issue 19, item 6): none containing the username, none of the last five; for the
user's own change, the first-login change and an administrator's reset."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import services
from accounts.models import PasswordHistory, User
from accounts.tests.factories import PASSWORD, UserFactory
from core.roles import Role

PASSWORDS = [f"Neu-Kennwort{n}!" for n in range(1, 8)]


@pytest.fixture
def zhang(township):
    return UserFactory(username="ZhangWei", jurisdiction=township, roles=[Role.TOWNSHIP])


@pytest.fixture
def sysadmin(tree):
    return UserFactory(jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN])


def _messages(error: ValidationError) -> str:
    return " ".join(error.messages)


@pytest.mark.parametrize("password", ["ZhangWei-2024", "x-zhangwei-9", "Pw!ZHANGWEI1"])
def test_a_password_containing_the_username_is_refused(zhang, sysadmin, password):
    with pytest.raises(ValidationError) as refused:
        services.do_change_own_password(zhang, PASSWORD, password)
    assert "密码不能包含用户名。" in _messages(refused.value)
    with pytest.raises(ValidationError):
        services.do_set_password(zhang, password, acting_user=sysadmin)
    with pytest.raises(ValidationError):
        services.do_create_user(username="zhangwei2", jurisdiction=zhang.jurisdiction, acting_user=None,
                                password=password.lower().replace("zhangwei", "zhangwei2"))


def test_the_last_five_passwords_are_refused(zhang):
    current = PASSWORD
    for new in PASSWORDS[:6]:
        services.do_change_own_password(zhang, current, new)
        current = new
    assert PasswordHistory.objects.filter(user=zhang).count() == 5
    # The current one and the four before it are refused, each with the same message …
    for old in PASSWORDS[1:5]:
        with pytest.raises(ValidationError) as refused:
            services.do_change_own_password(zhang, current, old)
        assert "新密码不能与最近 5 次使用过的密码相同。" in _messages(refused.value)
    # … the sixth back is allowed again, and a new one of course.
    services.do_change_own_password(zhang, current, PASSWORDS[0])
    services.do_change_own_password(zhang, PASSWORDS[0], PASSWORDS[6])


def test_an_administrators_reset_may_not_give_back_a_recent_password(zhang, sysadmin):
    services.do_change_own_password(zhang, PASSWORD, PASSWORDS[0])
    with pytest.raises(ValidationError):
        services.do_set_password(zhang, PASSWORDS[0], acting_user=sysadmin)
    services.do_set_password(zhang, PASSWORDS[1], acting_user=sysadmin)


def test_the_pages_say_why(client, zhang, sysadmin):
    services.do_change_own_password(zhang, PASSWORD, PASSWORDS[3])
    page = reverse("accounts:user_password", args=[zhang.pk])
    client.force_login(sysadmin)
    response = client.post(page, {"password": "Zhangwei-Reset1"})
    assert response.status_code == 400 and "密码不能包含用户名。" in response.content.decode()
    assert client.post(page, {"password": PASSWORDS[0]}).status_code == 302
    # The first-login change after the reset: the user's own password before it is refused.
    zhang = User.objects.get(pk=zhang.pk)
    client.force_login(zhang)
    response = client.post(reverse("accounts:password_change"), {
        "old_password": PASSWORDS[0], "new_password1": PASSWORDS[3], "new_password2": PASSWORDS[3]})
    assert response.status_code == 400 and "新密码不能与最近 5 次使用过的密码相同。" in response.content.decode()
    response = client.post(reverse("accounts:password_change"), {
        "old_password": PASSWORDS[0], "new_password1": PASSWORDS[2], "new_password2": PASSWORDS[2]})
    assert response.status_code == 302
    assert User.objects.get(pk=zhang.pk).check_password(PASSWORDS[2])
