import unicodedata

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from core import audit, audit_checkpoints
from core.roles import Role
from demo import builders
from jurisdictions.models import Jurisdiction


class Command(BaseCommand):
    help = "Load the demo county 示范县 if the database is empty, and print the demo accounts."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="delete all data first, then load the demo")
        parser.add_argument("--persons", type=int, default=None,
                            help="how many registered persons (default: JINDU_DEMO_PERSONS or 2300)")

    def handle(self, *args, **options):
        if options["reset"]:
            # The demo's reset deletes the audit log too, which the database refuses but to a
            # pruning (on SQLite; PostgreSQL's flush is a TRUNCATE), and the checkpoints of
            # that log, which a new chain would contradict.
            with transaction.atomic(), audit.pruning():
                call_command("flush", interactive=False, verbosity=0)
            for checkpoint in audit_checkpoints.all_checkpoints():
                (audit_checkpoints.directory() / checkpoint.name).unlink()
        password = builders.demo_password()
        if builders.is_loaded():
            self.stdout.write(_("The demo county is already loaded; using it as it is."))
        else:
            count = options["persons"] if options["persons"] is not None else builders.persons_default()
            self.stdout.write(_("Loading the demo county with %(count)d registered persons …") % {"count": count})
            with transaction.atomic():
                builders.build(password, count, progress=self._progress)
            self.stdout.write(_("The demo county has been loaded."))
        self.stdout.write("")
        self.stdout.write(_("Demo accounts (all with the same password):"))
        for account in builders.ACCOUNTS:
            place = Jurisdiction.objects.get(code=account.jurisdiction_code).name
            roles = "、".join(str(Role(r).label) for r in account.roles)
            self.stdout.write(f"  {_pad(account.username, 10)} {_pad(account.full_name, 12)} {_pad(place, 8)} {roles}")
        self.stdout.write("  " + _("Password: %(password)s") % {"password": password})
        self.stdout.write("  " + _("The three administrators set up a second factor (an authenticator app on a phone) "
                                   "at their first login."))

    def _progress(self, done: int, total: int, seconds: float):
        self.stdout.write("  " + _("%(done)d of %(total)d persons written (%(seconds).0f s)") % {
            "done": done, "total": total, "seconds": seconds})


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal, where a Chinese character takes two columns."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - columns)
