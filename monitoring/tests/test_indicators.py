"""Each indicator's definition fixed on small hand-built data (real rows, bulk_create), the seed 004
figures among them, and the number of queries bounded whatever the amount of data."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from core.roles import Role
from jurisdictions.choices import Level
from jurisdictions.tests.factories import JurisdictionFactory
from monitoring import indicators as ind
from monitoring import services
from monitoring.periods import Period
from monitoring.tests import builders
from persons.choices import ControlStatus as S
from persons.choices import MeasureState, Substance

D = datetime.date
JUNE = Period.month(2024, 6)
AS_OF = D(2024, 7, 15)


@pytest.fixture
def village(tree):
    return tree["villages"][0]


@pytest.fixture
def county(tree):
    return tree["county"]


# --- the pure rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("current", "base", "expected"), [
    (16631, 9618, Decimal("72.9")),  # seed 004: 登记吸毒人员16631名,比2012年的9618名,增长72.9%
    (1874, 979, Decimal("91.4")),  # seed 004: 1874人次,同比上升91.4% (979 a year earlier)
    (97, 100, Decimal("-3.0")),
    (100, 100, Decimal("0.0")),
    (5, 0, None),
    (None, 5, None),
    (5, None, None),
])
def test_percent_change(current, base, expected):
    assert ind.percent_change(current, base) == expected


def test_ratio_and_display_of_the_seed_004_execution_rate():
    assert ind.ratio(1182, 1448) == Decimal("81.6")
    value = ind.Value(ind.INDICATORS["execution_rate"], None, JUNE, ind.ratio(1182, 1448), 1182, 1448,
                      exact=Decimal(1182) * 100 / Decimal(1448))
    assert value.display() == "81.6%"
    assert value.display(precision=0) == "82%"
    # Rounding the display from the exact ratio, not from the rounded value: 81.45 → 81, not 82.
    assert ind.Value(ind.INDICATORS["execution_rate"], None, JUNE, Decimal("81.5"), exact=Decimal("81.45")
                     ).display(precision=0) == "81%"


@pytest.mark.parametrize(("yoy", "points", "base", "unit", "sentence"), [
    (Decimal("91.4"), None, 979, "人", "同比上升91.4%"),
    (Decimal("-3.2"), None, 100, "人", "同比下降3.2%"),
    (Decimal("0.0"), None, 100, "人", "与去年同期持平"),
    (None, None, 0, "人", "去年同期为0"),
    (None, None, None, "人", ""),
    (Decimal("3.0"), Decimal("2.1"), Decimal("70"), "%", "同比提高2.1个百分点"),
    (Decimal("-3.0"), Decimal("-2.1"), Decimal("70"), "%", "同比下降2.1个百分点"),
])
def test_change_sentences(yoy, points, base, unit, sentence):
    assert ind.change_sentence(yoy, points, base, against="同比", unit=unit) == sentence


def test_suppress_small_counts_for_viewers_without_personal_data_rights(township):
    leader = UserFactory(jurisdiction=township, roles=[Role.LEADERSHIP])
    worker = UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP])
    assert [ind.suppress(n, leader) for n in (None, 0, 1, 4, 5, 40)] == ["—", "0", "<5", "<5", "5", "40"]
    assert [ind.suppress(n, worker) for n in (0, 1, 4, 5)] == ["0", "1", "4", "5"]
    value = ind.Value(ind.INDICATORS["registered"], None, JUNE, 3, 3)
    assert value.display(suppress_small=True) == "<5" and value.display() == "3"
    assert value.as_dict(suppress_small=True)["value"] is None


def test_every_indicator_is_described():
    for code, indicator in ind.INDICATORS.items():
        assert indicator.code == code
        assert str(indicator.name) and indicator.definition and indicator.unit and indicator.source
        assert indicator.levels and indicator.inputs


def test_sources_name_the_document_or_the_article_in_chinese(client, tree):
    """Issue 20: "SPEC §3.7; seed 004" and the code `registered` reached the catalogue's readers."""
    import re

    from django.urls import reverse

    developer_text = re.compile(r"SPEC|seed|§|[A-Za-z]{2,}")
    assert {code: i.source for code, i in ind.INDICATORS.items() if developer_text.search(i.source)} == {}
    assert "常州市人大常委会禁毒工作调研报告" in ind.INDICATORS["registered"].source
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    body = client.get(reverse("monitoring:indicators")).content.decode()
    assert "<code>registered</code>" not in body and "SPEC" not in body and "seed" not in body
    assert str(ind.INDICATORS["registered"].name) in body


