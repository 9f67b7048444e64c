"""Writing many rows at once through the database's bulk path, for imports and sweeps.

On PostgreSQL rows go in with ``COPY … FROM STDIN``, their primary keys reserved first from the
table's own identity sequence (``nextval`` over ``generate_series``), so concurrent writers never
collide and no table lock is needed; on SQLite (one writer at a time) Django's ``bulk_create``
is already the fast path. Either way every value goes through its field's ``pre_save`` and
``get_db_prep_save`` as ``save()`` would: an ``EncryptedTextField`` encrypts, a
``BlindIndexField`` computes its index, ``auto_now_add`` stamps the time.

Callers are in a transaction (the service's); nothing here commits.
"""

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

BATCH = 5000
# Fields whose Python value psycopg takes as it is: ``pre_save`` is enough (the generic
# ``get_db_prep_save`` chain costs a few microseconds per value, which adds up over millions).
_PLAIN = frozenset({models.CharField, models.TextField, models.BooleanField, models.IntegerField,
                    models.BigIntegerField, models.SmallIntegerField, models.PositiveIntegerField,
                    models.PositiveBigIntegerField, models.PositiveSmallIntegerField, models.DateField,
                    models.DateTimeField, models.AutoField, models.BigAutoField})


def _preparers(fields, real):
    def plain(field):
        return lambda obj: field.pre_save(obj, True)

    def key(field):
        return lambda obj: getattr(obj, field.attname)

    def prepared(field):
        return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), real)

    return [plain(f) if type(f) in _PLAIN else key(f) if isinstance(f, models.ForeignKey) else prepared(f)
            for f in fields]


def reserve_ids(model, count: int) -> list[int]:
    """``count`` fresh primary keys from the table's sequence (PostgreSQL only)."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [model._meta.db_table, model._meta.pk.column, count])
        return [row[0] for row in cursor.fetchall()]


def insert(model, objects: list, batch_size: int = BATCH) -> list:
    """Insert model instances; afterwards each has its primary key. Returns ``objects``."""
    if not objects:
        return objects
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objects, batch_size=batch_size)
    missing = [obj for obj in objects if obj.pk is None]
    for obj, pk in zip(missing, reserve_ids(model, len(missing)), strict=True):
        obj.pk = pk
    fields = list(model._meta.concrete_fields)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    real = connections[DEFAULT_DB_ALIAS]  # the proxy ``connection`` costs a lookup per use
    real.ensure_connection()
    preparers = _preparers(fields, real)
    for start in range(0, len(objects), batch_size):
        batch = objects[start:start + batch_size]
        with real.connection.cursor() as cursor, cursor.copy(statement) as copy:
            for obj in batch:
                copy.write_row([prepare(obj) for prepare in preparers])
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objects
