from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from demo import builders, province


class Command(BaseCommand):
    help = "Generate a province-sized data set (模拟省, code 980000) for scale tests: persons with years of history."

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=province.DEFAULT_PERSONS)
        parser.add_argument("--years", type=int, default=5, help="years of measures, plans and check-ins")
        parser.add_argument("--seed", type=int, default=province.SEED)
        parser.add_argument("--counties", type=int, default=None,
                            help="counties in the province (default: one per 1,000 persons, 2 to 100)")

    def handle(self, *args, **options):
        if options["persons"] < 1 or options["years"] < 1:
            raise CommandError(_("--persons and --years must be at least 1."))
        password = builders.demo_password()
        try:
            stats = province.generate(options["persons"], years=options["years"], seed=options["seed"],
                                      counties=options["counties"], password=password,
                                      progress=lambda message: self.stdout.write("  " + message))
        except ValueError as error:
            raise CommandError(str(error)) from None
        for key, value in sorted(stats.items()):
            self.stdout.write(f"  {key}: {value}")
        self.stdout.write(_("Accounts: office%(code)s, township…, worker…, police…, leader… (password: %(password)s)")
                          % {"code": province.PROVINCE_CODE, "password": password})
