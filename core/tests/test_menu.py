"""The menu bar is rendered once per process for each set of roles, active entry and language
(jindu/templates/base.html, {% cache %}): each user still sees exactly their own menu."""

import re

from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from core.roles import Role


def _menubar(client, url="/") -> str:
    body = client.get(url).content.decode()
    return re.search(r'<header class="navbar-expand-xl d-print-none app-menubar">.*?</header>', body, re.S).group(0)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_each_user_sees_the_menu_of_their_roles(tree):
    office = _client(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    police = _client(UserFactory(jurisdiction=tree["county"], roles=[Role.POLICE]))
    for _round in range(2):  # the second round comes from the cache
        office_menu, police_menu = _menubar(office), _menubar(police)
        assert reverse("persons:policy") in office_menu and reverse("persons:risk_model") in office_menu
        assert reverse("persons:policy") not in police_menu and reverse("persons:risk_model") not in police_menu
        assert reverse("persons:list") in police_menu and reverse("persons:list") in office_menu


def test_the_active_entry_follows_the_page(tree):
    office = _client(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    home, persons = _menubar(office), _menubar(office, reverse("persons:list"))
    assert home != persons
    assert _menubar(office) == home and _menubar(office, reverse("persons:list")) == persons
    assert re.search(r'<li class="nav-item active">\s*<a class="nav-link" href="/"', home)
    assert not re.search(r'<li class="nav-item active">\s*<a class="nav-link" href="/"', persons)


def test_the_language_is_part_of_the_key(tree):
    office = _client(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    chinese = _menubar(office)
    office.cookies["django_language"] = "en"
    english = _menubar(office)
    assert "Home" in english and "Home" not in chinese


def _user_menu(client) -> str:
    body = client.get("/").content.decode()
    return re.search(r'<div class="navbar-nav flex-row order-xl-last">.*?</form>', body, re.S).group(0)


def test_each_user_sees_their_own_name_area_and_roles_and_a_change_at_once(tree):
    """The user menu is kept per user: never another user's, and renewed when the user's
    version or roles change (accounts.services)."""
    from accounts import services

    first = UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE], full_name="王办公")
    second = UserFactory(jurisdiction=tree["townships"][0], roles=[Role.TOWNSHIP], full_name="李乡镇")
    clients = {user.pk: _client(user) for user in (first, second)}
    for _round in range(2):  # the second round comes from the cache
        mine, theirs = _user_menu(clients[first.pk]), _user_menu(clients[second.pk])
        assert "王办公" in mine and "李乡镇" not in mine and tree["county"].name in mine
        assert "李乡镇" in theirs and "王办公" not in theirs and tree["townships"][0].name in theirs
        assert "禁毒办" in mine and "乡镇" in theirs
    first.refresh_from_db()
    services.do_update_user(first, expected_version=first.version, acting_user=None, full_name="王新名")
    assert "王新名" in _user_menu(clients[first.pk])
    first.refresh_from_db()
    services.do_set_roles(first, [Role.OFFICE, Role.POLICE], expected_version=first.version, acting_user=None)
    assert "公安" in _user_menu(clients[first.pk])
    # The logout form carries the request's own CSRF token, outside the kept fragment.
    token = clients[first.pk].get("/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in token
