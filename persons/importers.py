"""Reading a persons ledger (吸毒人员台账): find the header among the title lines, map the
office's own column names to fields, and turn every data row into checked values or errors.

This module only reads and checks; it never writes. ``services.do_import_persons`` resolves
villages and existing files against the database and writes, shared by the web upload and
``jindu import persons``. The synonym tables below are the documented contract of what an
office's file may call each column and value (docs/import.md).
"""

import datetime
import functools
import re
import unicodedata
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import bulk
from core.importing import FileRejected, RowError, read_head, read_sheet, read_table, text_of
from core.masking import mask_numbers_in as shown  # what a message echoes of a cell
from persons import rules
from persons.choices import ControlStatus, LivingSituation, Sex, Substance

# --- columns ---------------------------------------------------------------------------------

# field key → (label, header names used by offices). Headers are compared after ``_key``:
# spaces removed, full-width brackets made half-width, trailing colon and required-star dropped.
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "serial": (gettext_lazy("Serial number"), ("序号", "编号", "序", "no", "no.")),
    "name": (gettext_lazy("Full name"), ("姓名", "名字", "人员姓名", "吸毒人员姓名")),
    "sex": (gettext_lazy("Sex"), ("性别",)),
    "id_number": (gettext_lazy("ID number"), (
        "身份证号", "身份证号码", "公民身份号码", "公民身份证号码", "身份证件号码", "证件号码", "身份证")),
    "birth_date": (gettext_lazy("Birth date"), ("出生日期", "出生年月", "出生年月日")),
    "age": (gettext_lazy("Age (from the ID number)"), ("年龄", "周岁", "年龄(周岁)", "年龄(岁)")),
    "registered_residence": (gettext_lazy("Registered residence"), (
        "户籍地址", "户籍地", "户籍所在地", "户籍住址", "户籍地详址", "户口所在地")),
    "current_address": (gettext_lazy("Current address"), (
        "现住址", "现居住地", "现居住地址", "实际居住地", "实际居住地址", "居住地址", "现住地址", "居住地")),
    "township": (gettext_lazy("Township"), ("乡镇(街道)", "所属乡镇", "所属乡镇(街道)", "乡镇", "街道", "乡(镇)")),
    "village": (gettext_lazy("Village"), (
        "所属村(社区)", "村(居)委会", "村(社区)", "社区", "所在村(社区)", "所属社区", "所属村", "村居", "村(居)",
        "村(居)委", "所属村(居)", "村社区", "村(社区)名称")),
    "substances": (gettext_lazy("Substances"), (
        "吸食毒品种类", "滥用毒品种类", "毒品种类", "吸食种类", "滥用种类", "吸毒种类", "吸食毒品类型", "滥用毒品类型")),
    "first_found_on": (gettext_lazy("First found"), (
        "初次发现日期", "首次发现时间", "初次发现时间", "首次发现日期", "初次发现", "首次发现")),
    "control_status": (gettext_lazy("Control status"), (
        "管控现状", "目前管控状态", "管控状态", "现状", "人员状态", "目前状态", "管控情况", "当前状态")),
    "control_status_since": (gettext_lazy("Status since"), (
        "状态起始日期", "管控起始日期", "状态变更日期", "现状起始日期", "起始日期")),
    # The community measure's dates (docs/import.md): with them the import opens the measure and its plan.
    "measure_decided_on": (gettext_lazy("Date of the measure's decision"), (
        "决定日期", "决定书日期", "责令日期", "决定时间", "决定作出日期", "责令社区戒毒日期", "责令社区康复日期",
        "决定书送达日期", "决定送达日期")),
    "measure_reported_on": (gettext_lazy("Date of the report-in"), (
        "报到日期", "报到时间", "报到日", "实际报到日期", "报到")),
    "measure_starts_on": (gettext_lazy("Start of execution"), (
        "执行起始日期", "执行开始日期", "执行起始时间", "开始执行日期", "执行日期", "执行起始日", "执行开始时间")),
    "measure_decision_number": (gettext_lazy("Number of the decision document"), (
        "决定书文号", "决定书编号", "决定书号", "决定文号", "文号")),
    "living_situation": (gettext_lazy("Employment and housing"), ("就业居住情况", "两有情况", "就业住房情况", "就业及居住情况")),
    "phone": (gettext_lazy("Phone"), ("联系电话", "电话", "手机号码", "手机号", "联系方式", "手机", "电话号码")),
    "family_support": (gettext_lazy("Family support"), (
        "家庭支持", "家庭支持情况", "家庭是否支持", "家属是否支持", "家属支持情况", "家庭支持度")),
    "family_contacts": (gettext_lazy("Family contacts"), (
        "家属联系方式", "家属联系电话", "紧急联系人", "家属电话", "监护人联系方式")),
    "notes": (gettext_lazy("Notes"), ("备注", "说明", "其他情况")),
    "risk_level": (gettext_lazy("Risk level (assessed here, not imported)"), ("风险等级", "风险级别", "风险评估等级")),
}
# Columns that carry no field of their own: recognised so they are not reported as unknown.
IGNORED = frozenset({"serial", "age", "risk_level"})
REQUIRED = ("name", "id_number")


