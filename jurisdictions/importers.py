"""Reading a jurisdiction CSV (columns ``code,name,level,parent_code``).

The reader only turns bytes into rows with their line numbers; validation and the write are
``services.do_import_jurisdictions``, shared by the web form and ``jindu import jurisdictions``.
"""

import csv
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _

from core.importing import FileRejected, RowError, decode_text
from jurisdictions.choices import LEVEL_SYNONYMS, Level

# Header names other offices use for the same column.
HEADER_SYNONYMS = {
    "code": "code", "代码": "code", "区划代码": "code", "统计用区划代码": "code", "行政区划代码": "code",
    "name": "name", "名称": "name", "区划名称": "name", "单位名称": "name",
    "level": "level", "级别": "level", "层级": "level", "类型": "level",
    "parent_code": "parent_code", "上级代码": "parent_code", "上级区划代码": "parent_code", "parent": "parent_code",
}
REQUIRED_COLUMNS = ("code", "name", "level", "parent_code")


@dataclass
class JurisdictionRow:
    row: int  # line number as the user sees it in the file (the header is row 1)
    code: str
    name: str
    level: str
    parent_code: str


def decode(data: bytes) -> str:
    return decode_text(data)


def normalise_level(value: str) -> str:
    # A Chinese input method types full-width brackets: 乡镇（街道） is 乡镇(街道).
    value = value.strip().replace("（", "(").replace("）", ")")
    if value.lower() in Level.values:
        return value.lower()
    return LEVEL_SYNONYMS.get(value, value)


def read_csv(data: bytes) -> list[JurisdictionRow]:
    text = decode(data)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise FileRejected([RowError(1, "", _("The file is empty."))]) from None
    columns = {}
    for index, raw in enumerate(header):
        key = HEADER_SYNONYMS.get(raw.replace(" ", "").replace("\u3000", "").strip().lower())
        if key and key not in columns:
            columns[key] = index
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise FileRejected(
            [RowError(1, c, _("The header has no column %(column)s.") % {"column": c}) for c in missing]
        )
    rows = []
    for line_number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue

        def cell(key, values=values):
            index = columns[key]
            return values[index].strip() if index < len(values) else ""

        rows.append(
            JurisdictionRow(
                row=line_number,
                code=cell("code"),
                name=cell("name"),
                level=normalise_level(cell("level")),
                parent_code=cell("parent_code"),
            )
        )
    return rows