# --- the seed 004 figures over real rows ----------------------------------------------------------------


def test_execution_rate_of_seed_004(village, county):
    """1,448 persons in their execution period, 1,182 executing normally → 81.6% (82%)."""
    normal = builders.persons(village, 1182, status=S.COMMUNITY_TREATMENT, since=D(2024, 1, 20))
    builders.measures(normal, decided_on=D(2024, 1, 10), reported_on=D(2024, 1, 20))
    # 266 not executing normally, each for one of the reasons of the definition:
    breached = builders.persons(village, 100, status=S.COMMUNITY_TREATMENT, since=D(2024, 1, 20))
    builders.measures(breached, decided_on=D(2024, 1, 10), reported_on=D(2024, 1, 20))
    builders.flags(breached, rule="serious_breach", raised_on=D(2024, 5, 2))
    not_reported = builders.persons(village, 80, status=S.SOCIAL_CONTROL, since=D(2023, 1, 1))
    builders.measures(not_reported, decided_on=D(2024, 5, 1))
    missing = builders.persons(village, 46, status=S.WHEREABOUTS_UNKNOWN, since=D(2024, 4, 1),
                               history=[(S.COMMUNITY_TREATMENT, D(2024, 1, 20))])
    builders.measures(missing, decided_on=D(2024, 1, 10), reported_on=D(2024, 1, 20))
    late = builders.persons(village, 40, status=S.COMMUNITY_TREATMENT, since=D(2024, 1, 20))
    builders.planned_tests(builders.measures(late, decided_on=D(2024, 1, 10), reported_on=D(2024, 1, 20)),
                           due_on=D(2024, 4, 30))
    # Not in the execution period on 30 June: ended, refused, or decided later.
    gone = builders.persons(village, 30, status=S.THREE_YEAR_ABSTINENCE, since=D(2024, 3, 1))
    builders.measures(gone, decided_on=D(2020, 1, 1), reported_on=D(2020, 1, 5), state=MeasureState.COMPLETED,
                      ended_on=D(2023, 1, 4))
    builders.measures(builders.persons(village, 7), decided_on=D(2024, 2, 1), state=MeasureState.REFUSED)
    builders.measures(builders.persons(village, 9), decided_on=D(2024, 7, 2))

    value = ind.evaluate(["execution_rate", "executing"], county, JUNE, as_of=AS_OF)
    rate = value["execution_rate"]
    assert (rate.numerator, rate.denominator) == (1182, 1448)
    assert rate.value == Decimal("81.6")
    assert rate.display() == "81.6%" and rate.display(precision=0) == "82%"
    assert value["executing"].value == 1448
    # A flag resolved before the day no longer counts against the execution.
    from persons.models import Flag

    Flag.objects.filter(person__in=breached[:10]).update(state="dismissed",
                                                         resolved_at=datetime.datetime(2024, 6, 1, 12, tzinfo=datetime.UTC))
    assert ind.evaluate(["execution_rate"], county, JUNE, as_of=AS_OF, compare=False)["execution_rate"].numerator == 1192
    # ... but the month before it was raised and resolved reads the same as ever.
    assert ind.evaluate(["execution_rate"], county, Period.month(2024, 5), as_of=AS_OF,
                        compare=False)["execution_rate"].numerator == 1182 + 40 - 40


def test_registered_growth_of_seed_004_over_rows(village, county):
    """Seed 004: 16,631 registered at the end of 2016 against 9,618 in 2012 → +72.9%; here a tenth
    (1,663 against 962, the same +72.9%), registered at dates in between."""
    builders.persons(village, 962, since=D(2011, 5, 1))
    builders.persons(village, 1663 - 962, since=D(2014, 3, 1))
    builders.persons(village, 50, since=D(2017, 2, 1))  # later: in neither figure
    builders.persons(village, 20, status=S.DECEASED, since=D(2015, 1, 1), history=[(S.SOCIAL_CONTROL, D(2011, 1, 1))])
    now = ind.evaluate(["registered"], county, Period.year(2016), as_of=D(2020, 1, 1), compare=False)["registered"]
    then = ind.evaluate(["registered"], county, Period.year(2012), as_of=D(2020, 1, 1),
                        compare=False)["registered"]
    assert (now.value, then.value) == (1663, 962 + 20)  # the 20 died in 2015: registered in 2012 only
    assert ind.percent_change(now.value, then.value - 20) == Decimal("72.9")
    assert ind.percent_change(now.value, 962) == Decimal("72.9")


