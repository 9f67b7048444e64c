import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts import services
from accounts.models import MemberUnit
from core.roles import Role
from jurisdictions.models import Jurisdiction


class Command(BaseCommand):
    help = "Create an account as the command-line operator (audited as such)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--jurisdiction", required=True, help="jurisdiction code, e.g. 990101")
        parser.add_argument("--role", action="append", default=[], choices=Role.values, dest="roles",
                            help="repeat for several roles")
        parser.add_argument("--full-name", default="")
        parser.add_argument("--phone", default="")
        parser.add_argument("--member-unit", default=None, help="member unit name (for member-unit users)")
        parser.add_argument("--password-env", default="JINDU_NEW_PASSWORD",
                            help="read the password from this environment variable instead of prompting")

    def handle(self, *args, **options):
        try:
            jurisdiction = Jurisdiction.objects.get(code=options["jurisdiction"])
        except Jurisdiction.DoesNotExist:
            raise CommandError(_("Unknown jurisdiction code %(code)s.") % {"code": options["jurisdiction"]}) from None
        unit = None
        if options["member_unit"]:
            unit = MemberUnit.objects.filter(name=options["member_unit"]).first()
            if unit is None:
                raise CommandError(_("Unknown member unit %(name)s.") % {"name": options["member_unit"]})
        password = os.environ.get(options["password_env"]) or getpass.getpass(_("Password: "))
        try:
            user = services.do_create_user(
                username=options["username"], jurisdiction=jurisdiction, roles=options["roles"],
                full_name=options["full_name"], phone=options["phone"], member_unit=unit, password=password,
                acting_user=None,
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(f"{user.username}: {jurisdiction.name} {'、'.join(user.role_labels())}")
