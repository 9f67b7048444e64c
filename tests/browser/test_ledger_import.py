"""Ledger import in Chromium (issue 5): the township's 专干 uploads the sample ledger, sees
the columns and a masked preview, checks it, chooses to skip the rejected rows, imports, and
gets exactly what shared/samples/persons_ledger_sample.expected.json says; the same file a
second time imports nothing."""

import json

import pytest

from persons.tests.ledger_files import SAMPLE_EXPECTED, SAMPLE_LEDGER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

EXPECTED = json.loads(SAMPLE_EXPECTED.read_text())
CHENGGUAN = "990101001"


def _figure(page, name: str) -> int:
    return int(page.locator(f"#import-result [data-figure={name}]").inner_text())


def _upload(page, skip_invalid=False):
    page.goto("/persons/import/")
    page.set_input_files("#id_file", str(SAMPLE_LEDGER))
    page.select_option("#id_jurisdiction", CHENGGUAN)
    if skip_invalid:
        page.check("#id_skip_invalid")
    page.click(".card-footer button[type=submit]")
    page.wait_for_load_state()


def test_the_sample_ledger_through_the_web(log_in, screenshot):
    from persons.models import Person

    before = Person.objects.count()  # the demo's own persons
    page = log_in("township")
    page.goto("/persons/")
    page.click("a.btn:has-text(\"导入台账\")")
    page.wait_for_load_state()
    assert page.url.endswith("/persons/import/")
    _upload(page)
    assert page.input_value("#id_header_row") == "3"
    assert page.input_value("#id_column_3") == "id_number"
    preview = page.locator("#import-preview").inner_text()
    assert "秦辉" in preview and "500101200103064936" not in preview and "500101**********36" in preview
    screenshot(page, "-1-columns")

    page.click("#run-check")
    page.wait_for_selector("#import-result")
    assert _figure(page, "rows_read") == EXPECTED["rows_read"]
    assert _figure(page, "imported") == EXPECTED["imported"]
    assert _figure(page, "rejected") == len(EXPECTED["rejected"])
    rejected_rows = page.locator("#import-problems tr.import-rejected td:first-child").all_inner_texts()
    assert [int(r) for r in rejected_rows] == [e["row"] for e in EXPECTED["rejected"]]
    assert page.locator("#run-import").count() == 0  # rejected rows and no skip: nothing to confirm
    assert Person.objects.count() == before
    screenshot(page, "-2-checked")

    page.check("#id_skip_invalid")
    page.click("#run-check")
    page.wait_for_selector("#run-import")
    page.click("#run-import")
    page.wait_for_load_state()
    assert "已导入" in page.locator("#import-state").inner_text()
    assert _figure(page, "imported") == EXPECTED["imported"]
    assert _figure(page, "warnings") == len(EXPECTED["warnings"])
    assert Person.objects.count() == before + EXPECTED["imported"]
    with page.expect_download() as download:
        page.click("text=错误原因")
    assert download.value.suggested_filename.endswith("_错误原因.xlsx")
    screenshot(page, "-3-imported")

    _upload(page, skip_invalid=True)
    page.click("#run-check")
    page.wait_for_selector("#run-import")
    page.click("#run-import")
    page.wait_for_load_state()
    assert (_figure(page, "imported"), _figure(page, "unchanged")) == (0, EXPECTED["imported"])
    assert Person.objects.count() == before + EXPECTED["imported"]
