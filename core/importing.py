"""Ledger imports, shared by every app: the registry behind `jindu import KIND FILE`, the
row-error type every import reports with, and the reader that turns an uploaded file
(xlsx, xls, ods, CSV in UTF-8 or GBK) into rows of cell values with their sheet row numbers."""

import csv
import datetime
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class ImportKind:
    name: str
    help: str
    add_arguments: Callable[[Any], None]
    handle: Callable[..., int]  # returns the exit code


_KINDS: dict[str, ImportKind] = {}


def register(kind: ImportKind) -> None:
    _KINDS[kind.name] = kind


def kinds() -> dict[str, ImportKind]:
    return dict(_KINDS)


@dataclass
class RowError:
    """What is wrong, and where: ``row`` as the user sees it in the file (1-based, counting
    title lines), ``field`` as the file's own column header."""

    row: int
    field: str
    message: str

    def as_dict(self):
        return {"row": self.row, "field": self.field, "message": self.message}


class FileRejected(Exception):
    """The file as a whole cannot be read; ``errors`` say where and why."""

    def __init__(self, errors: list[RowError]):
        super().__init__("; ".join(f"{e.row}: {e.message}" for e in errors))
        self.errors = errors


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK) as saved by Excel on
    Chinese Windows."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRejected([RowError(0, "", _("The file is neither UTF-8 nor GBK/GB18030 text."))])


SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
TABLE_SUFFIXES = (*SPREADSHEET_SUFFIXES, ".csv", ".txt")


def _is_spreadsheet(data: bytes, filename: str) -> bool:
    # Zip (xlsx, ods) or OLE2 (xls): trust the content over a renamed file.
    if data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return True
    return filename.lower().endswith(SPREADSHEET_SUFFIXES) and not filename.lower().endswith((".csv", ".txt"))


def sheet_count(data: bytes, filename: str = "") -> int:
    if not data or not _is_spreadsheet(data, filename):
        return 1
    from python_calamine import CalamineWorkbook

    try:
        return len(CalamineWorkbook.from_filelike(io.BytesIO(data)).sheet_names) or 1
    except Exception:
        return 1


def read_table(data: bytes, filename: str = "", sheet_index: int = 0) -> list[list]:
    """A sheet (the first by default; or the CSV) as a list of rows; row ``i`` of the list is sheet row
    ``i + 1``. Spreadsheet cells keep their types (numbers, dates); a cell merged over several
    rows gives its value to each of them, one merged across columns only keeps it in the first;
    CSV cells are strings."""
    if not data:
        raise FileRejected([RowError(1, "", _("The file is empty."))])
    if _is_spreadsheet(data, filename):
        from python_calamine import CalamineWorkbook

        try:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
            sheet = workbook.get_sheet_by_index(sheet_index)
            rows = sheet.to_python(skip_empty_area=False)  # a new list for each row: ours to change
        except Exception as error:  # calamine raises its own types for damaged files
            raise FileRejected([RowError(0, "", _("The spreadsheet cannot be read (%(error)s).")
                                         % {"error": str(error)[:200]})]) from None
        try:
            merged = sheet.merged_cell_ranges or []
        except Exception:  # not every format reports its merged cells
            merged = []
        _fill_merged_down(rows, merged)
        return rows
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    return [list(row) for row in csv.reader(io.StringIO(text), dialect)]


def _fill_merged_down(rows: list[list], merged) -> None:
    """Ledgers merge the village (or township) cell over the persons of one village: each of
    those rows is that village's. Titles merged across a line are left in their first cell."""
    for (top, left), (bottom, _right) in merged:
        if bottom <= top or top >= len(rows) or left >= len(rows[top]):
            continue
        for index in range(top + 1, min(bottom, len(rows) - 1) + 1):
            if left < len(rows[index]):
                rows[index][left] = rows[top][left]


ERROR_COLUMN = "错误原因"


def text_of(value) -> str:
    """A cell as the user typed it: numbers Excel stored as floats lose their ``.0``, dates are
    ISO dates, an empty cell is ""."""
    if type(value) is str:  # most cells: the fast path of a 100,000-row ledger
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value).strip()


def annotate(data: bytes, filename: str, header_row: int, errors: list[RowError],
             as_xlsx: bool | None = None, sheet_index: int = 0) -> tuple[bytes, str]:
    """The user's own file with an added 错误原因 column on each rejected row, ready to fix and
    upload again: (content, file name). An xlsx keeps its layout (openpyxl); a CSV is written
    back as UTF-8 with BOM (Excel opens it correctly); an xls or ods becomes an xlsx.
    ``as_xlsx`` asks for an xlsx (or a CSV) whatever the file was."""
    want_xlsx = _is_spreadsheet(data, filename) if as_xlsx is None else as_xlsx
    by_row: dict[int, list[str]] = {}
    for error in errors:
        by_row.setdefault(error.row, []).append(f"{error.field}：{error.message}" if error.field else error.message)
    stem = filename.rsplit(".", 1)[0] if "." in filename else (filename or "ledger")
    if want_xlsx and data[:4] == b"PK\x03\x04" and not filename.lower().endswith(".ods"):
        import openpyxl

        workbook = openpyxl.load_workbook(io.BytesIO(data))
        sheet = workbook.worksheets[sheet_index]
        column = sheet.max_column + 1
        sheet.cell(row=header_row, column=column, value=ERROR_COLUMN)
        for row, messages in by_row.items():
            if row >= 1:
                sheet.cell(row=row, column=column, value="；".join(messages))
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue(), f"{stem}_错误原因.xlsx"
    table = read_table(data, filename, sheet_index)
    width = max((len(r) for r in table), default=0)
    rows = [list(r) + [""] * (width - len(r)) for r in table]
    if 1 <= header_row <= len(rows):
        rows[header_row - 1].append(ERROR_COLUMN)
    for row, messages in by_row.items():
        if 1 <= row <= len(rows):
            rows[row - 1].append("；".join(messages))
    if want_xlsx:
        from core.exports import xlsx_bytes

        title = re.sub(r"[\[\]:*?/\\]", "_", stem).strip("'") or "ledger"  # what Excel allows in a sheet name
        content, _count = xlsx_bytes(title, rows[0] if rows else [], [[text_of(v) for v in r] for r in rows[1:]])
        return content, f"{stem}_错误原因.xlsx"
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8-sig"), f"{stem}_错误原因.csv"
