"""Table-driven tests of the legal clocks and rules (persons.rules), at their boundaries."""

import datetime

import pytest
from django.utils import translation
from stdnum.cn import ric

from persons import rules
from persons.choices import LivingSituation, MeasureKind, RiskLevel

D = datetime.date
T, R, C = MeasureKind.COMMUNITY_TREATMENT, MeasureKind.COMMUNITY_REHABILITATION, MeasureKind.COMPULSORY_TREATMENT


def with_check_digit(body17: str) -> str:
    """A valid 18-digit number from its first 17 digits (calc_check_digit ignores the 18th place)."""
    return body17 + ric.calc_check_digit(body17 + "0")


VALID = with_check_digit("11010519491231002")
# 500101 (重庆市万州区) was created in 1997, so stdnum refuses it for someone born in 1950;
# its check digit happens to be X.
YOUNG_AREA = with_check_digit("50010119500101001")
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９ｘ")


@pytest.fixture(autouse=True)
def english():
    """The messages are checked by their English text, whatever language another test left on."""
    with translation.override("en"):
        yield


# --- ID numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    (VALID, VALID),
    (YOUNG_AREA.lower(), YOUNG_AREA),  # lower-case x
    (YOUNG_AREA.translate(FULL_WIDTH), YOUNG_AREA),  # full-width digits and ｘ
    (f" {VALID[:6]} {VALID[6:14]} {VALID[14:]} ", VALID),  # spaces
    (f"{VALID[:6]}-{VALID[6:14]}-{VALID[14:]}", VALID),  # hyphens
    ("110105491231002", VALID),  # 15-digit first-generation number, upgraded with the right check digit
    (YOUNG_AREA, YOUNG_AREA),  # an area code younger than its holder is accepted
])
def test_normalise_id_number_accepts(raw, expected):
    assert rules.normalise_id_number(raw, today=D(2025, 6, 1)) == expected


def test_the_young_area_code_is_one_stdnum_would_refuse():
    assert YOUNG_AREA.endswith("X") and not ric.is_valid(YOUNG_AREA)


@pytest.mark.parametrize(("raw", "message"), [
    (VALID[:17] + str((int(VALID[17]) + 1) % 10) if VALID[17] != "X" else VALID[:17] + "0", "check digit"),
    (with_check_digit("11010519900230123"), "birth date"),  # 30 February
    (with_check_digit("11010519901301123"), "birth date"),  # month 13
    (with_check_digit("11010520990101123"), "future"),
    ("1.10101199003071e+17", "spreadsheet"),  # Excel stored it as a float: the last digits are gone
    ("1.10101199003071E17", "spreadsheet"),
    ("110101199003071000.0", "spreadsheet"),
    ("11010519491231002", "18 characters"),  # 17 digits
    ("1101051949123100212", "18 characters"),  # 19 digits
    ("11010519491231002Y", "18 characters"),
    ("11010549123100X", "18 characters"),  # 15 characters with a letter
    ("", "18 characters"),
])
def test_normalise_id_number_refuses(raw, message):
    with pytest.raises(rules.IdNumberError, match=message):
        rules.normalise_id_number(raw, today=D(2025, 6, 1))


def test_sex_and_birth_date_from_the_number():
    assert rules.birth_date_of(VALID) == D(1949, 12, 31)
    assert rules.sex_of(VALID) == "F"  # 17th digit 2: even
    assert rules.sex_of(with_check_digit("11010519491231001")) == "M"


@pytest.mark.parametrize(("born", "on", "age"), [
    (D(2009, 6, 1), D(2025, 5, 31), 15),
    (D(2009, 6, 1), D(2025, 6, 1), 16),  # the birthday completes the year
    (D(2008, 2, 29), D(2024, 2, 28), 15),
    (D(2008, 2, 29), D(2024, 2, 29), 16),
])
def test_age_on(born, on, age):
    assert rules.age_on(born, on) == age


# --- clocks -----------------------------------------------------------------------------------------


