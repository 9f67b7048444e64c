"""`jindu audit verify` walks the hash chain; `jindu audit prune` applies the retention period."""

import sys

from django.core.management.base import BaseCommand

from core import audit


class Command(BaseCommand):
    help = "Audit log: `verify` the hash chain (exit 1 naming the first bad entry), or `prune` old entries."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "prune"])
        parser.add_argument("--database", default="default")

    def handle(self, *args, action, database, **options):
        if action == "prune":
            count = audit.prune()
            self.stdout.write(f"pruned {count} entries older than {audit.retention_days()} days")
            return
        checked, problem = audit.verify(using=database)
        if problem is not None:
            self.stderr.write(f"audit chain broken at {problem} ({checked} entries verified before it)")
            sys.exit(1)
        self.stdout.write(f"audit chain intact: {checked} entries")
