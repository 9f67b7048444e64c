"""Ledgers made inside the tests, the way offices' files come: xlsx written cell by cell
(numbers, dates and text kept as typed, merged title cells), CSV in UTF-8, UTF-8 with BOM and
GBK, and the sample ledger of shared/samples."""

import csv
import datetime
import io
from pathlib import Path

from persons.tests.people import id_number

# Copies of shared/samples/persons_ledger_sample.*, kept with the tests like the jurisdictions sample.
SAMPLES = Path(__file__).parent / "samples"
SAMPLE_LEDGER = SAMPLES / "persons_ledger_sample.xlsx"
SAMPLE_EXPECTED = SAMPLES / "persons_ledger_sample.expected.json"
# shared/samples/measures_ledger_sample.*: community measures with (and without) their dates.
MEASURES_SAMPLE = SAMPLES / "measures_ledger_sample.xlsx"
MEASURES_EXPECTED = SAMPLES / "measures_ledger_sample.expected.json"

# shared/samples/sample_jurisdictions.csv (the conftest's ``sample_tree``).
COUNTY = "990101"  # 示范县
CHENGGUAN = "990101001"  # 城关镇: 东门社区 西门社区 南街社区 北岭村 河坝村
QINGSHAN = "990101002"  # 青山镇: 青山社区 石桥村 茶园村

HEADER = ["序号", "姓名", "性别", "身份证号码", "所属村(社区)", "吸食毒品种类", "初次发现日期", "管控现状", "联系电话"]


def row(serial=1, name="张三", sex=None, number=None, village="东门社区", substances="海洛因",
        first_found="2019-03-05", status="社区戒毒", phone="13812345678", birth="19900307", female=False):
    """One data row in the layout of ``HEADER``; the ID number's sex decides the default sex."""
    number = number or id_number(birth, sex="F" if female else "M")
    sex = sex if sex is not None else ("女" if female else "男")
    return [serial, name, sex, number, village, substances, first_found, status, phone]


def xlsx(rows, *, merged=(), text_columns=()) -> bytes:
    """``rows`` written as they are: ints/floats become numbers, dates become Excel dates, None
    an empty cell. ``merged`` holds ranges such as "A1:I1"; ``text_columns`` (1-based) get the
    text number format, as an office that formatted its ID column as text."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "台账"
    for r, cells in enumerate(rows, start=1):
        for c, value in enumerate(cells, start=1):
            if value is None or value == "":
                continue
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, datetime.date):
                cell.number_format = "yyyy-mm-dd"
            if c in text_columns:
                cell.number_format = "@"
    for cells in merged:
        sheet.merge_cells(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows, encoding="utf-8") -> bytes:
    """CSV as Excel saves it: "utf-8", "utf-8-sig" (with BOM), "gbk" or "gb18030"."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(["" if v is None else v for v in r] for r in rows)
    return buffer.getvalue().encode(encoding)


def titled(rows, title="示范县城关镇登记在册吸毒人员台账", unit="填报单位：城关镇禁毒办",
           day="填报日期：2024年7月2日"):
    """A title line and the 填报单位/填报日期 line above ``rows`` (the header first), as offices head
    their ledgers; the header is then on row 3."""
    width = len(rows[0])
    return [[title] + [None] * (width - 1), [unit] + [None] * (width - 3) + [day, None], *rows]


# A ledger of community measures with their dates (docs/import.md, "The measure's dates").
MEASURES_HEADER = ["姓名", "身份证号码", "所属村(社区)", "管控现状", "决定日期", "报到日期", "执行起始日期", "决定书文号"]


def measure_row(name="张三", number=None, village="东门社区", status="社区戒毒", decided=None, reported=None,
                starts=None, decision_number=None, birth="19900307"):
    """One row in the layout of ``MEASURES_HEADER``; no dates: the file waits for its measure."""
    return [name, number or id_number(birth), village, status, decided, reported, starts, decision_number]
