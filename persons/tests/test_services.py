"""The person services: every change audited, the rules re-evaluated, the scope kept."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from stdnum.cn import ric

from accounts.tests.factories import UserFactory
from core.models import AuditEntry
from core.roles import Role
from core.services import ConflictError
from jindu.testing import clock
from jindu.testing.scope import TASKED, ScopeMatrix
from persons import rules, services, support
from persons.choices import (
    CheckInKind,
    ControlStatus,
    DrugTestResult,
    FlagState,
    LivingSituation,
    MeasureKind,
    MeasureState,
    RiskLevel,
    SampleMethod,
    SupportKind,
    TransferState,
)
from persons.models import (
    CheckIn,
    Flag,
    Measure,
    Person,
    RiskAssessment,
    RiskModel,
    StatusChange,
    Support,
    SupportTask,
    Transfer,
)

TODAY = clock.TODAY
pytestmark = pytest.mark.time_machine(clock.NOW)  # one day for the whole test (jindu.testing.clock)
# Social workers: assigned persons only; member units: those of their support tasks only.
PERSON_READERS = {Role.OFFICE, Role.TOWNSHIP, Role.POLICE, TASKED}
FILE_READERS = {Role.OFFICE, Role.TOWNSHIP, Role.POLICE}  # the records of the file: not the member unit


def days_ago(n: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=n)


def id_number(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


_serial = iter(range(101, 999, 2))


def new_person(village, actor=None, *, name="张三", number=None, status=ControlStatus.SOCIAL_CONTROL, **fields):
    fields.setdefault("family_support", True)  # answered: an unknown one is a risk factor of its own
    return services.do_create_person(
        acting_user=actor, name=name, id_number=number or id_number(f"11010119900307{next(_serial):03d}"),
        jurisdiction=village, control_status=status, control_status_since=days_ago(400), **fields)


def under_treatment(village, actor=None, *, reported_days_ago=100, **fields):
    person = new_person(village, actor, **fields)
    measure = services.do_decide_measure(person, MeasureKind.COMMUNITY_TREATMENT, days_ago(reported_days_ago + 5),
                                         acting_user=actor, decision_number="示公(禁)社戒决字〔2026〕1号")
    services.do_report_in(measure, days_ago(reported_days_ago), acting_user=actor)
    person.refresh_from_db()
    measure.refresh_from_db()
    return person, measure


def audit_entries(obj, action=None):
    entries = AuditEntry.objects.filter(object_type=obj._meta.label, object_id=str(obj.pk)).order_by("seq")
    return list(entries.filter(action=action) if action else entries)


@pytest.fixture(autouse=True)
def english():
    """Messages are checked by their English text."""
    with translation.override("en"):
        yield


@pytest.fixture
def village(tree):
    return tree["villages"][0]


@pytest.fixture
def other_village(tree):
    return tree["villages"][2]  # in the second township


@pytest.fixture
def worker(township):
    return UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP])


# --- the person file ---------------------------------------------------------------------------


def test_create_a_person_file(village, worker):
    person = new_person(village, worker, name="王小明", number="110105491231002")  # 15 digits
    person.refresh_from_db()
    assert person.id_number == id_number("11010519491231002")
    assert (person.sex, person.birth_date, person.name_initials) == ("F", datetime.date(1949, 12, 31), "wxm")
    assert person.county_code == village.county_code
    assert list(person.status_changes.values_list("status", flat=True)) == [ControlStatus.SOCIAL_CONTROL]
    [entry] = audit_entries(person, AuditEntry.Action.CREATE)
    assert entry.actor == worker
    assert entry.changes["id_number"] == ["", "110105**********2" + person.id_number[-1]]
    assert person.id_number not in str(entry.changes)


def test_one_file_per_id_number(village, other_village, worker):
    new_person(village, worker, number=id_number("11010519491231002"))
    for number in (id_number("11010519491231002"), "110105491231002", id_number("11010519491231002").lower()):
        with pytest.raises(ValidationError, match="exists already"):
            new_person(other_village, None, number=number)
    assert Person.objects.count() == 1


def test_bad_id_numbers_are_refused(village, worker):
    for number in ("1.10101199003071e+17", id_number("11010519900230123"), "110105194912310020"):
        with pytest.raises(ValidationError) as error:
            new_person(village, worker, number=number)
        assert "id_number" in error.value.message_dict


def test_a_worker_opens_files_in_their_own_area_only(village, other_village, worker):
    with pytest.raises(services.NotAllowed):
        new_person(other_village, worker)
    with pytest.raises(services.NotAllowed):
        new_person(village, UserFactory(jurisdiction=village.parent, roles=[Role.LEADERSHIP]))


def test_update_with_a_stale_version_is_a_conflict(village, worker):
    person = new_person(village, worker)
    opened = person.version
    services.do_update_person(person, expected_version=opened, acting_user=worker, current_address="新地址1号")
    with pytest.raises(ConflictError):
        services.do_update_person(Person.objects.get(pk=person.pk), expected_version=opened, acting_user=worker,
                                  current_address="另一个地址")
    person.refresh_from_db()
    assert person.current_address == "新地址1号"
    [entry] = audit_entries(person, AuditEntry.Action.UPDATE)
    assert entry.changes == {"current_address": ["", "***"]}  # what changed, not the address


def test_status_history(village, worker):
    person = new_person(village, worker)
    services.do_change_status(person, ControlStatus.WHEREABOUTS_UNKNOWN, days_ago(30), acting_user=worker,
                              document_number="文1")
    services.do_change_status(person, ControlStatus.IN_CUSTODY, days_ago(60), acting_user=worker)  # back-dated
    person.refresh_from_db()
    assert (person.control_status, person.control_status_since) == (ControlStatus.WHEREABOUTS_UNKNOWN, days_ago(30))
    assert list(StatusChange.objects.filter(person=person).values_list("status", flat=True)) == [
        ControlStatus.WHEREABOUTS_UNKNOWN, ControlStatus.IN_CUSTODY, ControlStatus.SOCIAL_CONTROL]
    with pytest.raises(ValidationError):
        services.do_change_status(person, "nonsense", TODAY, acting_user=worker)


# --- measures ------------------------------------------------------------------------------------


def test_measure_lifecycle(village, worker):
    person = new_person(village, worker)
    measure = services.do_decide_measure(person, MeasureKind.COMMUNITY_TREATMENT, days_ago(105), acting_user=worker,
                                         term_months=12)  # community treatment is always three years
    assert (measure.state, measure.term_months, measure.starts_on) == (MeasureState.AWAITING_REPORT, 36, None)
    services.do_report_in(measure, days_ago(100), acting_user=worker)
    measure.refresh_from_db()
    person.refresh_from_db()
    assert measure.state == MeasureState.IN_EFFECT and measure.starts_on == days_ago(100)
    assert measure.ends_on == rules.term_end(MeasureKind.COMMUNITY_TREATMENT, days_ago(100))
    assert person.control_status == ControlStatus.COMMUNITY_TREATMENT
    plan = rules.plan_due_dates(measure.starts_on, measure.ends_on, rules.PlanPolicy())
    assert measure.planned.count() == len(plan) == 22 + 36 + 12 + 6 + 3
    services.do_record_check_in(person, CheckInKind.DRUG_TEST, days_ago(90), acting_user=worker,
                                method=SampleMethod.URINE, result=DrugTestResult.NEGATIVE)
    with pytest.raises(ValidationError):
        services.do_report_in(measure, days_ago(99), acting_user=worker)  # not waiting any more
    services.do_end_measure(measure, days_ago(10), acting_user=worker, completed=False, reason="转强戒",
                            next_status=ControlStatus.IN_CUSTODY)
    assert not measure.planned.filter(done__isnull=True, due_on__gt=days_ago(10)).exists()
    assert measure.planned.filter(done__isnull=False).count() == 1  # what was done stays
    assert measure.planned.filter(due_on__lte=days_ago(10)).exists()
    measure.refresh_from_db()
    assert (measure.state, measure.ended_on) == (MeasureState.TERMINATED, days_ago(10))
    with pytest.raises(ValidationError):
        services.do_end_measure(measure, days_ago(5), acting_user=worker)
    assert [e.changes.get("state") for e in audit_entries(measure, AuditEntry.Action.UPDATE)][-1] == [
        None, MeasureState.TERMINATED]


def test_compulsory_treatment_and_its_extension(village, worker):
    person = new_person(village, worker)
    measure = services.do_decide_measure(person, MeasureKind.COMPULSORY_TREATMENT, days_ago(400), acting_user=worker)
    person.refresh_from_db()
    assert person.control_status == ControlStatus.COMPULSORY_TREATMENT
    assert measure.ends_on == rules.term_end(MeasureKind.COMPULSORY_TREATMENT, days_ago(400))
    assert not measure.planned.exists()
    services.do_extend_measure(measure, 6, acting_user=worker)
    services.do_extend_measure(measure, 6, acting_user=worker)
    with pytest.raises(ValidationError):
        services.do_extend_measure(measure, 1, acting_user=worker)
    measure.refresh_from_db()
    assert measure.extension_months == 12
    assert measure.ends_on == rules.term_end(MeasureKind.COMPULSORY_TREATMENT, days_ago(400), None, 12)
    flag = person.flags.get(state=FlagState.OPEN)
    assert flag.rule == "early_release_assessment"  # a year has passed


def test_rehabilitation_has_the_decided_term(village, worker):
    person = new_person(village, worker)
    measure = services.do_decide_measure(person, MeasureKind.COMMUNITY_REHABILITATION, days_ago(20),
                                         acting_user=worker, term_months=24)
    services.do_report_in(measure, days_ago(10), acting_user=worker)
    measure.refresh_from_db()
    assert measure.ends_on == rules.period_end(days_ago(10), 24)


# --- check-ins and the plan ------------------------------------------------------------------------


def test_check_ins_close_planned_items(village, worker):
    person, measure = under_treatment(village, worker, reported_days_ago=100)
    tests = list(measure.planned.filter(kind=CheckInKind.DRUG_TEST).order_by("due_on"))
    first, second = tests[0], tests[1]
    refused = services.do_record_check_in(person, CheckInKind.DRUG_TEST, days_ago(95), acting_user=worker,
                                          result=DrugTestResult.REFUSED)
    assert refused.measure == measure and not measure.planned.filter(done=refused).exists()
    negative = services.do_record_check_in(person, CheckInKind.DRUG_TEST, days_ago(94), acting_user=worker,
                                           method=SampleMethod.URINE, result=DrugTestResult.NEGATIVE)
    first.refresh_from_db()
    assert first.done == negative
    again = services.do_record_check_in(person, CheckInKind.DRUG_TEST, days_ago(93), acting_user=worker,
                                        method=SampleMethod.HAIR, result=DrugTestResult.NEGATIVE)
    second.refresh_from_db()
    assert second.done is None and not measure.planned.filter(done=again).exists()  # not next month's
    interview = services.do_record_check_in(person, CheckInKind.INTERVIEW, days_ago(50), acting_user=worker,
                                            notes="谈话了解近期生活情况，情绪稳定。")
    assert measure.planned.get(done=interview).kind == CheckInKind.INTERVIEW
    with pytest.raises(ValidationError):
        services.do_record_check_in(person, CheckInKind.DRUG_TEST, TODAY + datetime.timedelta(days=1),
                                    acting_user=worker, method=SampleMethod.URINE, result=DrugTestResult.NEGATIVE)
    with pytest.raises(ValidationError):
        services.do_record_check_in(person, CheckInKind.DRUG_TEST, TODAY, acting_user=worker,
                                    method=SampleMethod.URINE, result=DrugTestResult.POSITIVE)  # which substance?
    [entry] = audit_entries(negative, AuditEntry.Action.CREATE)
    assert entry.changes["result"] == [None, DrugTestResult.NEGATIVE]


# --- flags -----------------------------------------------------------------------------------------


def refuse(person, worker, *dates):
    for day in dates:
        services.do_record_check_in(person, CheckInKind.DRUG_TEST, day, acting_user=worker,
                                    result=DrugTestResult.REFUSED)


def test_flags_are_raised_and_resolved_idempotently(village, worker):
    person, _ = under_treatment(village, worker, reported_days_ago=100)
    refuse(person, worker, days_ago(90), days_ago(60))
    assert not person.flags.filter(state=FlagState.OPEN).exists()  # two refusals
    refuse(person, worker, days_ago(30))
    flag = person.flags.get(rule="serious_breach")
    assert flag.state == FlagState.OPEN and "第二十条" in flag.article and len(flag.evidence) == 3
    assert flag.exemptions == []
    assert services.evaluate_flags(person) == (0, 0)
    assert services.evaluate_flags(person) == (0, 0)
    assert person.flags.filter(state=FlagState.OPEN).count() == 1
    # a serious breach rests on past events: even a refusal removed outside the services does
    # not close the flag by itself (issue 20); a person dismisses it with the reason
    CheckIn.objects.filter(pk=flag.evidence[0]["id"]).delete()
    assert services.evaluate_flags(person) == (0, 0)
    flag.refresh_from_db()
    assert flag.state == FlagState.OPEN and len(flag.evidence) == 3


def test_deciding_and_dismissing_flags_is_audited(village, worker):
    person, _ = under_treatment(village, worker, reported_days_ago=100)
    refuse(person, worker, days_ago(90), days_ago(60), days_ago(30))
    flag = person.flags.get(rule="serious_breach")
    with pytest.raises(ValidationError):
        services.do_decide_flag(flag, " ", acting_user=worker)
    services.do_decide_flag(flag, "已作出强制隔离戒毒决定", document_number="强决字3号", acting_user=worker)
    flag.refresh_from_db()
    assert (flag.state, flag.resolved_by, flag.document_number) == (FlagState.DECIDED, worker, "强决字3号")
    [entry] = audit_entries(flag, AuditEntry.Action.UPDATE)
    assert entry.changes["state"] == ["open", FlagState.DECIDED] and entry.actor == worker
    assert services.evaluate_flags(person) == (0, 0)  # the decision stands for this evidence
    with pytest.raises(ValidationError):
        services.do_dismiss_flag(flag, "重复记录", acting_user=worker)  # dealt with already
    # a new refusal is new evidence: a new flag, which is dismissed with a reason
    refuse(person, worker, days_ago(10))
    new = person.flags.get(rule="serious_breach", state=FlagState.OPEN)
    with pytest.raises(ValidationError):
        services.do_dismiss_flag(new, "no", acting_user=worker)
    services.do_dismiss_flag(new, "检测记录有误,已核实", acting_user=worker)
    new.refresh_from_db()
    assert (new.state, new.reason) == (FlagState.DISMISSED, "检测记录有误,已核实")
    assert audit_entries(new, AuditEntry.Action.UPDATE)[0].changes["reason"] == [None, "检测记录有误,已核实"]
    outsider = UserFactory(jurisdiction=village.parent.parent.children.exclude(pk=village.parent.pk).first(),
                           roles=[Role.TOWNSHIP])
    refuse(person, worker, days_ago(5))
    with pytest.raises(services.NotAllowed):
        services.do_dismiss_flag(person.flags.get(state=FlagState.OPEN), "不属于本辖区的人", acting_user=outsider)


@pytest.mark.parametrize(("days", "flagged"), [(15, False), (16, True)])
def test_report_in_overdue_flag_after_day_15(village, worker, days, flagged):
    person = new_person(village, worker)
    measure = services.do_decide_measure(person, MeasureKind.COMMUNITY_TREATMENT, days_ago(days), acting_user=worker)
    assert person.flags.filter(rule="report_in_overdue", state=FlagState.OPEN).exists() is flagged
    if flagged:
        # late, but reported: the refusal of 第十四条 stands until a person decides (issue 20)
        services.do_report_in(measure, TODAY, acting_user=worker)
        assert person.flags.get(rule="report_in_overdue").state == FlagState.OPEN


def test_the_daily_sweep_raises_clock_flags(village, worker):
    person = new_person(village, worker)
    services.do_decide_measure(person, MeasureKind.COMMUNITY_TREATMENT, days_ago(10), acting_user=worker)
    assert services.sweep_flags(TODAY) == {"raised": 0, "resolved": 0}
    assert services.sweep_flags(TODAY + datetime.timedelta(days=6)) == {"raised": 1, "resolved": 0}
    assert services.sweep_flags(TODAY + datetime.timedelta(days=6)) == {"raised": 0, "resolved": 0}


def test_exemptions_are_attached_to_compulsory_recommendations(village, worker):
    pregnant = id_number("11010119950101002")  # a woman: even 17th digit
    person, _ = under_treatment(village, worker, number=pregnant, is_pregnant=True)
    services.do_record_check_in(person, CheckInKind.DRUG_TEST, days_ago(20), acting_user=worker,
                                method=SampleMethod.URINE, result=DrugTestResult.POSITIVE, substance="heroin")
    flag = person.flags.get(rule="use_during_measure")
    assert len(flag.exemptions) == 1 and "第三十九条" in flag.exemptions[0]
    # the exemption ends: the open flag follows
    services.do_update_person(person, expected_version=person.version, acting_user=worker, is_pregnant=False)
    flag.refresh_from_db()
    assert flag.exemptions == []


# --- risk --------------------------------------------------------------------------------------------


def test_risk_scoring_and_override(village, worker):
    person, _ = under_treatment(village, worker, living_situation=LivingSituation.UNSTABLE, mental_disorder=True)
    factors = services.risk_factors(person, TODAY)
    assert factors["unstable_living"] and factors["unemployed"] and factors["mental_disorder"]
    first = services.do_assess_risk(person, acting_user=worker, today=TODAY)
    assert (first.score, first.level) == (15 + 10 + 20, RiskLevel.MEDIUM)
    assert {c["factor"] for c in first.contributions} == {"unstable_living", "unemployed", "mental_disorder"}
    person.refresh_from_db()
    assert person.risk_level == RiskLevel.MEDIUM
    # idempotent per day
    assert services.do_assess_risk(person, acting_user=worker, today=TODAY) == first
    assert person.risk_assessments.count() == 1
    # an event that bears on the risk re-assesses: the same day's assessment is replaced
    refuse(person, worker, days_ago(40), days_ago(30))
    assert person.risk_assessments.count() == 1
    person.refresh_from_db()
    latest = person.risk_assessments.get()
    assert (latest.score, latest.level, person.risk_level) == (65, RiskLevel.HIGH, RiskLevel.HIGH)
    # a human override, with its reason, audited
    with pytest.raises(ValidationError):
        services.do_override_risk(latest, RiskLevel.MEDIUM, "", acting_user=worker)
    services.do_override_risk(latest, RiskLevel.MEDIUM, "家属全力配合,近期表现稳定", acting_user=worker)
    person.refresh_from_db()
    assert person.risk_level == RiskLevel.MEDIUM
    entry = audit_entries(latest, AuditEntry.Action.UPDATE)[-1]
    assert entry.changes["level"] == [RiskLevel.HIGH, RiskLevel.MEDIUM] and entry.actor == worker
    # the override holds while the computed level stays; new facts that change it end it
    later = services.do_assess_risk(person, today=TODAY + datetime.timedelta(days=40))
    assert (later.computed_level, later.level) == (RiskLevel.HIGH, RiskLevel.MEDIUM) and later.override_reason
    services.do_update_person(person, expected_version=Person.objects.get(pk=person.pk).version, acting_user=worker,
                              living_situation=LivingSituation.STABLE, mental_disorder=False)
    newest = services.do_assess_risk(person, today=TODAY + datetime.timedelta(days=41))
    person.refresh_from_db()
    assert (newest.score, newest.computed_level, newest.level, newest.override_reason) == (
        20, RiskLevel.LOW, RiskLevel.LOW, "")
    assert person.risk_level == RiskLevel.LOW
    assert person.risk_assessments.count() == 3


def test_risk_follows_the_events(village, worker):
    person = new_person(village, worker)  # a new file is assessed
    assert person.risk_assessments.get().level == RiskLevel.LOW
    services.do_update_person(person, expected_version=person.version, acting_user=worker, family_support=False)
    services.do_update_person(person, expected_version=person.version, acting_user=worker, notes="无关的备注")
    [today] = person.risk_assessments.all()  # the same day: replaced, not added
    assert today.score == 10 and {c["factor"] for c in today.contributions} == {"no_family_support"}
    services.do_change_status(person, ControlStatus.WHEREABOUTS_UNKNOWN, TODAY, acting_user=worker)
    person.refresh_from_db()
    assert person.risk_level == RiskLevel.MEDIUM and person.risk_assessments.get().score == 40
    # a flag raised by the clock (the report-in deadline passed) re-assesses too
    services.do_change_status(person, ControlStatus.SOCIAL_CONTROL, TODAY, acting_user=worker)
    services.do_decide_measure(person, MeasureKind.COMMUNITY_TREATMENT, days_ago(10), acting_user=worker)
    services.sweep_flags(TODAY + datetime.timedelta(days=6))
    latest = person.risk_assessments.order_by("-assessed_on", "-id").first()
    assert latest.assessed_on == TODAY + datetime.timedelta(days=6)
    assert "not_reported_in" in {c["factor"] for c in latest.contributions}
    # a person no longer managed in the community is not re-assessed by events
    services.do_change_status(person, ControlStatus.DECEASED, TODAY, acting_user=worker)
    assert person.risk_assessments.count() == 2


def test_risk_weights_of_the_nearest_model(tree, village, worker):
    person = new_person(village, worker, violence_history=True)
    assert services.do_assess_risk(person, today=TODAY).score == 20
    RiskModel.objects.create(jurisdiction=tree["county"], weights={"violence_history": 50})
    assert services.risk_model_for(village)[0]["violence_history"] == 50
    RiskModel.objects.create(jurisdiction=village.parent, weights={"violence_history": 5}, high_threshold=10,
                             medium_threshold=4)
    assessment = services.do_assess_risk(person, today=TODAY)
    assert (assessment.score, assessment.level) == (5, RiskLevel.MEDIUM)
    assert person.risk_assessments.count() == 1  # the same day: replaced
    with pytest.raises(services.NotAllowed):
        services.do_assess_risk(person, acting_user=UserFactory(jurisdiction=tree["other_county"],
                                                                roles=[Role.TOWNSHIP]))


def test_monthly_risk_sweep(village, worker):
    active, _ = under_treatment(village, worker)
    gone = new_person(village, worker, status=ControlStatus.DECEASED)
    RiskAssessment.objects.filter(person=active).delete()
    first_of_month = TODAY.replace(day=1) + datetime.timedelta(days=40)
    first_of_month = first_of_month.replace(day=1)
    assert services.sweep_risk(first_of_month) == {"assessed": 1}
    assert services.sweep_risk(first_of_month + datetime.timedelta(days=3)) == {"assessed": 0}
    assert not gone.risk_assessments.exists()
    assert active.risk_assessments.get().assessed_on == first_of_month


# --- support ---------------------------------------------------------------------------------------


def test_support_by_a_member_unit(tree, village, township):
    person = new_person(village)
    unit_user = UserFactory(jurisdiction=township, roles=[Role.MEMBER_UNIT])
    with pytest.raises(services.NotAllowed):  # no task: the unit does not see the person
        support.do_record_support(person, SupportKind.EMPLOYMENT, days_ago(3), "推荐到县工业园区就业",
                                  acting_user=unit_user)
    task = support.do_assign_support_task(person, unit_user.member_unit, SupportKind.EMPLOYMENT, "推荐就业",
                                          TODAY + datetime.timedelta(days=30), acting_user=None,
                                          assigned_on=days_ago(5))
    record = support.do_record_support(person, SupportKind.EMPLOYMENT, days_ago(3), "推荐到县工业园区就业",
                                       acting_user=unit_user)
    assert record.member_unit == unit_user.member_unit and record.recorded_by == unit_user and record.task == task
    [entry] = audit_entries(record, AuditEntry.Action.CREATE)
    assert entry.changes["member_unit"] == [None, unit_user.member_unit.pk] and entry.changes["task"] == [None, task.pk]
    by_worker = support.do_record_support(person, SupportKind.RELIEF, TODAY, "协助申请低保",
                                          acting_user=UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP]))
    assert by_worker.member_unit is None and by_worker.task is None
    elsewhere = UserFactory(jurisdiction=tree["townships"][1], roles=[Role.MEMBER_UNIT])
    with pytest.raises(services.NotAllowed):
        support.do_record_support(person, SupportKind.TRAINING, TODAY, "技能培训", acting_user=elsewhere)
    with pytest.raises(services.NotAllowed):
        support.do_record_support(person, SupportKind.TRAINING, TODAY, "技能培训",
                                  acting_user=UserFactory(jurisdiction=township, roles=[Role.LEADERSHIP]))
    with pytest.raises(ValidationError):
        support.do_record_support(person, SupportKind.TRAINING, TODAY, "  ", acting_user=unit_user)
    assert set(Support.objects.visible_to(UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP]))) == {
        record, by_worker}
    assert set(Support.objects.visible_to(unit_user)) == {record}  # not the township's (it may tell of health)


# --- transfers ---------------------------------------------------------------------------------------


def sees(user, person) -> bool:
    return Person.objects.visible_to(user).filter(pk=person.pk).exists()


def test_transfer_visible_to_both_townships_until_received(tree, village, other_village, worker):
    sender, receiver = worker, UserFactory(jurisdiction=other_village.parent, roles=[Role.TOWNSHIP])
    social_worker = UserFactory(jurisdiction=village.parent, roles=[Role.SOCIAL_WORKER])
    person, measure = under_treatment(village, worker, assigned_worker=social_worker)
    receiving = other_village.parent
    assert sees(sender, person) and not sees(receiver, person)
    with pytest.raises(ValidationError):
        services.do_hand_over(person, village.parent, "搬到本镇另一个村", TODAY, acting_user=sender)
    transfer = services.do_hand_over(person, receiving, "现居住地变更", days_ago(2), acting_user=sender)
    person.refresh_from_db()
    assert person.receiving_jurisdiction == receiving
    assert sees(sender, person) and sees(receiver, person) and sees(social_worker, person)
    assert [t.incoming for t in services.pending_transfers_for(receiver)] == [True]
    assert [t.incoming for t in services.pending_transfers_for(sender)] == [False]
    assert not services.pending_transfers_for(UserFactory(jurisdiction=tree["other_county"],
                                                          roles=[Role.TOWNSHIP])).exists()
    with pytest.raises(ValidationError):
        services.do_hand_over(person, receiving, "再次移交", TODAY, acting_user=sender)
    with pytest.raises(services.NotAllowed):
        services.do_acknowledge_transfer(transfer, acting_user=sender)  # only the receiving side
    services.do_acknowledge_transfer(transfer, acting_user=receiver)
    person.refresh_from_db()
    transfer.refresh_from_db()
    assert (person.jurisdiction, person.receiving_jurisdiction, person.assigned_worker) == (receiving, None, None)
    assert (transfer.state, transfer.acknowledged_by, transfer.acknowledged_on) == (
        TransferState.ACKNOWLEDGED, receiver, TODAY)
    assert sees(receiver, person) and not sees(sender, person) and not sees(social_worker, person)
    measure.refresh_from_db()
    assert measure.executing_jurisdiction == receiving
    assert not services.pending_transfers_for(receiver).exists()
    with pytest.raises(ValidationError):
        services.do_acknowledge_transfer(transfer, acting_user=receiver)
    created, updated = audit_entries(transfer, AuditEntry.Action.CREATE), audit_entries(
        transfer, AuditEntry.Action.UPDATE)
    assert created[0].changes["to_jurisdiction"] == [None, receiving.code]
    assert updated[0].changes["jurisdiction"] == [village.code, receiving.code]


def test_cancel_a_transfer(village, other_village, worker):
    person, _ = under_treatment(village, worker)
    receiver = UserFactory(jurisdiction=other_village.parent, roles=[Role.TOWNSHIP])
    transfer = services.do_hand_over(person, other_village.parent, "现居住地变更", TODAY, acting_user=worker)
    services.do_cancel_transfer(transfer, acting_user=worker, reason="地址登记错误")
    person.refresh_from_db()
    assert person.receiving_jurisdiction is None and person.jurisdiction == village
    assert not sees(receiver, person)
    assert Transfer.objects.get(pk=transfer.pk).state == TransferState.CANCELLED
    assert audit_entries(transfer, AuditEntry.Action.UPDATE)[0].changes["reason"] == [None, "地址登记错误"]


def test_only_the_sending_area_withdraws_and_the_receiving_one_refuses_with_a_reason(tree, village, other_village,
                                                                                     worker):
    """Issue 20: the receiving township could withdraw a hand-over. It accepts or refuses, and a
    refusal says why; the sender alone withdraws (a county holding both places is both sides)."""
    person, _ = under_treatment(village, worker)
    receiver = UserFactory(jurisdiction=other_village.parent, roles=[Role.TOWNSHIP])
    transfer = services.do_hand_over(person, other_village.parent, "现居住地变更", TODAY, acting_user=worker)
    with pytest.raises(services.NotAllowed) as refused, translation.override("zh-hans"):
        services.do_cancel_transfer(transfer, acting_user=receiver, reason="不想接收")
    assert "只有移交地" in str(refused.value)
    with pytest.raises(services.NotAllowed):
        services.do_refuse_transfer(transfer, "人不在本镇居住", acting_user=worker)  # the sender cannot refuse
    for blank in ("", "   "):
        with pytest.raises(ValidationError) as empty, translation.override("zh-hans"):
            services.do_refuse_transfer(transfer, blank, acting_user=receiver)
        assert "拒绝" in empty.value.message_dict["reason"][0]
    assert Transfer.objects.get(pk=transfer.pk).state == TransferState.HANDED_OVER  # nothing saved
    services.do_refuse_transfer(transfer, " 经核实，本人不在本镇居住 ", acting_user=receiver)
    transfer.refresh_from_db()
    person.refresh_from_db()
    assert (transfer.state, transfer.refusal_reason) == (TransferState.REFUSED, "经核实，本人不在本镇居住")
    assert person.receiving_jurisdiction is None and person.jurisdiction == village and not sees(receiver, person)
    assert audit_entries(transfer, AuditEntry.Action.UPDATE)[0].changes == {
        "state": [TransferState.HANDED_OVER, TransferState.REFUSED], "reason": [None, "经核实，本人不在本镇居住"]}
    with pytest.raises(ValidationError):
        services.do_cancel_transfer(transfer, acting_user=worker)  # no longer waiting
    county = UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE])
    again = services.do_hand_over(person, other_village.parent, "再次移交", TODAY, acting_user=worker)
    services.do_cancel_transfer(again, acting_user=county)
    assert Transfer.objects.get(pk=again.pk).state == TransferState.CANCELLED


def test_the_receiving_area_comes_from_this_installations_tree(tree, village, other_village, worker):
    """Issue 20: a hand-over to a code outside the county was accepted. Only a township of this
    tree other than the person's own receives; anything else is refused on the field, nothing saved."""
    from jurisdictions.choices import Level
    from jurisdictions.models import Jurisdiction

    person, _ = under_treatment(village, worker)
    unsaved = Jurisdiction(code="310101001", name="外省某街道", level=Level.TOWNSHIP)
    refused = {"not in the tree": unsaved, "a village": other_village, "a county": tree["other_county"],
               "the own township": village.parent, "the own village": village, "nothing": None}
    for case, place in refused.items():
        with pytest.raises(ValidationError) as error, translation.override("zh-hans"):
            services.do_hand_over(person, place, "迁居", TODAY, acting_user=worker)
        message = error.value.message_dict["to_jurisdiction"][0]
        assert message and not message.isascii(), case
    assert not person.transfers.exists() and not Jurisdiction.objects.filter(code="310101001").exists()
    person.refresh_from_db()
    assert person.receiving_jurisdiction is None
    from jurisdictions.tests.factories import JurisdictionFactory

    township_elsewhere = JurisdictionFactory(level=Level.TOWNSHIP, parent=tree["other_county"], name="邻县一镇")
    assert services.do_hand_over(person, township_elsewhere, "迁居邻县", TODAY, acting_user=worker).pk


