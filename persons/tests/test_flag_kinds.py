"""Issue 20, "a rule that must not undo itself": a flag on a past event stays open with its
evidence until a person decides on it; only a flag on a present state resolves by itself when
the state ends (rules.FLAG_RULES). Each rule of each kind is worked through the services."""

import datetime
import re
from pathlib import Path

import pytest

from accounts.tests.factories import UserFactory
from core.roles import Role
from jindu.testing import clock
from persons import rules, services
from persons.choices import CheckInKind, ControlStatus, DrugTestResult, FlagState, MeasureKind, SampleMethod
from persons.models import Flag
from persons.tests.test_services import days_ago, new_person, under_treatment

TODAY = clock.TODAY
pytestmark = pytest.mark.time_machine(clock.NOW)

PAST_EVENT = {"report_in_overdue", "serious_breach", "use_during_measure", "relapse_after_treatment"}
PRESENT_STATE = {"term_ended", "early_release_assessment", "transfer_not_received"}


@pytest.fixture
def village(tree):
    return tree["villages"][0]


@pytest.fixture
def worker(township):
    return UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP])


def open_flag(person, rule) -> Flag:
    return person.flags.get(rule=rule, state=FlagState.OPEN)


def positive(person, worker, on):
    services.do_record_check_in(person, CheckInKind.DRUG_TEST, on, acting_user=worker, method=SampleMethod.URINE,
                                result=DrugTestResult.POSITIVE, substance="heroin")


# --- the kinds ---------------------------------------------------------------------------------


def test_every_rule_says_what_it_rests_on():
    """A rule added to rules.evaluate without a kind would fail here, not silently resolve."""
    source = Path(rules.__file__).read_text(encoding="utf-8")
    raised = set(re.findall(r'rule="([a-z_]+)"', source))
    assert raised == set(rules.FLAG_RULES) == PAST_EVENT | PRESENT_STATE
    assert {name for name, rule in rules.FLAG_RULES.items() if rule.resolves_when_state_ends} == PRESENT_STATE
    assert all("条" in rule.basis for rule in rules.FLAG_RULES.values())
    assert not rules.resolves_when_state_ends("a_rule_since_removed")  # a person closes its flags


@pytest.mark.parametrize("rule", sorted(PAST_EVENT | PRESENT_STATE))
def test_the_engine_resolves_only_present_states(rule):
    flag = Flag(pk=1, person_id=1, rule=rule, state=FlagState.OPEN, evidence=[{"id": 1}])
    changes = services.FlagChanges()
    services._flag_changes(changes, 1, "980101", {}, {rule: flag}, [], [], TODAY, [])
    assert (changes.resolve == [flag]) is (rule in PRESENT_STATE)
    assert changes.create == changes.update == []


# --- past events: the flag stands --------------------------------------------------------------


def test_a_late_report_in_does_not_undo_the_refusal(village, worker, time_machine):
    """The walk-through: decided on 11-15, deadline 11-30, reported on 12-03. The flag raised on
    the 16th day was "预警已不再适用" once the report-in was recorded (戒毒条例 第十四条)."""
    decided, reported = datetime.date(2025, 11, 15), datetime.date(2025, 12, 3)
    assert rules.report_in_deadline(decided) == datetime.date(2025, 11, 30)
    time_machine.move_to(datetime.datetime(2025, 11, 15, 10, tzinfo=clock.NOW.tzinfo), tick=False)
    person = new_person(village, worker)
    measure = services.do_decide_measure(person, MeasureKind.COMMUNITY_TREATMENT, decided, acting_user=worker)
    time_machine.move_to(datetime.datetime(2025, 12, 1, 2, tzinfo=clock.NOW.tzinfo), tick=False)
    assert services.sweep_flags() == {"raised": 1, "resolved": 0}
    flag = open_flag(person, "report_in_overdue")
    evidence = flag.evidence
    time_machine.move_to(datetime.datetime(2025, 12, 3, 10, tzinfo=clock.NOW.tzinfo), tick=False)
    services.do_report_in(measure, reported, acting_user=worker)
    assert services.evaluate_flags(person) == (0, 0)
    assert services.sweep_flags() == {"raised": 0, "resolved": 0}
    flag.refresh_from_db()
    assert (flag.state, flag.evidence) == (FlagState.OPEN, evidence)
    services.do_decide_flag(flag, "已报公安机关依法处理", acting_user=worker)  # a person closes it
    assert services.evaluate_flags(person) == (0, 0)
    assert not person.flags.filter(state=FlagState.OPEN).exists()


def test_a_report_in_made_in_time_but_entered_late_clears_the_flag(village, worker):
    """The decision entered 20 days late raises the flag; the report-in entered next shows the
    person came in time: there was no refusal, and the flag resolves (rules._reported_in_time)."""
    person = new_person(village, worker)
    measure = services.do_decide_measure(person, MeasureKind.COMMUNITY_TREATMENT, days_ago(20), acting_user=worker)
    flag = open_flag(person, "report_in_overdue")
    services.do_report_in(measure, days_ago(8), acting_user=worker)  # day 12 of 15
    flag.refresh_from_db()
    assert flag.state == FlagState.RESOLVED
    assert not person.flags.filter(state=FlagState.OPEN).exists()


