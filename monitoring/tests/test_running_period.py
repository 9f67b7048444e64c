"""The current month is not a closed month (issue 20): while a period runs, the rates count only
the items whose due day is over (monitoring.rules.last_due_day), 同比/环比 compare the same span
of due dates, the documents say "截至X月X日", and no township is criticised for items not yet due.
The clock is set to a day inside December 2026 (time-machine); the figures are read both from the
records and from the rollups."""

import datetime
import io
import re
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from docx import Document as WordDocument

from accounts.tests.factories import UserFactory
from core.roles import Role
from jurisdictions.tests.factories import JurisdictionFactory
from monitoring import dashboards, reports, rollups
from monitoring import indicators as ind
from monitoring.periods import Period
from monitoring.rules import counts_as_due, last_due_day
from monitoring.tests import builders
from persons.choices import ControlStatus as S

D = datetime.date
DECEMBER = Period.month(2026, 12)
NOVEMBER = Period.month(2026, 11)


def at(day: datetime.date):
    """The clock at 10:00 in Asia/Shanghai on ``day``."""
    return pytest.mark.time_machine(datetime.datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo("Asia/Shanghai")))


@pytest.mark.parametrize(("as_of", "today", "expected"), [
    (D(2026, 12, 5), D(2026, 12, 5), D(2026, 12, 4)),  # running: today's items can still be done
    (D(2026, 12, 1), D(2026, 12, 1), None),  # the first day: nothing is due yet
    (D(2026, 12, 31), D(2026, 12, 31), D(2026, 12, 30)),  # the last day is not over either
    (D(2026, 12, 31), D(2027, 1, 1), D(2026, 12, 31)),  # closed: every item due in it
    (D(2026, 12, 31), D(2027, 3, 9), D(2026, 12, 31)),
    (D(2026, 12, 10), D(2027, 3, 9), D(2026, 12, 10)),  # a past day asked for: that day is over
])
def test_last_due_day(as_of, today, expected):
    assert last_due_day(DECEMBER.start, DECEMBER.end, as_of, today) == expected


def test_counts_as_due():
    args = (DECEMBER.start, DECEMBER.end, D(2026, 12, 5), D(2026, 12, 5))
    assert counts_as_due(D(2026, 12, 4), *args)
    assert not counts_as_due(D(2026, 12, 5), *args)
    assert not counts_as_due(D(2026, 11, 30), *args)


@pytest.fixture
def plan(tree):
    """16 persons in the first village with a community measure: in December 2026 4 tests due on
    the 2nd (done on the 1st), 4 due on the 5th and 8 on the 20th (not done yet); a year earlier and
    in November the same due days, all done on time."""
    village = tree["villages"][0]
    group = builders.persons(village, 16, status=S.COMMUNITY_TREATMENT, since=D(2025, 1, 5))
    rows = builders.measures(group, decided_on=D(2025, 1, 1), reported_on=D(2025, 1, 5))
    builders.planned_tests(rows[:4], due_on=D(2026, 12, 2), done_on=D(2026, 12, 1))
    builders.planned_tests(rows[4:8], due_on=D(2026, 12, 5))
    builders.planned_tests(rows[8:], due_on=D(2026, 12, 20))
    for month in (D(2025, 12, 1), D(2026, 11, 1)):
        builders.planned_tests(rows[:4], due_on=month.replace(day=2), done_on=month.replace(day=1))
        builders.planned_tests(rows[4:8], due_on=month.replace(day=5), done_on=month.replace(day=5))
        builders.planned_tests(rows[8:], due_on=month.replace(day=20), done_on=month.replace(day=19))
    return rows


def _both_ways():
    """The figures from the records, then (after a rebuild) from the rollups."""
    yield "records"
    rollups.rebuild()
    yield "rollups"


@at(D(2026, 12, 5))
def test_a_running_month_counts_only_the_items_whose_due_day_is_over(tree, plan):
    for _source in _both_ways():
        value = ind.evaluate(["test_completion_rate"], tree["county"], DECEMBER)["test_completion_rate"]
        # Before: 4 of 8 (the tests due today counted as missed), "50.0%".
        assert (value.numerator, value.denominator) == (4, 4)
        assert value.display() == "100.0%"


@at(D(2026, 12, 5))
def test_the_dashboard_and_the_api_read_the_same(tree, plan, client):
    county = tree["county"]
    office = UserFactory(jurisdiction=county, roles=[Role.OFFICE])
    board = dashboards.build(office, county, DECEMBER)
    card = next(c for c in board.cards if c.code == "test_completion_rate")
    assert card.value == "100.0%"
    client.force_login(office)
    rows = client.get(f"/api/indicators/values/?jurisdiction={county.code}&period=2026-12"
                      "&codes=test_completion_rate").json()
    assert (rows[0]["numerator"], rows[0]["denominator"], rows[0]["display"]) == (4, 4, "100.0%")


