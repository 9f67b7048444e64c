"""The generated documents (issue 6): the monthly statistical report read back with openpyxl
shows exactly what ``evaluate`` gives (the dashboard's numbers); the 毒情通报 in official format
with its sentences, problems and next steps generated from the figures; small counts hidden
for viewers without personal-data rights; the `jindu report monthly` command; outlines import."""

import datetime
import io
import json

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from docx import Document as WordDocument
from docx.oxml.ns import qn

from accounts.tests.factories import UserFactory
from core.importing import FileRejected
from core.models import AuditEntry
from core.roles import Role
from jurisdictions.models import Jurisdiction
from monitoring import indicators, reports, services, shapes
from monitoring.choices import Comparison
from monitoring.periods import Period
from monitoring.tests import builders
from persons.choices import ControlStatus as S
from persons.choices import Substance

D = datetime.date
JUNE = Period.month(2024, 6)
TODAY = D(2024, 7, 5)


@pytest.fixture
def county(tree):
    return tree["county"]


@pytest.fixture
def office(county):
    return UserFactory(jurisdiction=county, roles=[Role.OFFICE])


@pytest.fixture
def situation(tree, county, office):
    """Registered on 30 June: 37 in 2023 (30 + 4 since died + 3), 71 in 2024 (68 in township 1, 3
    in township 2, a small count): +91.9%. Newly found: 10 in June 2024 against 4 in June 2023.
    Measures: 8 in their execution period, 6 reported in (75%) against a 90% target; a threshold
    of +20% 同比 on the newly found, crossed."""
    first, second = tree["villages"][0], tree["villages"][2]
    builders.persons(first, 30, since=D(2020, 1, 1), substances=[Substance.HEROIN])
    builders.persons(first, 20, since=D(2023, 8, 1), substances=[Substance.METHAMPHETAMINE])
    builders.persons(first, 10, since=D(2024, 6, 10), first_found_on=D(2024, 6, 10))
    builders.persons(first, 4, status=S.DECEASED, since=D(2023, 7, 1), first_found_on=D(2023, 6, 12),
                     history=[(S.SOCIAL_CONTROL, D(2023, 6, 12))])
    builders.persons(second, 3, status=S.COMMUNITY_TREATMENT, since=D(2022, 1, 1))
    group = builders.persons(first, 8, status=S.COMMUNITY_TREATMENT, since=D(2024, 1, 10))
    builders.measures(group[:6], decided_on=D(2024, 1, 2), reported_on=D(2024, 1, 10))
    builders.measures(group[6:], decided_on=D(2024, 5, 1))
    services.do_set_target("execution_rate", county, 2024, 90, acting_user=office)
    services.do_set_threshold("newly_found", county, Comparison.YOY_ABOVE, 20, acting_user=office)
    return tree


