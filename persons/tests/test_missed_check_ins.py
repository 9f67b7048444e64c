"""Missed check-ins (漏检, issue 20): a period that ended without its check-in is a fact a later
check-in does not undo; the worker explains it (persons.missed), after which it leaves the today
list but stays in the record and in the figures; 拒绝/逃避 count as refused tests (戒毒条例
第二十条). Before issue 20 a later test closed the earliest missed item, missed items stayed
overdue forever, and there was no way to explain them."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.models import AuditEntry
from core.roles import Role
from monitoring import indicators
from monitoring.periods import Period
from persons import missed, queries, rules, services
from persons.choices import CheckInKind, DrugTestResult, FlagState, MissedReason, SampleMethod
from persons.models import PlannedCheckIn
from persons.tests import people

DAY = datetime.timedelta(days=1)


@pytest.fixture
def village(tree):
    return tree["villages"][0]


@pytest.fixture
def worker(township):
    return UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP])


def _late(village, name="漏检者", days=100):
    """Reported in ``days`` ago: its first monthly periods ended without a check-in."""
    return people.under_treatment(village, name=name, decided_days_ago=days + 5, reported_days_ago=days)


def _test(person, on, result=DrugTestResult.NEGATIVE):
    return services.do_record_check_in(person, CheckInKind.DRUG_TEST, on, acting_user=None, result=result,
                                       method="" if result == DrugTestResult.REFUSED else SampleMethod.URINE)


def _tests(person):
    return list(person.planned_check_ins.filter(kind=CheckInKind.DRUG_TEST).order_by("due_on"))


def test_a_check_in_closes_its_own_period_only(village):
    person = _late(village)
    today = timezone.localdate()
    items = _tests(person)
    missed_before = [i.pk for i in items if i.due_on < today]
    current = next(i for i in items if i.due_on >= today)
    _test(person, today)
    assert PlannedCheckIn.objects.get(pk=current.pk).done is not None
    # A second test in the same period closes nothing: not a missed period, not the next one
    # (before: the earliest missed item was closed as a "make-up").
    _test(person, today)
    after = {i.pk: i.done_id for i in _tests(person)}
    assert all(after[pk] is None for pk in missed_before)
    following = next(i for i in items if i.due_on > current.due_on)
    assert after[following.pk] is None


def test_missed_periods_leave_the_today_list_once_explained(village, worker):
    person = _late(village)
    today = timezone.localdate()
    _test(person, today)  # today's test: the missed months stay on the list
    line = next(i for i in queries.today_list(worker).items if i.person_id == person.pk and i.kind == "missed")
    assert line.overdue and line.action_label == "说明漏检"
    unexplained = list(missed.unexplained(person))
    assert unexplained and all(i.due_on < today for i in unexplained)
    count = missed.do_explain_missed(person, [i.pk for i in unexplained], MissedReason.IN_HOSPITAL,
                                     acting_user=worker)
    assert count == len(unexplained)
    assert not [i for i in queries.today_list(worker).items if i.person_id == person.pk and i.kind == "missed"]
    # Still in the person's record, still not done, with its reason; audited item by item.
    file = queries.PersonFile(person)
    plan = file.plan(today)
    assert plan["overdue"] == [] and len(plan["explained"]) == count
    assert all(i.done_id is None and i.missed_reason == MissedReason.IN_HOSPITAL for i in missed.explained(person))
    assert any(e.title.startswith("漏检：") and "住院" in e.detail for e in file.timeline())
    assert AuditEntry.objects.filter(object_type="persons.PlannedCheckIn", action=AuditEntry.Action.UPDATE,
                                     actor=worker).count() == count
    assert not file.is_overdue(today)
    assert person.pk not in set(queries.overdue_person_ids(today).values_list("person_id", flat=True))


def test_the_figures_stay_honest_when_missed_periods_are_explained(village):
    person = _late(village, days=200)
    period = Period.month(*(lambda d: (d.year, d.month))(timezone.localdate() - datetime.timedelta(days=40)))
    county = village.parent.parent

    def rate():
        return indicators.evaluate(["test_completion_rate"], county, period)["test_completion_rate"].value

    before = rate()
    missed.do_explain_missed(person, [i.pk for i in missed.unexplained(person)], MissedReason.AWAY_REPORTED,
                             acting_user=None)
    assert before is not None and rate() == before  # an explained test is still a test not done


def test_refused_or_evaded_counts_as_a_refused_test(village):
    """戒毒条例 第二十条: three refusals or evasions → 严重违反社区戒毒协议; a missed test explained
    as refused or evaded is one, as a refused test is; a refused test and the same period's
    explanation count once."""
    person = _late(village, days=150)
    tests = [i for i in _tests(person) if i.due_on < timezone.localdate()]
    assert len(tests) >= 4
    _test(person, tests[0].due_on, DrugTestResult.REFUSED)  # a refused test in the first period
    missed.do_explain_missed(person, [tests[0].pk], MissedReason.REFUSED, acting_user=None)  # the same one
    missed.do_explain_missed(person, [tests[1].pk], MissedReason.EVADED, acting_user=None)
    facts = services.facts_of(person)[1]
    assert sum(1 for t in facts if t.result == DrugTestResult.REFUSED) == 2
    assert not person.flags.filter(state=FlagState.OPEN, article__contains="第二十条").exists()
    missed.do_explain_missed(person, [tests[2].pk], MissedReason.REFUSED, acting_user=None)
    flag = person.flags.get(state=FlagState.OPEN, article__contains="第二十条")
    assert {e["model"] for e in flag.evidence} == {"persons.CheckIn", "persons.PlannedCheckIn"}
    # Other reasons are no refusal.
    missed.do_explain_missed(person, [tests[3].pk], MissedReason.NOT_FOUND, acting_user=None)
    assert sum(1 for t in services.facts_of(person)[1] if t.result == DrugTestResult.REFUSED) == 3
    assert {MissedReason.REFUSED, MissedReason.EVADED} == rules.REFUSAL_REASONS


def test_an_explanation_that_cannot_be_taken_is_refused_and_nothing_saved(village, worker, tree):
    person = _late(village)
    ids = [i.pk for i in missed.unexplained(person)]
    with pytest.raises(ValidationError) as refused:
        missed.do_explain_missed(person, ids, MissedReason.OTHER, "  ", acting_user=worker)
    assert "note" in refused.value.error_dict
    with pytest.raises(ValidationError):
        missed.do_explain_missed(person, ids, "forgot", acting_user=worker)
    # A stale form: one of the items was explained meanwhile.
    missed.do_explain_missed(person, ids[:1], MissedReason.NOT_FOUND, acting_user=worker)
    with pytest.raises(ValidationError):
        missed.do_explain_missed(person, ids, MissedReason.IN_HOSPITAL, acting_user=worker)
    assert PlannedCheckIn.objects.filter(pk__in=ids[1:]).exclude(missed_reason="").count() == 0
    # Outside the user's area: refused (fail closed).
    other = UserFactory(jurisdiction=tree["townships"][1], roles=[Role.TOWNSHIP])
    with pytest.raises(PermissionError):
        missed.do_explain_missed(person, ids[1:], MissedReason.NOT_FOUND, acting_user=other)


def test_the_explain_form_in_chinese(village, worker, client):
    person = _late(village)
    client.force_login(worker)
    url = reverse("persons:explain_missed", args=[person.pk])
    page = client.get(url + "?back=today").content.decode()
    assert "说明漏检" in page and "住院" in page and "外出务工已报备" in page and 'name="back" value="today"' in page
    ids = ",".join(str(i.pk) for i in missed.unexplained(person))
    response = client.post(url, {"reason": "other", "note": "", "items": ids, "back": "today"})
    assert response.status_code == 400 and "请写明其他原因" in response.content.decode()
    assert not missed.explained(person).exists()
    response = client.post(url, {"reason": "in_hospital", "note": "县医院", "items": ids, "back": "today"})
    assert response.status_code == 302 and response.url == reverse("persons:today")
    # A second post of the same form is stale: 409, nothing changed.
    response = client.post(url, {"reason": "refused", "items": ids})
    assert response.status_code == 409 and "请重新打开本页" in response.content.decode()
    assert set(missed.explained(person).values_list("missed_reason", flat=True)) == {"in_hospital"}
    detail = client.get(reverse("persons:detail", args=[person.pk])).content.decode()
    assert "住院：县医院" in detail


def test_is_missed():
    today = datetime.date(2026, 12, 7)
    assert rules.is_missed(today - DAY, False, today)
    assert not rules.is_missed(today, False, today)  # the period's last day: can still be done
    assert not rules.is_missed(today - DAY, True, today)
