"""Hostile tables built part by part (zipfile, xlwt), as an attacker would: a few KB that claim
or reach the far corner of a sheet, rows repeated a million times, parts that unzip to far more
than they weigh (issue 19 §4)."""

import io
import zipfile

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HEADER_CELLS = ("姓名", "身份证号码", "所属村(社区)")


def xlsx(cells: str = "", *, dimension: str | None = "A1:C1", shared_strings: str | None = None) -> bytes:
    """A workbook of one sheet: the header (姓名, 身份证号码, 所属村(社区)) on row 1, then the
    ``<row>`` elements ``cells``; ``dimension`` as the sheet claims it (None: no element)."""
    strings = shared_strings or "".join(f"<si><t>{text}</t></si>" for text in HEADER_CELLS)
    header = "".join(f'<c r="{col}1" t="s"><v>{n}</v></c>' for n, col in enumerate("ABC"))
    claim = f'<dimension ref="{dimension}"/>' if dimension else ""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
            'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'),
        "_rels/.rels": (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELS}"><Relationship Id="rId1" '
                        f'Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_DOC}"><sheets>'
                            '<sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELS}"><Relationship Id="rId1" '
            f'Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
            f'Type="{_DOC}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
        "xl/worksheets/sheet1.xml": (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}">{claim}'
                                     f'<sheetData><row r="1">{header}</row>{cells}</sheetData></worksheet>'),
        "xl/sharedStrings.xml": f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}">{strings}</sst>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def far_corner_xlsx() -> bytes:
    """The issue's file: <dimension ref="A1:XFD1048576"/> and one cell at XFD1048576."""
    return xlsx('<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>',
                dimension="A1:XFD1048576")


def far_row_xlsx() -> bytes:
    """One cell at A1048576, the dimension saying nothing of it."""
    return xlsx('<row r="1048576"><c r="A1048576"><v>1</v></c></row>')


def unreferenced_cells_xlsx(count: int) -> bytes:
    """A row of ``count`` cells without r="…": each is where the previous one ends."""
    return xlsx("<row>" + "<c><v>1</v></c>" * count + "</row>", dimension=None)


def shared_strings_bomb_xlsx(megabytes: int) -> bytes:
    """A shared-strings part of ``megabytes`` MB of one repeated string: a few KB zipped."""
    filler = "<si><t>" + "x" * 1000 + "</t></si>"
    strings = "".join(f"<si><t>{text}</t></si>" for text in HEADER_CELLS) + filler * (megabytes * 1024 * 1024 // len(filler))
    return xlsx(shared_strings=strings)


def repeated_rows_ods(rows: int, columns: int = 1) -> bytes:
    """An ods whose second row, with a value, is repeated ``rows`` times (``columns`` wide)."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
        '<office:spreadsheet><table:table table:name="台账"><table:table-row>'
        + "".join(f'<table:table-cell office:value-type="string"><text:p>{t}</text:p></table:table-cell>'
                  for t in HEADER_CELLS)
        + f'</table:table-row><table:table-row table:number-rows-repeated="{rows}"><table:table-cell '
        f'table:number-columns-repeated="{columns}" office:value-type="string"><text:p>x</text:p></table:table-cell>'
        '</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>')
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:'
        'xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/'
        'vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" '
        'manifest:media-type="text/xml"/></manifest:manifest>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def far_cell_xls(row: int = 65535, column: int = 255) -> bytes:
    """An Excel 97-2003 file: the header and one cell at (``row``, ``column``), 0-based: IV65536
    is the farthest an xls can reach."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("台账")
    for column_index, text in enumerate(HEADER_CELLS):
        sheet.write(0, column_index, text)
    sheet.write(row, column, "x")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
