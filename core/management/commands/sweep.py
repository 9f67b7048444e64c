import json

from django.core.management.base import BaseCommand

from core import sweep


class Command(BaseCommand):
    help = "Run the daily sweep now (re-evaluates rules, clears expired sessions …); idempotent."

    def handle(self, *args, **options):
        results = sweep.run_all()
        self.stdout.write(json.dumps(results, ensure_ascii=False, indent=1, default=str))
