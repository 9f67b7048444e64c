"""`jindu import persons FILE ...`: the sample ledger gives what its .expected.json says, the JSON
shape, exit codes, --dry-run, --report (xlsx and CSV), --as and its scope."""

import csv
import io
import json

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext

from accounts.tests.factories import UserFactory
from core.importing import ERROR_COLUMN
from core.models import AuditEntry
from core.roles import Role
from persons.models import Person, StatusChange
from persons.tests.ledger_files import (
    CHENGGUAN,
    HEADER,
    QINGSHAN,
    SAMPLE_EXPECTED,
    SAMPLE_LEDGER,
    csv_bytes,
    row,
    titled,
    xlsx,
)
from persons.tests.people import id_number
from persons.tests.people import person as make_person

EXPECTED = json.loads(SAMPLE_EXPECTED.read_text(encoding="utf-8"))


def run(*args) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `jindu import persons ARGS`."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import", "persons", *[str(a) for a in args], stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def run_json(*args) -> tuple[int, dict]:
    code, out, _err = run(*args, "--json")
    return code, json.loads(out)


def counts() -> tuple[int, int, int]:
    """Persons, status changes and the audit entries written after the jurisdiction tree."""
    return Person.objects.count(), StatusChange.objects.count(), new_entries().count()


_MARK = {"seq": 0}


@pytest.fixture(autouse=True)
def _audit_mark(sample_tree):
    """Every test here starts from the sample jurisdiction tree; its audit entries are not counted."""
    _MARK["seq"] = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def new_entries():
    return AuditEntry.objects.filter(seq__gt=_MARK["seq"])


def sample_reason(why: str, message: str, row_number: int) -> bool:
    """Whether ``message`` is the reason the .expected.json calls ``why`` (in the active language)."""
    if why == "checksum":
        return message == gettext("The check digit is wrong: the number was mistyped.")
    if why == "missing":
        return message == gettext("The full name is missing.")
    if why == "unknown jurisdiction":
        return message == gettext("There is no village “%(name)s” in %(area)s.") % {"name": "不存在村", "area": "城关镇"}
    if why == "unparseable date":
        return message == gettext("“%(value)s” is not a date: write it as 2019-03-05 or 2019年3月5日.") % {
            "value": "去年春天"}
    if why == "duplicate within file":
        return message == gettext("The same ID number is on row %(row)s of this file.") % {"row": 7}
    raise AssertionError(f"no mapping for {why!r} (row {row_number})")


@pytest.fixture
def sample(sample_tree, tmp_path):
    path = tmp_path / SAMPLE_LEDGER.name
    path.write_bytes(SAMPLE_LEDGER.read_bytes())
    return path


def write(tmp_path, name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


# --- the sample ---------------------------------------------------------------------------


def test_sample_with_skip_invalid_gives_the_expected_result(sample):
    with translation.override("zh-hans"):
        code, result = run_json(sample, "--jurisdiction", CHENGGUAN, "--skip-invalid")
        assert code == 0
        assert result["rows_read"] == EXPECTED["rows_read"]
        assert result["imported"] == EXPECTED["imported"]
        assert result["updated"] == 0 and result["unchanged"] == 0
        assert [(e["row"], e["field"]) for e in result["rejected"]] == [
            (e["row"], e["field"]) for e in EXPECTED["rejected"]]
        for got, expected in zip(result["rejected"], EXPECTED["rejected"], strict=True):
            assert sample_reason(expected["why"], got["message"], got["row"]), (expected, got)
        assert [(e["row"], e["field"]) for e in result["warnings"]] == [
            (e["row"], e["field"]) for e in EXPECTED["warnings"]]
        sex_warning = next(w for w in result["warnings"] if w["field"] == "性别")
        assert sex_warning["message"].startswith(
            gettext("The sex “%(typed)s” differs from the ID number's (%(real)s); the ID number's was kept.")
            % {"typed": "女", "real": gettext("Male")})
        assert result["skipped_rows"] == EXPECTED["skipped_rows"]
        assert set(result) >= {"rows_read", "imported", "updated", "unchanged", "rejected", "warnings"}
    assert Person.objects.count() == EXPECTED["imported"]
    assert StatusChange.objects.count() == EXPECTED["imported"]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, object_type__icontains="person").count() == 39
    assert new_entries().get(action=AuditEntry.Action.IMPORT).actor is None  # the command-line operator
    # Row 42: the ID number says male; the ledger's 女 is not kept.
    assert Person.objects.get(name="龙刚辉").sex == "M"


