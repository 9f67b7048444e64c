"""The database's bulk path for generated data: COPY on PostgreSQL, executemany on SQLite.

Primary keys are assigned here, not by the database, so that rows can point at each other
before they are written (a check-in at its measure, a plan item at the check-in that closed
it) and millions of rows go in without a round trip each. The tables written to are locked
for the transaction on PostgreSQL (nobody else inserts meanwhile), and their identity
sequences are moved past the last key at the end.

Rows come in two shapes:

* model instances (``add``): every value goes through the field's own ``pre_save`` and
  ``get_db_prep_save``, exactly as ``Model.save``/``bulk_create`` would — an
  ``EncryptedTextField`` encrypts, a ``BlindIndexField`` computes its index, ``auto_now``
  stamps the time;
* plain tuples (``add_row``) for the millions of check-ins and plan items, in the column
  order given to ``Table``, checked against the model so a schema change fails loudly.
"""

import datetime

from django.db import connection

from core.bulk import copy_rows


class Table:
    def __init__(self, model, fields: list[str] | None = None):
        self.model = model
        self.db_table = model._meta.db_table
        concrete = model._meta.concrete_fields
        if fields is None:
            self.fields = list(concrete)
        else:
            self.fields = [model._meta.get_field(name) for name in fields]
            missing = {f.name for f in concrete} - {f.name for f in self.fields}
            if missing:
                raise ValueError(f"{model._meta.label}: tuple rows leave out {sorted(missing)}")
        self.columns = [f.column for f in self.fields]
        self.rows: list[tuple] = []
        self.next_id = 1
        self.written = 0


class BulkWriter:
    """Buffers rows per table and writes them in big batches on ``flush``/``close``."""

    BATCH = 20_000

    def __init__(self, tables: list[Table]):
        self.tables = {t.model: t for t in tables}
        self.postgres = connection.vendor == "postgresql"
        self.now = datetime.datetime.now(datetime.UTC)
        if self.postgres:
            with connection.cursor() as cursor:
                names = ", ".join(connection.ops.quote_name(t.db_table) for t in tables)
                cursor.execute(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table.db_table)}")
                table.next_id = cursor.fetchone()[0] + 1

    def table(self, model) -> Table:
        return self.tables[model]

    def new_id(self, model) -> int:
        table = self.tables[model]
        pk = table.next_id
        table.next_id += 1
        return pk

    def add(self, obj):
        """A model instance; its primary key is assigned if it has none."""
        table = self.tables[type(obj)]
        if obj.pk is None:
            obj.pk = self.new_id(type(obj))
        values = tuple(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in table.fields)
        table.rows.append(values)
        if len(table.rows) >= self.BATCH:
            self._write(table)
        return obj

    def add_row(self, model, row: tuple):
        table = self.tables[model]
        table.rows.append(row)
        if len(table.rows) >= self.BATCH:
            self._write(table)

    def flush(self):
        for table in self.tables.values():
            self._write(table)

    def close(self):
        """Write what is left and move each identity sequence past the keys used."""
        self.flush()
        if self.postgres:
            with connection.cursor() as cursor:
                for table in self.tables.values():
                    cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)",
                                   [table.db_table, table.next_id])

    def counts(self) -> dict[str, int]:
        return {t.model._meta.label: t.written for t in self.tables.values()}

    def _write(self, table: Table):
        rows, table.rows = table.rows, []
        table.written += copy_rows(table.db_table, table.columns, rows)
