"""The generated documents (issue 6, SPEC §3.7): the monthly statistical report (xlsx, as an office
files it upward) and the 毒情通报 (docx, Chinese official-document format). Every number comes
from the indicator library — the same ``evaluate`` calls the dashboard makes — and the problems
and next steps are derived from the figures (missed targets, thresholds crossed, the areas that
rank last), not written in advance.

A document made for a viewer without personal-data rights (the leadership downloading it from
the dashboard) shows counts from 1 to 4 as "<5", as the dashboard does; the command-line
operator's report (`jindu report monthly`) is the office's own and shows every figure.

The text of the documents is Chinese on purpose: it is the document's content, in the form
GB/T 9704 and the offices' practice give it, not user-interface chrome.
"""

import datetime
import io
from dataclasses import dataclass, field
from urllib.parse import quote

from django.conf import settings
from django.utils import timezone, translation

from core.roles import may_see_personal_data
from jurisdictions.choices import Level
from jurisdictions.models import Jurisdiction
from monitoring import indicators, rollups
from monitoring.disclosure import Disclosure
from monitoring.periods import Period
from monitoring.wording import aim_text, areas_below, gap_text, place_name, target_text, whole_area, with_unit

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# The indicators ranked area by area, one sheet each, and named in the bulletin's problems.
RANKING_CODES = ["registered", "newly_found", "execution_rate", "test_completion_rate", "grid_rate",
                 "high_risk_share"]
# The monthly trend sheet.
TREND_CODES = ["registered", "newly_found", "execution_rate", "test_completion_rate", "grid_rate"]
TREND_MONTHS = 12
BREAKDOWNS = [("status", "管控现状"), ("age", "年龄结构"), ("substance", "滥用毒品种类"), ("risk", "风险等级"),
              ("sex", "性别"), ("living", "就业居住情况")]
# The bulletin: 一、总体形势 reads the situation; 二、工作开展情况 the work the office is assessed on.
SITUATION_CODES = ["registered", "newly_found", "community_measures", "compulsory_treatment",
                   "whereabouts_unknown", "young_share", "minor_share", "synthetic_share", "relapse_rate",
                   "estimated_users", "estimated_users_per_mille"]
WORK_CODES = ["execution_rate", "report_in_rate", "test_completion_rate", "grid_rate", "abstinence_count",
              "abstinence_rate", "social_workers", "staffing_ratio", "staffing_shortfall", "overdue_items",
              "serious_breach_flags"]
BOTTOM = 3  # how many areas the problems name as ranking last

CHINESE_DIGITS = "〇一二三四五六七八九"


# --- what both documents read ---------------------------------------------------------------


@dataclass
class Finding:
    """One problem found in the figures, and the work it calls for."""

    indicator: str
    problem: str
    action: str


@dataclass
class ReportData:
    jurisdiction: Jurisdiction
    period: Period
    as_of: datetime.date
    issued_on: datetime.date
    viewer: object  # None: the command-line operator, who sees every figure
    values: dict  # code -> Value
    children: list  # [Jurisdiction]
    by_child: dict  # child pk -> {code: Value}
    months: list  # [Period]
    trend: dict  # code -> [Value]
    breakdowns: dict  # name -> [(key, label, count)]
    breaches: list = field(default_factory=list)  # [(jurisdiction name, indicator name, text)]
    findings: list = field(default_factory=list)

    @property
    def office(self) -> str:
        return issuing_office(self.jurisdiction)

    @property
    def period_label(self) -> str:
        """"2026年12月（截至12月5日）" while the period runs: it is not a closed period."""
        return self.period.label_on(self.issued_on)

    @property
    def suppressed(self) -> bool:
        return self.viewer is not None and not may_see_personal_data(self.viewer)

    def show(self, value) -> str:
        """An indicator's value as this document may print it ("<5", "—" for a rate over fewer
        than 5 persons, when made for a viewer without personal-data rights)."""
        return value.display(suppress_small=self.suppressed)

    def count(self, number: int) -> str:
        return str(number) if self.viewer is None else indicators.suppress(number, self.viewer)


def gather(jurisdiction: Jurisdiction, period: Period, *, viewer=None, today: datetime.date | None = None) -> ReportData:
    with rollups.one_reading():
        return _gather(jurisdiction, period, viewer, today or timezone.localdate())