# --- each indicator's definition ---------------------------------------------------------------------------


def test_status_counts_read_the_history(village, county):
    builders.persons(village, 3, status=S.COMMUNITY_TREATMENT, since=D(2024, 6, 10),
                     history=[(S.SOCIAL_CONTROL, D(2022, 1, 1))])
    builders.persons(village, 2, status=S.COMPULSORY_TREATMENT, since=D(2024, 7, 1),
                     history=[(S.WHEREABOUTS_UNKNOWN, D(2023, 1, 1))])
    builders.persons(village, 4, status=S.THREE_YEAR_ABSTINENCE, since=D(2021, 1, 1))
    builders.persons(village, 1, status=S.MOVED_OUT, since=D(2024, 3, 1), history=[(S.SOCIAL_CONTROL, D(2020, 1, 1))])
    codes = ["registered", "active", "community_measures", "compulsory_treatment", "whereabouts_unknown",
             "abstinence_count", "abstinence_rate"]
    june = ind.evaluate(codes, county, JUNE, as_of=AS_OF)
    assert {c: june[c].value for c in codes} == {
        "registered": 9, "active": 5, "community_measures": 3, "compulsory_treatment": 0, "whereabouts_unknown": 2,
        "abstinence_count": 4, "abstinence_rate": Decimal("44.4")}
    # 同比: June 2023 — 3 social control, 2 unknown, 4 abstinent, 1 not yet moved out.
    assert june["registered"].previous_year == 10 and june["registered"].yoy == Decimal("-10.0")
    assert june["community_measures"].previous_period == 0 and june["community_measures"].mom is None
    july = ind.evaluate(codes, county, Period.month(2024, 7), as_of=AS_OF, compare=False)
    assert (july["compulsory_treatment"].value, july["whereabouts_unknown"].value) == (2, 0)
    assert july["compulsory_treatment"].as_of == AS_OF


def test_newly_found_counts_first_found_dates_in_the_period(village, county):
    builders.persons(village, 3, first_found_on=D(2024, 6, 5))
    builders.persons(village, 2, first_found_on=D(2024, 6, 20))
    builders.persons(village, 1, first_found_on=D(2024, 5, 31))
    builders.persons(village, 4, first_found_on=D(2023, 6, 15))
    value = ind.evaluate(["newly_found"], county, JUNE, as_of=AS_OF)["newly_found"]
    assert (value.value, value.previous_year, value.previous_period) == (5, 4, 1)
    assert value.yoy == Decimal("25.0") and value.yoy_sentence() == "同比上升25.0%"
    assert ind.evaluate(["newly_found"], county, JUNE, as_of=D(2024, 6, 10))["newly_found"].value == 3


def test_age_and_substance_shares(village, county):
    # On 30 June 2024: born 1989-07-01 is 34 (under 35), born 1989-06-30 is 35; born 2006-07-01 is 17.
    builders.persons(village, 3, birth="19890701", substances=[Substance.METHAMPHETAMINE])
    builders.persons(village, 2, birth="19890630", substances=[Substance.HEROIN])
    builders.persons(village, 1, birth="20060701", substances=[Substance.HEROIN, Substance.KETAMINE])
    builders.persons(village, 2, birth="19700101")
    values = ind.evaluate(["young_share", "minor_share", "synthetic_share"], county, JUNE, as_of=AS_OF)
    assert (values["young_share"].numerator, values["young_share"].denominator) == (4, 8)
    assert values["young_share"].value == Decimal("50.0")
    assert (values["minor_share"].numerator, values["minor_share"].value) == (1, Decimal("12.5"))
    assert (values["synthetic_share"].numerator, values["synthetic_share"].value) == (4, Decimal("50.0"))


def test_report_in_rate(village, county):
    on_time = builders.persons(village, 6)
    builders.measures(on_time, decided_on=D(2024, 6, 1), reported_on=D(2024, 6, 16))  # day 15: in time
    late = builders.persons(village, 2)
    builders.measures(late, decided_on=D(2024, 6, 1), reported_on=D(2024, 6, 17))
    builders.measures(builders.persons(village, 2), decided_on=D(2024, 6, 3))  # never reported
    builders.measures(builders.persons(village, 5), decided_on=D(2024, 6, 28))  # deadline not passed on 7-5
    builders.measures(builders.persons(village, 3), decided_on=D(2024, 5, 28), reported_on=D(2024, 6, 2))
    value = ind.evaluate(["report_in_rate"], county, JUNE, as_of=D(2024, 7, 5), compare=False)["report_in_rate"]
    assert (value.numerator, value.denominator) == (6, 10)
    assert value.value == Decimal("60.0")