DECIDED = D(2024, 3, 1)


@pytest.mark.parametrize(("days", "overdue"), [(14, False), (15, False), (16, True)])
def test_report_in_deadline_is_day_15_after_the_decision(days, overdue):
    day = DECIDED + datetime.timedelta(days=days)
    assert rules.report_in_deadline(DECIDED) == D(2024, 3, 16)
    assert rules.report_in_overdue(DECIDED, None, day) is overdue  # not reported by that day
    assert rules.report_in_overdue(DECIDED, day, D(2030, 1, 1)) is overdue  # reported on that day


@pytest.mark.parametrize(("kind", "starts", "months", "extension", "ends"), [
    (T, D(2024, 1, 10), None, 0, D(2027, 1, 9)),  # 3 years from the report-in, that day counted
    (T, D(2024, 1, 10), 12, 0, D(2027, 1, 9)),  # community treatment is always 3 years
    (T, D(2024, 2, 29), None, 0, D(2027, 2, 28)),  # no 29 February at the end: the month's last day
    (T, D(2024, 1, 1), None, 0, D(2026, 12, 31)),
    (R, D(2024, 1, 10), None, 0, D(2027, 1, 9)),
    (R, D(2024, 1, 10), 12, 0, D(2025, 1, 9)),  # the decided term
    (R, D(2024, 1, 10), 48, 0, D(2027, 1, 9)),  # capped at 3 years
    (R, D(2024, 1, 10), 36, 6, D(2027, 1, 9)),  # no extension outside compulsory treatment
    (C, D(2024, 1, 10), None, 0, D(2026, 1, 9)),  # 2 years from the decision
    (C, D(2024, 1, 10), 36, 0, D(2026, 1, 9)),  # always 2 years
    (C, D(2024, 1, 10), None, 6, D(2026, 7, 9)),
    (C, D(2024, 1, 10), None, 12, D(2027, 1, 9)),
    (C, D(2024, 1, 10), None, 18, D(2027, 1, 9)),  # the extension is capped at 1 year
])
def test_term_end(kind, starts, months, extension, ends):
    assert rules.term_end(kind, starts, months, extension) == ends


@pytest.mark.parametrize(("first", "months", "last"), [
    (D(2024, 1, 10), 1, D(2024, 2, 9)),
    (D(2024, 1, 31), 1, D(2024, 2, 29)),  # February has no 31st: its last day
    (D(2024, 3, 31), 1, D(2024, 4, 30)),
    (D(2024, 1, 1), 12, D(2024, 12, 31)),
])
def test_period_end(first, months, last):
    assert rules.period_end(first, months) == last


def test_other_clocks():
    assert rules.early_release_assessment_due(D(2024, 1, 10)) == D(2025, 1, 10)
    assert rules.termination_notice_due(D(2027, 1, 9)) == D(2027, 1, 16)
    assert rules.transfer_report_in_deadline(D(2024, 5, 1)) == D(2024, 5, 16)
    assert rules.term_months_for(R, 0) == 36 and rules.term_months_for(R, 1) == 1


# --- check-in plan ---------------------------------------------------------------------------------

START = D(2024, 1, 10)
END = rules.term_end(T, START)


def dates(items, kind):
    return [due for k, due in items if k == kind]


