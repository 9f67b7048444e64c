"""The ledger import pages: upload, columns and preview, check, import (a background task: the
tests run tasks immediately), the error report, scoping and the audit trail."""

import json

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import UserFactory
from core.models import AuditEntry
from core.roles import Role
from persons.models import LedgerImport, Person, StatusChange
from persons.tests.ledger_files import (
    CHENGGUAN,
    COUNTY,
    HEADER,
    QINGSHAN,
    SAMPLE_EXPECTED,
    SAMPLE_LEDGER,
    row,
    xlsx,
)
from persons.tests.people import id_number

EXPECTED = json.loads(SAMPLE_EXPECTED.read_text())


@pytest.fixture
def office(sample_tree):
    return UserFactory(jurisdiction=sample_tree[COUNTY], roles=[Role.OFFICE])


_capture = None


@pytest.fixture(autouse=True)
def _remember_capture(django_capture_on_commit_callbacks):
    """The service enqueues the task after commit, and a test's transaction never commits:
    ``run`` posts and then runs what was waiting for the commit (the immediate task backend)."""
    global _capture
    _capture = django_capture_on_commit_callbacks


def run(client, url, data):
    with _capture(execute=True):
        return client.post(url, data)


def upload(client, data=None, name="台账.xlsx", area=COUNTY, skip_invalid=False):
    data = SAMPLE_LEDGER.read_bytes() if data is None else data
    return client.post(reverse("persons:import"), {
        "file": SimpleUploadedFile(name, data), "jurisdiction": area, **({"skip_invalid": "on"} if skip_invalid else {})})


def mapping_post(item, action, **changes):
    data = {"action": action, "header_row": item.header_row, "version": item.version,
            **({"skip_invalid": "on"} if item.skip_invalid else {})}
    data |= {f"column_{i}": key for i, key in item.mapping.items()}
    data |= changes
    return data


def test_upload_detects_the_header_and_columns_and_shows_a_masked_preview(client, office):
    client.force_login(office)
    response = upload(client)
    item = LedgerImport.objects.get()
    assert response.status_code == 302 and response["Location"] == item.get_absolute_url()
    assert (item.header_row, item.state, item.created_by) == (3, LedgerImport.State.UPLOADED, office)
    assert item.mapping["3"] == "id_number" and item.mapping["6"] == "village" and item.mapping["0"] == "serial"
    page = client.get(item.get_absolute_url())
    html = page.content.decode()
    assert page.status_code == 200
    assert "秦辉" in html and "500101200103064936" not in html and "500101**********36" in html
    assert AuditEntry.objects.filter(action=AuditEntry.Action.VIEW, object_type="persons.LedgerImport").exists()
    assert not Person.objects.exists()


def test_the_file_is_kept_encrypted(office, client):
    from django.db import connection

    client.force_login(office)
    upload(client)
    with connection.cursor() as cursor:
        cursor.execute("SELECT content FROM persons_ledgerimport")
        stored = cursor.fetchone()[0]
    assert "UEsDB" not in stored  # the base64 of a zip file's first bytes is not in the column


def test_check_then_import_the_sample_gives_what_it_expects(client, office):
    client.force_login(office)
    upload(client)
    item = LedgerImport.objects.get()
    response = run(client, item.get_absolute_url(), mapping_post(item, "check"))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == LedgerImport.State.CHECKED and item.progress == 100
    assert item.result["dry_run"] and item.result["imported"] == EXPECTED["imported"]
    assert [e["row"] for e in item.result["rejected"]] == [e["row"] for e in EXPECTED["rejected"]]
    assert not Person.objects.exists()
    page = client.get(item.get_absolute_url()).content.decode()
    assert 'id="run-import"' not in page  # rejected rows, skip not chosen: nothing to confirm
    run(client, item.get_absolute_url(), mapping_post(item, "check", skip_invalid="on"))
    item.refresh_from_db()
    assert item.skip_invalid and item.state == LedgerImport.State.CHECKED
    page = client.get(item.get_absolute_url()).content.decode()
    assert 'id="run-import"' in page
    run(client, item.get_absolute_url(), {"action": "import"})
    item.refresh_from_db()
    assert item.state == LedgerImport.State.DONE
    assert (item.result["imported"], item.result["rows_read"], item.result["skipped_rows"]) == (
        EXPECTED["imported"], EXPECTED["rows_read"], EXPECTED["skipped_rows"])
    assert [(w["row"], w["field"]) for w in item.result["warnings"]] == [
        (w["row"], w["field"]) for w in EXPECTED["warnings"]]
    assert Person.objects.count() == EXPECTED["imported"]
    assert run(client, item.get_absolute_url(), {"action": "import"}).status_code == 400  # not twice


def test_a_second_upload_of_the_same_ledger_imports_nothing(client, office):
    client.force_login(office)
    for _round in range(2):
        upload(client, skip_invalid=True)
        item = LedgerImport.objects.order_by("-pk").first()
        run(client, item.get_absolute_url(), mapping_post(item, "check"))
        run(client, item.get_absolute_url(), {"action": "import"})
    item.refresh_from_db()
    assert (item.result["imported"], item.result["unchanged"]) == (0, EXPECTED["imported"])
    assert Person.objects.count() == StatusChange.objects.count() == EXPECTED["imported"]