def _gather(jurisdiction: Jurisdiction, period: Period, viewer, today: datetime.date) -> ReportData:
    as_of = period.as_of(today)
    # The command-line operator (viewer None) and the roles with personal-data rights see every
    # figure; for the others, what would give a small count away is withheld (monitoring.disclosure).
    disclosure = Disclosure(viewer, jurisdiction, period, as_of=as_of)
    values = disclosure.apply(indicators.evaluate(None, jurisdiction, period, as_of=as_of), jurisdiction)
    children = list(Jurisdiction.objects.filter(parent=jurisdiction).order_by("code"))
    ranking = [code for code in RANKING_CODES if code in indicators.INDICATORS]
    by_child = disclosure.apply_children(indicators.evaluate_children(
        sorted(set(ranking) | set(values)), jurisdiction, period, as_of=as_of, compare=True) if children else {})
    last = period.months()[-1]
    months = [last]
    while len(months) < TREND_MONTHS:
        months.append(months[-1].previous())
    months.reverse()
    trend = indicators.series_many([code for code in TREND_CODES if code in indicators.INDICATORS], jurisdiction,
                                   months, as_of=as_of)
    disclosure.apply_trends(trend, months, jurisdiction)
    breakdowns = disclosure.protect_breakdowns(indicators.breakdowns([name for name, _title in BREAKDOWNS],
                                                                     jurisdiction, as_of=as_of))
    data = ReportData(jurisdiction, period, as_of, today, viewer, values, children, by_child, months, trend,
                      breakdowns)
    data.breaches = threshold_breaches(data)
    data.findings = findings(data)
    return data


def issuing_office(jurisdiction: Jurisdiction) -> str:
    return f"{jurisdiction.name}禁毒委员会办公室"


def chinese_date(day: datetime.date) -> str:
    """GB/T 9704 成文日期: 二〇二四年七月五日."""
    year = "".join(CHINESE_DIGITS[int(d)] for d in str(day.year))
    return f"{year}年{chinese_number(day.month)}月{chinese_number(day.day)}日"


def chinese_number(n: int) -> str:
    """1–99 in Chinese numerals as dates write them (十, 十一, 二十, 三十一)."""
    tens, ones = divmod(n, 10)
    text = ("" if tens == 0 else "十" if tens == 1 else CHINESE_DIGITS[tens] + "十")
    return text + (CHINESE_DIGITS[ones] if ones else "") if n else "〇"


def _number(value) -> float | None:
    return None if value is None else float(value)


def _ranked(data: ReportData, code: str) -> list[tuple[Jurisdiction, object]]:
    """The children by their value of ``code``, best first (those without a value last)."""
    indicator = indicators.INDICATORS[code]
    rows = [(child, data.by_child.get(child.pk, {}).get(code)) for child in data.children]
    rows = [(child, value) for child, value in rows if value is not None]
    # A figure the viewer may not see ("<5", "*") takes no place in the order: it would bound it.
    with_value = [(c, v) for c, v in rows if v.value is not None and data.show(v) == v.display()]
    without = [(c, v) for c, v in rows if (c, v) not in with_value]
    with_value.sort(key=lambda row: float(row[1].value), reverse=indicator.higher_is_better is not False)
    return with_value + without


def threshold_breaches(data: ReportData) -> list[tuple[str, str, str]]:
    """The active alert thresholds crossed by the area or one of its direct children, as (area,
    indicator, what happened). A threshold set for a jurisdiction applies below it unless a
    lower one sets its own for the same indicator and comparison."""
    from monitoring.choices import Comparison
    from monitoring.models import Threshold

    nodes = [(data.jurisdiction, data.values)] + [(c, data.by_child.get(c.pk, {})) for c in data.children]
    codes = set(data.jurisdiction.path.strip("/").split("/")) | {child.code for child in data.children}
    thresholds = list(Threshold.objects.filter(active=True, jurisdiction__code__in=codes)
                      .select_related("jurisdiction").order_by("jurisdiction__depth"))
    rows = []
    for node, values in nodes:
        applicable = {}
        for threshold in thresholds:  # shallow first: the deepest one that covers the node wins
            if node.path.startswith(threshold.jurisdiction.path):
                applicable[(threshold.indicator, threshold.comparison)] = threshold
        for (code, comparison), threshold in applicable.items():
            value = values.get(code)
            if value is None:
                continue
            limit = float(threshold.value)
            figure = {Comparison.VALUE_ABOVE: value.value, Comparison.VALUE_BELOW: value.value,
                      Comparison.YOY_ABOVE: value.yoy, Comparison.YOY_BELOW: value.yoy,
                      Comparison.MOM_ABOVE: value.mom, Comparison.MOM_BELOW: value.mom}[comparison]
            if figure is None:
                continue
            figure = float(figure)
            crossed = figure > limit if comparison.endswith("above") else (
                figure < limit if comparison == Comparison.VALUE_BELOW else figure < -abs(limit))
            if not crossed:
                continue
            if comparison in (Comparison.VALUE_ABOVE, Comparison.VALUE_BELOW):
                limit_text = with_unit(value.indicator, f"{limit:g}{value.indicator.unit if value.indicator.is_rate else ''}")
                text = f"为{with_unit(value.indicator, data.show(value))}（预警值{limit_text}）"
            else:
                sentence = value.yoy_sentence() if comparison.startswith("yoy") else value.mom_sentence()
                text = f"{sentence}（预警值{limit:g}%）"
            rows.append((place_name(node, data.jurisdiction), str(value.indicator.name), text))
    return rows


