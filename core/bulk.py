"""Writing many rows at once through the database's bulk path, for imports and sweeps.

On PostgreSQL rows go in with ``COPY … FROM STDIN``, their primary keys reserved first from the
table's own identity sequence (``nextval`` over ``generate_series``), so concurrent writers never
collide and no table lock is needed; on SQLite (one writer at a time) Django's ``bulk_create``
is already the fast path. Either way every value goes through its field's ``pre_save`` and
``get_db_prep_save`` as ``save()`` would: an ``EncryptedTextField`` encrypts, a
``BlindIndexField`` computes its index, ``auto_now_add`` stamps the time.

Callers are in a transaction (the service's); nothing here commits.
"""

import contextlib
import gc
import itertools
import json
import operator
import os
import pickle
import signal
import threading
import traceback

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import lookups
from django.db.models.expressions import ColPairs, RawSQL
from django.db.models.fields import related_lookups

BATCH = 5000
_DJANGO_JSON = DjangoJSONEncoder()
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


@contextlib.contextmanager
def gc_paused():
    """No cyclic garbage collection while a bulk job builds its many small objects: each
    collection would walk all of them again (an import of 20,000 rows ran about a fifth
    faster). What the job leaves behind is collected when it ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


LONG_IN = 1000  # values from which a PostgreSQL ``__in`` list goes as one array


class _ArrayWhenLong:
    """``__in`` with a long list of values on PostgreSQL: ``= ANY(array)``, one parameter.

    With the server binding parameters a statement carries at most 65,535 of them, and a
    sweep or an import reads by tens of thousands of keys; a long IN list is also slow to build
    and to plan. Short lists, sub-queries, SQLite and composite keys keep Django's IN."""

    def as_postgresql(self, compiler, connection):
        if (self.rhs_is_direct_value() and len(self.rhs) > LONG_IN and not self.bilateral_transforms
                and isinstance(getattr(self.lhs, "output_field", None), models.Field)
                and not isinstance(self.lhs, tuple | ColPairs)
                and not any(hasattr(v, "resolve_expression") for v in self.rhs)):
            lhs, lhs_params = self.process_lhs(compiler, connection)
            field = self.lhs.output_field
            values = [field.get_db_prep_value(v, connection, prepared=True) for v in self.rhs if v is not None]
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        return self.as_sql(compiler, connection)


class In(_ArrayWhenLong, lookups.In):
    pass


class RelatedIn(_ArrayWhenLong, related_lookups.RelatedIn):
    pass


KEY_TABLE_MIN = 10_000  # keys from which key_set fills a temporary table
_key_tables = itertools.count(1)


@contextlib.contextmanager
def key_set(values):
    """The right-hand side of an ``__in`` look-up for ``values``, however many: the list itself
    when it is short (a long ``__in`` is one array on PostgreSQL, ``In`` below), and from
    ``KEY_TABLE_MIN`` keys a temporary table holding them (filled by COPY on PostgreSQL), read
    as a sub-query and dropped when the block ends. The database then joins instead of parsing
    an array literal: 100,000 blind indexes against the province's files took 0.8–1.0 s as
    arrays, 0.2–0.3 s from the table. The block is a transaction (a savepoint inside one), so
    an error inside it leaves no table behind.

        with bulk.key_set(numbers) as numbers:
            Person.objects.filter(id_number_index__in=numbers)"""
    values = list(dict.fromkeys(values))
    if len(values) < KEY_TABLE_MIN:
        yield values
        return
    name = f"jindu_keys_{next(_key_tables)}"
    kind = "bigint" if all(type(v) is int for v in values) else "text"
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {name} (key {kind} NOT NULL)")
        copy_rows(name, ["key"], ((v,) for v in values))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {name}")  # temporary tables are never analysed on their own
        yield RawSQL(f"SELECT key FROM {name}", [])  # noqa: S611 (our own table name, no value)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {name}")


PARALLEL_MIN_ITEMS = 5000  # below this a forked process costs more than it saves


def parts(count: int, size: int) -> list[range]:
    """``range(count)`` cut into parts of ``size`` for ``forked_stream``; one part when the
    whole is smaller than ``PARALLEL_MIN_ITEMS``."""
    if count < PARALLEL_MIN_ITEMS:
        return [range(count)]
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


