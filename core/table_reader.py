"""Reading an uploaded table (xlsx, xls, ods, CSV) in bounded memory, in a child process.

An uploaded file is untrusted: a 4.9 KB xlsx whose one far cell is XFD1048576 made
python-calamine allocate 512 GB (the process aborted), a cell at A1048576 cost 806 MB, an
857-byte ods of one repeated row 418 MB, a 5.6 KB xls with a cell at IV65536 1.3 GB. So:

* an xlsx's parts are unzipped as a stream and counted (a zip bomb stops at the cap), and the
  sheet's real used range is found from its cells — never from ``<dimension>`` — before
  calamine sees it;
* any format's range is checked before it becomes Python rows (rows, columns, cells);
* CSV rows are counted as they are read;
* and all of it runs in a child process whose address space is limited (``RLIMIT_AS``), so a
  file that still takes too much kills only the child. ``core.importing`` starts the child and
  turns its answer into the user's message.

This module imports no Django (the child may be a fresh interpreter running this file); its
refusals are codes with their figures, put into words by ``core.importing``.
"""

import csv
import gc
import importlib
import io
import os
import pickle
import re
import resource
import sys
import zipfile
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    rows: int = 200_000
    columns: int = 200
    cells: int = 5_000_000  # rows × columns of the used range: what the reader allocates
    unzipped_bytes: int = 500 * 1024 * 1024  # all parts of an xlsx or ods, unzipped
    memory_bytes: int = 1024 * 1024 * 1024  # the child's address space beyond what it starts with
    cpu_seconds: int = 300


class Refused(Exception):
    """``code`` (range, unzipped, encoding, damaged, empty) and its figures."""

    def __init__(self, code: str, **figures):
        super().__init__(code, figures)
        self.code, self.figures = code, figures


def column_letters(number: int) -> str:
    """1 → A, 16384 → XFD."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_number(letters: bytes) -> int:
    number = 0
    for byte in letters:
        number = number * 26 + byte - 64
    return number


def is_spreadsheet(data: bytes, filename: str) -> bool:
    # Zip (xlsx, ods) or OLE2 (xls): trust the content over a renamed file.
    if data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return True
    name = filename.lower()
    return name.endswith((".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")) and not name.endswith((".csv", ".txt"))


# --- xlsx: the used range from the cells, streamed ------------------------------------------

# Where a cell is: r="B7" (on <c>, or <x:c> as some generators write it; no other element of a
# worksheet has an r attribute with a column). The quick scan counts every cell; only a sheet it
# would refuse is scanned again for the cells with content, as calamine reads them: an empty
# formatted cell (<c r="XFD9" s="1"/>, templates formatted down to row 65536) does not count.
_CELL_REF = re.compile(rb' r="([A-Z]{1,3})([0-9]{1,7})"')
_CONTENT_CELL_REF = re.compile(rb' r="([A-Z]{1,3})([0-9]{1,7})"[^>]*(?<!/)>')
_ANY_CELL_REF = re.compile(rb' r="[A-Z]')
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?(row|c)(?=[\s/>])([^>]*)>")
_R = re.compile(rb'\br="([A-Z]{0,3})([0-9]*)"')
CHUNK = 4 * 1024 * 1024


def _stream(archive: zipfile.ZipFile, name: str, budget: list[int]):
    """The part unzipped chunk by chunk, each cut after its last complete tag; ``budget`` holds
    the bytes still allowed for the whole file."""
    carry = b""
    with archive.open(name) as part:
        while chunk := part.read(CHUNK):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise Refused("unzipped")
            chunk = carry + chunk
            cut = chunk.rfind(b"<")
            carry, chunk = chunk[cut:], chunk[:cut]
            yield chunk
    if carry:
        yield carry


def _sheet_part(archive: zipfile.ZipFile, index: int) -> str | None:
    """The worksheet part of the ``index``-th sheet, from workbook.xml and its relationships."""
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        return None
    if any(archive.getinfo(n).file_size > 10 * 1024 * 1024 for n in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")):
        raise Refused("unzipped")
    workbook = archive.read("xl/workbook.xml")
    rels = archive.read("xl/_rels/workbook.xml.rels")
    ids = re.findall(rb"<(?:\w+:)?sheet\s[^>]*?\br:id=\"([^\"]+)\"", workbook)
    if index >= len(ids):
        return None
    for tag in re.findall(rb"<(?:\w+:)?Relationship\s[^>]*>", rels):
        if re.search(rb'\bId="' + re.escape(ids[index]) + rb'"', tag):
            target = re.search(rb'\bTarget="([^"]+)"', tag)
            if target:
                path = target[1].decode()
                return path.lstrip("/") if path.startswith("/") else f"xl/{path}"
    return None


def _cell_tags(chunk: bytes) -> int:
    return sum(chunk.count(tag) for tag in (b"<c ", b"<c>", b"<c/", b":c ", b":c>", b":c/"))


def _used_range(chunks, content_only: bool = False) -> tuple[int, int]:
    """(last row, last column) of a worksheet part's cells (with content only, or all)."""
    last_row = last_column = 0
    exact = False
    row = column = 0
    for chunk in chunks:
        if not exact:
            refs = (_CONTENT_CELL_REF if content_only else _CELL_REF).findall(chunk)
            placed = len(_ANY_CELL_REF.findall(chunk)) if content_only else len(refs)
            if placed >= _cell_tags(chunk):  # every cell says where it is: the quick way
                if refs:
                    last_row = max(last_row, max(map(int, (r for _c, r in refs))))
                    last_column = max(last_column, max(_column_number(c) for c in {c for c, _r in refs}))
                continue
        exact = True  # a cell without r="…" is where the previous one ends: follow every tag
        for tag, rest in _TAG.findall(chunk):
            ref = _R.search(rest)
            if tag == b"row":
                row = int(ref[2]) if ref and ref[2] else row + 1
                column = 0
                continue
            if ref and ref[1]:
                column = _column_number(ref[1])
                row = int(ref[2]) if ref[2] else row
            else:
                column += 1
            if not (content_only and rest.endswith(b"/")):
                last_row, last_column = max(last_row, row), max(last_column, column)
    return last_row, last_column