def findings(data: ReportData) -> list[Finding]:
    """The problems the figures show, each with the work it calls for: an indicator below its
    target (and the areas furthest below it), a threshold crossed, overdue check-ins and open
    serious-breach flags."""
    result = []
    area = whole_area(data.jurisdiction)
    for code, value in data.values.items():
        indicator = value.indicator
        if value.target is None or value.target_met is not False or value.value is None:
            continue
        gap = abs(float(value.value) - float(value.target))
        short = indicator.higher_is_better is not False
        laggards = _laggards(data, code)
        gap_words = gap_text(gap, indicator.unit)
        problem = (f"{area}{indicator.name}为{with_unit(indicator, data.show(value))}，"
                   + (f"未达到年度目标{target_text(value)}" + (f"，还差{gap_words}" if gap_words else "") if short else
                      f"超过年度目标{target_text(value)}" + (f"，多出{gap_words}" if gap_words else "")))
        if laggards:
            problem += f"，其中{'、'.join(laggards)}排名靠后"
        problem += "。"
        action = _action(data, value, laggards)
        result.append(Finding(code, problem, action))
    missed = {f.indicator for f in result}
    for code in LAGGING_CODES:
        finding = _lagging(data, code) if code not in missed and code in data.values else None
        if finding is not None:
            result.append(finding)
    for place, name, text in data.breaches:
        result.append(Finding("", f"{place}{name}{text}，超过预警阈值。",
                              f"对{place}{name}变化情况开展专题分析，查明原因，落实针对性措施。"))
    for code, noun, action in (
        ("overdue_items", "项检测、谈话、走访逾期未完成",
         f"督促{areas_below(data.jurisdiction)}逐项销号逾期未完成的检测、谈话和走访，做到按期检测、应检尽检。"),
        ("serious_breach_flags", "条严重违反社区戒毒协议预警尚未处置",
         "对严重违反社区戒毒协议人员依法逐一作出处置决定，该送强制隔离戒毒的坚决送戒。"),
    ):
        value = data.values.get(code)
        if value is not None and value.value:
            result.append(Finding(code, f"{area}尚有{data.show(value)}{noun}。", action))
    return result


# Rates on which the areas ranking last are named even when no target is missed (seed 001:
# "排名靠后的乡镇" are called out in the county's meetings).
LAGGING_CODES = ["execution_rate", "test_completion_rate", "grid_rate"]


def _lagging(data: ReportData, code: str) -> Finding | None:
    """The areas that rank last on ``code`` and lie below the whole area's figure."""
    whole = data.values[code]
    if whole.value is None or not data.children:
        return None
    indicator = whole.indicator
    ranked = [(child, value) for child, value in _ranked(data, code)
              if value.value is not None and data.show(value) == value.display()]
    worse = [(child, value) for child, value in ranked[-BOTTOM:][::-1]
             if (value.value < whole.value if indicator.higher_is_better else value.value > whole.value)]
    if len(ranked) <= BOTTOM or not worse:
        return None
    names = "、".join(f"{child.name}（{value.display()}）" for child, value in worse)
    problem = (f"{indicator.name}排名靠后的是{names}，低于{whole_area(data.jurisdiction)}"
               f"{data.show(whole)}的水平。")
    places = "、".join(child.name for child, _value in worse)
    action = f"督促{places}对照{whole_area(data.jurisdiction)}水平查找{indicator.name}偏低的原因，逐人逐项整改。"
    return Finding(code, problem, action)


def _laggards(data: ReportData, code: str) -> list[str]:
    ranked = [(child, value) for child, value in _ranked(data, code) if value.value is not None]
    if len(ranked) < 2:  # one area alone ranks neither first nor last
        return []
    failing = [child.name for child, value in ranked if value.target_met is False]
    if failing:
        return failing[-BOTTOM:][::-1] if len(failing) > BOTTOM else failing[::-1]
    return [child.name for child, _v in ranked[-BOTTOM:]][::-1] if len(ranked) > BOTTOM else []


def _action(data: ReportData, value, laggards: list[str]) -> str:
    indicator = value.indicator
    where = f"督促{'、'.join(laggards)}等" if laggards else f"督促{areas_below(data.jurisdiction)}"
    return f"{where}对照{indicator.name}年度目标查找差距、逐人逐项整改，力争将{indicator.name}{aim_text(value)}。"