def test_sample_rows_are_stored_as_the_ledger_says(sample):
    run_json(sample, "--jurisdiction", CHENGGUAN, "--skip-invalid")
    from persons.importers import parse_id_number

    dong = Person.objects.get(name="董军刚")  # ID number typed with spaces
    assert dong.id_number == "522224197805050177"
    li = Person.objects.get(name="李彬")  # full-width digits
    assert li.id_number == parse_id_number("510104197207161331") == "510104197207161331"
    yin = Person.objects.get(name="尹敏")  # lower-case x
    assert yin.id_number == "52220119760506609X"
    assert yin.jurisdiction.name == "西门社区"
    kong = Person.objects.get(name="孔龙艳")
    assert sorted(kong.substances.values_list("substance", flat=True)) == ["heroin", "methamphetamine"]
    assert Person.objects.get(name="许芬勇").first_found_on.isoformat() == "2017-06-15"  # 20170615
    assert Person.objects.get(name="赵浩").first_found_on.isoformat() == "2020-08-01"  # 2020-08-01 00:00:00
    assert not Person.objects.filter(name__in=["宋燕俊", "熊鹏", "程鹏静", "黎玉"]).exists()


def test_second_import_of_the_sample_imports_nothing(sample):
    run_json(sample, "--jurisdiction", CHENGGUAN, "--skip-invalid")
    before = counts()
    code, result = run_json(sample, "--jurisdiction", CHENGGUAN, "--skip-invalid")
    assert code == 0
    assert (result["imported"], result["updated"], result["unchanged"]) == (0, 0, 39)
    assert [e["row"] for e in result["rejected"]] == [e["row"] for e in EXPECTED["rejected"]]
    persons, statuses, entries = counts()
    assert (persons, statuses) == before[:2]
    assert entries == before[2] + 1  # only the import's own entry, no CREATE/UPDATE


def test_sample_without_skip_invalid_exits_1_and_writes_nothing(sample):
    code, result = run_json(sample, "--jurisdiction", CHENGGUAN)
    assert code == 1
    assert len(result["rejected"]) == len(EXPECTED["rejected"])
    assert (result["imported"], result["updated"], result["unchanged"]) == (0, 0, 0)
    assert Person.objects.count() == 0
    assert StatusChange.objects.count() == 0
    assert not new_entries().exists()


def test_sample_in_plain_text_says_what_happened(sample):
    code, out, err = run(sample, "--jurisdiction", CHENGGUAN)
    assert code == 1
    assert "44" in out and "5" in out
    assert err.count("\n") >= 5  # one line per rejected row
    code, out, err = run(sample, "--jurisdiction", CHENGGUAN, "--skip-invalid")
    assert code == 0
    assert "39" in out


# --- exit codes and arguments -------------------------------------------------------------


def test_dry_run_reports_counts_and_writes_nothing(sample):
    code, result = run_json(sample, "--jurisdiction", CHENGGUAN, "--skip-invalid", "--dry-run")
    assert code == 0
    assert result["dry_run"] is True and result["written"] is False
    assert (result["rows_read"], result["imported"]) == (44, 39)
    assert len(result["rejected"]) == 5
    assert counts() == (0, 0, 0)


def test_dry_run_of_a_file_with_rejected_rows_exits_1_without_skip_invalid(sample):
    code, result = run_json(sample, "--jurisdiction", CHENGGUAN, "--dry-run")
    assert code == 1
    assert (result["dry_run"], result["written"], len(result["rejected"])) == (True, False, 5)
    assert counts() == (0, 0, 0)


def test_dry_run_after_an_import_counts_the_updates(sample, tmp_path):
    run_json(sample, "--jurisdiction", CHENGGUAN, "--skip-invalid")
    workbook = openpyxl.load_workbook(sample)
    workbook.active["L4"] = "13900000000"  # 秦辉's phone
    changed = tmp_path / "changed.xlsx"
    workbook.save(changed)
    before = counts()
    version = Person.objects.get(name="秦辉").version
    code, result = run_json(changed, "--jurisdiction", CHENGGUAN, "--skip-invalid", "--dry-run")
    assert (code, result["imported"], result["updated"], result["unchanged"]) == (0, 0, 1, 38)
    assert counts() == before
    assert Person.objects.get(name="秦辉").version == version
    assert Person.objects.get(name="秦辉").phone == "17750040793"


def test_a_valid_file_exits_0(sample_tree, tmp_path):
    path = write(tmp_path, "ok.xlsx", xlsx([HEADER, row(1, "王五"), row(2, "赵六", village="北岭村")]))
    code, result = run_json(path, "--jurisdiction", CHENGGUAN)
    assert code == 0
    assert (result["rows_read"], result["imported"], result["rejected"]) == (2, 2, [])
    assert result["written"] is True


