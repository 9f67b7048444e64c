from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self):
        from django.db import models
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from core import audit, audit_checkpoints, services, sweep  # noqa: F401 (they register signal receivers and tasks)
        from core.backup import ensure_field_key
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
        post_migrate.connect(ensure_field_key, sender=self, dispatch_uid="core.ensure_field_key")
        connection_created.connect(_private_sqlite_file, dispatch_uid="core.private_sqlite_file")


def _private_sqlite_file(sender, connection, **kwargs):
    """The SQLite file readable by its owner only (SQLite gives its -wal and -shm files the
    database file's mode)."""
    import os

    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict["NAME"])
    if name and name != ":memory:" and not name.startswith("file:") and os.path.exists(name):
        mode = os.stat(name).st_mode & 0o777
        if mode & 0o077:
            os.chmod(name, mode & 0o700)