def _can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def forked_stream(fn, items: list, workers: int | None = None):
    """Yield ``fn(item)`` for each item in order, computed by forked children (``workers``, as
    many as the machine has cores; child k takes items k, k + workers, …) while this process
    works with the results already yielded (writes them to the database, say), so the two
    overlap and a large import uses every core. A child inherits what this process holds (no
    copying of the input), sends its results back pickled and leaves with ``os._exit``: it
    never touches the database (``fn`` must not query, and the inherited connection must not
    be closed by the child). A child's exception is raised here; no child is left behind.

    Only a single-threaded process forks (a thread holding a lock at the moment of the fork
    would leave it locked in the child); otherwise, and for a single item, it all runs here."""
    if len(items) <= 1 or not _can_fork():
        yield from (fn(item) for item in items)
        return
    workers = max(1, min(workers or os.cpu_count() or 1, len(items)))
    children = []  # (pid, reader)
    try:
        for number in range(workers):
            reader, writer = os.pipe()
            pid = os.fork()
            if pid == 0:  # a child
                for _pid, other in children:  # the earlier children's pipes are theirs
                    other.close()
                os.close(reader)
                _stream_child(fn, items[number::workers], writer)
            os.close(writer)
            children.append((pid, os.fdopen(reader, "rb")))
        for index in range(len(items)):
            pid, pipe = children[index % workers]
            size = pipe.read(8)
            data = pipe.read(int.from_bytes(size, "big")) if len(size) == 8 else b""
            if not data:
                raise RuntimeError(f"forked worker {pid} ended without a result")
            ok, value = pickle.loads(data)  # noqa: S301 (our own child's output)
            if not ok:
                raise RuntimeError(f"forked worker {pid} failed: {value}")
            yield value
    finally:
        for pid, pipe in children:
            pipe.close()  # a child still writing gets EPIPE and ends
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _stream_child(fn, items: list, writer: int):
    """A ``forked_stream`` child: each result, length first, to ``writer``; then ``os._exit``."""
    status = 0
    try:
        with os.fdopen(writer, "wb") as out:
            for item in items:
                try:
                    payload, failed = pickle.dumps((True, fn(item)), protocol=pickle.HIGHEST_PROTOCOL), False
                except BaseException as error:  # noqa: BLE001 (sent to the parent, raised there)
                    payload, failed = pickle.dumps(
                        (False, f"{type(error).__name__}: {error}\n{traceback.format_exc()}")), True
                out.write(len(payload).to_bytes(8, "big") + payload)
                out.flush()
                if failed:
                    break
    except BaseException:  # noqa: BLE001 (the parent reports a child that sent too little)
        status = 1
    finally:
        os._exit(status)


class JSONText(str):
    """Text that is JSON already: a JSON column takes it as it is (``json_text``)."""


def json_text(value, encoder=None) -> str:
    """A JSON column's text, as Django's JSONField would write it with ``encoder`` (orjson for
    Django's encoder, handing it dates, decimals and lazy text as ``json`` would)."""
    if type(value) is JSONText:
        return str(value)
    if encoder in (None, DjangoJSONEncoder):
        try:
            return orjson.dumps(value, default=_DJANGO_JSON.default, option=_ORJSON_OPTIONS).decode()
        except (TypeError, orjson.JSONEncodeError):
            pass
    return json.dumps(value, cls=encoder or DjangoJSONEncoder, ensure_ascii=False)


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
    real = connections[DEFAULT_DB_ALIAS]  # the proxy ``connection`` costs a lookup per use
    real.ensure_connection()
    preparers = _preparers(fields, real)
    copy_rows(model._meta.db_table, [f.column for f in fields],
              ([prepare(obj) for prepare in preparers] for obj in objects))
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objects


def reserve_ids_any(model, count: int) -> list[int]:
    """Fresh primary keys on either database. On SQLite the caller's transaction holds the write
    lock (``transaction_mode`` IMMEDIATE), so the keys after the largest one are free until it
    commits; insert them before reserving again for the same table."""
    if connection.vendor == "postgresql":
        return reserve_ids(model, count)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX({connection.ops.quote_name(model._meta.pk.column)}), 0) "
                       f"FROM {connection.ops.quote_name(model._meta.db_table)}")
        top = cursor.fetchone()[0]
    return list(range(top + 1, top + 1 + count))


