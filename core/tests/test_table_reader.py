"""Issue 19 §4: no uploaded table can take the memory of the process that reads it.

Files built as an attacker builds them (core.tests.hostile_files) are refused in Chinese,
quickly and in little memory, by the forked reader (the task worker, the command line) and by
the fresh interpreter a web process with threads uses; a file that still needs too much only
ends the reading child."""

import resource
import time

import pytest
from django.test import override_settings
from django.utils import translation

from core import importing, table_reader
from core.importing import FileRejected, read_sheet, read_table
from core.tests import hostile_files


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture(params=["forked", "fresh interpreter"])
def reader(request, monkeypatch):
    """Both ways a table is read in a child."""
    monkeypatch.setattr(importing, "READ_IN_FRESH_INTERPRETER", request.param == "fresh interpreter")
    return request.param


def refusal(data: bytes, filename: str) -> str:
    started = time.monotonic()
    with pytest.raises(FileRejected) as rejected:
        read_table(data, filename)
    assert time.monotonic() - started < 20
    (error,) = rejected.value.errors
    return error.message


def own_peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def test_the_issues_far_corner_xlsx_is_refused_naming_the_cell(reader):
    """4.9 KB claiming A1:XFD1048576 with a cell there: calamine asked for 512 GB and aborted."""
    before = own_peak_mb()
    message = refusal(hostile_files.far_corner_xlsx(), "台账.xlsx")
    assert message == ("表格范围过大（XFD1048576），超过可导入的上限（200,000 行、200 列、共 5,000,000 个单元格），"
                       "请删除多余的行列后重新上传。")
    assert own_peak_mb() - before < 50  # nothing of it was read here


def test_a_cell_at_the_last_row_is_refused(reader):
    """806 MB and 10 s before; refused from the cells, the dimension saying A1:C1."""
    assert "（C1048576）" in refusal(hostile_files.far_row_xlsx(), "台账.xlsx")


def test_cells_without_a_reference_are_placed_one_after_the_other():
    assert "（KO2）" in refusal(hostile_files.unreferenced_cells_xlsx(301), "台账.xlsx")
    assert len(read_table(hostile_files.unreferenced_cells_xlsx(150), "台账.xlsx")[1]) == 150


def test_a_dimension_that_claims_the_whole_sheet_is_not_trusted(reader):
    """Only the cells count: a claimed A1:XFD1048576 over three cells reads as three cells."""
    assert read_table(hostile_files.xlsx(dimension="A1:XFD1048576"), "台账.xlsx") == [list(hostile_files.HEADER_CELLS)]


@override_settings(JINDU_IMPORT_MAX_UNZIPPED_MB=20)
def test_a_shared_strings_part_that_unzips_beyond_the_limit_is_refused(reader):
    data = hostile_files.shared_strings_bomb_xlsx(40)
    assert len(data) < 200 * 1024
    assert refusal(data, "台账.xlsx") == "文件解压后超过 20 MB，超过可导入的上限，请拆分后重新上传。"


def test_an_ods_row_repeated_a_million_times_is_refused(reader):
    """857 bytes that calamine expands to 1,048,575 rows (418 MB): read in the child, refused by range."""
    data = hostile_files.repeated_rows_ods(1_048_575)
    assert len(data) < 2000
    assert refusal(data, "台账.ods").startswith("表格范围过大（")


def test_an_xls_reaching_its_last_cell_ends_only_the_child(reader):
    """5.6 KB with a cell at IV65536: calamine reads an xls whole when it opens it (1.3 GB); the
    child's limit stops it and the user is told, in Chinese."""
    before = own_peak_mb()
    message = refusal(hostile_files.far_cell_xls(), "台账.xls")
    assert message.startswith("读取该文件所需内存超过上限（1024 MB）") or message.startswith("表格范围过大（IV65536）")
    assert own_peak_mb() - before < 50


def test_an_xls_within_the_limits_is_read(reader):
    rows = read_table(hostile_files.far_cell_xls(row=30, column=5), "台账.xls")
    assert len(rows) == 31 and rows[30][5] == "x" and rows[0][:3] == list(hostile_files.HEADER_CELLS)