def test_default_plan_for_three_years():
    items = rules.plan_due_dates(START, END, rules.PlanPolicy())
    tests = dates(items, "drug_test")
    year1 = [d for d in tests if d <= D(2025, 1, 9)]
    year2 = [d for d in tests if D(2025, 1, 9) < d <= D(2026, 1, 9)]
    year3 = [d for d in tests if d > D(2026, 1, 9)]
    assert (len(year1), len(year2), len(year3)) == (12, 6, 4)  # monthly, every 2 months, quarterly
    assert year1[:2] == [D(2024, 2, 9), D(2024, 3, 9)] and year1[-1] == D(2025, 1, 9)
    assert year2 == [D(2025, 3, 9), D(2025, 5, 9), D(2025, 7, 9), D(2025, 9, 9), D(2025, 11, 9), D(2026, 1, 9)]
    assert year3 == [D(2026, 4, 9), D(2026, 7, 9), D(2026, 10, 9), D(2027, 1, 9)]
    interviews = dates(items, "interview")
    assert len(interviews) == 36 and interviews[0] == D(2024, 2, 9) and interviews[-1] == END
    assert len(dates(items, "home_visit")) == 12
    assert dates(items, "half_year_summary") == [D(2024, 7, 9), D(2025, 1, 9), D(2025, 7, 9), D(2026, 1, 9),
                                                 D(2026, 7, 9), D(2027, 1, 9)]
    assert dates(items, "yearly_evaluation") == [D(2025, 1, 9), D(2026, 1, 9), D(2027, 1, 9)]
    assert all(START <= due <= END for _, due in items)
    assert items == sorted(items, key=lambda item: (item[1], item[0]))


@pytest.mark.parametrize(("policy", "ends", "expected"), [
    # a jurisdiction's own policy: tests every 2, 3, 6 months; nothing else
    (rules.PlanPolicy((2, 3, 6), 0, 0, False, False), END, {"drug_test": 6 + 4 + 2}),
    # an interval that does not divide the year: the last period is cut at the year's end
    (rules.PlanPolicy((5, 5, 5), 0, 0, False, False), END, {"drug_test": 9}),
    # no tests in year 2
    (rules.PlanPolicy((1, 0, 3), 0, 0, False, False), END, {"drug_test": 12 + 4}),
    # a rehabilitation of 12 months: year 1 only
    (rules.PlanPolicy(), rules.term_end(R, START, 12), {"drug_test": 12, "interview": 12, "home_visit": 4,
                                                        "half_year_summary": 2, "yearly_evaluation": 1}),
    # a term of 30 months: the last quarter of year 3 is not reached
    (rules.PlanPolicy((1, 2, 3), 1, 0, False, False), rules.term_end(R, START, 30),
     {"drug_test": 12 + 6 + 2, "interview": 30}),
    # a term of 32 months: the last period is cut by the end of the term and due on that day
    (rules.PlanPolicy((1, 2, 3), 0, 0, False, False), rules.term_end(R, START, 32), {"drug_test": 12 + 6 + 3}),
])
def test_plan_policies(policy, ends, expected):
    items = rules.plan_due_dates(START, ends, policy)
    counts = {}
    for kind, _due in items:
        counts[kind] = counts.get(kind, 0) + 1
    assert counts == expected
    assert max(due for _, due in items) == ends


def test_a_short_last_period_is_due_at_the_end_of_the_term():
    ends = rules.term_end(R, START, 32)
    assert dates(rules.plan_due_dates(START, ends, rules.PlanPolicy((1, 2, 3), 0, 0, False, False)),
                 "drug_test")[-3:] == [D(2026, 4, 9), D(2026, 7, 9), ends]


MONTHLY = [(1, D(2024, 2, 9)), (2, D(2024, 3, 9)), (3, D(2024, 4, 9))]


@pytest.mark.parametrize(("done", "occurred", "closes"), [
    (set(), D(2024, 1, 10), 1),  # the first day of the term: the first period
    (set(), D(2024, 2, 9), 1),  # the last day of the first period
    (set(), D(2024, 2, 10), 2),  # the period it falls in, though the first one was missed
    ({1}, D(2024, 2, 10), 2),  # the period it falls in
    ({1}, D(2024, 2, 1), None),  # a second check-in in a done period closes nothing ahead
    ({1, 2}, D(2024, 3, 1), None),
    # Its own period done: nothing. A missed period is explained, not made up by a later check-in
    # (before issue 20 it closed the earliest overdue one, and the missed period vanished).
    ({2}, D(2024, 3, 1), None),
    (set(), D(2024, 1, 9), None),  # before the term
    ({1, 2, 3}, D(2024, 5, 1), None),  # after the plan
    (set(), D(2024, 5, 1), None),  # after the plan: every period is missed, none is closed
])
def test_plan_item_to_close(done, occurred, closes):
    items = [(pk, due, pk in done) for pk, due in MONTHLY]
    assert rules.plan_item_to_close(items, START, occurred) == closes