def check_xlsx(data: bytes, sheet_index: int, limits: Limits) -> None:
    """Refuse an xlsx whose parts unzip beyond the limit or whose sheet's cells reach too far."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return  # calamine says what is wrong with it
    with archive:
        names = archive.namelist()
        if len(names) > 10_000:
            raise Refused("unzipped")
        budget = [limits.unzipped_bytes]
        part = _sheet_part(archive, sheet_index)
        parts = [part] if part in names else [n for n in names if n.startswith("xl/worksheets/")]
        for name in names:  # everything calamine may unzip (xml, and an xlsb's bin parts), counted as it comes
            if name not in parts and not name.endswith("/"):
                for _chunk in _stream(archive, name, budget):
                    pass
        for name in parts:
            try:
                check_range(*_used_range(_stream(archive, name, budget)), limits)
            except Refused as refused:
                if refused.code != "range":
                    raise
                budget = [limits.unzipped_bytes]  # the same part again: counted once already
                check_range(*_used_range(_stream(archive, name, budget), content_only=True), limits)


def check_range(rows: int, columns: int, limits: Limits) -> None:
    if rows > limits.rows or columns > limits.columns or rows * columns > limits.cells:
        raise Refused("range", ref=f"{column_letters(max(columns, 1))}{max(rows, 1)}", rows=rows, columns=columns)


# --- reading ----------------------------------------------------------------------------------


def _fill_merged_down(rows: list[list], merged) -> None:
    """Ledgers merge the village (or township) cell over the persons of one village: each of
    those rows is that village's. Titles merged across a line are left in their first cell."""
    for (top, left), (bottom, _right) in merged:
        if bottom <= top or top >= len(rows) or left >= len(rows[top]):
            continue
        for index in range(top + 1, min(bottom, len(rows) - 1) + 1):
            if left < len(rows[index]):
                rows[index][left] = rows[top][left]


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK) as saved by Excel on
    Chinese Windows."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Refused("encoding")


def _read_csv(data: bytes, limits: Limits) -> list[list]:
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    rows, width = [], 0
    for row in csv.reader(io.StringIO(text), dialect):
        rows.append(row)
        width = max(width, len(row))
        if len(rows) > limits.rows or width > limits.columns:
            check_range(len(rows), width, limits)
    check_range(len(rows), width, limits)
    return rows


