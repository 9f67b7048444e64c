"""Backup and restore of the database (`jindu backup DEST`, `jindu restore SRC`), and the one
place the file-based field key is made (`jindu migrate`, ``ensure_field_key``).

A backup is a directory: the database (SQLite: a consistent copy through SQLite's online
backup API, taken while the server runs; PostgreSQL: ``pg_dump -Fc``) and ``manifest.json``
with the field key's fingerprint, never the key. The key is kept apart (docs/operations.md),
so a backup is refused inside the data directory, next to ``data/field_key``. A restore is
refused without the key, or with another key than the backup's, before the database is touched.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone
from django.utils.translation import gettext as _

from core import crypto

MANIFEST = "manifest.json"
FORMAT = 1
SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.dump"


class BackupError(Exception):
    """A backup or restore refused, with a message for the operator (in the UI language)."""


def encrypted_columns():
    """(table, column, encryption context) of every encrypted field of every model."""
    from django.apps import apps

    from core.fields import encrypted_fields

    return [(model._meta.db_table, field.column, field.crypto_context)
            for model in apps.get_models() for field in encrypted_fields(model)]


def holds_encrypted_values(using: str = "default") -> bool:
    tables = set(connections[using].introspection.table_names())
    with connections[using].cursor() as cursor:
        for table, column, _context in encrypted_columns():
            if table not in tables:
                continue
            cursor.execute(f'SELECT 1 FROM "{table}" WHERE "{column}" IS NOT NULL AND "{column}" <> \'\' LIMIT 1')
            if cursor.fetchone():
                return True
    return False


def ensure_field_key(using: str = "default", **kwargs) -> None:
    """After ``migrate``: make the file-based field key if there is none and the database holds
    no encrypted value yet (a new install). With encrypted values and no key (a database restored
    without its key) the migration stops with MissingFieldKey instead of making a key that
    reads nothing."""
    if os.environ.get("JINDU_FIELD_KEY") or crypto.key_file().exists():
        return
    if holds_encrypted_values(using):
        raise crypto.MissingFieldKey(crypto.key_file())
    crypto.create_key_file()


def _current_key() -> crypto.FieldKey:
    try:
        return crypto.keyring()[0]
    except crypto.MissingFieldKey as error:
        raise BackupError(str(error)) from None


def _current_audit_key() -> crypto.AuditKey:
    """The audit chain's key, never made here: a backup or a restore without it is refused."""
    try:
        return crypto.audit_key(create=False)
    except crypto.AuditKeyMissing as error:
        raise BackupError(_("The audit key %(path)s is missing (or JINDU_AUDIT_KEY): put back the key the "
                            "audit log was written with.") % {"path": error}) from None


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _postgres_env() -> tuple[dict, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")):
        if db.get(key):
            env[variable] = str(db[key])
    return env, db["NAME"]


def _postgres_tool(name: str) -> str:
    """pg_dump or pg_restore from JINDU_PG_BINDIR (the server's own version), else from PATH."""
    if bindir := os.environ.get("JINDU_PG_BINDIR"):
        return str(Path(bindir) / name)
    found = shutil.which(name)
    if not found:
        raise BackupError(_("%(tool)s was not found: install PostgreSQL's client programs or set "
                            "JINDU_PG_BINDIR.") % {"tool": name})
    return found


def _run(args: list[str], env: dict) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(_("%(tool)s failed: %(error)s") % {"tool": Path(args[0]).name,
                                                             "error": result.stderr.strip()})


def backup(dest: Path) -> dict:
    """Write the database and its manifest into the new directory ``dest``; return the manifest."""
    from core import audit
    from core.models import AuditEntry

    dest = Path(dest)
    data_dir = Path(settings.DATA_DIR)
    if _inside(dest, data_dir) or _inside(dest, crypto.key_file().parent):
        raise BackupError(_("A backup may not be written into the data directory %(dir)s, next to the field key: "
                            "keep the key and the backups apart.") % {"dir": data_dir})
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(_("%(dest)s is not empty: a backup goes into a new directory.") % {"dest": dest})
    key = _current_key()
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    audit.record(AuditEntry.Action.EXPORT, object_repr="database backup",
                 changes={"destination": str(dest), "key": key.key_id})
    if connection.vendor == "sqlite":
        name = SQLITE_FILE
        fd = os.open(dest / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        connection.ensure_connection()
        target = sqlite3.connect(dest / name)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
    elif connection.vendor == "postgresql":
        name = POSTGRES_FILE
        env, database = _postgres_env()
        os.close(os.open(dest / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        _run([_postgres_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--file={dest / name}", database], env)
    else:
        raise BackupError(f"no backup for the {connection.vendor} database")
    manifest = {
        "format": FORMAT, "engine": connection.vendor, "database": name, "sha256": _sha256(dest / name),
        "created": timezone.now().isoformat(), "field_key": {"fingerprint": crypto.fingerprint(key),
                                                             "key_id": key.key_id},
        "audit_key": {"fingerprint": _current_audit_key().fingerprint},
    }
    crypto.write_private(dest / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


def read_manifest(src: Path) -> dict:
    path = Path(src) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        raise BackupError(_("%(src)s is not a jindu backup: %(file)s is missing or unreadable.")
                          % {"src": src, "file": MANIFEST}) from None
    if manifest.get("format") != FORMAT:
        raise BackupError(_("%(src)s is a backup of another format.") % {"src": src})
    return manifest


def check_restorable(src: Path) -> dict:
    """The manifest of the backup at ``src`` if this machine can restore it: same database
    engine, the file intact, and the field key the backup was made with."""
    src = Path(src)
    manifest = read_manifest(src)
    if manifest["engine"] != connection.vendor:
        raise BackupError(_("This backup is of a %(engine)s database; DATABASE_URL names a %(vendor)s one.")
                          % {"engine": manifest["engine"], "vendor": connection.vendor})
    database = src / manifest["database"]
    if not database.exists() or _sha256(database) != manifest["sha256"]:
        raise BackupError(_("The database file of the backup is missing or altered (its SHA-256 differs)."))
    key = _current_key()
    if crypto.fingerprint(key) != manifest["field_key"]["fingerprint"]:
        raise BackupError(_("The field key here (%(here)s) is not the one the backup was made with (%(there)s): its "
                            "encrypted columns could not be read. Put back the backup's key, then restore.")
                          % {"here": key.key_id, "there": manifest["field_key"]["key_id"]})
    if "audit_key" in manifest and _current_audit_key().fingerprint != manifest["audit_key"]["fingerprint"]:
        raise BackupError(_("The audit key here is not the one the backup was made with: the restored audit log "
                            "could not be verified. Put back the backup's data/audit_key (or JINDU_AUDIT_KEY), then "
                            "restore."))
    return manifest


def restore(src: Path, *, replace: bool = False) -> dict:
    """Replace the database with the backup at ``src``, after ``check_restorable``. A database
    that already has tables is replaced only with ``replace``. Returns the manifest."""
    from core import audit
    from core.models import AuditEntry

    src = Path(src)
    manifest = check_restorable(src)
    if connection.introspection.table_names() and not replace:
        raise BackupError(_("The database is not empty: add --replace to overwrite it with the backup."))
    database = src / manifest["database"]
    if connection.vendor == "sqlite":
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        connection.ensure_connection()
        try:
            source.backup(connection.connection)
        finally:
            source.close()
    else:
        env, name = _postgres_env()
        connections.close_all()
        _run([_postgres_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", f"--dbname={name}", str(database)], env)
    connections.close_all()
    crypto.reset_keyring()
    _check_readable()
    audit.record(AuditEntry.Action.SYSTEM, object_repr="database restore",
                 changes={"backup": manifest["created"], "key": manifest["field_key"]["key_id"]})
    return manifest


def _check_readable() -> None:
    """Decrypt one stored value per encrypted column: the restored data reads with this key."""
    with connection.cursor() as cursor:
        for table, column, context in encrypted_columns():
            cursor.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL AND "{column}" <> \'\' '
                           f'LIMIT 1')
            row = cursor.fetchone()
            if row:
                try:
                    crypto.decrypt(row[0], context)
                except crypto.DecryptionError as error:
                    raise BackupError(_("The restored data does not read with this field key: %(error)s")
                                      % {"error": error}) from None

