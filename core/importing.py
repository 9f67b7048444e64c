"""Ledger imports, shared by every app: the registry behind `jindu import KIND FILE`, the
row-error type every import reports with, and the reader that turns an uploaded file
(xlsx, xls, ods, CSV in UTF-8 or GBK) into rows of cell values with their sheet row numbers."""

import csv
import dataclasses
import datetime
import faulthandler
import io
import logging
import math
import os
import pickle
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from core import bulk, table_reader


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
    try:
        return table_reader.decode_text(data)
    except table_reader.Refused as refused:
        raise _rejected(refused.code, refused.figures, table_reader.Limits()) from None


SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
TABLE_SUFFIXES = (*SPREADSHEET_SUFFIXES, ".csv", ".txt")
_is_spreadsheet = table_reader.is_spreadsheet


def reader_limits() -> table_reader.Limits:
    """What reading one uploaded file may take (settings JINDU_IMPORT_*, docs/operations.md)."""
    from django.conf import settings

    mb = 1024 * 1024
    return table_reader.Limits(
        rows=settings.JINDU_IMPORT_MAX_ROWS, columns=settings.JINDU_IMPORT_MAX_COLUMNS,
        cells=settings.JINDU_IMPORT_MAX_CELLS, unzipped_bytes=settings.JINDU_IMPORT_MAX_UNZIPPED_MB * mb,
        memory_bytes=settings.JINDU_IMPORT_MEMORY_MB * mb, cpu_seconds=settings.JINDU_IMPORT_READ_SECONDS)


def _rejected(code: str, figures: dict, limits: table_reader.Limits) -> FileRejected:
    mb = 1024 * 1024
    if code == "empty":
        return FileRejected([RowError(1, "", _("The file is empty."))])
    if code == "encoding":
        message = _("The file is neither UTF-8 nor GBK/GB18030 text.")
    elif code == "damaged":
        message = _("The spreadsheet cannot be read (%(error)s).") % {"error": figures.get("error", "")}
    elif code == "range":
        message = _("The table's range is too large (%(ref)s): more than can be imported (%(rows)s rows, "
                    "%(columns)s columns, %(cells)s cells in all). Delete the extra rows and columns and upload "
                    "it again.") % {"ref": figures["ref"], "rows": f"{limits.rows:,}", "columns": limits.columns,
                                    "cells": f"{limits.cells:,}"}
    elif code == "unzipped":
        message = _("The file unzips to more than %(mb)s MB, more than can be imported: split it and upload the "
                    "parts.") % {"mb": limits.unzipped_bytes // mb}
    elif code == "time":
        message = _("Reading the file took longer than %(seconds)s seconds and was stopped: delete unused rows, "
                    "columns and sheets, or split the file.") % {"seconds": limits.cpu_seconds}
    else:  # "memory": the reading child ran out of its memory, or ended otherwise
        message = _("Reading the file needed more than %(mb)s MB of memory and was stopped: delete unused rows, "
                    "columns and sheets, or split the file.") % {"mb": limits.memory_bytes // mb}
    return FileRejected([RowError(0, "", message)])


def _in_child(request: tuple, limits: table_reader.Limits):
    """The child's answer (None if it gave none) and its exit code (negative: the signal that
    ended it). Forked where this process has one thread (the task worker, the command line),
    else a fresh interpreter (a web process's threads may hold locks a forked child would
    inherit locked)."""
    if bulk._can_fork() and not READ_IN_FRESH_INTERPRETER:
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never back into this program, whatever happens
            try:
                os.close(reader)
                faulthandler.disable()  # an abort at the limit is expected: no traceback dumped
                with os.fdopen(writer, "wb") as out:
                    table_reader.answer(request, out)
            finally:
                os._exit(0)
        os.close(writer)
        try:
            with os.fdopen(reader, "rb") as pipe:
                answer = _unpickle(pipe)
        finally:
            _pid, status = os.waitpid(pid, 0)
        return answer, os.waitstatus_to_exitcode(status)
    with tempfile.TemporaryFile() as errors, subprocess.Popen(  # noqa: S603 (our own script)
            [sys.executable, "-I", table_reader.__file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=errors) as child:
        try:
            with child.stdin:
                pickle.dump(request, child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        except BrokenPipeError:
            pass  # it ended already: said below
        answer = _unpickle(child.stdout)
        try:
            child.wait(timeout=limits.cpu_seconds * 2)
        except subprocess.TimeoutExpired:
            child.kill()
            raise
        if child.returncode:
            errors.seek(0)
            logging.getLogger(__name__).warning("table reader ended with %s: %s", child.returncode,
                                                errors.read()[-2000:].decode(errors="replace"))
    return answer, child.returncode


def _unpickle(pipe):
    try:
        return pickle.load(pipe)  # noqa: S301 (our own child's answer)
    except Exception:  # noqa: BLE001 (cut short: EOFError, UnpicklingError or whatever a torn pickle gives)
        return None  # the child ended before it answered


# Tests set it to read through a fresh interpreter as a web process with threads does.
READ_IN_FRESH_INTERPRETER = False


def in_child(task: str, *arguments):
    """``core.table_reader.TASKS[task](*arguments, limits)`` in a child process within
    ``reader_limits()``: no file can take the memory of the process that asked. A refusal or a
    child ended at its limit is a ``FileRejected`` in the user's words."""
    limits = reader_limits()
    try:
        with bulk.gc_paused():  # the answer is many small objects
            answer, code = _in_child((task, (*arguments, dataclasses.asdict(limits))), limits)
    except subprocess.TimeoutExpired:
        raise _rejected("time", {}, limits) from None
    if answer is None:  # killed: by its memory limit (an abort, a segfault) or its CPU time
        raise _rejected("time" if code == -signal.SIGXCPU else "memory", {}, limits)
    if answer[0] == "refused":
        raise _rejected(answer[1], answer[2], limits)
    if answer[0] == "failed":
        raise RuntimeError(f"the table reader failed:\n{answer[1]}")
    return answer[1]


def read_sheet(data: bytes, filename: str = "", sheet_index: int = 0) -> tuple[int, list[list]]:
    """(the number of sheets, sheet ``sheet_index`` as ``read_table`` gives it), read in a
    child process (``in_child``)."""
    if not data:
        raise _rejected("empty", {}, reader_limits())
    return in_child("read", data, filename, sheet_index)


def read_head(data: bytes, filename: str = "", sheet_index: int = 0, rows: int = 100) -> tuple[int, list[list], int]:
    """(the number of sheets, the sheet's first ``rows`` rows, how many rows it has), read in a
    child process (``in_child``): for pages, which show a header and a preview."""
    if not data:
        raise _rejected("empty", {}, reader_limits())
    return in_child("read_head", data, filename, sheet_index, rows)


def read_table(data: bytes, filename: str = "", sheet_index: int = 0) -> list[list]:
    """A sheet (the first by default; or the CSV) as a list of rows; row ``i`` of the list is sheet row
    ``i + 1``. Spreadsheet cells keep their types (numbers, dates); a cell merged over several
    rows gives its value to each of them, one merged across columns only keeps it in the first;
    CSV cells are strings. A file beyond ``reader_limits()`` is rejected whole."""
    return read_sheet(data, filename, sheet_index)[1]


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
        reasons = {row: "；".join(messages) for row, messages in by_row.items()}
        content = in_child("annotate_xlsx", data, sheet_index, header_row, reasons, ERROR_COLUMN)
        return content, f"{stem}_错误原因.xlsx"
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