# --- documents ------------------------------------------------------------------------------


@dataclass
class Document:
    title: str
    filename: str
    extension: str
    content_type: str
    content: bytes
    suppressed: bool

    @property
    def quoted_filename(self) -> str:
        return quote(f"{self.filename}.{self.extension}")


def build(kind: str, jurisdiction: Jurisdiction, period: Period, *, viewer=None, today=None) -> Document:
    """``kind`` "statistics" (the monthly statistical report, xlsx) or "bulletin" (毒情通报, docx).
    The documents are Chinese whatever the viewer's interface language."""
    with translation.override(settings.LANGUAGE_CODE):
        return _build(kind, jurisdiction, period, viewer=viewer, today=today)


def _build(kind, jurisdiction, period, *, viewer, today) -> Document:
    data = gather(jurisdiction, period, viewer=viewer, today=today)
    running = period.up_to(data.issued_on)
    label = f"{period.label}，{running}" if running else period.label
    if kind == "statistics":
        title = f"{jurisdiction.name}禁毒工作统计报表（{label}）"
        return Document(title, title, "xlsx", XLSX_TYPE, statistics_xlsx(data), data.suppressed)
    if kind == "bulletin":
        title = f"{jurisdiction.name}毒情通报（{label}）"
        return Document(title, title, "docx", DOCX_TYPE, bulletin_docx(data), data.suppressed)
    raise ValueError(f"unknown document {kind!r}")


# --- the monthly statistical report (xlsx) --------------------------------------------------


class _Sheets:
    """Formats shared by every sheet of the report."""

    def __init__(self, book):
        font = {"font_name": "宋体", "font_size": 10}
        self.title = book.add_format({**font, "bold": True, "font_size": 16, "align": "center",
                                      "valign": "vcenter", "font_name": "黑体"})
        self.meta = book.add_format({**font})
        self.header = book.add_format({**font, "bold": True, "bg_color": "#E9EEF5", "border": 1, "align": "center",
                                       "valign": "vcenter", "text_wrap": True})
        self.text = book.add_format({**font, "border": 1, "valign": "vcenter"})
        self.wrap = book.add_format({**font, "border": 1, "valign": "vcenter", "text_wrap": True})
        self.center = book.add_format({**font, "border": 1, "align": "center", "valign": "vcenter"})
        self.number = book.add_format({**font, "border": 1, "num_format": "#,##0.##", "valign": "vcenter"})
        self.percent = book.add_format({**font, "border": 1, "num_format": '+0.0"%";-0.0"%";0.0"%"',
                                        "valign": "vcenter"})
        self.points = book.add_format({**font, "border": 1, "num_format": '+0.0"个百分点";-0.0"个百分点";0.0"个百分点"',
                                       "valign": "vcenter"})
        self.bad = book.add_format({**font, "border": 1, "align": "center", "font_color": "#C00000", "bold": True})
        self.good = book.add_format({**font, "border": 1, "align": "center", "font_color": "#007A33"})


def _head(sheet, fmt: _Sheets, data: ReportData, title: str, columns: int) -> int:
    """The heading an office puts on every sheet it files upward; returns the next free row."""
    sheet.merge_range(0, 0, 0, columns - 1, title, fmt.title)
    sheet.set_row(0, 28)
    sheet.write(1, 0, f"填报单位：{data.office}", fmt.meta)
    sheet.write(2, 0, f"统计时段：{data.period.label}（{data.period.start:%Y年%m月%d日}至{data.period.end:%Y年%m月%d日}）",
                fmt.meta)
    sheet.write(3, 0, f"数据截至：{data.as_of:%Y年%m月%d日}    填报日期：{data.issued_on:%Y年%m月%d日}", fmt.meta)
    row = 4
    if data.period.up_to(data.issued_on):
        sheet.write(row, 0, f"说明：{data.period.label}尚未结束，本表为{data.period.up_to(data.issued_on)}的数据；"
                            "检测完成率只计应检日期已过的检测，同比、环比取相同天数。", fmt.meta)
        row += 1
    if data.suppressed:
        sheet.write(row, 0, "说明：本表供无个人信息查阅权限者使用，1至4的人数以“<5”表示，可据以推算出这些人数的数字以“*”表示。", fmt.meta)
        row += 1
    return row + 1


def _write_value(sheet, row, column, fmt: _Sheets, data: ReportData, value):
    """An indicator's value as a number, or as the text the viewer may see ("<5", "—")."""
    if value is None or value.value is None:
        sheet.write_string(row, column, "—", fmt.center)
        return
    shown = data.show(value)
    if shown != value.display():
        sheet.write_string(row, column, shown, fmt.center)
    else:
        sheet.write_number(row, column, float(value.value), fmt.number)