# --- serious breach and the other rules ------------------------------------------------------------


@pytest.mark.parametrize(("refusals", "departures", "away", "breach"), [
    (2, 0, 0, False), (3, 0, 0, True),
    (0, 2, 0, False), (0, 3, 0, True),
    (0, 0, 30, False), (0, 0, 31, True),
    (2, 2, 30, False),
])
def test_serious_breach(refusals, departures, away, breach):
    assert rules.serious_breach(refusals, departures, away) is breach


TODAY = D(2025, 6, 1)


@pytest.mark.parametrize(("departures", "days"), [
    ([(D(2025, 1, 1), D(2025, 1, 31))], 30),  # the day of leaving is not counted
    ([(D(2025, 1, 1), D(2025, 1, 1))], 0),
    ([(D(2025, 1, 1), D(2025, 1, 11)), (D(2025, 2, 1), D(2025, 2, 21))], 30),
    ([(D(2025, 1, 1), D(2025, 1, 11)), (D(2025, 2, 1), D(2025, 2, 22))], 31),
    ([(TODAY - datetime.timedelta(days=31), None)], 31),  # still away: counted to today
])
def test_days_away(departures, days):
    assert rules.days_away(departures, TODAY) == days


DECIDED_DEFAULT, REPORTED_DEFAULT = D(2024, 12, 1), D(2024, 12, 10)


def measure(kind=T, pk=1, decided=DECIDED_DEFAULT, reported=REPORTED_DEFAULT, ended=None, refused=False,
            months=None):
    starts = reported if kind != C else decided
    return rules.MeasureFacts(pk, kind, decided, reported if kind != C else None, starts,
                              rules.term_end(kind, starts, months) if starts else None, ended, refused)


def refusal(pk, on):
    return rules.TestFacts(pk, on, "refused", 1)


def rules_found(findings):
    return {f.rule: f for f in findings}


@pytest.mark.parametrize(("count", "found"), [(2, False), (3, True)])
def test_refused_tests_make_a_serious_breach(count, found):
    tests = [refusal(i, D(2025, 1, 1) + datetime.timedelta(days=30 * i)) for i in range(count)]
    flags = rules_found(rules.evaluate([measure()], tests, [], TODAY))
    assert ("serious_breach" in flags) is found
    if found:
        flag = flags["serious_breach"]
        assert "第二十条" in flag.article and "第三十八条第一款第（三）项" in flag.article
        assert [e.pk for e in flag.evidence] == [0, 1, 2] and flag.compulsory


@pytest.mark.parametrize(("count", "found"), [(2, False), (3, True)])
def test_departures_make_a_serious_breach(count, found):
    gone = [rules.DepartureFacts(i, D(2025, 1, 1) + datetime.timedelta(days=30 * i),
                                 D(2025, 1, 2) + datetime.timedelta(days=30 * i), 1) for i in range(count)]
    assert ("serious_breach" in rules_found(rules.evaluate([measure()], [], gone, TODAY))) is found


@pytest.mark.parametrize(("days", "found"), [(30, False), (31, True)])
def test_days_away_make_a_serious_breach(days, found):
    closed = [rules.DepartureFacts(1, D(2025, 1, 1), D(2025, 1, 1) + datetime.timedelta(days=days), 1)]
    assert ("serious_breach" in rules_found(rules.evaluate([measure()], [], closed, TODAY))) is found
    still_away = [rules.DepartureFacts(1, TODAY - datetime.timedelta(days=days), None, 1)]
    assert ("serious_breach" in rules_found(rules.evaluate([measure()], [], still_away, TODAY))) is found


