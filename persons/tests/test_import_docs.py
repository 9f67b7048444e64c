"""docs/import.md documents every header and value the ledger import recognises."""

from pathlib import Path

from persons.importers import COLUMNS, LIVING_SYNONYMS, STATUS_SYNONYMS, SUBSTANCE_SYNONYMS, SUPPORT_SYNONYMS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "import.md").read_text()


def test_every_synonym_is_documented():
    missing = [name for _label, names in COLUMNS.values() for name in names if name not in DOC]
    for table in (STATUS_SYNONYMS, SUBSTANCE_SYNONYMS, LIVING_SYNONYMS, SUPPORT_SYNONYMS):
        missing += [name for names in table.values() for name in names if name not in DOC]
    assert not missing, f"docs/import.md does not list {missing}"


def test_every_field_is_documented():
    assert all(f"`{key}`" in DOC for key in COLUMNS)
