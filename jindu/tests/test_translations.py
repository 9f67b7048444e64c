"""The Chinese catalogue is complete, consistent and compiled (see scripts/messages.sh)."""

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

LOCALE_DIR = Path(settings.BASE_DIR) / "jindu" / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"
# Our own apps: the installed apps whose package lives in this repository, and the project.
FIRST_PARTY = ("jindu", *(app for app in settings.INSTALLED_APPS if (Path(settings.BASE_DIR) / app).is_dir()))
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@pytest.fixture(scope="module")
def catalogue():
    return polib.pofile(str(PO_PATH))


def test_every_entry_is_translated(catalogue):
    assert not catalogue.metadata_is_fuzzy
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []


def test_translations_keep_the_placeholders(catalogue):
    wrong = []
    for entry in catalogue.translated_entries():
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            if sorted(PLACEHOLDER.findall(entry.msgid)) != sorted(PLACEHOLDER.findall(text)):
                wrong.append(entry.msgid)
    assert wrong == []


def test_committed_mo_is_compiled_from_the_po(catalogue):
    assert MO_PATH.read_bytes() == catalogue.to_binary(), "run `make messages` and commit the .mo"


def test_the_ui_speaks_chinese_by_default():
    assert settings.LANGUAGE_CODE == "zh-hans"
    with translation.override(settings.LANGUAGE_CODE):
        assert translation.gettext("Drug-control work platform") == "禁毒工作综合管理平台"


@pytest.mark.skipif(not all(shutil.which(tool) for tool in ("xgettext", "msguniq", "msgmerge")),
                    reason="extracting messages needs gettext")
def test_every_marked_string_is_in_the_po(catalogue, tmp_path, monkeypatch):
    """Catches a new UI string that was marked for translation but never extracted."""
    source = tmp_path / "source"
    source.mkdir()
    for app in FIRST_PARTY:
        (source / app).symlink_to(Path(settings.BASE_DIR) / app)
    monkeypatch.chdir(source)
    with override_settings(LOCALE_PATHS=[str(tmp_path / "locale")]):
        call_command("makemessages", locale=["zh_Hans"], symlinks=True, verbosity=0,
                     ignore_patterns=["locale", "tests", "testing", "static", "migrations"])
    extracted = polib.pofile(str(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    known = {(e.msgctxt, e.msgid) for e in catalogue}
    missing = sorted(e.msgid for e in extracted if (e.msgctxt, e.msgid) not in known)
    assert missing == [], "run `make messages` and translate the new strings"