def workbook(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def summary_rows(book) -> dict:
    sheet = book[reports.SUMMARY_SHEET]
    header = next(i for i, row in enumerate(sheet.iter_rows(values_only=True), start=1) if row[0] == "序号")
    return {row[1]: row for row in sheet.iter_rows(min_row=header + 1, values_only=True) if isinstance(row[0], int)}


def paragraphs(data: bytes) -> list[str]:
    return [p.text for p in WordDocument(io.BytesIO(data)).paragraphs]


# --- the statistical report ------------------------------------------------------------------------


def test_the_report_shows_the_numbers_evaluate_gives(county, situation):
    document = reports.build("statistics", county, JUNE, today=TODAY)
    rows = summary_rows(workbook(document.content))
    values = indicators.evaluate(None, county, JUNE, as_of=TODAY)
    assert len(rows) == len(values)
    for code, value in values.items():
        row = rows[str(value.indicator.name)]
        assert row[2] == value.indicator.unit
        expected = "—" if value.value is None else pytest.approx(float(value.value))
        assert row[3] == expected, code
        assert row[4] == ("—" if value.previous_year is None else pytest.approx(float(value.previous_year))), code
        change = value.yoy_points if value.indicator.is_rate else value.yoy
        assert row[5] == ("—" if change is None else pytest.approx(float(change))), code
    registered = rows[str(indicators.INDICATORS["registered"].name)]
    assert registered[3:6] == (71, 37, pytest.approx(91.9))
    execution = rows[str(indicators.INDICATORS["execution_rate"].name)]
    assert execution[3] == pytest.approx(float(values["execution_rate"].value))
    assert execution[8:10] == (90, "否")


def test_the_report_is_headed_as_an_office_files_it(county, situation):
    book = workbook(reports.build("statistics", county, JUNE, today=TODAY).content)
    heading = [row[0] for row in book[reports.SUMMARY_SHEET].iter_rows(max_row=4, values_only=True)]
    assert heading[0] == "测试县禁毒工作月度统计报表"
    assert heading[1] == "填报单位：测试县禁毒委员会办公室"
    assert heading[2].startswith("统计时段：2024年6月")
    assert book.sheetnames[0] == reports.SUMMARY_SHEET
    assert {"分区域统计", "月度趋势", "人员构成", "问题与预警"} <= set(book.sheetnames)
    ranking = book[f"排名-{indicators.INDICATORS['registered'].name}"[:31]]
    rows = [row for row in ranking.iter_rows(values_only=True) if isinstance(row[0], int)]
    assert [(r[0], r[1], r[2]) for r in rows] == [(1, "测试镇1", 68), (2, "测试镇2", 3)]


def test_the_trend_sheet_matches_the_series(county, situation):
    book = workbook(reports.build("statistics", county, JUNE, today=TODAY).content)
    sheet = book["月度趋势"]
    rows = {row[0]: row for row in sheet.iter_rows(values_only=True) if row[0] and str(row[0]).endswith("月")}
    months = [JUNE]
    while len(months) < reports.TREND_MONTHS:
        months.append(months[-1].previous())
    series = indicators.series("registered", county, months, as_of=TODAY)
    for month, value in zip(months, series, strict=True):
        assert rows[month.label][1] == value.value


def test_small_counts_are_hidden_for_the_leadership(county, situation, tree):
    leader = UserFactory(jurisdiction=county, roles=[Role.LEADERSHIP])
    township = tree["townships"][1]  # 3 persons
    book = workbook(reports.build("statistics", township, JUNE, viewer=leader, today=TODAY).content)
    rows = summary_rows(book)
    assert rows[str(indicators.INDICATORS["registered"].name)][3] == "<5"
    operator = summary_rows(workbook(reports.build("statistics", township, JUNE, today=TODAY).content))
    assert operator[str(indicators.INDICATORS["registered"].name)][3] == 3
    text = "\n".join(paragraphs(reports.build("bulletin", township, JUNE, viewer=leader, today=TODAY).content))
    assert "共有登记在册吸毒人员<5人" in text and "3人" not in text


def test_a_name_that_looks_like_a_formula_stays_text(county, situation):
    Jurisdiction.objects.filter(pk=county.pk).update(name="=HYPERLINK(\"http://x\")县")
    county.refresh_from_db()
    book = workbook(reports.build("statistics", county, JUNE, today=TODAY).content)
    cell = book[reports.SUMMARY_SHEET]["A1"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


# --- the bulletin ------------------------------------------------------------------------------------


def test_the_bulletin_in_official_form(county, situation):
    content = reports.build("bulletin", county, JUNE, today=TODAY).content
    text = paragraphs(content)
    assert "毒 情 通 报" in text[0]
    assert "测试县禁毒委员会办公室" in text[2] and "二〇二四年七月五日" in text[2]
    assert "测试县2024年6月毒情形势通报" in text
    headings = ["一、总体形势", "二、工作开展情况", "三、存在问题", "四、下一步工作"]
    assert [t for t in text if t in headings] == headings
    assert text[-1] == "二〇二四年七月五日" and text[-2] == "测试县禁毒委员会办公室"
    document = WordDocument(io.BytesIO(content))
    title = next(p for p in document.paragraphs if p.text == "测试县2024年6月毒情形势通报")
    assert title.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == reports.TITLE_FONT
    body = next(p for p in document.paragraphs if p.text.startswith("截至"))
    assert body.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == reports.BODY_FONT


def test_the_bulletin_sentences_come_from_the_indicators(county, situation):
    values = indicators.evaluate(None, county, JUNE, as_of=TODAY)
    text = "\n".join(paragraphs(reports.build("bulletin", county, JUNE, today=TODAY).content))
    registered = values["registered"]
    assert registered.yoy_sentence() == "同比上升91.9%"
    assert "截至6月30日，全县共有登记在册吸毒人员71人，同比上升91.9%" in text
    newly = values["newly_found"]
    assert f"2024年6月新发现吸毒人员10人，{newly.yoy_sentence()}" in text


def test_problems_and_next_steps_come_from_the_figures(county, situation):
    data = reports.gather(county, JUNE, today=TODAY)
    execution = data.values["execution_rate"]
    assert execution.target_met is False
    problems = [f.problem for f in data.findings]
    name = str(indicators.INDICATORS["execution_rate"].name)
    missed = next(p for p in problems if p.startswith(f"全县{name}为{execution.display()}"))
    assert "未达到年度目标90.0%，还差15.0个百分点" in missed
    # The threshold: newly found up more than 20% 同比 (10 against 4).
    breach = next(p for p in problems if "预警值20%" in p)
    assert breach.startswith(f"全县{indicators.INDICATORS['newly_found'].name}同比上升150.0%")
    text = "\n".join(paragraphs(reports.build("bulletin", county, JUNE, today=TODAY).content))
    for finding in data.findings:
        assert finding.problem in text and finding.action in text


def test_no_problems_without_missed_targets_or_breaches(tree, county):
    builders.persons(tree["villages"][0], 6)
    data = reports.gather(county, JUNE, today=TODAY)
    assert data.findings == []
    assert "本期各项指标均达到年度目标，未触发预警。" in paragraphs(
        reports.build("bulletin", county, JUNE, today=TODAY).content)


@pytest.mark.parametrize(("day", "text"), [
    (D(2024, 7, 5), "二〇二四年七月五日"),
    (D(2024, 12, 31), "二〇二四年十二月三十一日"),
    (D(2020, 10, 20), "二〇二〇年十月二十日"),
    (D(2019, 11, 16), "二〇一九年十一月十六日"),
])
def test_chinese_dates(day, text):
    assert reports.chinese_date(day) == text


# --- the command --------------------------------------------------------------------------------------


def test_jindu_report_monthly(county, situation, tmp_path):
    # `jindu report ...` hands its arguments to Django's command line (jindu.cli); call_command is
    # the same command without run_from_argv closing the test's database connection.
    out = tmp_path / "report.xlsx"
    call_command("report", "monthly", "--jurisdiction", county.code, "--period", "2024-06", "--out", str(out))
    rows = summary_rows(workbook(out.read_bytes()))
    assert rows[str(indicators.INDICATORS["registered"].name)][3] == 71
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT).get()
    assert entry.actor is None and entry.changes["format"] == "xlsx" and entry.changes["period"] == "2024-06"
    bulletin = tmp_path / "bulletin.docx"
    call_command("report", "monthly", "--jurisdiction", county.code, "--period", "2024-06", "--out", str(bulletin))
    assert "一、总体形势" in paragraphs(bulletin.read_bytes())
    other = tmp_path / "bulletin.bin"
    call_command("report", "monthly", "--jurisdiction", county.code, "--period", "2024-Q2", "--out", str(other),
                 "--format", "docx")
    assert "二〇" in paragraphs(other.read_bytes())[2]


def test_jindu_report_refuses_what_it_cannot_make(county, tmp_path):
    out = tmp_path / "r.xlsx"
    with pytest.raises(CommandError):
        call_command("report", "monthly", "--jurisdiction", "000000", "--period", "2024-06", "--out", str(out))
    with pytest.raises(CommandError):
        call_command("report", "monthly", "--jurisdiction", county.code, "--period", "2024-13", "--out", str(out))
    assert not out.exists()


# --- outlines ----------------------------------------------------------------------------------------


def _geojson(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


SQUARE = {"type": "Polygon", "coordinates": [[[100, 25], [100.1, 25], [100.1, 25.1], [100, 25.1], [100, 25]]]}


def test_outlines_import_all_or_nothing(tree, tmp_path):
    first, second = tree["townships"]
    bad = _geojson({"properties": {"code": first.code}, "geometry": SQUARE},
                   {"properties": {"name": "无编码"}, "geometry": SQUARE},
                   {"properties": {"code": second.code}, "geometry": {"type": "Point", "coordinates": [1, 2]}})
    with pytest.raises(FileRejected) as rejected:
        shapes.read_geojson(bad)
    assert [(e.row, e.field) for e in rejected.value.errors] == [(2, "区划编码"), (3, "边界")]
    unknown = shapes.read_geojson(_geojson({"properties": {"adcode": "999999"}, "geometry": SQUARE}))
    with pytest.raises(FileRejected):
        shapes.do_import_shapes(unknown, acting_user=None, source="x.geojson")
    assert not shapes.JurisdictionShape.objects.exists()
    path = tmp_path / "townships.geojson"
    path.write_bytes(_geojson({"properties": {"code": first.code}, "geometry": SQUARE},
                              {"properties": {"adcode": second.code}, "geometry": SQUARE}))
    call_command("import", "shapes", str(path))
    assert shapes.JurisdictionShape.objects.count() == 2
    assert AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT, changes__count=2).exists()
    assert shapes.feature_collection([first, second])["features"][1]["properties"]["code"] == second.code
