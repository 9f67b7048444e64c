"""Indexes for province scale (docs/scaling.md).

* ``planned_open_person_due``: a person's open planned check-ins by due date, with the measure
  (covering, so that the overdue filter and the today list probe each person from the index alone).
* On PostgreSQL only, a pg_trgm GIN index on ``persons_person.name`` for the name search
  (``name LIKE '%…%'``, PersonFilterSet.filter_name) when a search spans more than one county.
  It is not part of the model state (Django's GinIndex would be created on SQLite too), so it is
  made and dropped here by SQL. The pinyin-initials prefix search already has its index:
  ``name_initials`` has db_index, for which Django makes a ``varchar_pattern_ops`` twin
  (``…_like``) on PostgreSQL, as for ``jurisdictions_jurisdiction.path``.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

NAME_TRIGRAM_INDEX = "person_name_trgm"


def create_name_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {NAME_TRIGRAM_INDEX} ON persons_person USING gin (name gin_trgm_ops)")


def drop_name_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME_TRIGRAM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("persons", "0002_ledger_import"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="plannedcheckin",
            index=models.Index(condition=models.Q(("done__isnull", True)), fields=["person", "due_on"],
                               include=["measure"], name="planned_open_person_due"),
        ),
        TrigramExtension(),  # CREATE EXTENSION IF NOT EXISTS pg_trgm; nothing on other databases
        migrations.RunPython(create_name_trigram_index, drop_name_trigram_index, elidable=False),
    ]