def test_unknown_columns_are_warnings_in_the_json_and_the_import_goes_on(sample_tree, tmp_path):
    path = write(tmp_path, "台账.csv", csv_bytes(titled([[*HEADER, "微信号"], [*row(1, "王五"), "wx_1"]]), "utf-8-sig"))
    code, result = run_json(path, "--jurisdiction", CHENGGUAN)
    assert (code, result["imported"], result["rejected"]) == (0, 1, [])
    assert [(w["row"], w["field"]) for w in result["warnings"]] == [(3, "微信号")]


def test_unknown_jurisdiction_user_or_file_exit_2(sample_tree, tmp_path):
    path = write(tmp_path, "ok.xlsx", xlsx([HEADER, row()]))
    assert run(path, "--jurisdiction", "123456")[0] == 2
    assert run(path, "--jurisdiction", CHENGGUAN, "--as", "nobody")[0] == 2
    assert run(tmp_path / "missing.xlsx", "--jurisdiction", CHENGGUAN)[0] == 2
    assert run(path)[0] == 2  # no --as and no --jurisdiction: the area is not known
    assert Person.objects.count() == 0


def test_a_file_without_a_header_is_rejected_whole_in_the_same_json_shape(sample_tree, tmp_path):
    path = write(tmp_path, "bad.csv", csv_bytes([["a", "b"], ["1", "2"]]))
    code, result = run_json(path, "--jurisdiction", CHENGGUAN)
    assert code == 1
    assert result["rejected"] and result["rejected"][0]["message"]
    assert (result["rows_read"], result["imported"], result["updated"], result["unchanged"], result["warnings"]) == (
        0, 0, 0, 0, [])
    assert Person.objects.count() == 0


# --- --as -----------------------------------------------------------------------------------


def test_as_a_township_user_imports_into_their_own_township_and_is_audited(sample_tree, tmp_path):
    user = UserFactory(jurisdiction=sample_tree[CHENGGUAN], roles=[Role.TOWNSHIP])
    path = write(tmp_path, "ok.xlsx", xlsx([HEADER, row(1, "王五")]))
    code, result = run_json(path, "--as", user.username)  # the user's own area by default
    assert (code, result["imported"]) == (0, 1)
    entry = new_entries().get(action=AuditEntry.Action.IMPORT)
    assert entry.actor == user
    assert entry.changes["imported"] == 1
    assert StatusChange.objects.get().recorded_by == user


def test_as_a_township_user_of_another_township_is_refused(sample_tree, tmp_path):
    user = UserFactory(jurisdiction=sample_tree[QINGSHAN], roles=[Role.TOWNSHIP])
    path = write(tmp_path, "ok.xlsx", xlsx([HEADER, row(1, "王五")]))
    code, out, err = run(path, "--as", user.username, "--jurisdiction", CHENGGUAN)
    assert code == 2
    assert err.strip()
    assert counts() == (0, 0, 0)


def test_as_a_township_user_rows_of_another_townships_villages_are_rejected(sample_tree, tmp_path):
    user = UserFactory(jurisdiction=sample_tree[QINGSHAN], roles=[Role.TOWNSHIP])
    path = write(tmp_path, "mixed.xlsx", xlsx([HEADER, row(1, "王五", village="石桥村"),
                                               row(2, "赵六", village="东门社区")]))
    code, result = run_json(path, "--as", user.username, "--skip-invalid")
    assert code == 0
    assert result["imported"] == 1
    assert [(e["row"], e["field"]) for e in result["rejected"]] == [(3, "所属村(社区)")]
    assert list(Person.objects.values_list("name", "jurisdiction__code")) == [("王五", f"{QINGSHAN}002")]


def test_as_a_leadership_user_is_refused(sample_tree, tmp_path):
    user = UserFactory(jurisdiction=sample_tree[CHENGGUAN], roles=[Role.LEADERSHIP])
    path = write(tmp_path, "ok.xlsx", xlsx([HEADER, row(1, "王五")]))
    code, _out, _err = run(path, "--as", user.username)
    assert code == 2
    assert Person.objects.count() == 0


def test_a_file_kept_by_another_area_is_refused_through_the_cli(sample_tree, tmp_path):
    number = id_number("19850101")
    theirs = make_person(sample_tree[f"{QINGSHAN}001"], "钱七", number=number, phone="13700000000")
    user = UserFactory(jurisdiction=sample_tree[CHENGGUAN], roles=[Role.TOWNSHIP])
    path = write(tmp_path, "ours.xlsx", xlsx([HEADER, row(1, "钱七", number=number, phone="13911111111")]))
    code, result = run_json(path, "--as", user.username)
    assert code == 1
    assert [(e["row"], e["field"]) for e in result["rejected"]] == [(2, "身份证号码")]
    theirs.refresh_from_db()
    assert (theirs.phone, theirs.jurisdiction.code, theirs.version) == ("13700000000", f"{QINGSHAN}001", 1)


