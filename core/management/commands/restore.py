"""`jindu restore SRC [--replace]`: put back a backup made by `jindu backup`, after checking that
the field key here is the backup's (its fingerprint) — without it, or with another, nothing is
touched. Stop the server first."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core import backup


class Command(BaseCommand):
    help = "Restore a backup made by `jindu backup` (needs the backup's field key)."

    def add_arguments(self, parser):
        parser.add_argument("src", help="the backup's directory")
        parser.add_argument("--replace", action="store_true", help="overwrite a database that is not empty")

    def handle(self, *args, src, replace, **options):
        try:
            manifest = backup.restore(src, replace=replace)
        except backup.BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(_("%(src)s: restored the backup of %(created)s (field key %(key)s)")
                          % {"src": src, "created": manifest["created"], "key": manifest["field_key"]["key_id"]})