def _small(data: ReportData, indicator, raw) -> bool:
    return data.suppressed and indicator.is_count and raw is not None and 0 < raw < indicators.SMALL_COUNT


def _write_figure(sheet, row, column, fmt, data: ReportData, indicator, raw):
    """A comparison figure (last year's, the previous period's) or a target."""
    if raw is None:
        sheet.write_string(row, column, "—", fmt.center)
    elif _small(data, indicator, raw):
        sheet.write_string(row, column, f"<{indicators.SMALL_COUNT}", fmt.center)
    else:
        sheet.write_number(row, column, float(raw), fmt.number)


def _changes_hidden(data: ReportData, value, base) -> bool:
    """A change between small counts would give them away."""
    return data.show(value) != value.display() or _small(data, value.indicator, base)


def _write_count(sheet, row, column, fmt, data: ReportData, count):
    shown = data.count(count)
    if shown != str(count):
        sheet.write_string(row, column, shown, fmt.center)
    else:
        sheet.write_number(row, column, count, fmt.number)


def _write_change(sheet, row, column, fmt, value, change, points):
    """同比/环比: the relative change in percent for counts, the change in percentage points for
    rates (as offices write them: "执行率同比提高2.1个百分点")."""
    figure = points if value.indicator.is_rate else change
    if figure is None:
        sheet.write_string(row, column, "—", fmt.center)
    else:
        sheet.write_number(row, column, float(figure), fmt.points if value.indicator.is_rate else fmt.percent)


def _write_met(sheet, row, column, fmt, value):
    if value.target is None or value.target_met is None:
        sheet.write_string(row, column, "—", fmt.center)
    elif value.target_met:
        sheet.write_string(row, column, "是", fmt.good)
    else:
        sheet.write_string(row, column, "否", fmt.bad)


SUMMARY_COLUMNS = ["序号", "指标", "单位", "本期", "上年同期", "同比", "上期", "环比", "目标", "是否达标", "指标口径"]
SUMMARY_SHEET = "主要指标"


def statistics_xlsx(data: ReportData) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    # strings_to_formulas off: a jurisdiction or indicator name beginning with "=" stays text.
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_numbers": False, "strings_to_urls": False})
    book.set_properties({"title": f"{data.jurisdiction.name}禁毒工作统计报表", "author": data.office,
                         "subject": data.period.label})
    fmt = _Sheets(book)
    _summary_sheet(book, fmt, data)
    if data.children:
        _children_sheet(book, fmt, data)
        for code in RANKING_CODES:
            if code in indicators.INDICATORS:
                _ranking_sheet(book, fmt, data, code)
    _trend_sheet(book, fmt, data)
    _breakdown_sheet(book, fmt, data)
    _findings_sheet(book, fmt, data)
    book.close()
    return buffer.getvalue()


def _summary_sheet(book, fmt, data: ReportData):
    sheet = book.add_worksheet(SUMMARY_SHEET)
    row = _head(sheet, fmt, data, f"{data.jurisdiction.name}禁毒工作月度统计报表", len(SUMMARY_COLUMNS))
    sheet.write_row(row, 0, SUMMARY_COLUMNS, fmt.header)
    sheet.freeze_panes(row + 1, 2)
    for number, value in enumerate(data.values.values(), start=1):
        row += 1
        indicator = value.indicator
        sheet.write_number(row, 0, number, fmt.center)
        sheet.write_string(row, 1, str(indicator.name), fmt.text)
        sheet.write_string(row, 2, indicator.unit, fmt.center)
        _write_value(sheet, row, 3, fmt, data, value)
        _write_figure(sheet, row, 4, fmt, data, indicator, value.previous_year)
        hide_yoy = _changes_hidden(data, value, value.previous_year)
        hide_mom = _changes_hidden(data, value, value.previous_period)
        _write_change(sheet, row, 5, fmt, value, *((None, None) if hide_yoy else (value.yoy, value.yoy_points)))
        _write_figure(sheet, row, 6, fmt, data, indicator, value.previous_period)
        _write_change(sheet, row, 7, fmt, value, *((None, None) if hide_mom else (value.mom, value.mom_points)))
        _write_figure(sheet, row, 8, fmt, data, indicator, value.target)
        _write_met(sheet, row, 9, fmt, value)
        sheet.write_string(row, 10, indicator.definition, fmt.wrap)
    row += 2
    sheet.write(row, 0, "单位负责人：", fmt.meta)
    sheet.write(row, 3, "审核人：", fmt.meta)
    sheet.write(row, 6, "填表人：", fmt.meta)
    sheet.write(row, 9, "联系电话：", fmt.meta)
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 26)
    sheet.set_column(2, 2, 6)
    sheet.set_column(3, 9, 11)
    sheet.set_column(10, 10, 60)