def test_records_outside_the_term_do_not_count():
    before = [refusal(i, D(2024, 11, 1) + datetime.timedelta(days=i)) for i in range(3)]
    assert "serious_breach" not in rules_found(rules.evaluate([measure()], before, [], TODAY))
    assert "serious_breach" not in rules_found(rules.evaluate([measure(ended=D(2025, 1, 1))], [
        refusal(i, D(2025, 1, 1) + datetime.timedelta(days=i)) for i in range(3)], [], TODAY))


def test_serious_breach_during_rehabilitation_cites_its_own_articles():
    tests = [refusal(i, D(2025, 1, 1) + datetime.timedelta(days=i)) for i in range(3)]
    flag = rules_found(rules.evaluate([measure(R)], tests, [], TODAY))["serious_breach"]
    assert "第三十八条第二款" in flag.article and "禁毒法 第四十八条第二款" in flag.article
    assert not flag.compulsory


def test_positive_test_during_a_measure():
    positive = [rules.TestFacts(7, D(2025, 3, 1), "positive", 1)]
    flag = rules_found(rules.evaluate([measure()], positive, [], TODAY))["use_during_measure"]
    assert flag.article.startswith("禁毒法 第三十八条第一款第（二）项") and flag.compulsory
    assert [e.pk for e in flag.evidence] == [7]
    # during rehabilitation it is using again after compulsory treatment
    flag = rules_found(rules.evaluate([measure(R)], positive, [], TODAY))["use_during_measure"]
    assert flag.article.startswith("禁毒法 第三十八条第一款第（四）项")
    # a negative test finds nothing
    assert rules.evaluate([measure()], [rules.TestFacts(7, D(2025, 3, 1), "negative", 1)], [], TODAY) == []


def test_relapse_after_a_measure_ended():
    ended = measure(ended=D(2025, 1, 1))
    before_end = [rules.TestFacts(1, D(2024, 12, 20), "positive", 1)]
    assert "relapse_after_treatment" not in rules_found(rules.evaluate([ended], before_end, [], TODAY))
    after_end = [rules.TestFacts(2, D(2025, 2, 1), "positive", None)]
    flag = rules_found(rules.evaluate([ended], after_end, [], TODAY))["relapse_after_treatment"]
    assert flag.article == "禁毒法 第三十八条第一款第（四）项" and [e.pk for e in flag.evidence] == [2]


@pytest.mark.parametrize(("days", "found"), [(14, False), (15, False), (16, True)])
def test_report_in_overdue_finding(days, found):
    waiting = rules.MeasureFacts(1, T, DECIDED, None, None, None, None)
    flags = rules_found(rules.evaluate([waiting], [], [], DECIDED + datetime.timedelta(days=days)))
    assert ("report_in_overdue" in flags) is found
    if found:
        assert "第十四条" in flags["report_in_overdue"].article and flags["report_in_overdue"].compulsory


def test_report_in_overdue_for_rehabilitation():
    waiting = rules.MeasureFacts(1, R, DECIDED, None, None, None, None)
    flag = rules_found(rules.evaluate([waiting], [], [], DECIDED + datetime.timedelta(days=16)))["report_in_overdue"]
    assert flag.article.startswith("戒毒条例 第三十八条第一款") and not flag.compulsory


def test_term_ended_and_early_release():
    running = measure(reported=D(2021, 1, 10))  # ends 2024-01-09
    flag = rules_found(rules.evaluate([running], [], [], D(2024, 1, 10)))["term_ended"]
    assert flag.article == "戒毒条例 第二十三条" and "2024-01-16" in flag.recommendation
    assert "term_ended" not in rules_found(rules.evaluate([running], [], [], D(2024, 1, 9)))
    compulsory = measure(C, decided=D(2024, 6, 1))
    assert "early_release_assessment" not in rules_found(rules.evaluate([compulsory], [], [], D(2025, 5, 31)))
    flag = rules_found(rules.evaluate([compulsory], [], [], D(2025, 6, 1)))["early_release_assessment"]
    assert flag.article == "禁毒法 第四十七条第二款"