def test_test_completion_and_overdue(village, county):
    group = builders.persons(village, 10, status=S.COMMUNITY_TREATMENT, since=D(2024, 1, 5))
    rows = builders.measures(group, decided_on=D(2024, 1, 1), reported_on=D(2024, 1, 5))
    builders.planned_tests(rows[:7], due_on=D(2024, 6, 30), done_on=D(2024, 6, 20))
    builders.planned_tests(rows[7:9], due_on=D(2024, 6, 30), done_on=D(2024, 7, 3))  # done late
    builders.planned_tests(rows[9:], due_on=D(2024, 6, 30))
    builders.planned_tests(rows, due_on=D(2024, 7, 31))  # not due in June
    june = ind.evaluate(["test_completion_rate", "overdue_items"], county, JUNE, as_of=AS_OF, compare=False)
    assert (june["test_completion_rate"].numerator, june["test_completion_rate"].denominator) == (7, 10)
    assert june["overdue_items"].value == 0  # due on the 30th: overdue only from 1 July
    july = ind.evaluate(["overdue_items"], county, Period.month(2024, 7), as_of=D(2024, 7, 2), compare=False)
    assert july["overdue_items"].value == 3  # two done on 3 July, one never


def test_grid_rate_high_risk_and_relapse(village, county, tree):
    from persons.models import RiskAssessment

    grid = JurisdictionFactory(level=Level.GRID, parent=village)
    on_grid = builders.persons(village, 6, grid=grid)
    builders.persons(village, 2)
    builders.persons(village, 2, status=S.COMPULSORY_TREATMENT)  # not active: outside both rates
    RiskAssessment.objects.bulk_create([
        RiskAssessment(person=p, county_code=p.county_code, assessed_on=D(2024, 6, 1), score=70,
                       computed_level="high", level="high") for p in on_grid[:2]] + [
        RiskAssessment(person=on_grid[2], county_code=on_grid[2].county_code, assessed_on=D(2024, 7, 1), score=70,
                       computed_level="high", level="high")])
    released = builders.persons(village, 5, status=S.SOCIAL_CONTROL, since=D(2023, 6, 1))
    builders.measures(released, decided_on=D(2020, 6, 1), reported_on=D(2020, 6, 1), state=MeasureState.COMPLETED,
                      ended_on=D(2023, 5, 31))
    builders.tests(released[:2], on=D(2024, 6, 10))
    builders.tests(released[2:3], on=D(2024, 6, 10), result="negative")
    builders.tests(builders.persons(village, 1), on=D(2024, 6, 10))  # never released: not a relapse
    values = ind.evaluate(["grid_rate", "high_risk_share", "relapse_rate"], county, JUNE, as_of=AS_OF,
                          compare=False)
    active = 6 + 2 + 5 + 1
    assert (values["grid_rate"].numerator, values["grid_rate"].denominator) == (6, active)
    assert values["high_risk_share"].numerator == 2  # the third was assessed after June
    assert (values["relapse_rate"].numerator, values["relapse_rate"].denominator) == (2, 5)
    assert values["relapse_rate"].value == Decimal("40.0")


def test_serious_breach_flags_open_on_the_day(village, county):
    group = builders.persons(village, 4)
    builders.flags(group[:3], raised_on=D(2024, 6, 1))
    builders.flags(group[3:], raised_on=D(2024, 6, 1), rule="use_during_measure")
    builders.flags(builders.persons(village, 2), raised_on=D(2024, 3, 1), state="decided",
                   resolved_at=datetime.datetime(2024, 4, 1, 12, tzinfo=datetime.UTC))
    value = ind.evaluate(["serious_breach_flags"], county, JUNE, as_of=AS_OF)["serious_breach_flags"]
    assert value.value == 3
    assert ind.evaluate(["serious_breach_flags"], county, Period.month(2024, 3), as_of=AS_OF,
                        compare=False)["serious_breach_flags"].value == 2