def _children_sheet(book, fmt, data: ReportData):
    codes = list(data.values)
    sheet = book.add_worksheet("分区域统计")
    row = _head(sheet, fmt, data, f"{data.jurisdiction.name}禁毒工作分区域统计表", len(codes) + 1)
    sheet.write_string(row, 0, "区域", fmt.header)
    for column, code in enumerate(codes, start=1):
        indicator = indicators.INDICATORS[code]
        sheet.write_string(row, column, f"{indicator.name}({indicator.unit})", fmt.header)
    sheet.set_row(row, 45)
    sheet.freeze_panes(row + 1, 1)
    for child in data.children:
        row += 1
        sheet.write_string(row, 0, child.name, fmt.text)
        values = data.by_child.get(child.pk, {})
        for column, code in enumerate(codes, start=1):
            _write_value(sheet, row, column, fmt, data, values.get(code))
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, len(codes), 12)


def _sheet_name(text: str) -> str:
    for char in "[]:*?/\\":
        text = text.replace(char, "")
    return text[:31]


RANKING_COLUMNS = ["名次", "区域", "本期", "上年同期", "同比", "目标", "是否达标"]


def _ranking_sheet(book, fmt, data: ReportData, code: str):
    indicator = indicators.INDICATORS[code]
    sheet = book.add_worksheet(_sheet_name(f"排名-{indicator.name}"))
    row = _head(sheet, fmt, data, f"{indicator.name}排名（{indicator.unit}）", len(RANKING_COLUMNS))
    sheet.write_row(row, 0, RANKING_COLUMNS, fmt.header)
    for rank, (child, value) in enumerate(_ranked(data, code), start=1):
        row += 1
        sheet.write_number(row, 0, rank, fmt.center)
        sheet.write_string(row, 1, child.name, fmt.text)
        _write_value(sheet, row, 2, fmt, data, value)
        _write_figure(sheet, row, 3, fmt, data, indicator, value.previous_year)
        hide_yoy = _changes_hidden(data, value, value.previous_year)
        _write_change(sheet, row, 4, fmt, value, *((None, None) if hide_yoy else (value.yoy, value.yoy_points)))
        _write_figure(sheet, row, 5, fmt, data, indicator, value.target)
        _write_met(sheet, row, 6, fmt, value)
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 16)
    sheet.set_column(2, 6, 12)


def _trend_sheet(book, fmt, data: ReportData):
    codes = list(data.trend)
    sheet = book.add_worksheet("月度趋势")
    row = _head(sheet, fmt, data, f"{data.jurisdiction.name}近{len(data.months)}个月主要指标", len(codes) + 1)
    sheet.write_string(row, 0, "月份", fmt.header)
    for column, code in enumerate(codes, start=1):
        indicator = indicators.INDICATORS[code]
        sheet.write_string(row, column, f"{indicator.name}({indicator.unit})", fmt.header)
    for index, month in enumerate(data.months):
        row += 1
        sheet.write_string(row, 0, month.label, fmt.text)
        for column, code in enumerate(codes, start=1):
            _write_value(sheet, row, column, fmt, data, data.trend[code][index])
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, len(codes), 16)


def _breakdown_sheet(book, fmt, data: ReportData):
    sheet = book.add_worksheet("人员构成")
    row = _head(sheet, fmt, data, f"{data.jurisdiction.name}登记在册吸毒人员构成", 4)
    for name, title in BREAKDOWNS:
        rows = data.breakdowns.get(name) or []
        sheet.merge_range(row, 0, row, 3, title, fmt.header)
        row += 1
        sheet.write_row(row, 0, ["类别", "人数", "占比（%）", ""], fmt.header)
        total = sum(count for _key, _label, count in rows)
        for _key, label, count in rows:
            row += 1
            sheet.write_string(row, 0, str(label), fmt.text)
            _write_count(sheet, row, 1, fmt, data, count)
            if data.count(count) == str(count) and total:
                sheet.write_number(row, 2, round(100 * count / total, 1), fmt.number)
            else:
                sheet.write_string(row, 2, "—", fmt.center)
            sheet.write_blank(row, 3, None, fmt.text)
        row += 2
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 3, 12)


