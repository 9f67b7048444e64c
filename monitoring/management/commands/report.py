"""`jindu report monthly --jurisdiction CODE --period 2024-06 --out FILE [--format xlsx|docx]`:
the monthly statistical report (xlsx) or the 毒情通报 (docx) of issue 6, as the dashboard's
download buttons make them, written by the command-line operator (every figure shown; audited)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core import audit
from core.models import AuditEntry
from jurisdictions.models import Jurisdiction
from monitoring import reports
from monitoring.periods import Period

DOCUMENTS = {"xlsx": "statistics", "docx": "bulletin"}


class Command(BaseCommand):
    help = "Generate a document: `report monthly --jurisdiction CODE --period 2024-06 --out FILE [--format xlsx|docx]`."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["monthly"], help="monthly: the statistical report or the bulletin")
        parser.add_argument("--jurisdiction", required=True, help="jurisdiction code, e.g. 990101")
        parser.add_argument("--period", required=True, help="2024-06, 2024-Q2, 2024 or 2024-01-01..2024-03-31")
        parser.add_argument("--out", required=True, type=Path, help="the file to write")
        parser.add_argument("--format", choices=sorted(DOCUMENTS), default=None,
                            help="xlsx (statistical report) or docx (毒情通报); default: from --out, else xlsx")

    def handle(self, *args, kind, jurisdiction, period, out: Path, format=None, **options):
        place = Jurisdiction.objects.filter(code=jurisdiction).first()
        if place is None:
            raise CommandError(_("No jurisdiction has the code %(code)s.") % {"code": jurisdiction})
        try:
            chosen = Period.parse(period)
        except ValueError as error:
            raise CommandError(str(error)) from None
        extension = format or (out.suffix.lstrip(".").lower() if out.suffix.lower() in (".xlsx", ".docx") else "xlsx")
        document = reports.build(DOCUMENTS[extension], place, chosen)
        try:
            out.write_bytes(document.content)
        except OSError as error:
            raise CommandError(str(error)) from None
        audit.record(AuditEntry.Action.EXPORT, actor=None, obj=place, object_repr=document.title,
                     changes={"document": DOCUMENTS[extension], "jurisdiction": place.code, "period": chosen.code,
                              "format": extension, "file": str(out)})
        self.stdout.write(_("%(title)s written to %(file)s.") % {"title": document.title, "file": out})