def test_a_report_in_recorded_late_is_found_though_no_flag_was_raised_in_time():
    """The refusal is a fact of the dates, not of when the rules last looked."""
    late = rules.MeasureFacts(1, MeasureKind.COMMUNITY_TREATMENT, datetime.date(2025, 11, 15),
                              datetime.date(2025, 12, 3), datetime.date(2025, 12, 3), None, None)
    on_time = rules.MeasureFacts(2, MeasureKind.COMMUNITY_TREATMENT, datetime.date(2025, 11, 15),
                                 datetime.date(2025, 11, 30), datetime.date(2025, 11, 30), None, None)
    today = datetime.date(2025, 12, 5)
    assert [f.rule for f in rules.evaluate([late], [], [], today)] == ["report_in_overdue"]
    assert rules.evaluate([on_time], [], [], today) == []


def test_a_serious_breach_stands_after_the_measure_ended(village, worker):
    person, measure = under_treatment(village, worker, reported_days_ago=100)
    for day in (90, 60, 30):
        services.do_record_check_in(person, CheckInKind.DRUG_TEST, days_ago(day), acting_user=worker,
                                    result=DrugTestResult.REFUSED)
    flag = open_flag(person, "serious_breach")
    services.do_end_measure(measure, days_ago(5), acting_user=worker, completed=False, reason="转强制隔离戒毒")
    assert not [f for f in rules.evaluate(*services.facts_of(person), TODAY) if f.rule == "serious_breach"]
    assert services.evaluate_flags(person) == (0, 0)
    flag.refresh_from_db()
    assert flag.state == FlagState.OPEN and len(flag.evidence) == 3


def test_use_during_a_measure_stands_after_the_measure_ended(village, worker):
    person, measure = under_treatment(village, worker, reported_days_ago=100)
    positive(person, worker, days_ago(20))
    flag = open_flag(person, "use_during_measure")
    evidence = flag.evidence
    services.do_end_measure(measure, days_ago(5), acting_user=worker, completed=False, reason="转强制隔离戒毒")
    assert "use_during_measure" not in {f.rule for f in rules.evaluate(*services.facts_of(person), TODAY)}
    assert services.evaluate_flags(person) == (0, 0)
    flag.refresh_from_db()
    assert (flag.state, flag.evidence) == (FlagState.OPEN, evidence)


def test_a_relapse_stands_when_a_new_measure_takes_the_test_in(village, worker):
    """A positive test after the measure ended; the same day a new measure is decided and
    reported in, so the test falls in its term and the relapse rule no longer finds it."""
    person, measure = under_treatment(village, worker, reported_days_ago=300)
    services.do_end_measure(measure, days_ago(100), acting_user=worker)
    positive(person, worker, days_ago(10))
    flag = open_flag(person, "relapse_after_treatment")
    again = services.do_decide_measure(person, MeasureKind.COMMUNITY_TREATMENT, days_ago(10), acting_user=worker)
    services.do_report_in(again, days_ago(10), acting_user=worker)
    assert "relapse_after_treatment" not in {f.rule for f in rules.evaluate(*services.facts_of(person), TODAY)}
    assert services.evaluate_flags(person) == (0, 0)
    flag.refresh_from_db()
    assert flag.state == FlagState.OPEN


# --- present states: the flag resolves when the state ends -------------------------------------


def test_term_ended_resolves_when_the_release_is_recorded(village, worker):
    person, measure = under_treatment(village, worker, reported_days_ago=1100)  # the term ran out
    assert measure.ends_on < TODAY
    flag = open_flag(person, "term_ended")
    services.do_end_measure(measure, measure.ends_on, acting_user=worker, reason="期满解除",
                            next_status=ControlStatus.SOCIAL_CONTROL)
    flag.refresh_from_db()
    assert flag.state == FlagState.RESOLVED


def test_early_release_assessment_resolves_when_compulsory_treatment_ends(village, worker):
    person = new_person(village, worker)
    measure = services.do_decide_measure(person, MeasureKind.COMPULSORY_TREATMENT, days_ago(400), acting_user=worker)
    flag = open_flag(person, "early_release_assessment")
    services.do_end_measure(measure, days_ago(1), acting_user=worker, reason="提前解除")
    flag.refresh_from_db()
    assert flag.state == FlagState.RESOLVED


@pytest.mark.parametrize("ending", ["acknowledge", "cancel", "refuse"])
def test_transfer_not_received_resolves_when_the_transfer_no_longer_waits(tree, village, worker, ending):
    person, _ = under_treatment(village, worker)
    receiver = UserFactory(jurisdiction=tree["townships"][1], roles=[Role.TOWNSHIP])
    transfer = services.do_hand_over(person, tree["townships"][1], "迁居", days_ago(16), acting_user=worker)
    assert services.evaluate_flags(person) == (1, 0)
    flag = open_flag(person, "transfer_not_received")
    if ending == "acknowledge":
        services.do_acknowledge_transfer(transfer, acting_user=receiver)
    elif ending == "cancel":
        services.do_cancel_transfer(transfer, acting_user=worker, reason="填错了")
    else:
        services.do_refuse_transfer(transfer, "本人不在本镇居住", acting_user=receiver)
    flag.refresh_from_db()
    assert flag.state == FlagState.RESOLVED
