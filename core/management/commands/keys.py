"""`jindu keys rotate`: re-encrypt every encrypted column and rebuild the blind indexes with a
new field key, without losing a row. `jindu keys status` counts values per key id."""

import os
from collections import Counter

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from core import audit, crypto
from core.fields import encrypted_fields, index_fields
from core.models import AuditEntry


def models_with_secrets():
    return [m for m in apps.get_models() if encrypted_fields(m) or index_fields(m)]


def key_ids_in_use() -> Counter:
    """How many stored values each key id encrypts (read from the raw columns)."""
    counts: Counter = Counter()
    with connection.cursor() as cursor:
        for model in models_with_secrets():
            for field in encrypted_fields(model):
                cursor.execute(f'SELECT "{field.column}" FROM "{model._meta.db_table}" '
                               f'WHERE "{field.column}" IS NOT NULL AND "{field.column}" <> \'\'')
                for (value,) in cursor.fetchall():
                    counts[crypto.key_id_of(value)] += 1
    return counts


def reencrypt_all(batch_size: int = 2000) -> int:
    """Read every row with the readable keys and write it back with the current key."""
    rows = 0
    for model in models_with_secrets():
        secret_fields = encrypted_fields(model)
        indexes = index_fields(model)
        names = [f.name for f in secret_fields] + [f.name for f in indexes]
        last_pk = None
        while True:  # in primary-key order, one batch in memory at a time
            batch = model._base_manager.only("pk", *names).order_by("pk")
            if last_pk is not None:
                batch = batch.filter(pk__gt=last_pk)
            objects = list(batch[:batch_size])
            if not objects:
                break
            for obj in objects:
                for index in indexes:
                    setattr(obj, index.attname, index.index_for(getattr(obj, index.source)))
            model._base_manager.bulk_update(objects, names)
            rows += len(objects)
            last_pk = objects[-1].pk
    return rows


class Command(BaseCommand):
    help = "Field encryption keys: `status`, or `rotate` to re-encrypt everything with a new key."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "rotate"])

    def handle(self, *args, action, **options):
        crypto.reset_keyring()
        if action == "status":
            current, readable = crypto.keyring()
            self.stdout.write(f"current key: {current.key_id}; readable: {', '.join(sorted(readable))}")
            for key_id, count in sorted(key_ids_in_use().items()):
                self.stdout.write(f"  {key_id}: {count}")
            return
        self.rotate()

    def rotate(self):
        path = crypto.key_file()
        from_env = bool(os.environ.get("JINDU_FIELD_KEY"))
        old_key = crypto.keyring()[0]
        if not from_env:
            # File-based key: make a new one and keep the old readable until every row moved.
            old_path = path.with_name("field_key.old")
            previous = old_path.read_text() if old_path.exists() else ""
            old_path.write_text(previous + path.read_text().strip() + "\n")
            old_path.chmod(0o600)
            path.write_text(crypto.generate_master())
            crypto.reset_keyring()
        new_key = crypto.keyring()[0]
        if new_key.key_id == old_key.key_id and from_env:
            self.stdout.write("JINDU_FIELD_KEY is the key in use; set the new key there and the old one in "
                              "JINDU_FIELD_KEYS_OLD, then run again. Re-encrypting with the current key.")
        try:
            with transaction.atomic():
                rows = reencrypt_all()
                remaining = {k: n for k, n in key_ids_in_use().items() if k != new_key.key_id}
                if remaining:
                    raise CommandError(f"values still under old keys: {remaining}")
                audit.record(AuditEntry.Action.SYSTEM, object_repr="field key rotation",
                             changes={"key": [old_key.key_id, new_key.key_id], "rows": rows})
        except Exception:
            if not from_env:  # put the files back: the database still uses the old key
                path.write_text(old_path.read_text().split()[-1])
                old_path.write_text(previous)
                crypto.reset_keyring()
            raise
        if not from_env:
            old_path.unlink()
            crypto.reset_keyring()
        self.stdout.write(f"re-encrypted {rows} rows: key {old_key.key_id} → {new_key.key_id}")