def test_hand_over_error_rule():
    own = "98/9801/980101/980101001/"
    assert rules.hand_over_error("township", "98/9801/980101/980101002/", own) is None
    assert rules.hand_over_error("township", "98/9801/980102/980102001/", own) is None  # another county
    for level, path in ((None, ""), ("village", "98/9801/980101/980101002/980101002001/"),
                        ("county", "98/9801/980102/"), ("township", own)):
        assert rules.hand_over_error(level, path, own), (level, path)


def test_a_transfer_not_received_in_15_days_is_flagged(village, other_village, worker):
    person, _ = under_treatment(village, worker)
    services.do_hand_over(person, other_village.parent, "现居住地变更", days_ago(16), acting_user=worker)
    assert services.evaluate_flags(person) == (1, 0)
    assert person.flags.get(state=FlagState.OPEN).rule == "transfer_not_received"


# --- scope ---------------------------------------------------------------------------------------------


def test_persons_and_their_records_follow_the_scope(township, village, worker):
    """The person: to the file roles of the area and to a member unit with a task for them; the
    records of the file (another unit's support among them): to the file roles only."""
    matrix = ScopeMatrix(township)
    person, measure = under_treatment(village, worker)
    matrix.add_tasked_member_units(person)
    refuse(person, worker, days_ago(90), days_ago(60), days_ago(30))
    support.do_record_support(person, SupportKind.MEDICAL, TODAY, "美沙酮门诊转介", acting_user=worker)
    services.do_assess_risk(person, today=TODAY)
    matrix.check_queryset(Person, person, allowed_roles=PERSON_READERS)
    for record in (measure, person.check_ins.first(), person.flags.first(), person.status_changes.first(),
                   person.planned_check_ins.first(), person.support_records.first(), person.risk_assessments.first()):
        matrix.check_queryset(type(record), record, allowed_roles=FILE_READERS)
    # Its own task and the support it records against it: to the unit too (and to the file roles).
    task = person.support_tasks.filter(member_unit__jurisdiction=township).get()
    unit_user = next(c.user for c in matrix.cases if c.role == TASKED and c.position == "in_scope")
    record = support.do_record_support(person, SupportKind.SCHOOLING, TODAY, "协助复学", acting_user=unit_user)
    assert record.task == task
    for obj in (task, record):
        failures = [str(case) for case in matrix.cases if SupportTask.objects.visible_to(case.user).filter(pk=task.pk)
                    .exists() is not (matrix.expected(case, FILE_READERS) or case.user == unit_user)]
        assert failures == [], obj


