"""Registered persons in Chromium (issue 4): a township worker records three refused tests
through the phone-friendly form and sees the serious-breach flag, with its article, on the
person page and on the today list."""

import datetime

import pytest
from django.utils import timezone

from tests.browser.conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ARTICLE = "戒毒条例 第二十条"
VILLAGE = "990101001001"  # 城关镇 东门社区, in the demo township worker's area


@pytest.fixture
def person(demo):
    from jurisdictions.models import Jurisdiction
    from persons.tests import people

    village = Jurisdiction.objects.get(code=VILLAGE)
    return people.under_treatment(village, name="测试甲", decided_days_ago=110, reported_days_ago=100,
                                  phone="13800001111", current_address="东门社区3组12号")


def _record_refusal(page, person, days_ago: int):
    page.goto(f"/persons/{person.pk}/check-ins/new/?kind=drug_test")
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    page.fill("#id_occurred_on", day.isoformat())
    page.check("input[name=result][value=refused]")
    page.click(".card-footer button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith(f"/persons/{person.pk}/"), page.url


def test_three_refused_tests_raise_the_serious_breach_flag(log_in, person, screenshot):
    page = log_in("township")
    screenshot(page, "-0-home-before")
    page.goto(f"/persons/{person.pk}/")
    assert "测试甲" in page.locator(".page-title").inner_text()
    assert page.locator(".card-flag").count() == 0
    for days_ago in (60, 30, 2):
        _record_refusal(page, person, days_ago)
    flag = page.locator(".card-flag")
    assert flag.count() == 1
    assert ARTICLE in flag.inner_text()
    assert flag.locator(".flag-evidence li").count() == 3
    screenshot(page, "-1-person-desktop")

    page.goto("/")
    today = page.locator(".today-list")
    item = today.locator(".today-flag", has_text="测试甲")
    assert ARTICLE in item.inner_text()
    screenshot(page, "-2-home-desktop")
    item.get_by_role("link").last.click()
    page.wait_for_load_state()
    flag = person.flags.get(rule="serious_breach", state="open")
    assert page.url.endswith(f"/persons/{person.pk}/#flag-{flag.pk}")


def test_the_pages_on_a_phone(log_in, person, screenshot):
    from persons import services
    from persons.choices import CheckInKind, DrugTestResult

    for days_ago in (60, 30, 2):
        services.do_record_check_in(person, CheckInKind.DRUG_TEST, timezone.localdate() - datetime.timedelta(
            days=days_ago), acting_user=None, result=DrugTestResult.REFUSED)
    page = log_in("township", viewport=PHONE)
    for name, url in [("home", "/"), ("person", f"/persons/{person.pk}/"),
                      ("check-in", f"/persons/{person.pk}/check-ins/new/?kind=drug_test"),
                      ("list", "/persons/"), ("new", "/persons/new/")]:
        page.goto(url)
        screenshot(page, f"-{name}")
        # Nothing wider than the phone: no sideways scrolling of the page itself.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    # The list folds the criteria beyond name and ID number behind one button.
    page.goto("/persons/")
    assert not page.locator("#id_status").is_visible()
    page.get_by_role("button", name="更多条件").click()
    page.wait_for_selector("#id_status", state="visible")
    page.select_option("#id_status", "community_treatment")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state()
    assert "status=community_treatment" in page.url and "测试甲" in page.locator(".person-table").inner_text()


def test_the_list_and_forms_on_a_desktop(log_in, person, screenshot):
    page = log_in("township", viewport=DESKTOP)
    for name, url in [("list", "/persons/?q=csj"), ("new", "/persons/new/"),
                      ("check-in", f"/persons/{person.pk}/check-ins/new/?kind=departure"),
                      ("today", "/persons/today/")]:
        page.goto(url)
        screenshot(page, f"-{name}")
    page.goto("/persons/?q=csj")
    assert "测试甲" in page.locator(".person-table").inner_text()


def test_the_edit_form_shows_masks_reveals_beside_them_and_keeps_the_numbers(log_in, person):
    """Issue 19: the edit form shows the phone and the family contacts masked; 显示 beside one
    reveals it (audited) without touching the input, and saving keeps the stored numbers."""
    from core.models import AuditEntry
    from persons.models import Person

    Person.objects.filter(pk=person.pk).update(family_contacts="")
    person.refresh_from_db()
    page = log_in("township", viewport=DESKTOP)
    page.goto(f"/persons/{person.pk}/edit/")
    assert page.input_value("#id_phone") == "138****1111"
    assert "13800001111" not in page.content()
    page.fill("#id_family_contacts", "母亲 13700002222")
    page.click(".masked-value button")
    page.wait_for_selector(".masked-value.revealed")
    assert page.inner_text(".masked-value.revealed") == "13800001111"
    assert page.input_value("#id_phone") == "138****1111"
    assert AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL, object_id=str(person.pk)).count() == 1
    page.click(".card-footer button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith(f"/persons/{person.pk}/"), page.url
    person.refresh_from_db()
    assert (person.phone, person.family_contacts) == ("13800001111", "母亲 13700002222")