# --- --report -------------------------------------------------------------------------------


def test_report_on_the_sample_marks_exactly_the_rejected_rows(sample, tmp_path):
    report = tmp_path / "out.xlsx"
    code, result = run_json(sample, "--jurisdiction", CHENGGUAN, "--skip-invalid", "--report", report)
    assert code == 0
    sheet = openpyxl.load_workbook(report).active
    column = next(c.column for c in sheet[3] if c.value == ERROR_COLUMN)
    assert column == sheet.max_column
    marked = {r: sheet.cell(row=r, column=column).value for r in range(4, sheet.max_row + 1)
              if sheet.cell(row=r, column=column).value}
    assert sorted(marked) == [e["row"] for e in EXPECTED["rejected"]]
    for error in result["rejected"]:
        assert error["field"] in marked[error["row"]] and error["message"] in marked[error["row"]]
    # The user's own file otherwise: title, header, cells as they were.
    assert sheet["A1"].value.startswith("示范县城关镇")
    assert sheet["B4"].value == "秦辉" and sheet["D34"].value == " 522224 19780505 0177 "
    assert sheet.max_row == 49


def test_report_without_skip_invalid_is_written_too(sample, tmp_path):
    report = tmp_path / "out.xlsx"
    code, _result = run_json(sample, "--jurisdiction", CHENGGUAN, "--report", report)
    assert code == 1
    sheet = openpyxl.load_workbook(report).active
    assert [r for r in range(4, 50) if sheet.cell(row=r, column=14).value] == [44, 45, 46, 47, 48]


def test_report_on_a_gbk_csv_marks_exactly_the_rejected_rows(sample_tree, tmp_path):
    rows = titled([HEADER, row(1, "王五"), row(2, "", village="北岭村"), row(3, "赵六", village="不存在村"),
                   row(4, "孙八", status="不知道")])
    path = write(tmp_path, "台账.csv", csv_bytes(rows, "gbk"))
    report = tmp_path / "out.csv"
    code, result = run_json(path, "--jurisdiction", CHENGGUAN, "--skip-invalid", "--report", report)
    assert code == 0
    assert [e["row"] for e in result["rejected"]] == [5, 6, 7]
    content = report.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, which Excel opens correctly
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert table[2][-1] == ERROR_COLUMN
    assert table[0][0] == "示范县城关镇登记在册吸毒人员台账"
    assert [i + 1 for i, cells in enumerate(table) if len(cells) > len(HEADER) and cells[len(HEADER)]
            and i >= 3] == [5, 6, 7]
    assert table[3][1] == "王五"
    assert "姓名" in table[4][-1] and "管控现状" in table[6][-1]


def test_report_asked_for_as_xlsx_is_an_xlsx_for_a_csv_ledger_too(sample_tree, tmp_path):
    path = write(tmp_path, "台账.csv", csv_bytes([HEADER, row(1, "")], "gbk"))
    report = tmp_path / "out.xlsx"
    run_json(path, "--jurisdiction", CHENGGUAN, "--report", report)
    sheet = openpyxl.load_workbook(report).active
    assert sheet.cell(row=1, column=len(HEADER) + 1).value == ERROR_COLUMN


def test_report_on_an_xls_ledger_is_an_xlsx_with_the_rows_where_they_were(sample_tree, tmp_path):
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("台账")
    sheet.write_merge(0, 0, 0, len(HEADER) - 1, "城关镇吸毒人员登记表")
    lines = [HEADER, row(1, "王五", number=110101750307123), row(2, "", number=id_number("19800101", serial=1201)),
             row(3, "赵六", number="110101199003072034")]
    for index, line in enumerate(lines, start=1):
        for column, value in enumerate(line):
            sheet.write(index, column, value)
    out = io.BytesIO()
    book.save(out)
    path = write(tmp_path, "城关镇台账[2024].xls", out.getvalue())
    report = tmp_path / "out.xlsx"
    code, result = run_json(path, "--jurisdiction", CHENGGUAN, "--skip-invalid", "--report", report)
    assert (code, result["imported"], [e["row"] for e in result["rejected"]]) == (0, 1, [4, 5])
    written = openpyxl.load_workbook(report).active
    column = len(HEADER) + 1
    assert written.cell(row=2, column=column).value == ERROR_COLUMN
    assert [r for r in range(3, written.max_row + 1) if written.cell(row=r, column=column).value] == [4, 5]
    assert written.cell(row=3, column=4).value == "110101750307123"  # the number as typed, not 1.1e14
