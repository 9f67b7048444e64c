"""Issue 19 §4: an import moves no one between areas and says nothing about another area's files.

The command-line operator (no --as) is held to the ledger's area like every user; a file on
record outside that area is refused for its row with a message that neither confirms the file
nor names its area, in the result and in the 错误原因 report alike; a move to another township
goes through a transfer; no row message echoes a full ID number or phone."""

import io
import json
import re

import openpyxl
import pytest
from django.core.management import call_command
from django.utils.translation import gettext

from accounts.tests.factories import UserFactory
from core.importing import ERROR_COLUMN
from core.models import AuditEntry
from core.roles import Role
from persons import services
from persons.importers import read_ledger
from persons.models import Person
from persons.tests.ledger_files import CHENGGUAN, COUNTY, HEADER, QINGSHAN, row, xlsx
from persons.tests.people import id_number
from persons.tests.people import person as make_person


def run_cli(*args) -> tuple[int, dict]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import", "persons", *[str(a) for a in args], "--json", stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, json.loads(out.getvalue())


@pytest.fixture
def theirs(sample_tree):
    """A person of 青山镇's 青山社区."""
    return make_person(sample_tree[f"{QINGSHAN}001"], "钱七", number=id_number("19850101", serial=995),
                       phone="13700000000")


def untouched(person) -> tuple:
    person.refresh_from_db()
    return person.name, person.phone, person.jurisdiction.code, person.version


def test_the_cli_without_as_does_not_take_another_areas_person(sample_tree, theirs, tmp_path):
    """The issue's attack: `jindu import persons other.xlsx --jurisdiction 990101001` moved a
    青山镇 person into 城关镇 and renamed them."""
    before = untouched(theirs)
    path = tmp_path / "other.xlsx"
    path.write_bytes(xlsx([HEADER, row(1, "钱七改", number=theirs.id_number, village="东门社区",
                                       phone="13911111111")]))
    code, result = run_cli(path, "--jurisdiction", CHENGGUAN, "--skip-invalid")
    assert (code, result["updated"], result["imported"]) == (0, 0, 0)
    assert [(e["row"], e["field"]) for e in result["rejected"]] == [(2, "身份证号码")]
    assert untouched(theirs) == before == ("钱七", "13700000000", f"{QINGSHAN}001", 1)
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE, object_id=str(theirs.pk)).exists()


def test_the_cli_operator_updates_files_inside_the_ledgers_area(sample_tree, theirs, tmp_path):
    path = tmp_path / "ours.xlsx"
    path.write_bytes(xlsx([HEADER, row(1, "钱七", number=theirs.id_number, village="青山社区", phone="13911111111")]))
    code, result = run_cli(path, "--jurisdiction", QINGSHAN)
    assert (code, result["updated"], result["rejected"]) == (0, 1, [])
    assert untouched(theirs)[1:3] == ("13911111111", f"{QINGSHAN}001")


def refusal(sample_tree, number, *, area=CHENGGUAN, acting_user=None, village="东门社区"):
    ledger = read_ledger(xlsx([HEADER, row(1, "钱七", number=number, village=village)]), "台账.xlsx")
    result = services.do_import_persons(ledger, acting_user=acting_user, jurisdiction=sample_tree[area],
                                        source="台账", dry_run=True)
    (error,) = result.rejected
    return error.message


def test_the_refusal_neither_confirms_the_file_nor_names_its_area(sample_tree, theirs):
    """A township worker learns only that the row cannot be imported here and whom to ask: the
    same words for a file of another township, for one that another township is handing over
    to them (still kept by the sender) and for the command-line operator."""
    worker = UserFactory(jurisdiction=sample_tree[CHENGGUAN], roles=[Role.TOWNSHIP])
    told = refusal(sample_tree, theirs.id_number, acting_user=worker)
    assert told == gettext("This row cannot be imported here: please contact the county (city, district) "
                           "drug-control office.")
    assert "禁毒办" in told
    for revealing in ("其他辖区", "管理", "档案", "已登记", "登记在册", "青山", "移交"):
        assert revealing not in told
    handed = make_person(sample_tree[f"{QINGSHAN}002"], "孙八", number=id_number("19860202", serial=996))
    services.do_hand_over(handed, sample_tree[CHENGGUAN], "外出务工", handed.control_status_since,
                          acting_user=None)
    assert Person.objects.visible_to(worker).filter(pk=handed.pk).exists()  # both sides see it meanwhile
    assert refusal(sample_tree, handed.id_number, acting_user=worker) == told
    assert refusal(sample_tree, theirs.id_number) == told  # the operator, --jurisdiction 城关镇