def test_staffing_hidden_population_and_population_share(village, county, township):
    builders.persons(village, 65, status=S.COMMUNITY_TREATMENT)
    builders.persons(village, 35, status=S.SOCIAL_CONTROL)
    UserFactory(jurisdiction=township, roles=[Role.SOCIAL_WORKER])
    UserFactory(jurisdiction=village, roles=[Role.SOCIAL_WORKER])
    UserFactory(jurisdiction=village, roles=[Role.TOWNSHIP])
    services.do_set_population(county, 2023, 400_000, acting_user=None)
    codes = ["staffing_ratio", "staffing_shortfall", "social_workers", "estimated_users",
             "estimated_users_per_mille", "registered_per_mille"]
    values = ind.evaluate(codes, county, JUNE, as_of=AS_OF)
    assert values["social_workers"].value == 2
    assert values["staffing_ratio"].value == Decimal("32.5")
    assert values["staffing_shortfall"].value == 1  # 65 ÷ 30 → 3 needed, 2 there
    assert values["estimated_users"].value == 500  # 100 registered × 5 (seed 004: 1:5)
    assert values["estimated_users_per_mille"].value == Decimal("1.25")
    assert values["registered_per_mille"].value == Decimal("0.25")
    services.do_set_monitoring_settings(county, acting_user=None, hidden_ratio="4", staffing_standard=20)
    values = ind.evaluate(codes, county, JUNE, as_of=AS_OF)
    assert values["estimated_users"].value == 400
    assert values["staffing_shortfall"].value == 2  # 65 ÷ 20 → 4 needed
    services.do_set_target("staffing_ratio", county, 2024, 30, acting_user=None)
    assert ind.evaluate(["staffing_ratio"], county, JUNE, as_of=AS_OF)["staffing_ratio"].target_met is False


def test_seed_004_population_share():
    """Seed 004: 10,553 registered × 5 = 52,765, "占全市实有人口的1.56%" → 15.6‰ of about 3.38 million."""
    place = ind.Place("", Decimal(5), 30, 3_382_000)
    result = ind.INDICATORS["estimated_users_per_mille"].compute({"persons.registered": 10553}, place)
    assert result.numerator == 52765
    assert ind._quantize(result.exact, 1) == Decimal("15.6")


def test_targets_are_inherited_and_overridden(tree, county):
    township, other = tree["townships"]
    services.do_set_target("execution_rate", county, 2024, 80, acting_user=None)
    services.do_set_target("execution_rate", township, 2024, 90, acting_user=None)
    services.do_set_target("execution_rate", county, 2025, 100, acting_user=None)
    assert services.target_for("execution_rate", county, 2024) == Decimal(80)
    assert services.target_for("execution_rate", township, 2024) == Decimal(90)
    assert services.target_for("execution_rate", other, 2024) == Decimal(80)
    assert services.target_for("execution_rate", tree["villages"][0], 2024) == Decimal(90)
    assert services.target_for("execution_rate", tree["city"], 2024) is None
    assert services.target_for("execution_rate", other, 2025) == Decimal(100)
    children = ind.evaluate_children(["execution_rate"], county, JUNE, as_of=AS_OF)
    assert children[township.pk]["execution_rate"].target == Decimal(90)
    assert children[other.pk]["execution_rate"].target == Decimal(80)


def test_target_met_follows_the_direction(village, county):
    group = builders.persons(village, 10, status=S.COMMUNITY_TREATMENT, since=D(2024, 1, 5))
    builders.measures(group[:9], decided_on=D(2024, 1, 1), reported_on=D(2024, 1, 5))
    builders.measures(group[9:], decided_on=D(2024, 6, 1))
    services.do_set_target("execution_rate", county, 2024, 90, acting_user=None)
    services.do_set_target("newly_found", county, 2024, 0, acting_user=None)
    values = ind.evaluate(["execution_rate", "newly_found"], county, JUNE, as_of=AS_OF)
    assert values["execution_rate"].value == Decimal("90.0") and values["execution_rate"].target_met is True
    assert values["newly_found"].target_met is True  # none found, lower is better
    assert ind.met(ind.INDICATORS["execution_rate"], Decimal("89.9"), Decimal(90)) is False


# --- children, series, breakdowns, query bounds --------------------------------------------------------------


