"""`jindu backup` / `jindu restore` (issue 19, item 7): a round trip that reads the decrypted data
back, on SQLite and on PostgreSQL (JINDU_TEST_DB=postgres); a restore refused without the field
key or with another one, before the database is touched; a backup refused next to the key; the
key made by migrate, never at read time; the SQLite file, the key and the backup owner-only."""

import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from core import backup, crypto
from persons.models import Person
from persons.tests import people


@pytest.fixture
def pg_tools(monkeypatch):
    """pg_dump and pg_restore of the harness's server version."""
    from django.db import connection

    if connection.vendor == "postgresql" and not os.environ.get("JINDU_PG_BINDIR"):
        from jindu.testing.postgres import find_bindir

        monkeypatch.setenv("JINDU_PG_BINDIR", str(find_bindir()))


@pytest.fixture
def registered(transactional_db, tree, pg_tools):
    village = tree["villages"][0]
    return people.person(village, "王五", phone="13912345678", family_contacts="母亲 13700001111")


def _alter(person):
    Person.objects.filter(pk=person.pk).update(phone="13000000000", name="改过")


def _backup_dir(tmp_path):
    return tmp_path / "offsite" / "2026-12-07"


def test_round_trip_reads_the_data_back(registered, tmp_path):
    dest = _backup_dir(tmp_path)
    call_command("backup", str(dest))
    manifest = backup.read_manifest(dest)
    assert manifest["field_key"]["fingerprint"] == crypto.fingerprint(crypto.keyring()[0])
    assert crypto.keyring()[0].master.hex() not in (dest / backup.MANIFEST).read_text()
    for name in (backup.MANIFEST, manifest["database"]):
        assert (dest / name).stat().st_mode & 0o777 == 0o600
    _alter(registered)
    call_command("restore", str(dest), "--replace")
    person = Person.objects.get(pk=registered.pk)
    assert (person.name, person.phone, person.family_contacts) == ("王五", "13912345678", "母亲 13700001111")
    assert person.id_number == registered.id_number


def test_restore_refuses_a_non_empty_database_without_replace(registered, tmp_path):
    dest = _backup_dir(tmp_path)
    backup.backup(dest)
    with pytest.raises(CommandError, match="--replace"):
        call_command("restore", str(dest))


def test_restore_without_the_key_stops_before_touching_the_database(registered, tmp_path, settings, monkeypatch):
    dest = _backup_dir(tmp_path)
    backup.backup(dest)
    _alter(registered)
    monkeypatch.delenv("JINDU_FIELD_KEY", raising=False)
    settings.DATA_DIR = tmp_path / "new-machine"
    crypto.reset_keyring()
    try:
        with pytest.raises(CommandError, match="field_key"):
            call_command("restore", str(dest), "--replace")
        assert not (tmp_path / "new-machine" / "field_key").exists()
    finally:
        settings.DATA_DIR = tmp_path.parent  # anything but the empty one
        crypto.reset_keyring()
    assert Person.objects.filter(pk=registered.pk, name="改过").exists()


def test_restore_with_another_key_is_refused(registered, tmp_path, monkeypatch):
    dest = _backup_dir(tmp_path)
    backup.backup(dest)
    _alter(registered)
    monkeypatch.setenv("JINDU_FIELD_KEY", crypto.generate_master())
    crypto.reset_keyring()
    try:
        with pytest.raises(CommandError, match="not the one the backup was made with|不是备份时所用"):
            call_command("restore", str(dest), "--replace")
    finally:
        monkeypatch.delenv("JINDU_FIELD_KEY")
        crypto.reset_keyring()
    assert Person.objects.filter(pk=registered.pk, name="改过").exists()


def test_restore_without_the_audit_key_or_with_another_is_refused(registered, tmp_path):
    """The audit log restored under another HMAC key could never be verified again (and a new key
    made silently would chain on regardless): the restore stops before touching the database."""
    dest = _backup_dir(tmp_path)
    manifest = backup.backup(dest)
    assert manifest["audit_key"]["fingerprint"] == crypto.audit_key(create=False).fingerprint
    _alter(registered)
    for other in (crypto.generate_master(), None):
        with pytest.MonkeyPatch.context() as patch:
            if other:
                patch.setenv("JINDU_AUDIT_KEY", other)
            else:
                patch.delenv("JINDU_AUDIT_KEY", raising=False)
                patch.setattr(crypto, "audit_key_file", lambda: tmp_path / "no-such-dir" / "audit_key")
            crypto.reset_audit_key()
            try:
                with pytest.raises(CommandError, match="audit key|审计"):
                    call_command("restore", str(dest), "--replace")
                assert not (tmp_path / "no-such-dir").exists()
            finally:
                crypto.reset_audit_key()
        assert Person.objects.filter(pk=registered.pk, name="改过").exists()


def test_backup_is_refused_next_to_the_key(registered, settings):
    with pytest.raises(CommandError, match="field key|字段密钥"):
        call_command("backup", str(settings.DATA_DIR / "backup"))
    assert not (settings.DATA_DIR / "backup").exists()


def test_migrate_never_makes_a_key_over_encrypted_data(registered, tmp_path, settings, monkeypatch):
    monkeypatch.delenv("JINDU_FIELD_KEY", raising=False)
    settings.DATA_DIR = tmp_path / "restored-without-key"
    crypto.reset_keyring()
    try:
        with pytest.raises(crypto.MissingFieldKey):
            backup.ensure_field_key()
        assert not crypto.key_file().exists()
    finally:
        crypto.reset_keyring()


def test_migrate_makes_the_key_and_the_database_owner_only(tmp_path):
    """A new install: `jindu migrate` makes data/jindu.sqlite3 and data/field_key, both 0600, under
    a permissive umask."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "JINDU_FIELD_KEY")}
    env["JINDU_DATA_DIR"] = str(tmp_path / "data")
    command = "import os, sys; os.umask(0o022); from jindu.cli import main; main(['jindu', 'migrate', '-v', '0'])"
    subprocess.run([sys.executable, "-c", command], env=env, check=True, timeout=300)
    for name in ("jindu.sqlite3", "field_key", "secret_key"):
        assert (tmp_path / "data" / name).stat().st_mode & 0o777 == 0o600, name
