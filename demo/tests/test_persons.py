"""The demo's registered persons: a small county built once for the module through the real
services, and the full-size simulation checked for its shape without a database."""

import datetime
from collections import Counter

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from accounts.models import User
from core.fields import blind_lookup
from core.models import AuditEntry
from demo import builders
from demo import persons as demo_persons
from persons import rules, services
from persons.choices import (
    SYNTHETIC_SUBSTANCES,
    CheckInKind,
    ControlStatus,
    DrugTestResult,
    FlagState,
    MeasureKind,
    MeasureState,
)
from persons.models import CheckIn, Flag, Measure, Person, PlannedCheckIn, StatusChange

SIZE = 120
PASSWORD = "Demo-Passw0rd-7"


class _Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def county(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at the end; each
    test runs in a savepoint of it."""
    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                yield builders.build(PASSWORD, persons=SIZE)
                raise _Rollback
        except _Rollback:
            pass


@pytest.fixture
def built(county, db):
    return county


def _today():
    return timezone.localdate()


def test_size_and_the_five_largest_townships(built):
    # The simulated persons and the files imported from an old ledger, waiting for their measures.
    assert Person.objects.count() == SIZE + len(builders.WAITING_MEASURES)
    by_township = Counter(Person.objects.values_list("jurisdiction__parent__name", flat=True))
    assert len(by_township) >= 8
    top_five = sum(count for _, count in by_township.most_common(5))
    assert top_five > SIZE * 0.6  # seed 001: five townships hold about 70%
    assert Person.objects.filter(grid__isnull=False).count() == SIZE
    assert all(p.grid.parent_id == p.jurisdiction_id for p in Person.objects.filter(grid__isnull=False)
               .select_related("grid"))


def test_id_numbers_are_valid_unique_encrypted_and_indexed(built):
    people = list(Person.objects.all())
    numbers = [p.id_number for p in people]
    assert len(set(numbers)) == len(numbers)
    for person in people:
        assert rules.normalise_id_number(person.id_number) == person.id_number
        assert rules.birth_date_of(person.id_number) == person.birth_date
        assert rules.sex_of(person.id_number) == person.sex
        assert 14 <= rules.age_on(person.birth_date, _today()) <= 70
        assert Person.objects.filter(**blind_lookup(Person, "id_number", person.id_number)).get() == person
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id_number FROM {Person._meta.db_table}")
        assert all(raw.startswith("sm4gcm:") for (raw,) in cursor.fetchall())
    assert Counter(p.sex for p in people)["M"] > SIZE * 0.7


def test_every_person_has_a_status_history_that_ends_in_the_current_status(built):
    counts = dict(Person.objects.annotate(n=Count("status_changes")).values_list("pk", "n"))
    assert min(counts.values()) >= 1
    latest = {}
    for change in StatusChange.objects.order_by("changed_on", "id"):
        latest[change.person_id] = change
    for person in Person.objects.all():
        assert latest[person.pk].status == person.control_status, person.pk
        if person.control_status_since is not None:  # an imported file's unknown date stays unknown
            assert latest[person.pk].changed_on == person.control_status_since, person.pk
    assert StatusChange.objects.exclude(document_number="").exists()


def test_measures_plans_and_check_ins_hang_together(built):
    today = _today()
    assert Measure.objects.filter(kind=MeasureKind.COMMUNITY_TREATMENT, state=MeasureState.IN_EFFECT).exists()
    assert CheckIn.objects.filter(occurred_on__gt=today).count() == 0
    assert CheckIn.objects.exclude(county_code="990101").count() == 0
    for item in PlannedCheckIn.objects.filter(done__isnull=False).select_related("done", "measure")[:2000]:
        assert item.done.person_id == item.person_id and item.done.measure_id == item.measure_id
        assert item.done.kind == item.kind
        assert item.done.result != DrugTestResult.REFUSED
        assert item.measure.starts_on <= item.done.occurred_on <= today
    results = Counter(CheckIn.objects.filter(kind=CheckInKind.DRUG_TEST).values_list("result", flat=True))
    assert results[DrugTestResult.NEGATIVE] > results[DrugTestResult.REFUSED] + results[DrugTestResult.POSITIVE]
    assert results[DrugTestResult.REFUSED] >= 3 and results[DrugTestResult.POSITIVE] >= 1
    # A measure that ended has no planned item after its end.
    assert not PlannedCheckIn.objects.filter(measure__ended_on__isnull=False, due_on__gt=F("measure__ended_on"),
                                             done__isnull=True).exists()


def test_serious_breach_flags_cite_the_article_and_their_evidence(built):
    flags = list(Flag.objects.filter(rule="serious_breach", state=FlagState.OPEN))
    assert len(flags) >= 3
    for flag in flags:
        assert "第二十条" in flag.article
        ids = [e["id"] for e in flag.evidence]
        assert ids and CheckIn.objects.filter(pk__in=ids, person=flag.person_id).count() == len(ids)
        assert flag.raised_on <= _today()
    assert built["flags missing"] == 0  # every decision in the history found its flag


def test_exemptions_of_article_39_appear_beside_compulsory_recommendations(built):
    today = _today()
    exempt = Flag.objects.filter(state=FlagState.OPEN).exclude(exemptions=[]).select_related("person")
    for flag in exempt:
        person = flag.person
        assert flag.exemptions == rules.exemptions(person.sex, person.birth_date, person.is_pregnant,
                                                   person.nursing_child_born_on, today)
    assert exempt.filter(rule="report_in_overdue", person__is_pregnant=True).exists()
    assert exempt.filter(rule="use_during_measure", person__nursing_child_born_on__isnull=False).exists()
    assert exempt.filter(rule="serious_breach", person__birth_date__gt=today - relativedelta(years=16)).exists()


def test_history_has_decided_flags_dated_in_the_past(built):
    decided = Flag.objects.filter(state__in=[FlagState.DECIDED, FlagState.DISMISSED])
    assert decided.exists()
    assert all(f.resolved_at.date() >= f.raised_on for f in decided)
    assert decided.filter(raised_on__lt=_today() - datetime.timedelta(days=60)).exists()


def test_the_social_worker_has_people_and_items_due(built):
    worker = User.objects.get(username="worker")
    today = _today()
    people = Person.objects.visible_to(worker)
    assert people.count() >= 6
    assert set(people.values_list("jurisdiction__parent__code", flat=True)) == {"990101001"}
    items = PlannedCheckIn.objects.filter(person__in=people.values("pk"), done__isnull=True,
                                          measure__state=MeasureState.IN_EFFECT)
    assert items.filter(due_on=today).exists()
    assert items.filter(due_on__gt=today, due_on__lte=today + datetime.timedelta(days=7)).exists()
    assert items.filter(due_on__lt=today).exists()
    assert Flag.objects.filter(person__in=people.values("pk"), state=FlagState.OPEN).exists()
    township = User.objects.get(username="township2")
    assert PlannedCheckIn.objects.filter(person__in=Person.objects.visible_to(township).values("pk"),
                                         done__isnull=True, due_on__lt=today,
                                         measure__state=MeasureState.IN_EFFECT).exists()


def test_audit_one_entry_per_person_and_one_for_the_bulk_check_ins(built):
    creations = AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, object_type="persons.Person").count()
    assert creations == SIZE + len(builders.WAITING_MEASURES)
    bulk = AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT, object_repr__contains="检查记录").get()
    assert bulk.changes["check_ins"] == CheckIn.objects.count() == built["check-ins"]


def test_running_again_adds_nothing(built):
    def snapshot():
        return (Person.objects.count(), Measure.objects.count(), CheckIn.objects.count(), Flag.objects.count(),
                StatusChange.objects.count(), AuditEntry.objects.count())

    before = snapshot()
    builders.build(PASSWORD, persons=SIZE)
    assert snapshot() == before
    assert builders.is_loaded()


def test_rules_found_today_agree_with_the_stored_flags(built):
    """Evaluating again changes nothing: the stored flags are what the rules find today."""
    for person in Person.objects.filter(measures__isnull=False).distinct()[:60]:
        assert services.evaluate_flags(person) == (0, 0), person.pk


# --- the full-size simulation (no database) ---------------------------------------------------


@pytest.fixture(scope="module")
def full_size():
    today = datetime.date(2026, 3, 2)
    return today, demo_persons.simulate(demo_persons.DEFAULT_PERSONS, today, demo_persons.township_names())


def test_the_simulation_is_deterministic():
    today = datetime.date(2026, 3, 2)
    townships = demo_persons.township_names()

    def signature(lives):
        return [(d.name, d.id_number, d.township, [(a.on, a.what, a.status, a.rule) for a in life.actions])
                for d, life in lives]

    assert signature(demo_persons.simulate(200, today, townships)) == signature(
        demo_persons.simulate(200, today, townships))


def test_full_size_shape(full_size):
    today, lives = full_size
    n = len(lives)
    assert n == demo_persons.DEFAULT_PERSONS
    townships = Counter(d.township for d, _ in lives)
    assert 0.65 < sum(c for _, c in townships.most_common(5)) / n < 0.75
    found_last_year = sum(1 for d, _ in lives if (today - d.found_on).days < 365)
    assert 420 < found_last_year < 600  # seed 001: 503 new in a year
    assert 0.8 < sum(1 for d, _ in lives if d.sex == "M") / n < 0.9
    ages = [rules.age_on(d.birth_date, today) for d, _ in lives]
    assert 5 <= sum(1 for a in ages if a < 18) <= 60  # a few minors
    assert max(Counter(a // 10 for a in ages).items(), key=lambda item: item[1])[0] == 3  # the 30s
    statuses = Counter(life.status for _, life in lives)
    for status in (ControlStatus.COMMUNITY_TREATMENT, ControlStatus.COMMUNITY_REHABILITATION,
                   ControlStatus.COMPULSORY_TREATMENT, ControlStatus.THREE_YEAR_ABSTINENCE, ControlStatus.IN_CUSTODY,
                   ControlStatus.DECEASED, ControlStatus.MOVED_OUT, ControlStatus.WHEREABOUTS_UNKNOWN,
                   ControlStatus.SOCIAL_CONTROL, ControlStatus.MAINTENANCE_THERAPY):
        assert statuses[status] >= 10, status
    assert statuses.most_common(1)[0][1] < n * 0.35


def test_synthetic_drugs_rise_and_execution_is_about_80_percent(full_size):
    today, lives = full_size

    def synthetic_share(low, high):
        cohort = [d for d, _ in lives if low <= (today - d.found_on).days // 365 < high]
        return sum(1 for d in cohort if set(d.substances) & SYNTHETIC_SUBSTANCES) / len(cohort)

    assert synthetic_share(0, 3) > synthetic_share(3, 6) > synthetic_share(10, 15)
    open_community = [m for _, life in lives for m in life.measures if m.materialised and m.ended_on is None
                      and m.kind != MeasureKind.COMPULSORY_TREATMENT]
    executing = [m for m in open_community if m.reported_on and not m.conduct.vanished_on]
    assert 0.75 < len(executing) / len(open_community) < 0.9  # seeds 003/004: about 80%