_SPACES = re.compile(r"\s+")


@functools.lru_cache(maxsize=65536)
def _key(text) -> str:
    text = unicodedata.normalize("NFKC", str(text or ""))  # full-width → half-width
    text = _SPACES.sub("", text).rstrip(":*").lstrip("*")
    return text.lower()


HEADER_LOOKUP = {_key(name): key for key, (_label, names) in COLUMNS.items() for name in names}


def column_label(key: str) -> str:
    return str(COLUMNS[key][0]) if key in COLUMNS else key


# --- values ----------------------------------------------------------------------------------

STATUS_SYNONYMS = {
    ControlStatus.COMMUNITY_TREATMENT: ("社区戒毒", "社区戒毒中", "社戒"),
    ControlStatus.COMMUNITY_REHABILITATION: ("社区康复", "社区康复中", "社康"),
    ControlStatus.COMPULSORY_TREATMENT: ("强制隔离戒毒", "强戒", "强制戒毒", "强戒所", "强制隔离戒毒中"),
    ControlStatus.VOLUNTARY_TREATMENT: ("自愿戒毒", "自愿戒毒中"),
    ControlStatus.MAINTENANCE_THERAPY: ("药物维持治疗", "美沙酮维持治疗", "维持治疗", "美沙酮", "美沙酮治疗"),
    ControlStatus.THREE_YEAR_ABSTINENCE: ("戒断三年未复吸", "戒断三年", "三年未复吸", "戒断3年未复吸", "戒断满三年",
                                          "戒断三年以上未复吸", "戒断三年未发现复吸"),
    ControlStatus.SOCIAL_CONTROL: ("社会面管控", "社会面", "社会面管控人员", "社会面在控"),
    ControlStatus.IN_CUSTODY: ("羁押", "在押", "服刑", "监狱服刑", "看守所羁押", "拘留", "服刑中", "在押服刑"),
    ControlStatus.DECEASED: ("死亡", "已死亡"),
    ControlStatus.MOVED_OUT: ("迁出", "户籍迁出", "外迁", "已迁出"),
    ControlStatus.ABROAD: ("出国(境)", "出境", "出国", "出国境"),
    ControlStatus.WHEREABOUTS_UNKNOWN: ("下落不明", "失联", "去向不明", "脱管", "漏管", "失控"),
}
SUBSTANCE_SYNONYMS = {
    Substance.HEROIN: ("海洛因", "白粉", "四号"),
    Substance.METHAMPHETAMINE: ("甲基苯丙胺", "冰毒", "麻古", "麻果", "甲基苯丙胺(冰毒)"),
    Substance.KETAMINE: ("氯胺酮", "k粉", "k仔", "氯胺酮(k粉)"),
    Substance.CANNABIS: ("大麻", "大麻叶", "大麻脂"),
    Substance.MDMA: ("摇头丸", "mdma", "亚甲二氧基甲基苯丙胺"),
    Substance.COCAINE: ("可卡因", "古柯碱"),
    Substance.OPIUM: ("鸦片", "阿片"),
    Substance.MORPHINE: ("吗啡",),
    Substance.NPS: ("新精神活性物质", "合成大麻素", "新型毒品"),
    Substance.METHCATHINONE: ("甲卡西酮", "卡西酮", "浴盐"),
    Substance.OTHER: ("其他", "其它"),
}
LIVING_SYNONYMS = {
    LivingSituation.STABLE: ("两有", "有业有居", "有就业有住所"),
    LivingSituation.HOUSED: ("一有", "有居无业", "有住所"),
    LivingSituation.UNSTABLE: ("两无", "无业无居", "无就业无住所"),
}
# 家庭支持: yes, no, or said to be unknown (left unknown, as a blank cell or a ledger without the column).
SUPPORT_SYNONYMS = {True: ("是", "有", "支持", "良好", "好", "较好", "√", "y", "yes"),
                    False: ("否", "无", "没有", "不支持", "差", "较差", "×", "n", "no"),
                    None: ("未知", "不详", "不清楚", "不明", "-", "/")}