class Rows:
    """Rows of one model as plain tuples, for millions of values without a model instance each.

    ``row(**values)`` takes field names (``person_id`` style for foreign keys) and fills every
    other column with its field's default, ``auto_now``/``auto_now_add`` with the time of the
    batch; encrypted fields are encrypted and blind indexes computed from their source, JSON
    is serialised. ``write()`` sends them (COPY on PostgreSQL, executemany on SQLite)."""

    def __init__(self, model, *, with_pk: bool = False):
        """``with_pk``: the caller gives each row its key (``reserve_ids_any``), so that other
        rows can point at it; otherwise the database assigns keys."""
        from django.utils import timezone

        from core.fields import BlindIndexField, EncryptedTextField

        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        self.rows: list[tuple] = []
        now = timezone.now()
        # A row is the field defaults overlaid with the given values (one dict merge, in C),
        # then the computed columns, then the columns picked in order by an itemgetter: a loop
        # over the fields in Python per row was two thirds of preparing an imported file.
        self._defaults: dict = {}
        self._computed: list = []  # (attname, function of the given values)
        for f in self.fields:
            if isinstance(f, BlindIndexField):
                self._computed.append((f.attname, _index_of(f, model._meta.get_field(f.source).attname)))
            elif isinstance(f, EncryptedTextField):
                self._computed.append((f.attname, _encrypted(f)))
            elif isinstance(f, models.JSONField):
                self._computed.append((f.attname, _json_of(f)))
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                self._defaults[f.attname] = now
            else:
                self._defaults[f.attname] = f.get_default()
        names = [f.attname for f in self.fields]
        self._pick = operator.itemgetter(*names) if len(names) > 1 else (lambda row, name=names[0]: (row[name],))

    @property
    def columns(self) -> list[str]:
        return [f.column for f in self.fields]

    def row(self, **values) -> tuple:
        """Add a row (see the class); returns it."""
        row = self.make(**values)
        self.rows.append(row)
        return row

    def make(self, **values) -> tuple:
        """The row's tuple, not kept (for rows streamed to ``copy_rows``)."""
        row = {**self._defaults, **values}
        for name, compute in self._computed:
            row[name] = compute(values)
        return self._pick(row)

    def export(self):
        """Take the rows so far for ``write(exported=…)`` in another process (a forked worker
        hands them back): COPY text on PostgreSQL, formatted here, or the tuples elsewhere."""
        rows, self.rows = self.rows, []
        if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
            return rows
        from psycopg._copy_base import TextFormatter  # what Copy.write_row formats with
        from psycopg.adapt import Transformer

        real = connections[DEFAULT_DB_ALIAS]
        formatter = TextFormatter(Transformer(real.connection))
        out = bytearray()
        for row in rows:
            out += formatter.write_row(row)
        out += formatter.end()
        return bytes(out)

    def write(self, batch_size: int = BATCH, exported=()) -> int:
        """Send the rows, and those ``export`` took (``exported``: its results), to the table."""
        columns = self.columns
        for part in exported:
            if isinstance(part, bytes):
                copy_text(self.model._meta.db_table, columns, part)
            else:
                self.rows.extend(part)
        rows, self.rows = self.rows, []
        return copy_rows(self.model._meta.db_table, columns, rows, batch_size)


def _index_of(field, source: str):
    """A blind index column: as given (the caller may have computed it), or from its source."""
    name = field.attname

    def compute(values):
        return values[name] if name in values else field.index_for(values.get(source, ""))

    return compute


def _encrypted(field):
    name = field.attname

    def compute(values):
        return field.get_prep_value(values.get(name, ""))

    return compute


def _json_of(field):
    name, encoder = field.attname, field.encoder

    def compute(values):
        return json_text(values.get(name, {}), encoder)

    return compute


@contextlib.contextmanager
def checked_as_written():
    """Foreign keys checked as each statement ends instead of at the commit (PostgreSQL; Django
    declares them DEFERRABLE INITIALLY DEFERRED): a large import's checks, a few hundred
    thousand, are made while its forked workers prepare the next part, not all at the commit
    after everything else. The rows must be written parents first. Deferred again after (after
    an error the transaction is rolled back, and the setting with it)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def copy_text(db_table: str, columns: list[str], data: bytes) -> None:
    """Send rows already in COPY's text format (``Rows.export``) to a table (PostgreSQL)."""
    if not data:
        return
    real = connections[DEFAULT_DB_ALIAS]
    real.ensure_connection()
    with real.connection.cursor() as cursor, cursor.copy(_copy_statement(real, db_table, columns)) as copy:
        for start in range(0, len(data), 1 << 20):
            copy.write(data[start:start + (1 << 20)])


def copy_rows(db_table: str, columns: list[str], rows, batch_size: int = BATCH) -> int:
    """Send plain tuples (values as the database takes them, in ``columns`` order) to a table:
    one COPY on PostgreSQL, executemany in batches on SQLite (dates adapted as Django's backend
    would). ``rows`` may be a generator: COPY sends as it goes, so the server stores the first
    rows while the caller is still computing the next ones."""
    real = connections[DEFAULT_DB_ALIAS]
    real.ensure_connection()
    count = 0
    rows = iter(rows)
    if real.vendor == "postgresql":
        first = next(rows, None)
        if first is None:
            return 0
        with real.connection.cursor() as cursor, cursor.copy(_copy_statement(real, db_table, columns)) as copy:
            copy.write_row(first)
            count = 1
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    names = ", ".join(real.ops.quote_name(c) for c in columns)
    marks = ", ".join("?" for _ in columns)
    while batch := list(itertools.islice(rows, batch_size)):
        real.connection.executemany(f"INSERT INTO {real.ops.quote_name(db_table)} ({names}) VALUES ({marks})",
                                    [tuple(_sqlite_value(real, v) for v in row) for row in batch])
        count += len(batch)
    return count


def _copy_statement(real, db_table: str, columns: list[str]) -> str:
    names = ", ".join(real.ops.quote_name(c) for c in columns)
    return f"COPY {real.ops.quote_name(db_table)} ({names}) FROM STDIN"


def _sqlite_value(real, value):
    """What Django's SQLite backend stores for a raw Python value."""
    import datetime

    if isinstance(value, datetime.datetime):
        return real.ops.adapt_datetimefield_value(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
