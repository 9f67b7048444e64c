"""Queries of a fixed shape, compiled once and then run with new values (``Statement``).

Django builds a queryset's query and compiles it to SQL every time it is evaluated: for a
look-up by key that is most of its cost (measured at 100,000 persons: a person's substances
0.6–0.8 ms through the ORM, of which the database's answer is about 0.2 ms; the measures with
their executing jurisdiction 2 ms). The person page and the today list run a dozen such
look-ups on every request, whose SQL differs only in the key; they are the only users (a
figure of `make bench` each), everything else is a plain queryset. Django has no compiled-query cache (SQLAlchemy's "baked
queries" are the idea), so this module is one: a ``Statement`` builds its queryset once per
database connection with marker values in place of its arguments, keeps the compiled SQL and
where each argument went among the parameters, and afterwards runs that SQL with the real
values and turns the rows into what the queryset would have returned — model instances
(``select_related``, ``only`` and annotations included) or ``values_list`` tuples — with the
same converters Django would apply; or ``values()`` dicts.

What may be a statement: a queryset whose SQL cannot depend on its arguments' values. It is
built twice with different markers when first compiled, and refused (``ImproperlyConfigured``)
when the two SQL texts differ (a value written into the SQL, such as a slice bound), when an
argument does not reach the parameters unchanged (a ``startswith`` value), or when the
queryset prefetches, knows related objects, or yields something other than models, value
lists or value dicts. Arguments are integers (keys), strings or dates (``datetime.date``; a date
reaches the parameters as the database takes it, adapted to text on SQLite).

Scoping is not bypassed by this: a statement is for records reached through a row already read
through ``visible_to`` (a person's records by the person's key), or it is built inside a scope
(``core.scoping.ScopedStatement``).
"""

import datetime
from collections.abc import Callable

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesIterable,
    ValuesListIterable,
    get_related_populators,
)

# Markers: values no real key takes, within every integer column's range (Django refuses an
# out-of-range integer as an empty result before any SQL is written).
_INT_MARKERS = (2_000_000_000, 2_000_100_000)
_STR_MARKERS = ("\ue000jindu-statement-a-{}\ue000", "\ue000jindu-statement-b-{}\ue000")
_DATE_MARKERS = (datetime.date(1111, 1, 1), datetime.date(1222, 2, 2))  # no record is that old
PLANS = 4096  # compiled statements kept per connection


class Statement:
    """``Statement(build)``: ``build(*args)`` returns a queryset; calling the statement with
    the same arguments returns ``list(build(*args))``, without building or compiling the query
    again. Also a decorator: ``@Statement`` over a function that returns the queryset."""

    def __init__(self, build: Callable, using: str = DEFAULT_DB_ALIAS):
        self.build = build
        self.using = using
        self.__doc__ = getattr(build, "__doc__", None)
        self.__name__ = getattr(build, "__name__", "statement")

    def __repr__(self):
        return f"<Statement {self.__name__}>"

    def __call__(self, *args) -> list:
        connection = connections[self.using]
        # Compiled per connection: a connection belongs to one thread, and so do its compiled
        # statements (the compiler keeps the connection it compiled for).
        compiled = connection.__dict__.setdefault("jindu_statements", {})
        kinds = tuple(type(arg) for arg in args)
        plan = compiled.get((self, kinds))
        if plan is None:
            if len(compiled) >= PLANS:  # statements per scope (core.scoping): bounded
                compiled.clear()
            plan = compiled[(self, kinds)] = _Plan(self, connection, kinds)
        return plan.run(connection, args)


def _markers(kinds: tuple, variant: int) -> list:
    values = []
    for n, kind in enumerate(kinds):
        if kind is int:
            values.append(_INT_MARKERS[variant] + n)
        elif kind is str:
            values.append(_STR_MARKERS[variant].format(n))
        elif kind is datetime.date:
            values.append(_DATE_MARKERS[variant] + datetime.timedelta(days=n))
        else:
            raise ImproperlyConfigured(f"a statement's arguments are integers, strings or dates, not {kind.__name__}")
    return values


def _adapter(kind: type, connection):
    """How an argument of ``kind`` reaches the parameters: as it is, or (a date) as the
    database's operations adapt it (Django's SQLite backend sends dates as text)."""
    if kind is datetime.date:
        return connection.ops.adapt_datefield_value
    return None