def test_children_roll_up_to_the_parent(tree, county):
    for index, village in enumerate(tree["villages"]):
        builders.persons(village, index + 1, first_found_on=D(2024, 6, 1))
    children = ind.evaluate_children(["registered", "newly_found"], county, JUNE, as_of=AS_OF)
    township, other = tree["townships"]
    assert children[township.pk]["registered"].value == 1 + 2
    assert children[other.pk]["registered"].value == 3 + 4
    assert ind.evaluate(["registered"], county, JUNE, as_of=AS_OF)["registered"].value == 10
    villages = ind.evaluate_children(["registered"], township, JUNE, as_of=AS_OF)
    assert [villages[v.pk]["registered"].value for v in tree["villages"][:2]] == [1, 2]


def test_series_over_months(village, county):
    builders.persons(village, 2, since=D(2024, 1, 15))
    builders.persons(village, 3, since=D(2024, 3, 1))
    values = ind.series("registered", county, Period.quarter(2024, 1).months(), as_of=AS_OF)
    assert [v.value for v in values] == [2, 2, 5]
    assert [v.period.label for v in values] == ["2024年1月", "2024年2月", "2024年3月"]


def test_breakdowns(village, county):
    builders.persons(village, 2, status=S.COMMUNITY_TREATMENT, birth="20070101", substances=[Substance.KETAMINE])
    builders.persons(village, 3, birth="19800101", substances=[Substance.HEROIN, Substance.KETAMINE])
    builders.persons(village, 1, status=S.DECEASED)
    status = ind.breakdown("status", county, as_of=AS_OF)
    assert ("community_treatment", status[0][1], 2) == status[0]
    assert dict((k, n) for k, _l, n in status)["social_control"] == 3
    assert "deceased" not in [k for k, _l, _n in status]
    ages = dict((k, n) for k, _l, n in ind.breakdown("age", county, as_of=AS_OF))
    assert ages["under_18"] == 2 and ages["35_44"] == 3 and sum(ages.values()) == 5
    substances = dict((k, n) for k, _l, n in ind.breakdown("substance", county, as_of=AS_OF))
    assert substances["ketamine"] == 5 and substances["heroin"] == 3
    assert sum(n for _k, _l, n in ind.breakdown("sex", county, as_of=AS_OF)) == 5
    assert dict((k, n) for k, _l, n in ind.breakdown("living", county, as_of=AS_OF))[""] == 5
    assert dict((k, n) for k, _l, n in ind.breakdown("risk", county, as_of=AS_OF))[""] == 5
    with pytest.raises(KeyError):
        ind.breakdown("colour", county)


def _populate(tree, size: int):
    for village in tree["villages"]:
        group = builders.persons(village, size, status=S.COMMUNITY_TREATMENT, since=D(2024, 1, 5),
                                 first_found_on=D(2024, 6, 3), substances=[Substance.HEROIN])
        rows = builders.measures(group, decided_on=D(2024, 1, 1), reported_on=D(2024, 1, 5))
        builders.planned_tests(rows, due_on=D(2024, 6, 30), done_on=D(2024, 6, 10))
        builders.flags(group[: size // 3], raised_on=D(2024, 6, 1))


def _count_queries(callable_):
    with CaptureQueriesContext(connection) as context:
        callable_()
    return len(context)


@pytest.mark.parametrize("size", [2, 40])
def test_queries_are_bounded_whatever_the_data(tree, county, size, django_assert_max_num_queries):
    _populate(tree, size)
    with django_assert_max_num_queries(25):
        values = ind.evaluate(None, county, JUNE, as_of=AS_OF)
    assert values["registered"].value == size * len(tree["villages"])
    with django_assert_max_num_queries(12):
        ind.evaluate_children(None, county, JUNE, as_of=AS_OF)


def test_query_count_does_not_grow_with_data_or_children(tree, county):
    _populate(tree, 2)
    small = (_count_queries(lambda: ind.evaluate(None, county, JUNE, as_of=AS_OF)),
             _count_queries(lambda: ind.evaluate_children(None, county, JUNE, as_of=AS_OF, compare=True)))
    for _i in range(6):
        township = JurisdictionFactory(level=Level.TOWNSHIP, parent=county)
        builders.persons(JurisdictionFactory(level=Level.VILLAGE, parent=township), 5)
    _populate(tree, 30)
    large = (_count_queries(lambda: ind.evaluate(None, county, JUNE, as_of=AS_OF)),
             _count_queries(lambda: ind.evaluate_children(None, county, JUNE, as_of=AS_OF, compare=True)))
    assert small == large