@pytest.mark.parametrize(("days", "found"), [(15, False), (16, True)])
def test_transfer_not_received(days, found):
    pending = [rules.TransferFacts(9, TODAY - datetime.timedelta(days=days), True)]
    flags = rules_found(rules.evaluate([measure()], [], [], TODAY, transfers=pending))
    assert ("transfer_not_received" in flags) is found


# --- 第三十九条 exemptions ---------------------------------------------------------------------------


@pytest.mark.parametrize(("sex", "born", "pregnant", "nursing", "on", "count", "word"), [
    ("F", D(1990, 1, 1), True, None, TODAY, 1, "Pregnant"),
    ("M", D(1990, 1, 1), True, None, TODAY, 0, None),  # a data error, not an exemption
    ("F", D(1990, 1, 1), False, TODAY - datetime.timedelta(days=364), TODAY, 1, "Nursing"),
    ("F", D(1990, 1, 1), False, TODAY - datetime.timedelta(days=366), TODAY, 0, None),
    ("F", D(1990, 1, 1), False, D(2024, 6, 1), TODAY, 0, None),  # the first birthday: one year old
    ("F", D(1990, 1, 1), False, D(2024, 6, 2), TODAY, 1, "Nursing"),
    ("M", D(2009, 6, 1), False, None, D(2025, 5, 31), 1, "Under 16"),  # 15 on the day
    ("M", D(2009, 6, 1), False, None, D(2025, 6, 1), 0, None),  # 16 on the day
    ("F", D(2009, 6, 2), True, None, TODAY, 2, "Pregnant"),
])
def test_exemptions(sex, born, pregnant, nursing, on, count, word):
    reasons = rules.exemptions(sex, born, pregnant, nursing, on)
    assert len(reasons) == count
    if word:
        assert word in reasons[0] and "禁毒法 第三十九条" in reasons[0]


# --- risk ---------------------------------------------------------------------------------------------


W = {"refusals": 10, "mental_disorder": 20, "relapse": 30, "unemployed": 0}


@pytest.mark.parametrize(("factors", "score", "level"), [
    ({}, 0, RiskLevel.LOW),
    ({"refusals": 2}, 20, RiskLevel.LOW),
    ({"refusals": 2, "mental_disorder": False}, 20, RiskLevel.LOW),
    ({"refusals": 3}, 30, RiskLevel.MEDIUM),  # the medium threshold itself is medium
    ({"refusals": 9}, 30, RiskLevel.MEDIUM),  # a count adds at most RISK_COUNT_CAP times
    ({"refusals": 1, "mental_disorder": True}, 30, RiskLevel.MEDIUM),
    ({"refusals": 1, "mental_disorder": True, "relapse": True}, 60, RiskLevel.HIGH),
    ({"refusals": 3, "mental_disorder": True}, 50, RiskLevel.MEDIUM),
    ({"unemployed": True, "unknown_factor": True}, 0, RiskLevel.LOW),  # weight 0 or none: nothing
])
def test_risk_score(factors, score, level):
    assert rules.risk_score(factors, W, high=60, medium=30)[:2] == (score, level)


def test_risk_contributions_explain_the_score():
    score, level, contributions = rules.risk_score({"refusals": 2, "mental_disorder": True, "relapse": False}, W,
                                                   high=60, medium=30)
    assert (score, level) == (40, RiskLevel.MEDIUM)
    assert [(c["factor"], c["value"], c["weight"], c["points"]) for c in contributions] == [
        ("mental_disorder", True, 20, 20), ("refusals", 2, 10, 20)]
    assert sum(c["points"] for c in contributions) == score
    assert all(c["label"] for c in contributions)


def test_risk_thresholds_must_be_in_order():
    with pytest.raises(ValueError):
        rules.risk_score({}, W, high=20, medium=30)