def test_an_unrecognised_header_is_mapped_by_hand(client, office):
    number = id_number("19880808", serial=4101)
    data = xlsx([["序号", "姓名", "证件号", "社区", "管控现状"], [1, "赵六", number, "东门社区", "社区戒毒"]])
    client.force_login(office)
    upload(client, data)
    item = LedgerImport.objects.get()
    assert item.mapping["2"] == ""  # 证件号 is not in the synonym table
    response = run(client, item.get_absolute_url(), mapping_post(item, "check"))
    assert response.status_code == 400
    assert "身份证号" in response.content.decode() or "ID number" in response.content.decode()
    run(client, item.get_absolute_url(), mapping_post(item, "check", column_2="id_number"))
    item.refresh_from_db()
    assert item.state == LedgerImport.State.CHECKED and item.result["imported"] == 1 and not item.result["rejected"]


def test_a_column_chosen_twice_is_refused(client, office):
    client.force_login(office)
    upload(client)
    item = LedgerImport.objects.get()
    response = run(client, item.get_absolute_url(), mapping_post(item, "check", column_4="name"))
    assert response.status_code == 400
    item.refresh_from_db()
    assert item.state == LedgerImport.State.UPLOADED and item.mapping["4"] != "name"


def test_a_stale_form_is_a_conflict(client, office):
    client.force_login(office)
    upload(client)
    item = LedgerImport.objects.get()
    run(client, item.get_absolute_url(), mapping_post(item, "save", header_row=3))
    stale = mapping_post(item, "save")  # the version the page showed before
    run(client, item.get_absolute_url(), mapping_post(LedgerImport.objects.get(), "save", column_12=""))
    assert run(client, item.get_absolute_url(), stale | {"column_12": "notes"}).status_code == 409


def test_the_report_is_the_users_file_with_the_reasons(client, office):
    client.force_login(office)
    upload(client)
    item = LedgerImport.objects.get()
    run(client, item.get_absolute_url(), mapping_post(item, "check"))
    response = client.get(reverse("persons:import_report", args=[item.pk]))
    assert response.status_code == 200
    import io

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    last = sheet.max_column
    assert sheet.cell(row=3, column=last).value == "错误原因"
    marked = [r for r in range(4, sheet.max_row + 1) if sheet.cell(row=r, column=last).value]
    assert marked == [e["row"] for e in EXPECTED["rejected"]]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT, object_type="persons.LedgerImport").exists()


def test_a_file_that_is_not_a_ledger_is_refused_on_upload(client, office):
    client.force_login(office)
    response = upload(client, xlsx([["会议纪要"], ["今天开会"]]))
    assert response.status_code == 400
    assert not LedgerImport.objects.exists()
    response = upload(client, b"%PDF-1.4 ...", name="scan.pdf")
    assert response.status_code == 400


def test_progress_asks_the_page_to_reload_when_done(client, office):
    client.force_login(office)
    upload(client)
    item = LedgerImport.objects.get()
    response = client.get(reverse("persons:import_progress", args=[item.pk]))
    assert response.status_code == 204 and response["HX-Refresh"] == "true"
    LedgerImport.objects.filter(pk=item.pk).update(state=LedgerImport.State.IMPORTING, progress=40)
    html = client.get(reverse("persons:import_progress", args=[item.pk])).content.decode()
    assert 'value="40"' in html and "hx-get" in html


def test_imports_are_scoped_to_the_area(client, sample_tree, office):
    township = UserFactory(jurisdiction=sample_tree[QINGSHAN], roles=[Role.TOWNSHIP])
    client.force_login(office)
    upload(client, area=CHENGGUAN)
    item = LedgerImport.objects.get()
    client.force_login(township)
    assert client.get(item.get_absolute_url()).status_code == 404
    assert client.get(reverse("persons:import_report", args=[item.pk])).status_code == 404
    assert run(client, item.get_absolute_url(), mapping_post(item, "check")).status_code == 404
    # nor can a township upload into the county
    assert upload(client, area=COUNTY).status_code == 400
    leader = UserFactory(jurisdiction=sample_tree[COUNTY], roles=[Role.LEADERSHIP])
    client.force_login(leader)
    assert client.get(reverse("persons:import")).status_code == 403
    assert client.get(item.get_absolute_url()).status_code == 403


def test_a_township_user_imports_into_a_village_of_theirs(client, sample_tree):
    user = UserFactory(jurisdiction=sample_tree[CHENGGUAN], roles=[Role.TOWNSHIP])
    client.force_login(user)
    number = id_number("19880808", serial=4102)
    upload(client, xlsx([HEADER, row(1, "赵六", number=number, village="北岭村")]), area=CHENGGUAN)
    item = LedgerImport.objects.get()
    run(client, item.get_absolute_url(), mapping_post(item, "check"))
    run(client, item.get_absolute_url(), {"action": "import"})
    person = Person.objects.get()
    assert person.jurisdiction.name == "北岭村"
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, object_type="persons.Person").get()
    assert entry.actor == user


def test_upload_page_lists_recent_imports_in_bounded_queries(client, office, django_assert_max_num_queries):
    client.force_login(office)
    for _n in range(3):
        upload(client)
    with django_assert_max_num_queries(14):
        page = client.get(reverse("persons:import"))
    assert page.content.decode().count("台账.xlsx") == 3


def test_old_files_are_dropped_by_the_daily_sweep(client, office):
    import datetime

    from django.utils import timezone

    from persons import services

    client.force_login(office)
    upload(client)
    item = LedgerImport.objects.get()
    LedgerImport.objects.filter(pk=item.pk).update(finished_at=timezone.now() - datetime.timedelta(days=8))
    assert services.purge_ledger_files() == {"purged": 1}
    item.refresh_from_db()
    assert item.content is None and item.filename == "台账.xlsx"
    assert services.purge_ledger_files() == {"purged": 0}
