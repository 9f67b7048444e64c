"""Reading jurisdiction CSV files: encodings, header synonyms, level names, row numbers."""

import pytest

from jurisdictions.importers import FileRejected, read_csv

SAMPLE_CHINESE = """代码,名称,级别,上级代码
990000,演示省,省,
990100,演示市,市,990000
990101,示范县,县,990100
990101001,城关镇,乡镇,990101
990101001001,东门社区,村,990101001
990101001001001,东门社区第1网格,网格,990101001001
"""


def test_reads_the_sample(sample_csv):
    rows = read_csv(sample_csv)
    assert len(rows) == 13
    assert [r.row for r in rows] == list(range(2, 15))  # the header is row 1
    first, last = rows[0], rows[-1]
    assert (first.code, first.name, first.level, first.parent_code) == ("990000", "演示省", "province", "")
    assert (last.code, last.name, last.level, last.parent_code) == ("990101002003", "茶园村", "village", "990101002")


def test_utf8_with_bom(sample_csv):
    rows = read_csv(b"\xef\xbb\xbf" + sample_csv)
    assert len(rows) == 13
    assert rows[0].code == "990000"


def test_gb18030_bytes():
    data = SAMPLE_CHINESE.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the test really exercises the fallback
    rows = read_csv(data)
    assert [r.name for r in rows][:4] == ["演示省", "演示市", "示范县", "城关镇"]


def test_chinese_headers_and_level_names():
    rows = read_csv(SAMPLE_CHINESE.encode())
    assert [r.level for r in rows] == ["province", "city", "county", "township", "village", "grid"]
    assert [r.parent_code for r in rows][:3] == ["", "990000", "990100"]


@pytest.mark.parametrize(
    ("written", "level"),
    [
        ("省", "province"), ("自治区", "province"), ("直辖市", "province"), ("Province", "province"),
        ("市", "city"), ("州", "city"), ("地级市", "city"),
        ("县", "county"), ("区", "county"), ("县级市", "county"), ("县(区)", "county"), ("县（区）", "county"),
        ("乡镇", "township"), ("乡", "township"), ("镇", "township"), ("街道", "township"),
        ("乡镇（街道）", "township"),
        ("村", "village"), ("社区", "village"), ("村（社区）", "village"),
        ("网格", "grid"), (" GRID ", "grid"),
    ],
)
def test_level_names(written, level):
    rows = read_csv(f"code,name,level,parent_code\n990000,演示省,{written},\n".encode())
    assert rows[0].level == level


def test_unknown_level_is_kept_for_the_validator_to_report():
    rows = read_csv("code,name,level,parent_code\n990000,演示省,大区,\n".encode())
    assert rows[0].level == "大区"


def test_header_synonyms_order_spacing_and_extra_columns():
    data = "备注, 上级 区划代码 ,区划名称,统计用区划代码,层级\n说明,990000,演示市,990100,市\n".encode()
    (row,) = read_csv(data)
    assert (row.code, row.name, row.level, row.parent_code) == ("990100", "演示市", "city", "990000")


def test_blank_lines_are_skipped_and_rows_keep_their_numbers():
    data = b"code,name,level,parent_code\n\n990000,P,province,\n , , , \n,,,\n990100,C,city,990000\n\n"
    rows = read_csv(data)
    assert [(r.row, r.code) for r in rows] == [(3, "990000"), (6, "990100")]


def test_cells_are_trimmed_and_short_rows_padded():
    (row,) = read_csv(b"code,name,level,parent_code\n 990000 , P ,province\n")
    assert (row.code, row.name, row.level, row.parent_code) == ("990000", "P", "province", "")


def test_missing_columns_are_reported_on_row_1():
    with pytest.raises(FileRejected) as raised:
        read_csv(b"code,name\n990000,P\n")
    assert {(e.row, e.field) for e in raised.value.errors} == {(1, "level"), (1, "parent_code")}


def test_empty_file():
    with pytest.raises(FileRejected) as raised:
        read_csv(b"")
    assert [e.row for e in raised.value.errors] == [1]


def test_undecodable_bytes():
    with pytest.raises(FileRejected) as raised:
        read_csv(b"code,name,level,parent_code\n990000,\xff\xff,province,\n")
    assert len(raised.value.errors) == 1
    assert raised.value.errors[0].message


def test_an_excel_workbook_is_rejected():
    """A frequent mistake: uploading the .xlsx instead of a CSV saved from it."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as workbook:
        workbook.writestr("xl/workbook.xml", "<workbook/>" * 50)
    with pytest.raises(FileRejected):
        read_csv(buffer.getvalue())
