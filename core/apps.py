from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self):
        from django.db import models
        from django.db.backends.signals import connection_created

        from core import audit, audit_checkpoints, checks, services, sweep  # noqa: F401 (checks registers the system checks)
        from core.bulk import In, RelatedIn
        from core.navigation import MenuItem, register_admin_item
        from core.roles import Role

        models.Field.register_lookup(In)
        models.ForeignObject.register_lookup(RelatedIn)
        sweep.register("sessions", sweep.clear_expired_sessions)
        sweep.register("audit_retention", sweep.prune_audit_log)
        sweep.register("audit_checkpoint", audit_checkpoints.sweep)
        connection_created.connect(audit.register_sqlite_functions, dispatch_uid="jindu_audit_sqlite")
        sweep.register("break_glass_daily", services.break_glass_daily)
        register_admin_item(MenuItem(_("Audit log"), "core:audit_list", frozenset({Role.AUDIT_ADMIN})))
        register_admin_item(MenuItem(_("Audit checkpoints"), "core:audit_checkpoints", frozenset({Role.AUDIT_ADMIN})))
        register_admin_item(MenuItem(_("Role capabilities"), "core:capabilities",
                                     frozenset({Role.SECURITY_ADMIN})))
        register_admin_item(MenuItem(_("Break-glass accesses"), "core:break_glass_list",
                                     frozenset({Role.AUDIT_ADMIN})))
