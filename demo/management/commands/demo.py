from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from core.roles import Role
from demo import builders
from jurisdictions.models import Jurisdiction


class Command(BaseCommand):
    help = "Load the demo county 示范县 if the database is empty, and print the demo accounts."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="delete all data first, then load the demo")

    def handle(self, *args, **options):
        if options["reset"]:
            call_command("flush", interactive=False, verbosity=0)
        password = builders.demo_password()
        if builders.is_loaded():
            self.stdout.write("示范县演示数据已存在，直接使用。")
        else:
            with transaction.atomic():
                builders.build(password)
            self.stdout.write("已载入示范县演示数据。")
        self.stdout.write("")
        self.stdout.write("演示账号（密码相同）：")
        for account in builders.ACCOUNTS:
            place = Jurisdiction.objects.get(code=account.jurisdiction_code).name
            roles = "、".join(str(Role(r).label) for r in account.roles)
            self.stdout.write(f"  {account.username:<10} {account.full_name:<6} {place:<6} {roles}")
        self.stdout.write(f"  密码: {password}")
