"""A social worker works the today list down to empty in Chromium (issue 20): explains the missed
month, records what is due this week, and the figures stay honest: the missed test still counts as
not done in the test-completion rate, and stays on the person's page with its reason."""

import datetime

import pytest
from django.utils import timezone

from tests.browser.conftest import DEMO_PASSWORD, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

VILLAGE = "990101001001"  # 城关镇 东门社区


@pytest.fixture
def caseload(demo):
    """A new social worker of 城关镇 with one person: reported in 55 days ago, so the first
    month's test and interview were missed and the second month's fall due this week."""
    from accounts.tests.factories import UserFactory
    from core.roles import Role
    from jurisdictions.models import Jurisdiction
    from persons.tests import people

    village = Jurisdiction.objects.get(code=VILLAGE)
    worker = UserFactory(username="newworker", full_name="周社工", jurisdiction=village.parent,
                         roles=[Role.SOCIAL_WORKER], password=DEMO_PASSWORD)
    person = people.under_treatment(village, name="测试乙", decided_days_ago=60, reported_days_ago=55,
                                    assigned_worker=worker, phone="13800002222")
    return worker, person


def _completion_rate(person, due_on):
    from monitoring import indicators
    from monitoring.periods import Period

    county = person.jurisdiction.parent.parent
    value = indicators.evaluate(["test_completion_rate"], county, Period.month(due_on.year, due_on.month))
    return value["test_completion_rate"].value


def _record(page, kind_label, fill):
    page.locator(".today-list a", has_text=f"记录{kind_label}").first.click()
    page.wait_for_load_state()
    fill(page)
    page.click(".card-footer button[type=submit]")
    page.wait_for_load_state()


def test_a_social_worker_works_the_today_list_down_to_empty(log_in, caseload, screenshot):
    from persons import missed

    worker, person = caseload
    today = timezone.localdate()
    missed_test = missed.unexplained(person).filter(kind="drug_test").get()
    rate_before = _completion_rate(person, missed_test.due_on)

    page = log_in("newworker", PHONE)
    page.goto("/persons/today/")
    lines = page.locator(".today-list .today-item")
    assert lines.count() == 2, page.locator(".today-list").inner_text()
    missed_line = page.locator(".today-missed", has_text="测试乙")
    assert "漏检：毒品检测、谈话" in missed_line.inner_text() and "尚未说明原因" in missed_line.inner_text()
    screenshot(page, "-1-phone-list")

    # Explain both missed check-ins at once.
    missed_line.get_by_role("link", name="说明漏检").click()
    page.wait_for_load_state()
    assert page.locator(".missed-list li").count() == 2
    page.check("input[name=reason][value=away_reported]")
    page.fill("#id_note", "在苏州务工，已电话报备")
    screenshot(page, "-2-phone-explain")
    page.click(".card-footer button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/persons/today/")
    assert page.locator(".today-missed").count() == 0
    assert page.locator(".today-list .today-item").count() == 1

    # Record this month's test and interview.
    def test_form(p):
        p.fill("#id_occurred_on", today.isoformat())
        p.check("input[name=result][value=negative]")
        p.check("input[name=method][value=urine]")

    def interview_form(p):
        p.fill("#id_occurred_on", today.isoformat())
        p.fill("#id_notes", "谈话了解近况，工作稳定，家庭关系良好。")

    _record(page, "毒品检测", test_form)
    page.goto("/persons/today/")
    _record(page, "谈话", interview_form)
    page.goto("/persons/today/")
    assert page.locator(".today-list").count() == 0
    assert "本周没有待办事项" in page.locator(".today-card").inner_text()
    screenshot(page, "-3-phone-empty")

    # Honest figures: the missed test is still a test not done; the person page keeps it.
    assert _completion_rate(person, missed_test.due_on) == rate_before
    page.goto(f"/persons/{person.pk}/")
    plan = page.locator("#measure .plan-explained")
    assert "外出务工已报备：在苏州务工，已电话报备" in plan.inner_text()
    assert missed_test.due_on.isoformat() in plan.inner_text()
    assert "漏检：毒品检测" in page.locator("#timeline").inner_text()
    screenshot(page, "-4-phone-person")
    assert today - missed_test.due_on < datetime.timedelta(days=40)
