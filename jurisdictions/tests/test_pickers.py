"""Jurisdiction pickers (issue 20): on the user form and the filter forms each place shows under
its parent ("青山镇 / 东风村") and the select is searchable (data-picker, jindu/static/jindu/
picker.js). Before, the user form listed bare names (two 东风村 could not be told apart) and no
picker could be searched."""

import re

from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from core.roles import Role


def _select(html: str, name: str) -> str:
    return re.search(rf'<select name="{name}"[^>]*>.*?</select>', html, re.S).group(0)


def test_the_user_form_names_each_place_under_its_parent_and_can_be_searched(tree):
    client = Client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN]))
    select = _select(client.get(reverse("accounts:user_create")).content.decode(), "jurisdiction")
    assert "data-picker" in select and 'data-picker-placeholder="输入名称筛选"' in select
    village = tree["villages"][0]
    assert f">{village.parent.name} / {village.name}</option>" in select


def test_the_person_filter_names_villages_under_their_township(tree):
    client = Client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    select = _select(client.get(reverse("persons:list")).content.decode(), "area")
    village = tree["villages"][0]
    assert "data-picker" in select and f">{village.parent.name} / {village.name}</option>" in select


def test_the_office_entry_forms_name_places_under_their_parent(tree):
    client = Client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    select = _select(client.get(reverse("monitoring:threshold_edit")).content.decode(), "jurisdiction")
    township = tree["townships"][0]
    assert "data-picker" in select and f">{tree['county'].name} / {township.name}</option>" in select
