"""`jindu backup DEST`: the database (SQLite's online backup, or pg_dump) and a manifest with the
field key's fingerprint into the new directory DEST, outside the data directory. The key is not
in the backup: keep it apart (docs/operations.md)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core import backup


class Command(BaseCommand):
    help = "Back the database up into a new directory (the field key is kept apart)."

    def add_arguments(self, parser):
        parser.add_argument("dest", help="a new or empty directory outside the data directory")

    def handle(self, *args, dest, **options):
        try:
            manifest = backup.backup(dest)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(_("%(dest)s: %(file)s (%(engine)s); field key %(key)s, kept apart from the backup")
                          % {"dest": dest, "file": manifest["database"], "engine": manifest["engine"],
                             "key": manifest["field_key"]["key_id"]})