SUPPORT_LOOKUP = {_key(name): value for value, names in SUPPORT_SYNONYMS.items() for name in names}
SEX_SYNONYMS = {Sex.MALE: ("男", "男性", "m", "male", "1"), Sex.FEMALE: ("女", "女性", "f", "female", "2")}


def _lookup(table: dict) -> dict[str, str]:
    found = {}
    for value, names in table.items():
        found[_key(value)] = value
        found[_key(value.label)] = value
        for name in names:
            found[_key(name)] = value
    return found


STATUS_LOOKUP = _lookup(STATUS_SYNONYMS)
SUBSTANCE_LOOKUP = _lookup(SUBSTANCE_SYNONYMS)
LIVING_LOOKUP = _lookup(LIVING_SYNONYMS)
SEX_LOOKUP = _lookup(SEX_SYNONYMS)
_SUBSTANCE_SPLIT = re.compile(r"[、,，;；/／和及+＋]+")


class ValueProblem(ValueError):
    pass


# Pasted from web systems or exported as text: no-break and zero-width spaces, line breaks inside
# the cell, and the ' or ` some exports put in front to keep the number as text.
_ID_NOISE = re.compile(r"[\s\u200b\u200c\u200d\ufeff'`‘’]+")


def parse_id_number(value) -> str:
    """The ID number column, whichever way Excel kept it (``rules.normalise_id_number`` decides)."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        number = int(value)
        if len(str(number)) > 15:
            # An 18-digit number does not fit a double: Excel kept only 15 significant digits.
            raise ValueProblem(_("The number was stored by a spreadsheet as a number and has lost digits: "
                                 "format the column as text and type it again."))
        value = str(number)
    try:
        return rules.normalise_id_number(_ID_NOISE.sub("", unicodedata.normalize("NFKC", text_of(value))))
    except rules.IdNumberError as error:
        raise ValueProblem(str(error)) from None


_DATE = re.compile(r"^(\d{4})\s*[.\-/年]\s*(\d{1,2})\s*[.\-/月]\s*(\d{1,2})\s*[日号]?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONTH = re.compile(r"^(\d{4})\s*[.\-/年]\s*(\d{1,2})\s*月?(?:份)?$")
_YEAR = re.compile(r"^(\d{4})\s*年?$")
_EXCEL_EPOCH = datetime.date(1899, 12, 30)


def parse_date(value, today: datetime.date | None = None) -> tuple[datetime.date, bool]:
    """(date, approximate). Excel dates and serial numbers, ``2019.3.5``, ``2019年3月5日``,
    ``20190305``, ``2016/2/9``, ``2020-08-01 00:00:00``; a month only (``2010年5月``, ``2019.03``)
    or a year only is the first day of it, marked approximate."""
    today = today or timezone.localdate()
    approximate = False
    if isinstance(value, datetime.datetime):
        day = value.date()
    elif isinstance(value, datetime.date):
        day = value
    elif isinstance(value, float | int) and not isinstance(value, bool):
        if isinstance(value, float) and 1900 < value < 2101 and value != int(value):
            # A month typed as 2019.03 is kept by the spreadsheet as the number 2019.03. 2019.1
            # is also what 2019.10 becomes, so January and October cannot be told apart.
            if repr(value).endswith(".1"):
                raise ValueProblem(_("“%(value)s” is not a date: write it as 2019-03-05 or 2019年3月5日.")
                                   % {"value": shown(repr(value))})
            return parse_date(repr(value), today)
        number = int(value)
        if 19000101 <= number <= 21001231:
            return parse_date(str(number), today)
        if 1900 <= number <= 2100:
            return parse_date(str(number), today)
        if 1 <= number < 80000:
            day = _EXCEL_EPOCH + datetime.timedelta(days=number)
        else:
            raise ValueProblem(_("“%(value)s” is not a date.") % {"value": shown(text_of(value))})
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        try:
            if match := _DATE.match(text) or _COMPACT.match(text):
                day = datetime.date(*(int(g) for g in match.groups()))
            elif match := _MONTH.match(text):
                day, approximate = datetime.date(int(match[1]), int(match[2]), 1), True
            elif match := _YEAR.match(text):
                day, approximate = datetime.date(int(match[1]), 1, 1), True
            else:
                raise ValueProblem(_("“%(value)s” is not a date: write it as 2019-03-05 or 2019年3月5日.")
                                   % {"value": shown(text)})
        except ValueError as error:
            if isinstance(error, ValueProblem):
                raise
            raise ValueProblem(_("“%(value)s” is not a real date.") % {"value": shown(text)}) from None
    if day > today:
        raise ValueProblem(_("%(date)s is in the future.") % {"date": day.isoformat()})
    if day.year < 1900:
        raise ValueProblem(_("%(date)s is too early to be right.") % {"date": day.isoformat()})
    return day, approximate


def parse_substances(value) -> tuple[list[str], list[str]]:
    """(substances, the parts not recognised)."""
    found, unknown = [], []
    for cell_part in _SUBSTANCE_SPLIT.split(unicodedata.normalize("NFKC", text_of(value))):
        # "K 粉" is one name, "冰毒 K粉" two: a part is taken whole before it is split at spaces.
        for part in [cell_part] if _substance(cell_part) else cell_part.split():
            substance = _substance(part)
            if substance is None:
                unknown.append(part)
            elif substance not in found:
                found.append(substance)
    return found, unknown


def _substance(name: str):
    """A substance by any of its names; 海洛因(白粉) by the name before or inside the brackets."""
    key = _key(name)
    if not key:
        return None
    if key in SUBSTANCE_LOOKUP:
        return SUBSTANCE_LOOKUP[key]
    if match := re.fullmatch(r"(.+?)\((.+)\)", key):
        return SUBSTANCE_LOOKUP.get(match[1]) or SUBSTANCE_LOOKUP.get(match[2])
    return None


# --- the ledger ------------------------------------------------------------------------------


@dataclass
class LedgerRow:
    row: int  # the sheet row number the user sees
    values: dict = field(default_factory=dict)  # field key → checked value ("" / None when blank)
    raw: dict = field(default_factory=dict)  # field key → the cell as typed (for place names)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    id_index: str = ""  # the checked ID number's blind index, computed with the check (on every core)


@dataclass
class Ledger:
    header_row: int  # 1-based
    headers: list[str]  # the file's own header texts, by column
    mapping: dict[int, str]  # column index → field key ("" = ignored)
    rows: list[LedgerRow]
    rows_read: int
    skipped_rows: list[int]
    warnings: list[RowError]  # file-level: unknown columns
    title: str = ""
    sheet_index: int = 0

    def header_of(self, key: str) -> str:
        for index, mapped in self.mapping.items():
            if mapped == key:
                return self.headers[index] or column_label(key)
        return column_label(key)


MAX_HEADER_SEARCH = 20
_FOOTER = re.compile(r"^(合计|总计|小计|共计|填表人|制表人|审核人|负责人|填报人|注[:：]|说明[:：]|备注[:：])")


def detect_header(table: list[list]) -> int:
    """The 0-based index of the header row: the first of the top rows that names at least
    three known columns, one of them the name or the ID number."""
    for index, cells in enumerate(table[:MAX_HEADER_SEARCH]):
        keys = {HEADER_LOOKUP.get(_key(c)) for c in cells if text_of(c)}
        keys.discard(None)
        if len(keys) >= 3 and keys & set(REQUIRED):
            return index
    raise FileRejected([RowError(0, "", _(
        "No header row found in the first %(n)s rows: the header must name at least the full name "
        "and the ID number columns (e.g. 姓名, 身份证号码).") % {"n": MAX_HEADER_SEARCH})])


def guess_mapping(headers: list[str]) -> dict[int, str]:
    mapping, taken = {}, set()
    for index, header in enumerate(headers):
        key = HEADER_LOOKUP.get(_key(header), "")
        if key and key in taken:
            key = ""  # a second column of the same meaning is not read
        taken.add(key)
        mapping[index] = key
    return mapping


def _is_blank(cells) -> bool:
    return not any(text_of(c) for c in cells)


def _is_footer(cells) -> bool:
    texts = [text_of(c) for c in cells if text_of(c)]
    return bool(texts) and bool(_FOOTER.match(texts[0]))


def find_sheet(data: bytes, filename: str, header_row: int | None = None,
               head: bool = False) -> tuple[int, list[list], int]:
    """The first sheet with a header row: a workbook may open with its instructions (填表说明).
    ``head``: only the rows the header is looked for in come back (the upload page)."""

    def sheet(index):
        if head:
            count, table, _rows = read_head(data, filename, index, rows=MAX_HEADER_SEARCH)
            return count, table
        return read_sheet(data, filename, index)

    first_error = None
    count, table = sheet(0)  # one reading child gives the first sheet and the count
    for index in range(count):
        if index:
            table = sheet(index)[1]
        if header_row:
            return index, table, header_row - 1
        try:
            return index, table, detect_header(table)
        except FileRejected as error:
            first_error = first_error or error
    raise first_error


CHECK_PART = 5000  # rows a forked worker checks at a time (read_ledger)


@bulk.gc_paused()
def read_ledger(data: bytes, filename: str = "", *, header_row: int | None = None,
                mapping: dict[int, str] | None = None, today: datetime.date | None = None,
                sheet_index: int | None = None, progress=None) -> Ledger:
    """Read and check every row. ``sheet_index``, ``header_row`` (1-based) and ``mapping``
    override what is detected (the web form lets the user correct them); ``progress(done,
    total)`` is told how far the check has come."""
    today = today or timezone.localdate()
    if sheet_index is not None:
        table = read_table(data, filename, sheet_index)
        header_index = header_row - 1 if header_row else detect_header(table)
    else:
        sheet_index, table, header_index = find_sheet(data, filename, header_row)
    if header_index < 0 or header_index >= len(table):
        raise FileRejected([RowError(header_row or 0, "", _("The file has no row %(row)s.") % {"row": header_row})])
    headers = [text_of(c) for c in table[header_index]]
    mapping = guess_mapping(headers) if mapping is None else {int(k): v for k, v in mapping.items()}
    missing = [key for key in REQUIRED if key not in mapping.values()]
    if missing:
        raise FileRejected([RowError(header_index + 1, column_label(key), _(
            "The header row has no column for %(field)s.") % {"field": column_label(key)}) for key in missing])
    file_warnings = [
        RowError(header_index + 1, header, _("Column not recognised; it was not imported."))
        for index, header in enumerate(headers) if header and not mapping.get(index)
    ]
    title = next((text_of(c) for row in table[:header_index] for c in row if text_of(c)), "")
    columns = {key: index for index, key in mapping.items() if key}
    ledger = Ledger(header_row=header_index + 1, headers=headers, mapping=mapping, rows=[], rows_read=0,
                    skipped_rows=[], warnings=file_warnings, title=title, sheet_index=sheet_index)
    header_keys = [_key(h) for h in headers]
    last = header_index
    for index in range(len(table) - 1, header_index, -1):  # blank rows after the last line are not reported
        if not _is_blank(table[index]):
            last = index
            break
    parts = [range(header_index + 1 + part.start, header_index + 1 + part.stop)
             for part in bulk.parts(last - header_index, size=CHECK_PART)]

    def check(part: range) -> list:
        """The rows of ``part`` checked (a LedgerRow each), or their number when skipped."""
        checked = []
        for index in part:
            cells = table[index]
            texts = [text_of(c) for c in cells]
            first = next((t for t in texts if t), "")
            if not first or _FOOTER.match(first) or (
                    texts.index(first) < len(header_keys) and _key(first) == header_keys[texts.index(first)]
                    and [_key(t) for t in texts] == header_keys):
                checked.append(index + 1)
                continue
            checked.append(_check_row(index + 1, cells, columns, ledger, today, texts))
        return checked

    for part, checked in zip(parts, bulk.forked_stream(check, parts), strict=True):  # on every core
        for row in checked:
            if isinstance(row, int):
                ledger.skipped_rows.append(row)
            else:
                ledger.rows_read += 1
                ledger.rows.append(row)
        if progress:
            progress(part.stop - header_index - 1, last - header_index)
    _mark_duplicates(ledger)
    return ledger


def _check_row(number: int, cells: list, columns: dict[str, int], ledger: Ledger, today,
               texts: list[str]) -> LedgerRow:
    """One row checked; ``texts``: its cells' text_of."""
    row = LedgerRow(number)
    width = len(cells)

    def cell(key):
        index = columns.get(key)
        return cells[index] if index is not None and index < width else None

    def text(key) -> str:
        index = columns.get(key)
        return texts[index] if index is not None and index < width else ""

    def problem(key, message, warning=False):
        (row.warnings if warning else row.errors).append(RowError(number, ledger.header_of(key), message))

    name = _SPACES.sub("", text("name"))
    if not name:
        problem("name", _("The full name is missing."))
    elif len(name) > 50:
        problem("name", _("The name is longer than %(max)s characters.") % {"max": 50})
    row.values["name"] = name

    id_number = None
    raw_id = cell("id_number")
    if not text("id_number"):
        problem("id_number", _("The ID number is missing."))
    else:
        try:
            id_number = parse_id_number(raw_id)
            row.id_index = _id_index(id_number)
        except ValueProblem as error:
            problem("id_number", str(error))
    row.values["id_number"] = id_number

    if id_number and text("sex"):
        typed = SEX_LOOKUP.get(_key(text("sex")))
        if typed and typed != rules.sex_of(id_number):
            problem("sex", _("The sex “%(typed)s” differs from the ID number's (%(real)s); the ID number's was kept.")
                    % {"typed": shown(text("sex")), "real": Sex(rules.sex_of(id_number)).label}, warning=True)
    if id_number and "birth_date" in columns and text("birth_date"):
        try:
            typed_birth, approximate = parse_date(cell("birth_date"), today)
            real = rules.birth_date_of(id_number)
            if (typed_birth.year, typed_birth.month) != (real.year, real.month) or (
                    not approximate and typed_birth != real):
                problem("birth_date", _("The birth date differs from the ID number's (%(real)s); the ID number's "
                                        "was kept.") % {"real": real.isoformat()}, warning=True)
        except ValueProblem:
            problem("birth_date", _("The birth date is not a date; the ID number's was kept."), warning=True)

    for key in ("township", "village"):
        row.raw[key] = _SPACES.sub("", unicodedata.normalize("NFKC", text(key)))
    if "village" in columns and not row.raw["village"]:
        problem("village", _("The village is missing."))

    status_text = text("control_status")
    if "control_status" in columns:
        status = STATUS_LOOKUP.get(_key(status_text)) or STATUS_LOOKUP.get(_key(status_text).removesuffix("人员"))
        if not status_text:
            problem("control_status", _("The control status is missing."))
        elif status is None:
            problem("control_status", _("Unknown control status “%(value)s”.") % {"value": shown(status_text)})
        row.values["control_status"] = status

    for key in ("first_found_on", "control_status_since"):
        if text(key) and _key(text(key)) not in UNKNOWN_DATES:  # the roster writes 未知 for no date
            try:
                row.values[key], approximate = parse_date(cell(key), today)
                if key == "first_found_on":
                    row.values["first_found_approximate"] = approximate
            except ValueProblem as error:
                problem(key, str(error))
                continue
            # The forms' rule: nothing that happened lies before the birth (or after today).
            message = rules.date_problem(key, row.values[key], born=rules.birth_date_of(id_number) if id_number
                                         else None, today=today)
            if message:
                problem(key, message)

    _check_measure(row, text, cell, problem, today)

    if "substances" in columns:
        substances, unknown = parse_substances(cell("substances"))
        if unknown:
            substances = substances or [Substance.OTHER]
            problem("substances", _("Substance “%(value)s” not recognised; recorded as written in the notes.")
                    % {"value": shown("、".join(unknown))}, warning=True)
            row.values["unknown_substances"] = "、".join(unknown)
        row.values["substances"] = substances

    if text("living_situation"):
        living = LIVING_LOOKUP.get(_key(text("living_situation")))
        if living is None:
            problem("living_situation", _("“%(value)s” is not 两有, 一有 or 两无; it was not imported.")
                    % {"value": shown(text("living_situation"))}, warning=True)
        else:
            row.values["living_situation"] = living

    for key in ("registered_residence", "current_address"):
        if key in columns:
            row.values[key] = _SPACES.sub("", text(key))[:200]
    if "family_support" in columns and text("family_support"):
        key = _key(text("family_support"))
        if key in SUPPORT_LOOKUP:
            row.values["family_support"] = SUPPORT_LOOKUP[key]
        else:
            problem("family_support", _("“%(value)s” is not 是 or 否; family support was left unknown.")
                    % {"value": shown(text("family_support"))}, warning=True)
    if "phone" in columns:
        try:
            row.values["phone"] = rules.normalise_phone(text_of(cell("phone")))
        except rules.PhoneError as error:
            # The rest of the row is kept, as for an unknown 两有 value: the phone alone is refused.
            problem("phone", _("%(problem)s The phone was not imported.") % {"problem": error}, warning=True)
            row.values["phone"] = ""
    if "family_contacts" in columns:
        row.values["family_contacts"] = text("family_contacts")
    if "notes" in columns:
        row.values["notes"] = text("notes")
    return row