@at(D(2026, 12, 5))
def test_the_comparisons_of_a_running_month_cover_the_same_due_days(tree, plan):
    for _source in _both_ways():
        value = ind.evaluate(["test_completion_rate"], tree["county"], DECEMBER)["test_completion_rate"]
        # Before: "同比下降50.0个百分点" (4 of 8 against 8 of 8 due 1–5 December 2025).
        assert value.previous_year == value.previous_period == value.value
        assert value.yoy_sentence() == "与去年同期持平"
        assert value.mom_sentence() == "与上期持平"


@at(D(2026, 12, 5))
def test_a_closed_month_counts_every_item_due_in_it(tree, plan):
    late = plan[:2]
    builders.planned_tests(late, due_on=D(2026, 11, 30))  # never done
    builders.planned_tests(plan[2:4], due_on=D(2026, 11, 30), done_on=D(2026, 12, 1))  # done after the month
    for _source in _both_ways():
        value = ind.evaluate(["test_completion_rate"], tree["county"], NOVEMBER)["test_completion_rate"]
        assert (value.numerator, value.denominator) == (16, 20)
        assert value.as_of == NOVEMBER.end
        trend = ind.series("test_completion_rate", tree["county"], [NOVEMBER, DECEMBER])
        assert [(v.numerator, v.denominator) for v in trend] == [(16, 20), (4, 4)]


def _docx_text(content: bytes) -> list[str]:
    return [p.text for p in WordDocument(io.BytesIO(content)).paragraphs]


def _xlsx_text(content: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return "\n".join(str(cell) for row in book["主要指标"].iter_rows(values_only=True) for cell in row if cell)


@at(D(2026, 12, 5))
def test_the_documents_say_up_to_which_day_a_running_period_is_read(tree, plan):
    county = tree["county"]
    bulletin = reports.build("bulletin", county, DECEMBER)
    paragraphs = _docx_text(bulletin.content)
    # Before: "测试县2026年12月毒情形势通报", as if December were over.
    assert "测试县2026年12月（截至12月5日）毒情形势通报" in paragraphs
    assert any(p.startswith("现将2026年12月（截至12月5日）全县") for p in paragraphs)
    assert "截至12月5日" in bulletin.title
    statistics = reports.build("statistics", county, DECEMBER)
    text = _xlsx_text(statistics.content)
    assert "2026年12月尚未结束，本表为截至12月5日的数据" in text
    assert "截至12月5日" in statistics.title
    closed = reports.build("bulletin", county, NOVEMBER)
    assert "测试县2026年11月毒情形势通报" in _docx_text(closed.content)
    assert "2026年11月尚未结束" not in _xlsx_text(reports.build("statistics", county, NOVEMBER).content)


@at(D(2026, 12, 2))
def test_no_township_is_criticised_for_tests_not_yet_due(tree):
    """On 2 December only the first township has tests whose due day is over (done); in the
    four others the tests are due today. Before, they ranked last with "0.0%"."""
    county = tree["county"]
    townships = list(tree["townships"])
    for number in range(3, 6):
        townships.append(JurisdictionFactory(level="township", parent=county, name=f"加测镇{number}"))
    for index, township in enumerate(townships):
        village = JurisdictionFactory(level="village", parent=township, name=f"加测村{index}")
        group = builders.persons(village, 6, status=S.COMMUNITY_TREATMENT, since=D(2025, 1, 5))
        rows = builders.measures(group, decided_on=D(2025, 1, 1), reported_on=D(2025, 1, 5))
        if index == 0:
            builders.planned_tests(rows, due_on=D(2026, 12, 1), done_on=D(2026, 11, 28))
        builders.planned_tests(rows, due_on=D(2026, 12, 2))
    data = reports.gather(county, DECEMBER)
    assert not [f for f in data.findings if f.indicator == "test_completion_rate"]
    children = ind.evaluate_children(["test_completion_rate"], county, DECEMBER)
    assert [children[t.pk]["test_completion_rate"].display() for t in townships] == ["100.0%"] + ["—"] * 4
    name = str(ind.INDICATORS["test_completion_rate"].name)
    assert not [p for p in _docx_text(reports.bulletin_docx(data))
                if name in p and ("排名靠后的是" in p or re.search(r"(?<![\d.])0\.0%", p))]
