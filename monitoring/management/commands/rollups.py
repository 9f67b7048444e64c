"""`jindu rollups rebuild [--jurisdiction CODE]`: recompute the rollups behind the indicators
(monitoring.rollups) from the records, for everything or one area; `jindu rollups verify
[--jurisdiction CODE]`: compare the stored rollups with a fresh computation and exit 1 on a
difference. The services keep rollups current; rebuild after records were written another way
(a restore, a bulk load) and after a migration that changes their columns."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core import audit
from core.models import AuditEntry
from jurisdictions.models import Jurisdiction
from monitoring import rollups


class Command(BaseCommand):
    help = "Rollups of the indicators: `rollups rebuild [--jurisdiction CODE]` or `rollups verify [--jurisdiction CODE]`."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild", "verify"])
        parser.add_argument("--jurisdiction", default=None, help="jurisdiction code (default: everything)")

    def handle(self, *args, action, jurisdiction=None, **options):
        node = None
        if jurisdiction:
            node = Jurisdiction.objects.filter(code=jurisdiction).first()
            if node is None:
                raise CommandError(_("No jurisdiction with code %(code)s.") % {"code": jurisdiction})
        if action == "rebuild":
            started = time.perf_counter()

            def progress(number, total, county_code):
                if number % 10 == 0 or number == total:
                    self.stdout.write(f"  {number}/{total} ({county_code or '-'})")

            result = rollups.rebuild(node, progress=progress)
            audit.record(AuditEntry.Action.SYSTEM, actor=None, obj=node,
                         object_repr=node.name if node else "rollups", changes={"rollups rebuilt": result})
            self.stdout.write(_("Rollups rebuilt for %(count)s jurisdictions in %(seconds).1f s.") % {
                "count": result["jurisdictions"], "seconds": time.perf_counter() - started})
            return
        roots = [node] if node else list(Jurisdiction.objects.filter(parent__isnull=True))
        differences = [d for root in roots for d in rollups.verify(root)]
        for line in differences[:50]:
            self.stdout.write(line)
        if differences:
            raise CommandError(_("%(count)s rollup rows differ from the records; run `jindu rollups rebuild`.")
                               % {"count": len(differences)})
        self.stdout.write(_("Rollups agree with the records."))