def _findings_sheet(book, fmt, data: ReportData):
    sheet = book.add_worksheet("问题与预警")
    row = _head(sheet, fmt, data, "存在问题与下一步工作", 3)
    sheet.write_row(row, 0, ["序号", "存在问题", "下一步工作"], fmt.header)
    for number, finding in enumerate(data.findings, start=1):
        row += 1
        sheet.write_number(row, 0, number, fmt.center)
        sheet.write_string(row, 1, finding.problem, fmt.wrap)
        sheet.write_string(row, 2, finding.action, fmt.wrap)
    if not data.findings:
        sheet.write_string(row + 1, 1, "本期各项指标均达到年度目标，未触发预警。", fmt.wrap)
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 2, 60)


# --- the 毒情通报 (docx) ----------------------------------------------------------------------

# GB/T 9704-2012: title 2号方正小标宋简体, body 3号仿宋_GB2312, first-level headings 3号黑体,
# second-level 3号楷体_GB2312; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm;
# 22 lines of 28 characters (fixed line spacing 28.95 pt).
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
RED = (0xC0, 0x00, 0x00)


def bulletin_docx(data: ReportData) -> bytes:
    from docx import Document as WordDocument
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    document = WordDocument()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    core = document.core_properties
    core.title = f"{data.jurisdiction.name}毒情通报"
    core.author = data.office
    core.subject = data.period.label

    writer = _Writer(document)
    # 版头: the masthead in red, the issue number, the office and the red rule.
    writer.paragraph("毒 情 通 报", font=TITLE_FONT, size=36, color=RED, align=WD_ALIGN_PARAGRAPH.CENTER,
                     space_after=12)
    writer.paragraph(f"{data.period.start.year}年第{_issue_number(data.period)}期", size=16,
                     align=WD_ALIGN_PARAGRAPH.CENTER)
    writer.paragraph(f"{data.office}\u3000\u3000\u3000\u3000\u3000\u3000{chinese_date(data.issued_on)}", size=14,
                     align=WD_ALIGN_PARAGRAPH.CENTER, rule=True)
    writer.paragraph("", size=16)
    writer.paragraph(f"{data.jurisdiction.name}{data.period_label}毒情形势通报", font=TITLE_FONT, size=22,
                     align=WD_ALIGN_PARAGRAPH.CENTER, space_after=16)
    writer.paragraph(_addressees(data.jurisdiction), indent=False)
    writer.paragraph(f"现将{data.period_label}{whole_area(data.jurisdiction)}毒情形势及禁毒工作开展情况通报如下。")

    writer.heading("一、总体形势")
    for sentence in situation_sentences(data):
        writer.paragraph(sentence)
    writer.heading("二、工作开展情况")
    for sentence in work_sentences(data):
        writer.paragraph(sentence)
    writer.heading("三、存在问题")
    if data.findings:
        for number, finding in enumerate(data.findings, start=1):
            writer.paragraph(f"（{chinese_number(number)}）{finding.problem}")
    else:
        writer.paragraph("本期各项指标均达到年度目标，未触发预警。")
    writer.heading("四、下一步工作")
    actions = list(dict.fromkeys(f.action for f in data.findings))
    actions.append(f"坚持每月通报毒情，{'、'.join(_ranking_names())}等指标按月排名通报，"
                   f"对连续排名靠后的{areas_below(data.jurisdiction)[1:]}进行约谈。")
    for number, action in enumerate(actions, start=1):
        writer.paragraph(f"（{chinese_number(number)}）{action}")
    writer.paragraph("", size=16)
    writer.paragraph(data.office, align=WD_ALIGN_PARAGRAPH.RIGHT, right_indent=4)
    writer.paragraph(chinese_date(data.issued_on), align=WD_ALIGN_PARAGRAPH.RIGHT, right_indent=4)
    if data.suppressed:
        writer.paragraph("（本通报供无个人信息查阅权限者使用，1至4的人数以“<5”表示，可据以推算出这些人数的数字以“*”表示。）", size=12)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _issue_number(period: Period) -> int:
    return period.start.month if period.kind == "month" else (period.start.month - 1) // 3 + 1


def _addressees(jurisdiction: Jurisdiction) -> str:
    if jurisdiction.level == Level.TOWNSHIP:
        seat = whole_area(jurisdiction)[1:]
        return f"{areas_below(jurisdiction)}、{'街道各部门' if seat == '街道' else seat + '直各单位'}："
    return f"{areas_below(jurisdiction)}禁毒委员会办公室，{jurisdiction.name}禁毒委员会各成员单位："


def _ranking_names() -> list[str]:
    return [str(indicators.INDICATORS[c].name) for c in ("execution_rate", "test_completion_rate")
            if c in indicators.INDICATORS]


