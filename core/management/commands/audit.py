"""`jindu audit verify` walks the keyed chain and compares it with the checkpoints; `jindu audit
checkpoint` writes a signed checkpoint of the head (the daily sweep does it too); `jindu audit
prune` applies the retention period."""

import sys

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from core import audit, audit_checkpoints


class Command(BaseCommand):
    help = ("Audit log: `verify` the chain and its checkpoints (exit 1 naming the first problem), write a "
            "`checkpoint` of its head, or `prune` old entries.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "checkpoint", "prune"])
        parser.add_argument("--database", default="default")

    def handle(self, *args, action, database, **options):
        if action == "prune":
            count = audit.prune()
            self.stdout.write(_("pruned %(count)s entries older than %(days)s days") % {
                "count": count, "days": audit.retention_days()})
            return
        if action == "checkpoint":
            path = audit_checkpoints.write_head(using=database)
            self.stdout.write(_("checkpoint written: %(path)s") % {"path": path})
            return
        checked, problem = audit.verify(using=database)
        if problem is not None:
            self.stderr.write(_("audit chain broken at %(problem)s (%(checked)s entries verified before it)") % {
                "problem": problem, "checked": checked})
            sys.exit(1)
        self.stdout.write(_("audit chain intact: %(checked)s entries, agreeing with %(checkpoints)s checkpoints") % {
            "checked": checked, "checkpoints": len(audit_checkpoints.all_checkpoints())})