def read(data: bytes, filename: str, sheet_index: int, limits: Limits) -> tuple[int, list[list]]:
    """(the number of sheets, the rows of sheet ``sheet_index``) or ``Refused``."""
    if not data:
        raise Refused("empty")
    if not is_spreadsheet(data, filename):
        return 1, _read_csv(data, limits)
    from python_calamine import CalamineWorkbook

    if data[:4] == b"PK\x03\x04":
        check_xlsx(data, sheet_index, limits)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        count = len(workbook.sheet_names) or 1
        sheet = workbook.get_sheet_by_index(sheet_index)
    except Exception as error:  # calamine raises its own types for damaged files
        raise Refused("damaged", error=str(error)[:200]) from None
    # xls and ods are read whole when opened (memory bounded by the child's limit); every
    # format's range is checked before it becomes rows.
    check_range(sheet.total_height, sheet.total_width, limits)
    try:
        rows = sheet.to_python(skip_empty_area=False)  # a new list for each row: ours to change
    except Exception as error:
        raise Refused("damaged", error=str(error)[:200]) from None
    try:
        merged = sheet.merged_cell_ranges or []
    except Exception:  # not every format reports its merged cells
        merged = []
    _fill_merged_down(rows, merged)
    return count, rows


# --- the child --------------------------------------------------------------------------------


def limit_self(limits: Limits) -> None:
    """Cap this process: its address space at what it holds now plus ``memory_bytes``, its CPU time."""
    try:
        with open("/proc/self/statm") as statm:
            held = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        held = 0
    for kind, wanted in ((resource.RLIMIT_AS, held + limits.memory_bytes), (resource.RLIMIT_CPU, limits.cpu_seconds)):
        _soft, hard = resource.getrlimit(kind)  # a hard limit set for the service stays, and is never raised
        resource.setrlimit(kind, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))


def annotate_xlsx(data: bytes, sheet_index: int, header_row: int, by_row: dict[int, str], column_title: str,
                  limits: Limits) -> bytes:
    """The user's own xlsx, its layout kept (openpyxl), with ``column_title`` on the header row
    and each rejected row's reasons in a column after the last: 56 s and 708 MB for 100,000 rows,
    hence in the child too."""
    import openpyxl

    check_xlsx(data, sheet_index, limits)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[sheet_index]
    column = sheet.max_column + 1
    sheet.cell(row=header_row, column=column, value=column_title)
    for row, reasons in by_row.items():
        if row >= 1:
            sheet.cell(row=row, column=column, value=reasons)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def read_head(data: bytes, filename: str, sheet_index: int, rows: int, limits: Limits) -> tuple[int, list[list], int]:
    """(the number of sheets, the first ``rows`` rows of the sheet, how many rows it has): what
    a page needs (the header, a preview), without the whole sheet crossing to the web process."""
    count, table = read(data, filename, sheet_index, limits)
    return count, table[:rows], len(table)


TASKS = {"read": read, "read_head": read_head, "annotate_xlsx": annotate_xlsx}
# Loaded before the child caps itself: the limit is for the file, not for our libraries.
LIBRARIES = {"read": ("python_calamine",), "read_head": ("python_calamine",),
             "annotate_xlsx": ("python_calamine", "openpyxl")}


def answer(request: tuple, out) -> None:
    """The child's answer to ``(task, arguments)`` (the last argument its ``Limits`` as a dict:
    the request holds builtins only, so a fresh interpreter needs no module of ours), pickled
    into ``out`` as it is made (the parent unpickles meanwhile): ("ok", what the task returned),
    ("refused", code, figures) or ("failed", traceback). The child caps itself first."""
    gc.disable()  # the child ends when it has answered: no cycles worth collecting meanwhile
    task, arguments = request
    try:
        limits = Limits(**arguments[-1])
        for library in LIBRARIES[task]:
            importlib.import_module(library)
        limit_self(limits)
        result = ("ok", TASKS[task](*arguments[:-1], limits))
    except Refused as refused:
        result = ("refused", refused.code, refused.figures)
    except MemoryError:
        result = ("refused", "memory", {})
    except Exception:  # a fault of ours, not of the file: told to the parent as it is
        import traceback

        result = ("failed", traceback.format_exc()[-4000:])
    pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()


def main() -> None:
    """A fresh interpreter's child: the request pickled on stdin, the answer on stdout."""
    request = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 (our own parent's request)
    answer(request, sys.stdout.buffer)


if __name__ == "__main__":
    main()
