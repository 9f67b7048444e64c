from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PersonsConfig(AppConfig):
    name = "persons"
    verbose_name = _("Registered persons")

    def ready(self):
        from core import sweep
        from persons import services

        sweep.register("person_flags", services.sweep_flags)
        sweep.register("person_risk", services.sweep_risk)
