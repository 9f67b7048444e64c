"""The fast paths run a number of queries that does not grow with the data: the same province
is generated small and four times larger, and each path is counted on both (no timings)."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from core import audit
from core.models import AuditEntry
from core.roles import Role
from demo import province
from persons import queries, services
from persons.choices import ACTIVE_STATUSES
from persons.models import Flag, Person, RiskAssessment

TODAY = datetime.date(2025, 6, 16)
SMALL, LARGE = 40, 160


class _Rollback(Exception):
    pass


def _counted(size: int, measure) -> dict:
    """Generate a province of ``size`` persons, run ``measure`` (returns {name: queries}), roll back."""
    result = {}
    try:
        with transaction.atomic():
            province.generate(size, years=3, seed=11, today=TODAY, counties=2, password="Gen-Passw0rd-7")
            result.update(measure())
            raise _Rollback
    except _Rollback:
        pass
    return result


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as context:
        fn()
    return len(context.captured_queries)


def _users():
    county = Person.objects.values("county_code").annotate(n=Count("pk")).order_by("-n")[0]["county_code"]
    worker = (User.objects.filter(role_grants__role=Role.SOCIAL_WORKER, jurisdiction__county_code=county)
              .annotate(n=Count("assigned_persons")).order_by("-n").first())
    township = User.objects.get(username=f"township{worker.jurisdiction.code}")
    return User.objects.get(username=f"office{county}"), township, worker


@pytest.mark.django_db(transaction=False)
def test_pages_and_the_today_list_do_not_grow_with_the_data(monkeypatch):
    # The session's idle time-out is renewed (written) on the first page and then once a minute:
    # on a slow machine a minute can pass between two measured pages. Only the first page renews.
    monkeypatch.setattr("accounts.middleware.RENEW_EVERY_SECONDS", 10**9)

    def measure():
        office, township, worker = _users()
        counts = {}
        for name, user in (("office", office), ("township", township), ("worker", worker)):
            user = User.objects.get(pk=user.pk)
            queries.today_list(user, TODAY)  # warm the user's cached roles
            counts[f"today {name}"] = _queries(lambda user=user: queries.today_list(user, TODAY))
            client = Client()
            client.force_login(user)
            for label, url in (("list", "/persons/?status=community_treatment"),
                               ("overdue list", "/persons/?overdue=true"), ("today page", "/persons/today/")):
                client.get(url)
                counts[f"{label} {name}"] = _queries(lambda client=client, url=url: client.get(url))
            # A person page depends on the person (a running measure, flags …), not on the data size.
            pages = []
            for person in Person.objects.visible_to(user).order_by("pk")[:5]:
                client.get(f"/persons/{person.pk}/")
                pages.append(_queries(lambda client=client, pk=person.pk: client.get(f"/persons/{pk}/")))
            counts[f"person page {name}"] = max(pages)
        return counts

    small, large = _counted(SMALL, measure), _counted(LARGE, measure)
    pages = {key for key in small if key.startswith("person page")}
    assert {k: v for k, v in small.items() if k not in pages} == {k: v for k, v in large.items() if k not in pages}
    assert max(large.values()) < SMALL
    assert max(small.values()) < SMALL


@pytest.mark.django_db(transaction=False)
def test_the_sweeps_run_a_bounded_number_of_queries():
    """sweep_flags and sweep_risk read and write in batches: a few queries per batch, the same
    for 40 persons as for 160; they raise, resolve and assess what the one-person services would."""

    def measure():
        later = TODAY + relativedelta(months=1, day=1)
        counts = {"flags": _queries(lambda: services.sweep_flags(later)),
                  "flags again": _queries(lambda: services.sweep_flags(later)),
                  "risk": _queries(lambda: services.sweep_risk(later))}
        assert not RiskAssessment.objects.filter(person__control_status__in=ACTIVE_STATUSES).exclude(
            person__risk_assessments__assessed_on=later).exists()
        # What the batch wrote is what evaluate_flags and do_assess_risk keep: nothing to change.
        for person in Person.objects.filter(measures__ended_on__isnull=True).distinct()[:30]:
            assert services.evaluate_flags(person, later, reassess=False) == (0, 0)
        for person in Person.objects.filter(control_status__in=ACTIVE_STATUSES)[:30]:
            latest = person.risk_assessments.order_by("-assessed_on", "-id").first()
            assert services.do_assess_risk(person, today=later) == latest
            assert person.risk_level == latest.level
        assert audit.verify()[1] is None
        return counts

    small, large = _counted(SMALL, measure), _counted(LARGE, measure)
    for name in small:
        assert large[name] <= 20, (name, large[name])
        assert small[name] <= 20, (name, small[name])


@pytest.mark.django_db
def test_the_flag_sweep_audits_each_change_and_matches_evaluate_flags(tree):
    """A report-in deadline passing raises the flag in the sweep as in evaluate_flags, with an
    audit entry; a second sweep changes nothing."""
    from persons.tests.people import person as make_person

    today = timezone.localdate()
    person = make_person(tree["villages"][0])
    decided = today - datetime.timedelta(days=10)
    services.do_decide_measure(person, "community_treatment", decided, acting_user=None)
    assert services.sweep_flags(today) == {"raised": 0, "resolved": 0}
    before = AuditEntry.objects.count()
    assert services.sweep_flags(today + datetime.timedelta(days=6)) == {"raised": 1, "resolved": 0}
    flag = Flag.objects.get(person=person)
    entry = AuditEntry.objects.order_by("-seq").filter(object_type="persons.Flag").first()
    assert entry.object_id == str(flag.pk) and entry.action == AuditEntry.Action.CREATE
    assert AuditEntry.objects.count() > before
    assert services.sweep_flags(today + datetime.timedelta(days=6)) == {"raised": 0, "resolved": 0}
    assert services.evaluate_flags(person, today + datetime.timedelta(days=6)) == (0, 0)
