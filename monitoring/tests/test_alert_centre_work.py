"""The alert centre as an office works with it (issue 20): a total row, a filter by type, paging,
and 督办 — an alert assigned to a township with a due date, answered by it, closed by the office,
its state followed (overdue past the due date). Before issue 20 none of these existed."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.models import AuditEntry
from core.roles import Role
from monitoring import alerts, rules, supervision
from monitoring.models import AlertAssignment
from persons import services as person_services
from persons.choices import CheckInKind, DrugTestResult
from persons.tests import people

DAY = datetime.timedelta(days=1)


def _flagged(village, name):
    person = people.under_treatment(village, name=name)
    for days in (60, 30, 2):
        person_services.do_record_check_in(person, CheckInKind.DRUG_TEST, timezone.localdate() - days * DAY,
                                           acting_user=None, result=DrugTestResult.REFUSED)
    return person


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def office(tree):
    return UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE])


def test_the_total_row_the_type_filter_and_paging(tree, office, monkeypatch):
    for n, village in enumerate(tree["villages"][:3]):
        _flagged(village, f"预警{n}")
    client = _client(office)
    page = client.get(reverse("monitoring:alerts"))
    totals, areas = page.context["totals"], page.context["areas"]
    assert totals["open_flags"] == sum(row["open_flags"] for row in areas) == 3
    assert totals["overdue_items"] == sum(row["overdue_items"] for row in areas) > 0
    body = page.content.decode()
    assert 'class="fw-bold alert-total"' in body and "合计" in body
    # The filter by type: only that section.
    only_flags = client.get(reverse("monitoring:alerts"), {"type": "flags"}).content.decode()
    assert 'id="flags"' in only_flags and 'id="overdue"' not in only_flags and 'id="breaches"' not in only_flags
    assert "全部类型" in only_flags and "督办事项" in only_flags
    # Paging: two flags a page.
    monkeypatch.setattr(alerts, "PERSONAL_ROWS", 2)
    first = client.get(reverse("monitoring:alerts"))
    assert len(first.context["centre"].flags) == 2 and "下一页" in first.content.decode()
    second = client.get(reverse("monitoring:alerts"), {"flags_page": 2})
    assert len(second.context["centre"].flags) == 1 and second.context["centre"].flags_total == 3
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.SEARCH, actor=office).latest("pk")
    assert entry.changes["page"] == 2


def test_the_leaders_total_hides_what_a_hidden_cell_would_give_away(tree):
    _flagged(tree["villages"][0], "预警甲")
    leader = UserFactory(jurisdiction=tree["county"], roles=[Role.LEADERSHIP])
    page = _client(leader).get(reverse("monitoring:alerts"))
    totals, areas = page.context["totals"], page.context["areas"]
    for name in ("open_flags", "overdue_items", "overdue_persons"):
        if any(not isinstance(row[name], int) for row in areas):
            assert not isinstance(totals[name], int)


def test_an_alert_assigned_to_a_township_is_followed_to_its_close(tree, office):
    township = tree["townships"][0]
    today = timezone.localdate()
    assignment = supervision.do_assign_alert(township, AlertAssignment.Kind.FLAGS, "三名人员严重违反协议，请逐一处置",
                                             today + 3 * DAY, acting_user=office)
    assert supervision.state_of(assignment, today) == ("open", "待乡镇办理")
    assert supervision.state_of(assignment, today + 4 * DAY)[0] == "overdue"
    # The township sees it in its alert centre (and another township does not).
    own = UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP])
    other = UserFactory(jurisdiction=tree["townships"][1], roles=[Role.TOWNSHIP])
    page = _client(own).get(reverse("monitoring:alerts")).content.decode()
    assert "三名人员严重违反协议" in page and reverse("monitoring:assignment_answer", args=[assignment.pk]) in page
    assert "三名人员严重违反协议" not in _client(other).get(reverse("monitoring:alerts")).content.decode()
    assert _client(other).get(reverse("monitoring:assignment_answer", args=[assignment.pk])).status_code == 404
    with pytest.raises(PermissionError):
        supervision.do_answer_alert(assignment, "已处置", acting_user=other, expected_version=assignment.version)
    # Answered through the form; a stale form is refused.
    response = _client(own).post(reverse("monitoring:assignment_answer", args=[assignment.pk]),
                                 {"answer": "已对三人作出处置决定", "version": assignment.version})
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.state == "answered" and assignment.answered_on == today
    stale = _client(own).post(reverse("monitoring:assignment_answer", args=[assignment.pk]),
                              {"answer": "再次", "version": assignment.version - 1})
    assert stale.status_code == 409
    # The office closes it.
    response = _client(office).post(reverse("monitoring:assignment_close", args=[assignment.pk]),
                                    {"version": assignment.version})
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.state == "closed" and supervision.state_of(assignment)[0] == "closed"
    assert AuditEntry.objects.filter(object_type="monitoring.AlertAssignment").count() == 3


def test_an_assignment_that_cannot_be_is_refused_in_chinese(tree, office):
    township = tree["townships"][0]
    today = timezone.localdate()
    with pytest.raises(ValidationError) as refused:
        supervision.do_assign_alert(township, "flags", "请处置", today - DAY, acting_user=office)
    assert set(refused.value.error_dict) == {"due_on"}
    with pytest.raises(PermissionError):
        supervision.do_assign_alert(township, "flags", "请处置", today, acting_user=UserFactory(
            jurisdiction=township, roles=[Role.TOWNSHIP]))
    # A township outside the office's area (another office's county).
    other_county_office = UserFactory(jurisdiction=tree["villages"][0], roles=[Role.OFFICE])
    with pytest.raises(ValidationError) as refused:
        supervision.do_assign_alert(tree["townships"][1], "flags", "请处置", today, acting_user=other_county_office)
    assert "jurisdiction" in refused.value.error_dict
    response = _client(office).post(reverse("monitoring:assign"), {
        "jurisdiction": township.pk, "kind": "overdue", "request": "", "due_on": (today - DAY).isoformat()})
    body = response.content.decode()
    assert response.status_code == 400 and "办理期限不能早于今天" in body
    assert not AlertAssignment.objects.exists()
    form = _client(office).get(reverse("monitoring:assign") + f"?jurisdiction={township.pk}").content.decode()
    assert township.name in form and "督办乡镇（街道）" in form


def test_assignment_state():
    due = datetime.date(2026, 12, 10)
    assert rules.assignment_state("open", due, None, due) == "open"
    assert rules.assignment_state("open", due, None, due + DAY) == "overdue"
    assert rules.assignment_state("answered", due, due + DAY, due + DAY) == "answered_late"
    assert rules.assignment_state("answered", due, due, due + 5 * DAY) == "answered"
    assert rules.assignment_state("closed", due, None, due + 9 * DAY) == "closed"


def test_each_assignment_form_says_what_its_button_does(tree, office):
    """The close page closed the assignment under a button saying 保存."""
    township = tree["townships"][0]
    assignment = supervision.do_assign_alert(township, AlertAssignment.Kind.FLAGS, "请处置",
                                             timezone.localdate() + DAY, acting_user=office)
    own = UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP])
    pages = [(office, reverse("monitoring:assign"), "督办"),
             (own, reverse("monitoring:assignment_answer", args=[assignment.pk]), "报送办理情况"),
             (office, reverse("monitoring:assignment_close", args=[assignment.pk]), "办结")]
    for user, url, label in pages:
        body = _client(user).get(url).content.decode()
        button = body[body.index('<button type="submit" class="btn btn-primary">'):]
        assert button[:button.index("</button>")].endswith(label), url
    # What is asked is the office's 督办 request, not a support task's (帮扶要求, as it read before).
    form = _client(office).get(reverse("monitoring:assign")).content.decode()
    assert "督办要求" in form and "帮扶要求" not in form


def test_assignments_are_paged(tree, office, monkeypatch):
    """Only the first 50 assignments were listed, with no way to the others."""
    township = tree["townships"][0]
    for n in range(5):
        supervision.do_assign_alert(township, AlertAssignment.Kind.FLAGS, f"第{n}项", timezone.localdate() + n * DAY,
                                    acting_user=office)
    monkeypatch.setattr(alerts, "PERSONAL_ROWS", 2)
    client = _client(office)
    first = client.get(reverse("monitoring:alerts"), {"type": "assignments"})
    assert [row["assignment"].request for row in first.context["centre"].assignments] == ["第0项", "第1项"]
    assert "?type=assignments&amp;assignments_page=2#assignments" in first.content.decode()
    last = client.get(reverse("monitoring:alerts"), {"type": "assignments", "assignments_page": 3})
    assert [row["assignment"].request for row in last.context["centre"].assignments] == ["第4项"]
