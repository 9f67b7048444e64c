from django.db import migrations

# SQLite refuses UPDATE and DELETE on the audit log in the database, as the PostgreSQL trigger
# of 0002 does: a DELETE only while the connection prunes (core.audit.pruning: the function
# jindu_audit_prune(), registered on jindu's own connections, says so; another program opening
# the file has no such function, and its DELETE fails). A later migration that makes SQLite
# rebuild core_auditentry drops these triggers: it must create them again
# (core/tests/test_audit_sqlite.py checks they are in place).
SQLITE_TRIGGERS = [
    """CREATE TRIGGER core_auditentry_no_update BEFORE UPDATE ON core_auditentry
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER core_auditentry_no_delete BEFORE DELETE ON core_auditentry
       WHEN NOT jindu_audit_prune()
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS core_auditentry_no_update", "DROP TRIGGER IF EXISTS core_auditentry_no_delete"]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("core", "0006_audit_chain_keyed")]
    operations = [migrations.RunPython(create_triggers, drop_triggers)]
