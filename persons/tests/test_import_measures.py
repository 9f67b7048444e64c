"""Imported files carry their measures (issue 20): a ledger row with 社区戒毒/社区康复 and the
measure's dates opens the measure through do_decide_measure / do_report_in, with its check-in
plan and the clocks running from the real dates; bad dates are a Chinese error on the row and
nothing of it is saved; a row without dates leaves the status date unknown and waits on the
today list (待补录措施)."""

import datetime
import json
import zoneinfo

import pytest
from django.utils import translation

from jindu.testing import clock
from persons import rules, services
from persons.choices import ControlStatus, MeasureKind, MeasureState
from persons.importers import read_ledger
from persons.models import Measure, Person, PlannedCheckIn
from persons.tests.ledger_files import COUNTY, MEASURES_EXPECTED, MEASURES_SAMPLE, id_number, xlsx

TODAY = clock.TODAY
pytestmark = pytest.mark.time_machine(clock.NOW)
HEADER = ["姓名", "身份证号码", "所属村(社区)", "管控现状", "决定书日期", "报到时间", "执行开始日期"]


def do_import(rows, area, **options):
    ledger = read_ledger(xlsx([HEADER, *rows]), "台账.xlsx")
    return services.do_import_persons(ledger, acting_user=None, jurisdiction=area, source="台账", **options)


def test_dated_row_opens_the_measure_with_its_plan(sample_tree):
    decided, reported = TODAY - datetime.timedelta(days=100), TODAY - datetime.timedelta(days=90)
    number = id_number("19900307")
    result = do_import([["张三", number, "东门社区", "社区戒毒", decided, reported, None]], sample_tree[COUNTY])
    assert (result.imported, result.measures_opened, result.waiting_for_measure) == (1, 1, 0)
    person = Person.objects.get()
    measure = Measure.objects.get(person=person)
    assert (measure.kind, measure.state, measure.decided_on, measure.reported_on, measure.starts_on) == (
        MeasureKind.COMMUNITY_TREATMENT, MeasureState.IN_EFFECT, decided, reported, reported)
    assert measure.ends_on == rules.term_end(MeasureKind.COMMUNITY_TREATMENT, reported)
    assert PlannedCheckIn.objects.filter(measure=measure).exists()
    assert person.control_status_since == reported


def test_decision_only_starts_the_report_in_clock(sample_tree):
    decided = TODAY - datetime.timedelta(days=3)
    do_import([["李四", id_number("19850101"), "东门社区", "社区康复", decided.isoformat(), None, None]],
              sample_tree[COUNTY])
    measure = Measure.objects.get()
    assert (measure.kind, measure.state, measure.decided_on) == (
        MeasureKind.COMMUNITY_REHABILITATION, MeasureState.AWAITING_REPORT, decided)
    assert rules.report_in_deadline(measure.decided_on) == decided + datetime.timedelta(days=15)


@pytest.mark.parametrize(("cells", "field", "message"), [
    ([TODAY - datetime.timedelta(days=5), TODAY - datetime.timedelta(days=9), None], "报到时间", "不能早于决定"),
    ([None, TODAY - datetime.timedelta(days=9), None], "决定书日期", "缺少决定日期"),
    ([TODAY - datetime.timedelta(days=9), TODAY - datetime.timedelta(days=5), TODAY - datetime.timedelta(days=7)],
     "执行开始日期", "不能早于报到"),
    ([(TODAY + datetime.timedelta(days=2)).isoformat(), None, None], "决定书日期", "晚于"),
])
def test_bad_dates_are_refused_and_nothing_of_the_row_saved(sample_tree, cells, field, message):
    with translation.override("zh-hans"):
        result = do_import([["王五", id_number("19800101"), "东门社区", "社区戒毒", *cells]], sample_tree[COUNTY])
    assert [(e.row, e.field) for e in result.rejected] == [(2, field)]
    assert message in result.rejected[0].message
    assert not result.written
    assert not Person.objects.exists() and not Measure.objects.exists()


def test_no_dates_leaves_the_status_date_unknown(sample_tree):
    result = do_import([["赵六", id_number("19700101"), "东门社区", "社区戒毒", None, None, None]],
                       sample_tree[COUNTY])
    assert (result.measures_opened, result.waiting_for_measure) == (0, 1)
    person = Person.objects.get()
    assert person.control_status == ControlStatus.COMMUNITY_TREATMENT
    assert person.control_status_since is None
    assert not Measure.objects.exists()


def test_reimport_does_not_open_a_second_measure(sample_tree):
    rows = [["张三", id_number("19900307"), "东门社区", "社区戒毒", TODAY - datetime.timedelta(days=30), None, None]]
    do_import(rows, sample_tree[COUNTY])
    do_import(rows, sample_tree[COUNTY])
    assert Measure.objects.count() == 1


@pytest.mark.time_machine(datetime.datetime(2026, 12, 7, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")))
def test_the_measures_sample_ledger(sample_tree):
    expected = json.loads(MEASURES_EXPECTED.read_text(encoding="utf-8"))
    data = MEASURES_SAMPLE.read_bytes()
    with translation.override("zh-hans"):
        ledger = read_ledger(data, "measures_ledger_sample.xlsx")
        result = services.do_import_persons(ledger, acting_user=None, jurisdiction=sample_tree[COUNTY],
                                            skip_invalid=True)
    assert result.rows_read == expected["rows_read"]
    assert result.imported == expected["imported"]
    assert [{"row": e.row, "field": e.field} for e in result.rejected] == expected["rejected"]
    assert result.measures_opened == expected["measures_opened"] == Measure.objects.count()
    assert result.waiting_for_measure == expected["waiting_for_measure"]
    assert Person.objects.filter(control_status_since__isnull=True).count() == expected["waiting_for_measure"]
