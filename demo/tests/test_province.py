"""The province generator (`jindu generate`): a small province built once for the module with
the bulk path (COPY on PostgreSQL, executemany on SQLite), checked against the rules and the
services it bypasses for speed."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, F

from accounts.models import User
from core import audit
from core.models import AuditEntry
from core.roles import Role
from demo import persons as demo_persons
from demo import province
from jurisdictions.choices import LEVEL_ORDER, Level
from jurisdictions.models import Jurisdiction
from jurisdictions.rules import code_error, county_code_of, parent_error
from persons import rules, services
from persons.choices import ACTIVE_STATUSES, CheckInKind, FlagState, MeasureKind, MeasureState, MissedReason
from persons.models import CheckIn, Flag, Measure, Person, PlannedCheckIn, RiskAssessment, StatusChange

SIZE = 300
TODAY = datetime.date(2025, 6, 16)


@pytest.mark.django_db
def test_the_command():
    """First in the module: the module's province is not there yet."""
    out = io.StringIO()
    call_command("generate", "--persons", "40", "--counties", "2", "--years", "2", "--seed", "3", stdout=out)
    text = out.getvalue()
    assert "persons: 40" in text and "county 2/2" in text
    assert Person.objects.count() == 40


class _Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                entries_before = AuditEntry.objects.count()
                stats = province.generate(SIZE, years=5, seed=7, today=TODAY, counties=3, password="Gen-Passw0rd-7")
                yield {"stats": stats, "audit_entries": AuditEntry.objects.count() - entries_before}
                raise _Rollback
        except _Rollback:
            pass


@pytest.fixture
def built(generated, db):
    return generated


def test_the_tree_has_the_shape_and_codes_of_a_province(built):
    nodes = {j.code: j for j in Jurisdiction.objects.filter(path__startswith=f"{province.PROVINCE_CODE}/")}
    by_level = {level: [j for j in nodes.values() if j.level == level] for level in Level}
    assert len(by_level[Level.PROVINCE]) == 1
    assert len(by_level[Level.CITY]) == 3
    assert len(by_level[Level.COUNTY]) == 3
    for county in by_level[Level.COUNTY]:
        townships = [j for j in by_level[Level.TOWNSHIP] if j.parent_id == county.pk]
        assert 10 <= len(townships) <= 15
    for node in nodes.values():
        assert code_error(node.code, node.level) is None
        parent = node.parent
        assert parent_error(node.code, node.level, parent.code if parent else None,
                            parent.level if parent else None) is None
        assert node.path == Jurisdiction.build_path(node.code, parent)
        assert node.depth == LEVEL_ORDER[node.level]
        assert node.county_code == county_code_of(node.code, node.level)


def test_counts_and_one_audit_entry_for_the_whole(built):
    stats = built["stats"]
    assert Person.objects.filter(county_code__startswith="98").count() == SIZE == stats["persons"]
    assert CheckIn.objects.count() == stats["check-ins"] > SIZE * 30
    assert PlannedCheckIn.objects.count() == stats["plan items"]
    assert Measure.objects.count() == stats["measures"]
    assert RiskAssessment.objects.count() == stats["risk assessments"] > 0
    assert Flag.objects.filter(state=FlagState.OPEN).exists()
    assert Flag.objects.filter(state=FlagState.DECIDED).exists()
    # Every record carries its person's county code.
    for model in (CheckIn, PlannedCheckIn, Measure, StatusChange, Flag, RiskAssessment):
        assert not model.objects.exclude(county_code=F("person__county_code")).exists()
    assert built["audit_entries"] == 1
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.action == AuditEntry.Action.IMPORT
    assert entry.changes["generated"]["persons"] == SIZE
    assert entry.changes["rows"]["persons.CheckIn"] == stats["check-ins"]
    assert audit.verify()[1] is None


def test_id_numbers_are_valid_unique_and_agree_with_the_file(built):
    persons = list(Person.objects.all())
    numbers = [p.id_number for p in persons]
    assert len(set(numbers)) == len(numbers) == SIZE
    for person in persons:
        assert rules.normalise_id_number(person.id_number) == person.id_number
        assert rules.birth_date_of(person.id_number) == person.birth_date
        assert rules.sex_of(person.id_number) == person.sex
        assert person.name_initials == services.pinyin_initials(person.name)


def test_sensitive_fields_are_encrypted_at_rest_and_found_by_blind_index(built):
    person = [p for p in Person.objects.order_by("pk") if p.phone][5]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id_number, phone, family_contacts, id_number_index FROM {Person._meta.db_table}")
        rows = cursor.fetchall()
    clear = {p.id_number for p in Person.objects.all()} | {p.phone for p in Person.objects.all() if p.phone}
    for id_number, phone, contacts, index in rows:
        assert id_number.startswith("sm4gcm:")
        assert phone == "" or phone.startswith("sm4gcm:")
        assert contacts == "" or contacts.startswith("sm4gcm:")
        assert len(index) == 64
        assert not any(value in " ".join([id_number, phone, contacts]) for value in clear)
    assert services.find_by_id_number(person.id_number) == person
    assert services.find_by_id_number(person.id_number.lower()) == person