UNKNOWN_DATES = frozenset({"未知", "不详", "unknown"})
MEASURE_DATES = ("measure_decided_on", "measure_reported_on", "measure_starts_on")
COMMUNITY_STATUSES = (ControlStatus.COMMUNITY_TREATMENT, ControlStatus.COMMUNITY_REHABILITATION)


def _check_measure(row: LedgerRow, text, cell, problem, today) -> None:
    """The measure's dates, read for a row whose status is a community measure (others keep no
    measure here): each a date, together as rules.measure_date_problems allows."""
    if row.values.get("control_status") not in COMMUNITY_STATUSES:
        return
    days, bad = {}, False
    for key in MEASURE_DATES:
        if text(key):
            try:
                days[key] = parse_date(cell(key), today)[0]
            except ValueProblem as error:
                problem(key, str(error))
                bad = True
    if bad or not days:
        return
    problems = rules.measure_date_problems(days.get("measure_decided_on"), days.get("measure_reported_on"),
                                           days.get("measure_starts_on"), today)
    for key, message in problems.items():
        problem(f"measure_{key}", message)
    if not problems:
        row.values.update(days)
        row.values["measure_decision_number"] = text("measure_decision_number")[:100]


def _id_index(id_number: str) -> str:
    from persons.models import Person

    return Person._meta.get_field("id_number_index").index_for(id_number)


