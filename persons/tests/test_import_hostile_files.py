"""Issue 19 §4: a hostile table through each way into the import — the upload page, the
background check, the command line — is refused in Chinese and the process that asked goes on."""

import base64
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from accounts.tests.factories import UserFactory
from core import importing
from core.roles import Role
from core.tests import hostile_files
from persons import services
from persons.models import LedgerImport
from persons.tests.ledger_files import CHENGGUAN, COUNTY, HEADER, row, xlsx

TOO_LARGE = "表格范围过大（XFD1048576）"


@pytest.fixture
def office(sample_tree):
    return UserFactory(jurisdiction=sample_tree[COUNTY], roles=[Role.OFFICE])


@pytest.mark.parametrize("fresh", [False, True], ids=["forked", "fresh interpreter"])
def test_the_upload_page_refuses_the_far_corner_file_in_chinese(client, office, monkeypatch, fresh):
    """The web worker died (SIGABRT) on this 4.9 KB file; now the page says why it is refused."""
    monkeypatch.setattr(importing, "READ_IN_FRESH_INTERPRETER", fresh)
    client.force_login(office)
    response = client.post(reverse("persons:import"), {
        "file": SimpleUploadedFile("台账.xlsx", hostile_files.far_corner_xlsx()), "jurisdiction": COUNTY})
    assert response.status_code == 400
    html = response.content.decode()
    assert TOO_LARGE in html and "请删除多余的行列后重新上传" in html
    assert not LedgerImport.objects.exists()
    # The same process serves the next upload.
    response = client.post(reverse("persons:import"), {
        "file": SimpleUploadedFile("台账.xlsx", xlsx([HEADER, row()])), "jurisdiction": COUNTY})
    assert response.status_code == 302


def test_the_background_check_of_a_file_that_needs_too_much_memory_fails_in_chinese(office, sample_tree):
    """The task worker reads the kept file again for the check: a file that passed the upload
    (here stored directly) yet needs more memory than allowed ends the check, not the worker."""
    upload = services.do_upload_ledger(acting_user=office, jurisdiction=sample_tree[COUNTY], filename="台账.xlsx",
                                       data=xlsx([HEADER, row()]))
    ods = hostile_files.repeated_rows_ods(150_000, columns=30)  # far beyond 40 MB even in a warm forked child
    LedgerImport.objects.filter(pk=upload.pk).update(content=base64.b64encode(ods).decode(), filename="台账.ods")
    with override_settings(JINDU_IMPORT_MEMORY_MB=40):
        outcome = services.run_ledger(upload.pk, dry_run=True)
    upload.refresh_from_db()
    assert upload.state == LedgerImport.State.FAILED and outcome["file_rejected"]
    assert upload.error.startswith("读取该文件所需内存超过上限（40 MB）")


def test_the_command_line_refuses_the_far_corner_file(sample_tree, tmp_path):
    path = tmp_path / "other.xlsx"
    path.write_bytes(hostile_files.far_corner_xlsx())
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import", "persons", str(path), "--jurisdiction", CHENGGUAN, stdout=out, stderr=err)
    assert exit_.value.code == 1
    assert TOO_LARGE in err.getvalue()


def test_the_command_line_refuses_a_row_far_down(sample_tree, tmp_path):
    path = tmp_path / "other.xlsx"
    path.write_bytes(hostile_files.far_row_xlsx())
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import", "persons", str(path), "--jurisdiction", CHENGGUAN, stdout=out, stderr=err)
    assert "表格范围过大（C1048576）" in err.getvalue()


def test_the_error_report_is_written_in_the_child_too(client, office, sample_tree, monkeypatch):
    """openpyxl kept 708 MB for the report of a 100,000-row ledger in the web process: the
    report is written by the reading child, and one beyond its memory is refused in Chinese."""
    client.force_login(office)
    data = xlsx([HEADER, row(1, "王五", village="不存在村"), *([[n, "赵六"] for n in range(2, 10_000)])])
    upload = services.do_upload_ledger(acting_user=office, jurisdiction=sample_tree[COUNTY], filename="台账.xlsx",
                                       data=data)
    LedgerImport.objects.filter(pk=upload.pk).update(state=LedgerImport.State.CHECKED, result={
        "rejected": [{"row": 2, "field": "所属村(社区)", "message": "无此村"}]})
    url = reverse("persons:import_report", args=[upload.pk])
    report = client.get(url)
    assert report.status_code == 200 and report.content[:4] == b"PK\x03\x04"
    # A forked child may find its parent's free memory already mapped: 1 MB beyond a fresh
    # interpreter's start is too little for openpyxl, whatever ran before.
    monkeypatch.setattr(importing, "READ_IN_FRESH_INTERPRETER", True)
    with override_settings(JINDU_IMPORT_MEMORY_MB=1):
        refused = client.get(url, follow=True)
    assert refused.redirect_chain == [(upload.get_absolute_url(), 302)]
    assert "读取该文件所需内存超过上限（1 MB）" in refused.content.decode()  # the page says so, no preview
    with override_settings(JINDU_IMPORT_MEMORY_MB=1):
        response = client.post(upload.get_absolute_url(), {"action": "save", "header_row": 1, "version": upload.version,
                                                            "column_1": "name", "column_3": "id_number"})
    assert response.status_code == 400
    assert "读取该文件所需内存超过上限（1 MB）" in response.content.decode()


def test_the_pages_take_only_the_rows_they_show_from_the_reading_child(client, office, monkeypatch):
    """The upload looks for the header in the first rows and the page shows a preview: the
    whole sheet stays in the child (a 100,000-row ledger held hundreds of MB in the web process)."""
    tasks = []
    real = importing.in_child

    def recorded(task, *arguments):
        tasks.append(task)
        return real(task, *arguments)

    monkeypatch.setattr(importing, "in_child", recorded)
    client.force_login(office)
    lines = [HEADER] + [row(n, f"赵{n}", number=None, village="东门社区") for n in range(1, 400)]
    response = client.post(reverse("persons:import"), {
        "file": SimpleUploadedFile("台账.xlsx", xlsx(lines)), "jurisdiction": COUNTY})
    assert response.status_code == 302
    upload = LedgerImport.objects.get()
    page = client.get(upload.get_absolute_url())
    assert page.status_code == 200 and "赵8" in page.content.decode()
    assert tasks and set(tasks) == {"read_head"}
    head, rows = services.ledger_head(upload, 5)
    assert (len(head), rows) == (5, 400)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(client, office, monkeypatch):
    """The page read the whole upload into the web process and only then looked at its size."""
    from django.core.files.uploadedfile import InMemoryUploadedFile

    reads = []

    def read(self):
        def recorded(*arguments):
            if self is not sent:  # the server's copy, not the test client's
                reads.append(self.name)
            return self.file.read(*arguments)

        return recorded

    monkeypatch.setattr(InMemoryUploadedFile, "read", property(read))  # Django's own is a property too
    monkeypatch.setattr(services, "MAX_LEDGER_BYTES", 2 * 1024 * 1024)
    client.force_login(office)
    data = xlsx([HEADER, row()]) + b"\0" * (2 * 1024 * 1024)  # over 2 MB; Django keeps it in memory below 2.5
    sent = SimpleUploadedFile("台账.xlsx", data)
    response = client.post(reverse("persons:import"), {"file": sent, "jurisdiction": COUNTY})
    assert response.status_code == 400
    assert "2 MB" in response.content.decode()
    assert reads == [] and not LedgerImport.objects.exists()
