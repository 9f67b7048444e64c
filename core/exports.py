"""Exports (xlsx, written with xlsxwriter). Every export is audited by the caller's service
or view with what was exported and how many rows; values arrive here already masked."""

import datetime
import io
import re
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


def xlsx_response(filename: str, content: bytes, fallback: str = "export") -> HttpResponse:
    """``filename`` (Chinese, as the user reads it) and the time, ``fallback`` the ASCII name
    for a client that reads no RFC 5987 ``filename*``."""
    response = HttpResponse(content, content_type=XLSX_TYPE)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = attachment(f"{filename}-{stamp}.xlsx", f"{fallback}-{stamp}.xlsx")
    return response


def attachment(filename: str, fallback: str = "") -> str:
    """A Content-Disposition header for a download named ``filename`` (RFC 6266): ``filename*``
    in UTF-8 (RFC 5987) for the Chinese name, and a plain ASCII ``filename`` before it for older
    clients: ``fallback``, or the name's ASCII characters with the extension."""
    from urllib.parse import quote

    if not fallback:
        stem, dot, extension = filename.rpartition(".")
        ascii_stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem if dot else filename).strip("_") or "download"
        fallback = f"{ascii_stem}.{extension}" if dot and extension.isascii() else ascii_stem
    fallback = re.sub(r'[^A-Za-z0-9._-]+', "_", fallback)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
