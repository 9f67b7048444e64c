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