def test_the_error_report_says_no_more_than_the_result(client, sample_tree, theirs, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from persons.models import LedgerImport

    worker = UserFactory(jurisdiction=sample_tree[CHENGGUAN], roles=[Role.TOWNSHIP])
    client.force_login(worker)
    data = xlsx([HEADER, row(1, "钱七", number=theirs.id_number, village="东门社区")])
    client.post(reverse("persons:import"), {"file": SimpleUploadedFile("台账.xlsx", data), "jurisdiction": CHENGGUAN})
    upload = LedgerImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(upload.get_absolute_url(), {"action": "check", "header_row": upload.header_row,
                                                 "version": upload.version,
                                                 **{f"column_{i}": k for i, k in upload.mapping.items()}})
    upload.refresh_from_db()
    assert [e["message"] for e in upload.result["rejected"]] == [refusal(sample_tree, theirs.id_number)]
    report = client.get(reverse("persons:import_report", args=[upload.pk]))
    sheet = openpyxl.load_workbook(io.BytesIO(report.content)).active
    column = next(c.column for c in sheet[1] if c.value == ERROR_COLUMN)
    assert sheet.cell(row=2, column=column).value == f"身份证号码：{refusal(sample_tree, theirs.id_number)}"
    page = client.get(upload.get_absolute_url()).content.decode()
    assert "青山" not in page and "其他辖区" not in page


def test_the_county_office_moves_no_one_to_another_township_by_import(sample_tree, theirs):
    """A move between townships is a transfer (hand-over, then acknowledgement), not an import."""
    office = UserFactory(jurisdiction=sample_tree[COUNTY], roles=[Role.OFFICE])
    ledger = read_ledger(xlsx([HEADER, row(1, "钱七", number=theirs.id_number, village="东门社区",
                                           phone="13911111111")]), "台账.xlsx")
    result = services.do_import_persons(ledger, acting_user=office, jurisdiction=sample_tree[COUNTY],
                                        source="台账", skip_invalid=True)
    assert (result.updated, [(e.row, e.field) for e in result.rejected]) == (0, [(2, "所属村(社区)")])
    assert "移交" in result.rejected[0].message
    assert untouched(theirs) == ("钱七", "13700000000", f"{QINGSHAN}001", 1)
    # Within its township the file follows the ledger's village.
    ledger = read_ledger(xlsx([HEADER, row(1, "钱七", number=theirs.id_number, village="茶园村")]), "台账.xlsx")
    result = services.do_import_persons(ledger, acting_user=office, jurisdiction=sample_tree[COUNTY], source="台账")
    assert (result.updated, result.rejected) == (1, [])
    assert untouched(theirs)[2] == f"{QINGSHAN}003"


FULL_NUMBER = re.compile(r"\d{15,}|\d{17}[Xx]|1\d{10}")


def test_no_row_message_echoes_a_full_id_number_or_phone(sample_tree):
    """Columns taken for the wrong field (an ID number in 管控现状, a phone in the date and the
    village columns) are refused with the value masked: row messages are kept with the upload,
    shown, and written into the 错误原因 file."""
    number = id_number("19900307", serial=997)
    lines = [HEADER, [1, "王五", "男", number, "13812345678", "海洛因", "13812345678", number, "13812345678"],
             [2, "赵六", "男", id_number("19900308", serial=998), "东门社区", number, "2019-03-05", "社区戒毒", ""],
             [3, "孙八", "男", id_number("19900309", serial=999), "13812345678", "", "", "社区戒毒", ""]]
    ledger = read_ledger(xlsx(lines), "台账.xlsx")
    result = services.do_import_persons(ledger, acting_user=None, jurisdiction=sample_tree[CHENGGUAN],
                                        source="台账", dry_run=True)
    messages = [e.message for e in result.rejected + result.warnings]
    assert len(messages) >= 4
    for message in messages:
        assert not FULL_NUMBER.search(message), message
    assert any("138****5678" in m for m in messages)


def test_a_file_named_after_a_number_leaves_it_masked_in_the_audit_log(sample_tree, tmp_path):
    number = id_number("19900307", serial=997)
    path = tmp_path / f"{number}.xlsx"
    path.write_bytes(xlsx([HEADER, row(1, "王五", village="东门社区")]))
    mark = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    code, result = run_cli(path, "--jurisdiction", CHENGGUAN)
    assert (code, result["imported"]) == (0, 1)
    entry = AuditEntry.objects.get(seq__gt=mark, action=AuditEntry.Action.IMPORT)
    assert number not in entry.object_repr + json.dumps(entry.changes, ensure_ascii=False)
    assert number[:6] in entry.changes["source"]
