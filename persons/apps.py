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
        sweep.register("ledger_files", services.purge_ledger_files)

        from core import importing
        from persons import cli

        importing.register(importing.ImportKind(
            "persons", "persons ledger (台账): xlsx, xls, ods or CSV", cli.add_arguments, cli.handle))

        from core.navigation import MenuItem, register_item
        from core.roles import Role
        from persons.models import FILE_ROLES
        from persons.support import TASK_LIST_ROLES

        register_item("persons", MenuItem(_("Today list"), "persons:today", services.WRITER_ROLES))
        register_item("persons", MenuItem(_("Person list"), "persons:list", FILE_ROLES))
        register_item("persons", MenuItem(_("Support tasks"), "persons:support_tasks", TASK_LIST_ROLES))
        register_item("persons", MenuItem(_("New person file"), "persons:create", services.WRITER_ROLES))
        register_item("persons", MenuItem(_("Import a ledger"), "persons:import", services.WRITER_ROLES))
        register_item("persons", MenuItem(_("Check-in policy"), "persons:policy", frozenset({Role.OFFICE})))
        register_item("persons", MenuItem(_("Risk model"), "persons:risk_model", frozenset({Role.OFFICE})))
        # The leadership reads no file (SPEC §2): its persons line is the figures of the dashboard.
        register_item("persons", MenuItem(_("Figures of registered persons"), "monitoring:dashboard",
                                          frozenset({Role.LEADERSHIP})))
