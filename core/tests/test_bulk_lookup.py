"""core.bulk.key_set and the long ``__in``: the look-ups by long lists of keys (imports,
sweeps), on both databases."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import bulk
from jurisdictions.models import Jurisdiction


def _temporary_tables() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT relname FROM pg_class WHERE relpersistence = 't' AND relkind = 'r'")
        else:
            cursor.execute("SELECT name FROM sqlite_temp_master WHERE type = 'table'")
        return {row[0] for row in cursor.fetchall()}


def test_a_short_key_set_is_the_list_itself(tree):
    codes = list(Jurisdiction.objects.values_list("code", flat=True))
    with bulk.key_set(codes[:3] + codes[:1]) as keys:
        assert keys == codes[:3]  # duplicates once
        assert set(Jurisdiction.objects.filter(code__in=keys).values_list("code", flat=True)) == set(codes[:3])
    with bulk.key_set([]) as keys:
        assert not Jurisdiction.objects.filter(code__in=keys).exists()


def test_a_long_key_set_is_a_table_matched_like_in(tree):
    """From KEY_TABLE_MIN keys: a temporary table, matched as the list would be (text and
    integer keys, a join through a relation), and gone when the block ends."""
    codes = list(Jurisdiction.objects.values_list("code", flat=True))
    wanted = codes[::2] + [f"no-such-code-{n}" for n in range(bulk.KEY_TABLE_MIN)]
    pks = list(Jurisdiction.objects.values_list("pk", flat=True))
    numbers = pks[1::2] + list(range(max(pks) + 1, max(pks) + 1 + bulk.KEY_TABLE_MIN))
    before = _temporary_tables()
    with bulk.key_set(wanted) as codes_in, bulk.key_set(numbers) as pks_in:
        assert not isinstance(codes_in, list) and not isinstance(pks_in, list)
        assert len(_temporary_tables() - before) == 2
        assert (set(Jurisdiction.objects.filter(code__in=codes_in).values_list("pk", flat=True))
                == set(Jurisdiction.objects.filter(code__in=codes[::2]).values_list("pk", flat=True)))
        assert (set(Jurisdiction.objects.filter(pk__in=pks_in).values_list("pk", flat=True))
                == set(pks[1::2]))
        assert (set(Jurisdiction.objects.filter(parent__code__in=codes_in).values_list("pk", flat=True))
                == set(Jurisdiction.objects.filter(parent__code__in=codes[::2]).values_list("pk", flat=True)))
    assert _temporary_tables() == before


def test_an_error_inside_a_key_set_leaves_no_table(tree):
    before = _temporary_tables()
    with pytest.raises(ZeroDivisionError), bulk.key_set(range(bulk.KEY_TABLE_MIN)) as keys:
        list(Jurisdiction.objects.filter(pk__in=keys))
        1 / 0  # noqa: B018
    assert _temporary_tables() == before
    assert Jurisdiction.objects.exists()  # the connection is usable


def test_a_long_in_list_is_one_array_on_postgresql(tree):
    """Django's own ``__in``: above bulk.LONG_IN values PostgreSQL gets ``= ANY(array)``, so a
    list longer than the protocol's 65,535 parameters works with server-side binding."""
    pks = list(Jurisdiction.objects.values_list("pk", flat=True))
    count = 70_000 if connection.vendor == "postgresql" else 20_000  # SQLite allows 32,766 variables
    padded = pks + list(range(max(pks) + 1, max(pks) + 1 + count - len(pks)))
    with CaptureQueriesContext(connection) as queries:
        found = set(Jurisdiction.objects.filter(pk__in=padded).values_list("pk", flat=True))
        children = Jurisdiction.objects.filter(parent__in=padded).count()
    assert found == set(pks)
    assert children == Jurisdiction.objects.filter(parent__isnull=False).count()
    short = pks[:3]
    assert set(Jurisdiction.objects.filter(pk__in=short + [None]).values_list("pk", flat=True)) == set(short)
    if connection.vendor == "postgresql":
        assert all("= ANY(" in q["sql"] and " IN (" not in q["sql"] for q in queries.captured_queries)
        assert len(Jurisdiction.objects.in_bulk(padded)) == len(pks)
    else:
        assert all(" IN (" in q["sql"] for q in queries.captured_queries)


def test_bulk_statements_stay_within_the_parameter_limit(db):
    fields = Jurisdiction._meta.concrete_fields
    size = connection.ops.bulk_batch_size(fields, [None] * 100_000)
    limit = connection.features.max_query_params
    if connection.vendor == "postgresql":
        assert limit == 65_535  # the server binds the parameters (settings.DATABASES)
    assert size * len(fields) <= limit
