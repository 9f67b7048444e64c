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
