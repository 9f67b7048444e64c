"""Reads of personal data leave a trace and show no more than the person page (issue 19, item 2):
the edit form is an audited read that shows the phone and the family contacts' numbers masked,
every list page is audited with its page and rows, a page holds at most the ceiling's rows, and
no answer holding personal data may be kept by a cache."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from core.masking import mask_name
from core.models import AuditEntry
from core.roles import Role
from persons.forms import PersonEditForm
from persons.models import Person
from persons.tests import people

PHONE = "13912345678"
CONTACTS = "母亲 王芳 13987654321；哥哥 李强 13800001111"


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def village(tree):
    return tree["villages"][0]


@pytest.fixture
def target(village):
    return people.under_treatment(village, name="目标人员", phone=PHONE, family_contacts=CONTACTS)


def _login(client, jurisdiction, *roles):
    user = UserFactory(jurisdiction=jurisdiction, roles=list(roles))
    client.force_login(user)
    return user


def _views_of(person) -> int:
    return AuditEntry.objects.filter(action=AuditEntry.Action.VIEW, object_type="persons.Person",
                                     object_id=str(person.pk)).count()


# --- the edit form ---------------------------------------------------------------------------------


def _form_data(client, url) -> dict:
    """What the browser posts back when the user changes nothing."""
    form = client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(jurisdiction=form.initial["jurisdiction"], grid="", assigned_worker="", substances=[])
    return {k: v for k, v in data.items() if not isinstance(v, bool) or v}


def test_opening_the_edit_form_is_an_audited_read_of_masked_values(target, township, client):
    user = _login(client, township, Role.TOWNSHIP)
    before = _views_of(target)
    response = client.get(reverse("persons:edit", args=[target.pk]))
    assert response.status_code == 200
    assert _views_of(target) == before + 1
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.VIEW).latest("seq")
    assert (entry.actor_id, entry.object_repr) == (user.pk, mask_name(target.name))  # the auditor reads no names
    body = response.content.decode()
    for number in (PHONE, "13987654321", "13800001111"):
        assert number not in body
    assert 'value="139****5678"' in body
    assert "母亲 王芳 139****4321；哥哥 李强 138****1111" in body
    # A role that may reveal sees the audited reveal button beside each masked input, as on the page.
    for field in ("phone", "family_contacts"):
        assert reverse("core:reveal", args=["persons.Person", target.pk, field]) in body


def test_the_family_contacts_are_revealed_one_record_at_a_time_and_audited(target, township, client):
    _login(client, township, Role.TOWNSHIP)
    response = client.post(reverse("core:reveal", args=["persons.Person", target.pk, "family_contacts"]))
    assert response.status_code == 200 and CONTACTS in response.content.decode()
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL).latest("seq")
    assert entry.changes == {"field": "family_contacts"}


def test_masked_values_left_as_shown_keep_the_stored_ones(target, township, client):
    _login(client, township, Role.TOWNSHIP)
    url = reverse("persons:edit", args=[target.pk])
    data = _form_data(client, url)
    assert data["phone"] == "139****5678"
    assert client.post(url, data | {"current_address": "新地址1号"}).status_code == 302
    target.refresh_from_db()
    assert (target.current_address, target.phone, target.family_contacts) == ("新地址1号", PHONE, CONTACTS)
    # The words around a masked number may change; the number stays the stored one.
    data = _form_data(client, url)
    data["family_contacts"] = data["family_contacts"].replace("哥哥", "弟弟")
    assert client.post(url, data).status_code == 302
    target.refresh_from_db()
    assert target.family_contacts == "母亲 王芳 13987654321；弟弟 李强 13800001111"


def test_a_value_typed_over_the_mask_is_saved(target, township, client):
    _login(client, township, Role.TOWNSHIP)
    url = reverse("persons:edit", args=[target.pk])
    data = _form_data(client, url)
    assert client.post(url, data | {"phone": "13700002222", "family_contacts": "妻子 13600003333"}).status_code == 302
    target.refresh_from_db()
    assert (target.phone, target.family_contacts) == ("13700002222", "妻子 13600003333")
    data = _form_data(client, url)
    assert client.post(url, data | {"phone": ""}).status_code == 302
    target.refresh_from_db()
    assert target.phone == ""


@pytest.mark.parametrize("field, value", [("phone", "139****5679"), ("phone", "139***5678"),
                                          ("family_contacts", "母亲 王芳 139****4322")])
def test_masked_text_is_never_saved_over_the_number(target, township, client, field, value):
    _login(client, township, Role.TOWNSHIP)
    url = reverse("persons:edit", args=[target.pk])
    data = _form_data(client, url) | {field: value, "current_address": "不应保存"}
    response = client.post(url, data)
    assert response.status_code == 400
    assert "号码已脱敏" in response.content.decode()
    target.refresh_from_db()
    assert (target.phone, target.family_contacts) == (PHONE, CONTACTS)
    assert target.current_address != "不应保存"


def test_a_stale_edit_still_answers_409(target, township, client):
    _login(client, township, Role.TOWNSHIP)
    url = reverse("persons:edit", args=[target.pk])
    data = _form_data(client, url)
    assert client.post(url, data | {"current_address": "第一次"}).status_code == 302
    response = client.post(url, data | {"current_address": "第二次"})
    assert response.status_code == 409
    target.refresh_from_db()
    assert (target.current_address, target.phone) == ("第一次", PHONE)


def test_a_role_without_the_reveal_right_gets_the_masks_and_no_reveal_button(target, township, monkeypatch):
    """Every role that edits files may reveal today; the form follows Person.masked_fields, so a
    writer without the right would get the masks and no button."""
    user = UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP])
    monkeypatch.setattr(Person, "masked_fields", {
        name: (mask, frozenset({Role.OFFICE})) for name, (mask, _roles) in Person.masked_fields.items()})
    form = PersonEditForm(acting_user=user, person=target)
    assert form.revealable == []
    assert form.initial["phone"] == "139****5678" and PHONE not in form.initial["family_contacts"]


def test_the_account_edit_form_is_an_audited_read_with_the_phone_masked(tree, township, client):
    """The staff's phones are masked on the account page too (User.masked_fields); its edit form
    follows the same rule."""
    account = UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP], phone=PHONE)
    _login(client, tree["county"], Role.SYSTEM_ADMIN)
    url = reverse("accounts:user_edit", args=[account.pk])
    response = client.get(url)
    assert PHONE not in response.content.decode() and 'value="139****5678"' in response.content.decode()
    assert reverse("core:reveal", args=["accounts.User", account.pk, "phone"]) in response.content.decode()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.VIEW, object_id=str(account.pk)).count() == 1
    data = {"full_name": "改名", "phone": "139****5678", "jurisdiction": township.pk, "is_active": "on",
            "version": response.context["form"].initial["version"]}
    assert client.post(url, data).status_code == 302
    account.refresh_from_db()
    assert (account.full_name, account.phone) == ("改名", PHONE)
    assert client.post(url, data | {"phone": "139****0000", "version": account.version}).status_code == 400
    account.refresh_from_db()
    assert account.phone == PHONE


# --- the lists: every page audited, a page at most JINDU_MAX_PAGE_SIZE rows -----------------------


def _searches():
    return AuditEntry.objects.filter(action=AuditEntry.Action.SEARCH).order_by("seq")


@pytest.fixture
def crowd(village):
    """Seven persons in one village."""
    return [people.person(village, name=f"人员{n}") for n in range(7)]


def test_the_page_size_ceiling_is_100_by_default(settings):
    from jindu import settings as project_settings

    assert project_settings.JINDU_MAX_PAGE_SIZE == 100


@pytest.mark.parametrize("per_page", ["100000", "0", "-5"])
def test_a_page_holds_at_most_the_ceiling_and_every_page_is_audited(crowd, township, client, settings, per_page):
    settings.JINDU_MAX_PAGE_SIZE = 3
    user = _login(client, township, Role.TOWNSHIP)
    response = client.get(reverse("persons:list"), {"per_page": per_page, "page": "2"})
    assert response.status_code == 200
    shown = len(response.context["table"].page.object_list)
    assert shown == {"100000": 3, "0": 3, "-5": 1}[per_page]  # 0 is django-tables2's default, capped
    [entry] = _searches()
    assert entry.actor_id == user.pk and entry.object_repr == str(Person._meta.verbose_name_plural)
    assert entry.changes == {"criteria": {}, "page": 2, "rows": shown, "results": 7}


def test_the_plain_list_is_audited_like_a_search(crowd, township, client):
    _login(client, township, Role.TOWNSHIP)
    client.get(reverse("persons:list"))
    client.get(reverse("persons:list"), {"q": "人员", "sort": "name"})
    assert [e.changes for e in _searches()] == [
        {"criteria": {}, "page": 1, "rows": 7, "results": 7},
        {"criteria": {"q": "人*"}, "page": 1, "rows": 7, "results": 7}]  # the name searched masked


def test_the_api_list_holds_at_most_the_ceiling_and_audits_its_page(crowd, township, client, monkeypatch):
    from rest_framework.pagination import PageNumberPagination

    monkeypatch.setattr(PageNumberPagination, "page_size", 5)
    _login(client, township, Role.TOWNSHIP)
    answer = client.get("/api/persons/", {"page_size": "100000", "per_page": "100000", "page": "2"}).json()
    assert answer["count"] == 7 and len(answer["results"]) == 2
    [entry] = _searches()
    assert entry.changes == {"criteria": {"page_size": "100000", "per_page": "100000"}, "page": 2, "rows": 2,
                             "results": 7}


def test_the_api_page_size_is_within_the_ceiling():
    from django.conf import settings

    assert settings.REST_FRAMEWORK["PAGE_SIZE"] <= settings.JINDU_MAX_PAGE_SIZE


def test_the_user_list_is_audited_page_by_page(tree, client):
    _login(client, tree["county"], Role.SYSTEM_ADMIN)
    client.get(reverse("accounts:user_list"))
    [entry] = _searches()
    assert entry.changes["criteria"] == {} and entry.changes["rows"] == entry.changes["results"] >= 1


def test_the_today_list_and_the_home_page_audit_the_persons_they_name(village, township, client):
    people.under_treatment(village, name="逾期人员")
    user = _login(client, township, Role.TOWNSHIP)
    for url in (reverse("persons:today"), "/"):
        response = client.get(url)
        assert "逾期人员" in response.content.decode()
    entries = list(_searches())
    assert len(entries) == 2 and {e.actor_id for e in entries} == {user.pk}
    assert all(e.changes["rows"] >= 1 and e.changes["results"] >= e.changes["rows"] for e in entries)


def test_the_alert_centre_audits_its_lines_naming_persons(village, township, tree, client):
    people.under_treatment(village, name="逾期人员")
    _login(client, township, Role.TOWNSHIP)
    body = client.get(reverse("monitoring:alerts"), {"period": "2026-01"}).content.decode()
    assert "逾期人员" in body
    [entry] = _searches()
    assert entry.changes["criteria"] == {"period": "2026-01"} and entry.changes["rows"] >= 1
    # The leadership sees counts only: nothing personal read, nothing to audit.
    _login(client, tree["county"], Role.LEADERSHIP)
    client.get(reverse("monitoring:alerts"))
    assert _searches().count() == 1


# --- no caching of personal data ---------------------------------------------------------------


def test_personal_answers_are_not_to_be_stored(target, township, client):
    _login(client, township, Role.OFFICE)
    urls = [reverse("persons:detail", args=[target.pk]), reverse("persons:edit", args=[target.pk]),
            reverse("persons:list"), reverse("persons:list") + "?q=目标", reverse("persons:list") + "?export=xlsx",
            reverse("persons:list") + "?export=roster", reverse("persons:today"), "/",
            reverse("monitoring:alerts"), "/api/persons/", f"/api/persons/{target.pk}/",
            reverse("persons:detail", args=[10**9])]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert "no-store" in response["Cache-Control"], url
    reveal = client.post(reverse("core:reveal", args=["persons.Person", target.pk, "phone"]))
    assert reveal.status_code == 200 and "no-store" in reveal["Cache-Control"]