@override_settings(JINDU_IMPORT_MEMORY_MB=40)
def test_a_file_that_needs_more_memory_than_allowed_is_refused_not_a_crash(reader):
    # Ten times what 40 MB holds: a forked child starts with its parent's free heap, which it may fill first.
    data = hostile_files.repeated_rows_ods(150_000, columns=30)
    assert refusal(data, "台账.ods") == ("读取该文件所需内存超过上限（40 MB），已停止读取。"
                                         "请删除多余的行、列和工作表，或拆分文件后重新上传。")


@override_settings(JINDU_IMPORT_MAX_ROWS=10, JINDU_IMPORT_MAX_COLUMNS=5)
def test_csv_rows_and_columns_are_counted_as_they_are_read(reader):
    assert "（A11）" in refusal(("a\n" * 50).encode(), "台账.csv")
    assert "（F1）" in refusal(b"a,b,c,d,e,f\n", "台账.csv")
    assert read_table(b"a,b\n1,2\n", "台账.csv") == [["a", "b"], ["1", "2"]]


def test_both_children_read_a_ledger_alike(monkeypatch):
    from persons.tests.ledger_files import SAMPLE_LEDGER

    data = SAMPLE_LEDGER.read_bytes()
    forked = read_sheet(data, "台账.xlsx")
    monkeypatch.setattr(importing, "READ_IN_FRESH_INTERPRETER", True)
    assert read_sheet(data, "台账.xlsx") == forked
    assert forked[1] == table_reader.read(data, "台账.xlsx", 0, importing.reader_limits())[1]


@pytest.mark.parametrize(("number", "letters"), [(1, "A"), (26, "Z"), (27, "AA"), (200, "GR"), (16384, "XFD")])
def test_column_letters(number, letters):
    assert table_reader.column_letters(number) == letters
    assert table_reader._column_number(letters.encode()) == number


def test_a_hard_memory_limit_of_the_service_is_kept_not_raised(tmp_path):
    """Under a service's own hard limit (systemd LimitAS=, ulimit -v) the child keeps it: asking
    for more failed, and every file was then refused as too large for memory."""
    import os
    import subprocess
    import sys

    script = (
        "import os, resource\n"
        "resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))\n"
        "import django\n"
        "django.setup()\n"
        "from core.importing import read_table\n"
        "print(read_table(b'a,b\\n1,2\\n', 'x.csv'))\n")
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "jindu.settings", "JINDU_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120,
                          check=False)
    assert done.stdout.strip() == "[['a', 'b'], ['1', '2']]", done.stderr[-2000:]


def test_a_process_with_threads_reads_through_a_fresh_interpreter(monkeypatch):
    """A web process serves requests on threads: it never forks to read (a thread holding a
    lock at the fork would leave it locked in the child), and is as safe as the worker."""
    import os
    import threading

    def no_fork():
        raise AssertionError("forked from a process with threads")

    monkeypatch.setattr(os, "fork", no_fork)
    found = {}
    idle = threading.Event()
    other = threading.Thread(target=idle.wait)  # another request's thread
    other.start()
    try:
        def request():
            with translation.override("zh-hans"):
                try:
                    read_table(hostile_files.far_corner_xlsx(), "台账.xlsx")
                except FileRejected as rejected:
                    found["message"] = rejected.errors[0].message
                found["ledger"] = read_table(hostile_files.xlsx(), "台账.xlsx")

        serving = threading.Thread(target=request)
        serving.start()
        serving.join(60)
    finally:
        idle.set()
        other.join()
    assert found["message"].startswith("表格范围过大（XFD1048576）")
    assert found["ledger"] == [list(hostile_files.HEADER_CELLS)]


def test_empty_formatted_cells_far_away_do_not_count():
    """A template formatted down to its last row and column keeps empty cells there
    (<c r="XFD1048576" s="1"/>): calamine skips them, and so does the range."""
    far_empty = '<row r="1048576"><c r="XFD1048576" s="1"/></row>'
    assert read_table(hostile_files.xlsx(far_empty), "台账.xlsx") == [list(hostile_files.HEADER_CELLS)]
    unreferenced = "<row>" + "<c/>" * 400 + "<c><v>1</v></c></row>"
    assert "（OK2）" in refusal(hostile_files.xlsx(unreferenced, dimension=None), "台账.xlsx")
    assert len(read_table(hostile_files.xlsx("<row>" + "<c/>" * 400 + "</row>", dimension=None), "台账.xlsx")) == 1
