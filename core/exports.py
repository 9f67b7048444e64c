"""Exports (xlsx, written with xlsxwriter). Every export is audited by the caller's service
or view with what was exported and how many rows; values arrive here already masked."""

import datetime
import io
from collections.abc import Iterable, Sequence

import xlsxwriter
from django.http import HttpResponse
from django.utils import timezone

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence],
               preamble: Sequence[str] = ()) -> tuple[bytes, int]:
    """One sheet: ``preamble`` lines (a title, 填报单位 and date, as offices file registers
    upward) above the header row, then the rows. Strings are never turned into formulas."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "remove_timezone": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False})
    sheet = book.add_worksheet(title[:31])
    bold = book.add_format({"bold": True, "bg_color": "#E9EEF5", "border": 1})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    heading = book.add_format({"bold": True, "font_size": 16, "align": "center"})
    for line, text in enumerate(preamble):
        if line == 0 and len(headers) > 1:
            sheet.merge_range(0, 0, 0, len(headers) - 1, text, heading)
        else:
            sheet.write(line, 0, text)
    top = len(preamble)
    sheet.write_row(top, 0, headers, bold)
    count = 0
    for count, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if hasattr(value, "tzinfo") and value is not None and hasattr(value, "hour"):
                sheet.write_datetime(top + count, column, timezone.localtime(value).replace(tzinfo=None), when)
            elif isinstance(value, datetime.date):
                sheet.write_datetime(top + count, column, value, day)
            else:
                sheet.write(top + count, column, "" if value is None else value)
    sheet.freeze_panes(top + 1, 0)
    sheet.autofit()
    book.close()
    return buffer.getvalue(), count


def xlsx_response(filename: str, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_TYPE)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(filename)}-{stamp}.xlsx"
    return response


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)