def test_legal_clocks_follow_the_rules(built):
    for measure in Measure.objects.all():
        assert measure.term_months == rules.term_months_for(measure.kind, measure.term_months)
        if measure.kind == MeasureKind.COMPULSORY_TREATMENT:
            assert measure.starts_on == measure.decided_on
        if measure.starts_on is None:
            assert measure.state in (MeasureState.AWAITING_REPORT, MeasureState.TERMINATED)
            continue
        if measure.kind != MeasureKind.COMPULSORY_TREATMENT:
            assert measure.starts_on == measure.reported_on >= measure.decided_on
        assert measure.ends_on == rules.term_end(measure.kind, measure.starts_on, measure.term_months,
                                                 measure.extension_months)
        if measure.ended_on:
            assert measure.state in (MeasureState.COMPLETED, MeasureState.TERMINATED)
            assert measure.ended_on <= TODAY
    # The plan of each community measure is rules.plan_due_dates's; a closed item is closed by
    # a check-in of its kind of the same measure.
    sample = Measure.objects.exclude(kind=MeasureKind.COMPULSORY_TREATMENT).filter(starts_on__isnull=False)[:40]
    for measure in sample:
        expected = set(rules.plan_due_dates(measure.starts_on, measure.ends_on, rules.PlanPolicy()))
        planned = set(measure.planned.values_list("kind", "due_on"))
        assert planned <= expected
        if measure.ended_on is None:
            assert planned == expected
    for item in PlannedCheckIn.objects.filter(done__isnull=False).select_related("done")[:500]:
        assert item.done.kind == item.kind and item.done.measure_id == item.measure_id
    # The file's status is its latest status change.
    for person in Person.objects.all()[:100]:
        latest = StatusChange.objects.filter(person=person).order_by("-changed_on", "-id").first()
        assert (person.control_status, person.control_status_since) == (latest.status, latest.changed_on)


def test_missed_check_ins_are_explained_as_the_demo_explains_them(built):
    """The province left every missed check-in unexplained, so each of its townships' today
    lists held years of them. Now, as in the county demo: those of a measure in effect missed
    more than 45 days ago are explained for most persons, the recent ones wait, and a missed
    test is never explained as a refusal (that would be a finding the flags did not replay)."""
    missed = PlannedCheckIn.objects.filter(done__isnull=True, due_on__lt=TODAY)
    explained = missed.exclude(missed_reason="")
    assert explained.count() == built["stats"]["missed check-ins explained"] > 0
    old = TODAY - datetime.timedelta(days=demo_persons.EXPLAINED_BEFORE_DAYS)
    assert not explained.filter(due_on__gte=old).exists()
    assert not explained.filter(measure__ended_on__isnull=False).exists()
    assert missed.filter(missed_reason="", due_on__lt=old, measure__ended_on__isnull=True).exists()
    assert not explained.filter(kind=CheckInKind.DRUG_TEST, missed_reason__in=[
        MissedReason.REFUSED, MissedReason.EVADED]).exists()
    for item in explained[:200]:
        assert item.due_on < item.explained_on <= TODAY and item.missed_reason in MissedReason.values


def test_flags_and_risk_are_what_the_services_would_keep(built):
    """Running the services' own evaluation on the generated data changes (almost) nothing:
    the generator stored what evaluate_flags and do_assess_risk would have stored."""
    changed = 0
    persons = list(Person.objects.filter(measures__isnull=False).distinct()[:120])
    for person in persons:
        created, resolved = services.evaluate_flags(person, TODAY, reassess=False)
        changed += bool(created or resolved)
    assert changed <= len(persons) // 20
    for person in Person.objects.filter(control_status__in=ACTIVE_STATUSES)[:60]:
        latest = person.risk_assessments.order_by("-assessed_on", "-id").first()
        assert latest.level == person.risk_level
        assert services.do_assess_risk(person, today=TODAY) == latest
    assert Flag.objects.filter(state=FlagState.OPEN).values("person", "rule").annotate(
        n=Count("pk")).filter(n__gt=1).count() == 0


def test_generated_accounts_see_their_own_area(built):
    worker = User.objects.filter(role_grants__role=Role.SOCIAL_WORKER).annotate(
        n=Count("assigned_persons")).filter(n__gt=0).first()
    assert worker is not None
    visible = set(Person.objects.visible_to(worker).values_list("pk", flat=True))
    assert visible == set(Person.objects.filter(assigned_worker=worker).values_list("pk", flat=True))
    assert all(p.jurisdiction.path.startswith(worker.jurisdiction.path) for p in Person.objects.filter(pk__in=visible))
    township = User.objects.get(username=f"township{worker.jurisdiction.code}")
    assert visible < set(Person.objects.visible_to(township).values_list("pk", flat=True))
    county = worker.jurisdiction.county_code
    office = User.objects.get(username=f"office{county}")
    assert Person.objects.visible_to(office).count() == Person.objects.filter(county_code=county).count()
    assert Person.objects.visible_to(User.objects.get(username=f"office{province.PROVINCE_CODE}")).count() == SIZE
    assert not Person.objects.visible_to(User.objects.get(username=f"leader{county}")).exists()
    assert worker.check_password("Gen-Passw0rd-7")


def test_the_services_go_on_after_a_bulk_write(built):
    """Keys were assigned by the generator: the database's sequences were moved past them."""
    person = Person.objects.filter(control_status__in=ACTIVE_STATUSES).first()
    check_in = services.do_record_check_in(person, "interview", TODAY - datetime.timedelta(days=1), acting_user=None,
                                           notes="谈话了解近期生活情况，情绪稳定。")
    assert check_in.pk > CheckIn.objects.exclude(pk=check_in.pk).order_by("-pk").first().pk


def test_a_second_run_is_refused(built):
    with pytest.raises(ValueError):
        province.generate(10, today=TODAY)