def _sentence(data: ReportData, value, lead: str = "") -> str:
    indicator = value.indicator
    text = f"{lead}{indicator.name}为{with_unit(indicator, data.show(value))}"
    # The accounts have no history (indicators.fetch_staff): a staff figure has no 同比.
    if value.yoy is not None and not any(name.startswith("staff.") for name in indicator.inputs):
        sentence = value.yoy_sentence()
        text += f"，{sentence}" if sentence else ""
    if value.target is not None:
        text += f"，年度目标{target_text(value)}，{'已达标' if value.target_met else '未达标'}"
    return text + "。"


def situation_sentences(data: ReportData) -> list[str]:
    area = whole_area(data.jurisdiction)
    values = data.values
    sentences = []
    registered = values.get("registered")
    if registered is not None:
        text = (f"截至{data.as_of.month}月{data.as_of.day}日，{area}共有登记在册吸毒人员"
                f"{data.show(registered)}人")
        if registered.yoy is not None:
            text += f"，{registered.yoy_sentence()}"
        statuses = [(label, count) for _key, label, count in data.breakdowns.get("status", []) if count]
        if statuses:
            text += "；其中" + "、".join(f"{label}{data.count(count)}人" for label, count in statuses[:6])
        sentences.append(text + "。")
    newly = values.get("newly_found")
    if newly is not None:
        text = f"{data.period_label}新发现吸毒人员{data.show(newly)}人"
        if newly.yoy is not None:
            text += f"，{newly.yoy_sentence()}"
        sentences.append(text + "。")
    for code in SITUATION_CODES:
        if code in ("registered", "newly_found") or code not in values or values[code].value is None:
            continue
        sentences.append(_sentence(data, values[code]))
    substances = [(label, count) for _key, label, count in data.breakdowns.get("substance", []) if count]
    if substances:
        substances.sort(key=lambda row: row[1], reverse=True)
        sentences.append("从滥用毒品种类看，" + "、".join(f"滥用{label}的{data.count(count)}人"
                                                   for label, count in substances[:4]) + "。")
    ranked = _ranked(data, "registered") if data.children else []
    if ranked:
        top = [f"{child.name}（{data.show(value)}人）" for child, value in ranked[:BOTTOM] if value.value]
        if top:
            sentences.append(f"从区域分布看，登记在册人员较多的是{'、'.join(top)}。")
    return sentences


def work_sentences(data: ReportData) -> list[str]:
    sentences = []
    for code in WORK_CODES:
        value = data.values.get(code)
        if value is not None and value.value is not None:
            sentences.append(_sentence(data, value))
    if data.children and "execution_rate" in indicators.INDICATORS:
        ranked = [(c, v) for c, v in _ranked(data, "execution_rate") if v.value is not None]
        name = indicators.INDICATORS["execution_rate"].name
        if len(ranked) > 1 and ranked[0][1].value == ranked[-1][1].value:
            sentences.append(f"分区域看，{areas_below(data.jurisdiction)}{name}均为{data.show(ranked[0][1])}。")
        elif len(ranked) > 1:
            best, worst = ranked[0], ranked[-1]
            sentences.append(f"分区域看，{name}最高的是{best[0].name}（{data.show(best[1])}），"
                             f"最低的是{worst[0].name}（{data.show(worst[1])}）。")
    return sentences


class _Writer:
    """Paragraphs in the official-document fonts (python-docx needs the East Asian font named
    on each run, else Word falls back to the Latin font for Chinese)."""

    def __init__(self, document):
        self.document = document

    def paragraph(self, text, *, font=BODY_FONT, size=16, color=None, align=None, indent=True, space_after=0,
                  rule=False, right_indent=0, bold=False):
        from docx.enum.text import WD_LINE_SPACING
        from docx.shared import Pt, RGBColor

        paragraph = self.document.add_paragraph()
        layout = paragraph.paragraph_format
        layout.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        layout.line_spacing = Pt(max(28.95, size * 1.3))
        layout.space_before = Pt(0)
        layout.space_after = Pt(space_after)
        if align is not None:
            paragraph.alignment = align
        elif indent:
            layout.first_line_indent = Pt(size * 2)
        if right_indent:
            layout.right_indent = Pt(size * right_indent)
        run = paragraph.add_run(text)
        _set_font(run, font, size, bold=bold)
        if color is not None:
            run.font.color.rgb = RGBColor(*color)
        if rule:
            _bottom_rule(paragraph)
        return paragraph

    def heading(self, text):
        return self.paragraph(text, font=HEADING_FONT, size=16)


def _set_font(run, name: str, size: int, bold=False):
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)


def _bottom_rule(paragraph):
    """The red rule under the masthead (版头中的分隔线)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = paragraph._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    bottom.set(qn("w:val"), "single")
    bottom.set(qn("w:sz"), "18")
    bottom.set(qn("w:space"), "4")
    bottom.set(qn("w:color"), "C00000")
    border.append(bottom)
    properties.append(border)