def test_default_weights_cover_the_spec_factors():
    for factor in ("relapse", "refusals", "unstable_living", "mental_disorder", "violence_history",
                   "drug_driving_history", "unemployed", "no_family_support", "recent_positive"):
        assert rules.DEFAULT_RISK_WEIGHTS[factor] > 0
        assert factor in rules.RISK_FACTOR_LABELS
    assert rules.DEFAULT_RISK_MEDIUM < rules.DEFAULT_RISK_HIGH


def facts(**overrides):
    values = {"living_situation": LivingSituation.STABLE, "family_support": True, "mental_disorder": False,
              "violence_history": False, "drug_driving_history": False, "whereabouts_unknown": False}
    return rules.PersonRiskFacts(**(values | overrides))


@pytest.mark.parametrize(("overrides", "tests", "expected"), [
    ({}, [], {}),
    ({"living_situation": LivingSituation.UNSTABLE}, [], {"unstable_living": True, "unemployed": True}),
    ({"living_situation": LivingSituation.HOUSED, "family_support": False}, [],
     {"unemployed": True, "no_family_support": True}),
    ({}, [rules.TestFacts(1, D(2024, 12, 2), "positive", None)], {"recent_positive": True}),
    ({}, [rules.TestFacts(1, D(2024, 12, 1), "positive", None)], {}),  # six months ago exactly: not recent
    ({}, [refusal(1, D(2024, 6, 2)), refusal(2, D(2024, 6, 1))], {"refusals": 1}),  # the last 12 months
])
def test_risk_factors(overrides, tests, expected):
    found = rules.risk_factors(facts(**overrides), [], tests, [], TODAY)
    assert {k: v for k, v in found.items() if v} == expected


@pytest.mark.parametrize(("measures", "tests", "expected"), [
    # not reported in: day 16 after the decision
    ([rules.MeasureFacts(1, T, TODAY - datetime.timedelta(days=16), None, None, None, None)], [],
     {"not_reported_in": True}),
    ([rules.MeasureFacts(1, T, TODAY - datetime.timedelta(days=15), None, None, None, None)], [], {}),
    # used again after a measure ended, within three years
    ([measure(reported=D(2021, 1, 10), ended=D(2024, 1, 9))], [rules.TestFacts(1, D(2024, 3, 1), "positive", None)],
     {"relapse": True}),
    ([measure(reported=D(2018, 1, 10), ended=D(2021, 1, 9))], [rules.TestFacts(1, D(2022, 3, 1), "positive", None)],
     {}),
])
def test_risk_factors_from_measures(measures, tests, expected):
    found = rules.risk_factors(facts(), measures, tests, [], TODAY)
    assert {k: v for k, v in found.items() if v} == expected


def test_check_digit_agrees_with_python_stdnum():
    import random

    from stdnum.cn import ric

    rng = random.Random(11643)
    for _n in range(2000):
        body = f"{rng.randrange(110000, 660000)}{rng.randrange(19000101, 20251231)}{rng.randrange(1000):03d}"
        assert rules.check_digit(body) == ric.calc_check_digit(body + "0")


def test_measure_date_problems():
    """戒毒条例 第十四条: the report-in follows the decision and the term the report-in (issue 20)."""
    import datetime as dt

    day, today = dt.date(2025, 3, 1), dt.date(2025, 6, 1)
    assert rules.measure_date_problems(day, day + dt.timedelta(days=10), None, today) == {}
    assert rules.measure_date_problems(day, None, None, today) == {}
    assert set(rules.measure_date_problems(day, day - dt.timedelta(days=1), None, today)) == {"reported_on"}
    assert set(rules.measure_date_problems(None, day, None, today)) == {"decided_on"}
    assert set(rules.measure_date_problems(day, day, day - dt.timedelta(days=1), today)) == {"starts_on"}
    assert set(rules.measure_date_problems(today + dt.timedelta(days=1), None, None, today)) == {"decided_on"}