class _Plan:
    """One statement compiled for one connection."""

    empty = False  # the queryset was .none(): no query at all

    def __init__(self, statement: Statement, connection, kinds: tuple):
        name = statement.__name__
        first, second = _markers(kinds, 0), _markers(kinds, 1)
        queryset = statement.build(*first)
        try:
            compiler, sql, params = _compile(queryset, connection, name)
        except EmptyResultSet:  # .none(): a scope that reaches no row of the model
            _compile_empty(statement.build(*second), connection, name)
            self.empty = True
            return
        _other, other_sql, other_params = _compile(statement.build(*second), connection, name)
        if other_sql != sql or len(other_params) != len(params):
            raise ImproperlyConfigured(f"statement {name}: its SQL depends on the arguments' values")
        # Where each argument goes: the positions that hold its marker (in both compilations),
        # as the database takes it (adapters[n]).
        adapters = [_adapter(kind, connection) for kind in kinds]
        first_seen = [adapt(marker) if adapt else marker for marker, adapt in zip(first, adapters, strict=True)]
        second_seen = [adapt(marker) if adapt else marker for marker, adapt in zip(second, adapters, strict=True)]
        self.slots = []
        for position, (value, other) in enumerate(zip(params, other_params, strict=True)):
            found = [n for n, marker in enumerate(first_seen) if _same(value, marker)]
            if found and _same(other, second_seen[found[0]]):
                self.slots.append((position, found[0], adapters[found[0]]))
            elif value != other:
                raise ImproperlyConfigured(f"statement {name}: an argument reaches parameter {position} changed")
        for n in range(len(first)):
            if not any(arg == n for _position, arg, _adapt in self.slots):
                raise ImproperlyConfigured(f"statement {name}: argument {n} is not a parameter of the query")
        self.sql, self.params = sql, list(params)
        self.compiler = compiler
        self.db = queryset.db
        self.col_count = compiler.col_count
        self.trim = compiler.has_extra_select
        fields = [s[0] for s in compiler.select[0:compiler.col_count]]
        if compiler.has_composite_fields(fields):
            raise ImproperlyConfigured(f"statement {name}: composite fields are not supported")
        self.converters = compiler.get_converters(fields)
        iterable = queryset._iterable_class
        self.kind = {ModelIterable: "models", ValuesListIterable: "tuples", FlatValuesListIterable: "flat",
                     ValuesIterable: "dicts"}.get(iterable)
        if self.kind is None:
            raise ImproperlyConfigured(f"statement {name}: only models, values_list and values, not {iterable.__name__}")
        query = queryset.query
        # ValuesIterable's names, in the order of the selected columns.
        self.names = [*query.extra_select, *query.values_select, *query.annotation_select]
        if self.kind == "tuples" and queryset._fields and (queryset.query.extra_select or
                                                           queryset.query.annotation_select):
            raise ImproperlyConfigured(f"statement {name}: values_list with annotations is not supported")
        if self.kind == "models":
            klass_info, select = compiler.klass_info, compiler.select
            self.model = klass_info["model"]
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            self.model_slice = slice(start, end)
            self.init_list = [f[0].target.attname for f in select[start:end]]
            self.related_populators = get_related_populators(klass_info, select, self.db)
            self.annotations = list(compiler.annotation_col_map.items())

    def run(self, connection, args) -> list:
        if self.empty:
            return []
        params = self.params.copy()
        for position, arg, adapt in self.slots:
            params[position] = adapt(args[arg]) if adapt else args[arg]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.trim:
            rows = [row[:self.col_count] for row in rows]
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        if self.kind == "tuples":
            return [tuple(row) for row in rows]
        if self.kind == "flat":
            return [row[0] for row in rows]
        if self.kind == "dicts":
            names = self.names
            return [dict(zip(names, row, strict=True)) for row in rows]
        objects = []
        from_db, db, init_list, fields = self.model.from_db, self.db, self.init_list, self.model_slice
        for row in rows:
            obj = from_db(db, init_list, row[fields])
            for populator in self.related_populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


def _compile(queryset, connection, name: str):
    if queryset._prefetch_related_lookups or queryset._known_related_objects:
        raise ImproperlyConfigured(f"statement {name}: prefetching and known related objects are not supported")
    if (queryset.db or DEFAULT_DB_ALIAS) != connection.alias:
        raise ImproperlyConfigured(f"statement {name}: the queryset is for another database")
    compiler = queryset.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    return compiler, sql, tuple(params)


def _compile_empty(queryset, connection, name: str) -> None:
    """The second compilation of a statement whose first was empty must be empty too."""
    try:
        _compile(queryset, connection, name)
    except EmptyResultSet:
        return
    raise ImproperlyConfigured(f"statement {name}: its SQL depends on the arguments' values")


def _same(value, marker) -> bool:
    return type(value) is type(marker) and value == marker
