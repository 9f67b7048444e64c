import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core import importing


class Command(BaseCommand):
    help = "Import a ledger: `jindu import KIND FILE ...` (kinds: see --help)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="kind", required=True)
        for kind in importing.kinds().values():
            kind_parser = sub.add_parser(kind.name, help=kind.help)
            kind.add_arguments(kind_parser)

    def handle(self, *args, **options):
        kind = importing.kinds().get(options["kind"])
        if kind is None:
            raise CommandError(_("Unknown import kind %(kind)s.") % {"kind": options["kind"]})
        # call_command(..., stdout=buffer) passes the streams as options too; the wrapped ones win.
        options = {key: value for key, value in options.items() if key not in ("stdout", "stderr")}
        code = kind.handle(stdout=self.stdout, stderr=self.stderr, **options)
        if code:
            sys.exit(code)
