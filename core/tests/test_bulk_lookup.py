"""core.bulk.AnyOf (``field__any_of``) and key_batches: the look-up the imports use for long
lists of keys, on both databases."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import bulk
from jurisdictions.models import Jurisdiction


def test_any_of_matches_like_in(tree):
    codes = list(Jurisdiction.objects.values_list("code", flat=True))
    wanted = codes[::2] + ["no-such-code"]
    assert (set(Jurisdiction.objects.filter(code__any_of=wanted).values_list("pk", flat=True))
            == set(Jurisdiction.objects.filter(code__in=wanted).values_list("pk", flat=True)))
    assert not Jurisdiction.objects.filter(code__any_of=[]).exists()
    parents = list(Jurisdiction.objects.filter(parent__isnull=False).values_list("parent_id", flat=True)[:2])
    assert (set(Jurisdiction.objects.filter(parent__any_of=parents).values_list("pk", flat=True))
            == set(Jurisdiction.objects.filter(parent__in=parents).values_list("pk", flat=True)))


def test_any_of_is_one_parameter_on_postgresql(tree):
    with CaptureQueriesContext(connection) as queries:
        list(Jurisdiction.objects.filter(code__any_of=[str(n) for n in range(3000)]))
    sql = queries.captured_queries[0]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and sql.count("'") < 100
    else:
        assert " IN (" in sql


def test_key_batches_cover_every_key_once(db):
    keys = list(range(120_001))
    batches = list(bulk.key_batches(keys))
    assert [k for batch in batches for k in batch] == keys
    assert max(len(b) for b in batches) == (50_000 if connection.vendor == "postgresql" else 2_000)


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