def _mark_duplicates(ledger: Ledger) -> None:
    first_row: dict[str, int] = {}
    for row in ledger.rows:
        number = row.values.get("id_number")
        if not number:
            continue
        if number in first_row:
            row.errors.append(RowError(row.row, ledger.header_of("id_number"), _(
                "The same ID number is on row %(row)s of this file.") % {"row": first_row[number]}))
        else:
            first_row[number] = row.row


# --- places ----------------------------------------------------------------------------------

_PLACE_SUFFIXES = ("村民委员会", "居民委员会", "村委会", "居委会", "村委", "居委")
_PLACE_KINDS = ("社区", "村", "居")


def _place_key(name: str) -> str:
    name = _SPACES.sub("", unicodedata.normalize("NFKC", name or ""))
    for suffix in _PLACE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            if suffix.startswith("村") and not name.endswith("村"):
                name += "村"
            break
    return name


def _bare(name: str) -> str:
    for kind in _PLACE_KINDS:
        if name.endswith(kind) and len(name) > len(kind):
            return name[: -len(kind)]
    return name


def _town_key(name: str) -> str:
    """城关镇, 城关 and 城关镇人民政府 name the same township; so do 东城街道 and 东城街道办事处."""
    name = _place_key(name)
    for suffix in ("人民政府", "办事处", "街道", "镇", "乡"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return name


class PlaceResolver:
    """Finds the village a ledger names, within the area chosen for the import.

    Offices type the village alone (东门社区), with its township (城关镇东门社区) or county in
    front, with stray spaces, as 东门社区居委会 or without the 村/社区 ending; a separate
    township column narrows the search. A name that fits two villages is refused rather than
    guessed; a name that is a township places the person at the township (village unknown)."""

    def __init__(self, area, nodes):
        from jurisdictions.choices import Level

        self.area = area
        self.townships = [n for n in nodes if n.level == Level.TOWNSHIP]
        self.villages = [n for n in nodes if n.level == Level.VILLAGE]
        if area.level == Level.VILLAGE:
            self.villages.append(area)
        if area.level == Level.TOWNSHIP:
            self.townships.append(area)
        self.prefixes = sorted({_place_key(n.name) for n in [*nodes, area, *area.ancestors()] if n.level != Level.VILLAGE},
                               key=len, reverse=True)
        self.keys = {v.pk: _place_key(v.name) for v in self.villages}
        self.cache: dict[tuple[str, str], tuple] = {}

    def _within(self, township):
        if township is None:
            return self.villages
        return [v for v in self.villages if v.path.startswith(township.path)]

    def _match(self, key: str, villages) -> list:
        exact = [v for v in villages if self.keys[v.pk] == key]
        if exact:
            return exact
        bare = _bare(key)
        return [v for v in villages if _bare(self.keys[v.pk]) == bare]

    def resolve(self, village: str, township: str = ""):
        """(jurisdiction, None) or (None, message). A ledger names few places many times."""
        if (village, township) not in self.cache:
            self.cache[village, township] = self._resolve(village, township)
        return self.cache[village, township]

    def _resolve(self, village: str, township: str):
        key = _place_key(village)
        if not key:
            if self.area.level in ("village", "township"):
                return self.area, None
            return None, _("The village is missing.")
        town = None
        if township:
            towns = [t for t in self.townships if _town_key(t.name) == _town_key(township)]
            if len(towns) != 1:
                return None, _("There is no township “%(name)s” in %(area)s.") % {"name": shown(township),
                                                                                   "area": self.area.name}
            town = towns[0]
        candidates = self._match(key, self._within(town))
        while not candidates:  # 示范县城关镇东门社区 → 城关镇东门社区 → 东门社区, whatever order the prefixes are in
            prefix = next((p for p in self.prefixes if key.startswith(p) and len(key) > len(p)), None)
            if prefix is None:
                break
            key = key[len(prefix):]
            towns = [t for t in self.townships if _place_key(t.name) == prefix]
            if towns and town is None:
                town = towns[0]
            candidates = self._match(key, self._within(town))
        if not candidates:
            towns = [t for t in self.townships if _place_key(t.name) == key or _bare(_place_key(t.name)) == _bare(key)]
            if len(towns) == 1:
                return towns[0], None
            return None, _("There is no village “%(name)s” in %(area)s.") % {"name": shown(village),
                                                                                 "area": self.area.name}
        if len(candidates) > 1:
            return None, _("“%(name)s” is the name of villages in %(towns)s: put the township in front.") % {
                "name": shown(village), "towns": "、".join(sorted({self._township_name(v) for v in candidates}))}
        return candidates[0], None

    def _township_name(self, village) -> str:
        for town in self.townships:
            if village.path.startswith(town.path):
                return town.name
        return ""