def test_social_workers_see_only_their_assigned_persons(township, village, worker):
    mine = UserFactory(jurisdiction=township, roles=[Role.SOCIAL_WORKER])
    theirs = UserFactory(jurisdiction=township, roles=[Role.SOCIAL_WORKER])
    person, measure = under_treatment(village, worker, assigned_worker=mine)
    other, _ = under_treatment(village, worker, name="李四")
    assert list(Person.objects.visible_to(mine)) == [person]
    assert not Person.objects.visible_to(theirs).exists()
    assert set(Measure.objects.visible_to(mine)) == {measure}
    services.do_record_check_in(person, CheckInKind.INTERVIEW, TODAY, acting_user=mine, notes="谈话了解近期生活情况，情绪稳定。")
    with pytest.raises(services.NotAllowed):
        services.do_record_check_in(other, CheckInKind.INTERVIEW, TODAY, acting_user=mine)
    assert not Flag.objects.visible_to(theirs).exists()


def test_substances_carry_the_files_county_and_follow_it(tree, village):
    from jurisdictions.choices import Level
    from jurisdictions.tests.factories import JurisdictionFactory
    from persons.models import PersonSubstance

    town = JurisdictionFactory(code=f"{tree['other_county'].code}001", level=Level.TOWNSHIP, parent=tree["other_county"])
    elsewhere = JurisdictionFactory(code=f"{town.code}001", level=Level.VILLAGE, parent=town)
    person = new_person(village, substances=["heroin", "methamphetamine"])
    assert set(PersonSubstance.objects.values_list("county_code", flat=True)) == {village.county_code}
    services.do_update_person(person, expected_version=person.version, acting_user=None, jurisdiction=elsewhere)
    assert set(PersonSubstance.objects.values_list("county_code", flat=True)) == {elsewhere.county_code}
    person.refresh_from_db()
    services.do_update_person(person, expected_version=person.version, acting_user=None,
                              substances=["ketamine", "heroin"])
    assert sorted(PersonSubstance.objects.values_list("substance", "county_code")) == [
        ("heroin", elsewhere.county_code), ("ketamine", elsewhere.county_code)]


def test_a_file_moved_to_another_county_takes_its_records_along(tree, village):
    from jurisdictions.choices import Level
    from jurisdictions.tests.factories import JurisdictionFactory
    from persons.models import PersonRecord

    town = JurisdictionFactory(code=f"{tree['other_county'].code}001", level=Level.TOWNSHIP, parent=tree["other_county"])
    elsewhere = JurisdictionFactory(code=f"{town.code}001", level=Level.VILLAGE, parent=town)
    person, _measure = under_treatment(village)
    services.do_record_check_in(person, CheckInKind.DRUG_TEST, days_ago(3), acting_user=None, method="urine",
                                result="negative")

    def counties():
        return {model.__name__: set(model.objects.filter(person=person).values_list("county_code", flat=True))
                for model in PersonRecord.__subclasses__() if model.objects.filter(person=person).exists()}

    assert set(counties()) >= {"StatusChange", "Measure", "CheckIn", "PlannedCheckIn"}
    assert all(codes == {village.county_code} for codes in counties().values())
    person.refresh_from_db()
    services.do_update_person(person, expected_version=person.version, acting_user=None, jurisdiction=elsewhere)
    assert all(codes == {elsewhere.county_code} for codes in counties().values())
