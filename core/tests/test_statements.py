"""core.statements.Statement: the same rows as the queryset it was built from, one query a
call, compiled once per connection, and refused where the SQL would depend on the values."""

import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext

from core.statements import Statement
from jurisdictions.models import Jurisdiction


def _fields(objects) -> list:
    return [(o.pk, o.code, o.name, o.path, o.depth, o.parent_id, o.created_at, o.updated_at) for o in objects]


def test_models_as_the_queryset_gives_them(tree):
    @Statement
    def children(parent_id):
        return Jurisdiction.objects.filter(parent_id=parent_id).order_by("-code")

    county = tree["county"]
    expected = list(Jurisdiction.objects.filter(parent_id=county.pk).order_by("-code"))
    got = children(county.pk)
    assert len(expected) == 2 and _fields(got) == _fields(expected)
    assert all(type(o) is Jurisdiction and not o._state.adding and o._state.db == "default" for o in got)
    assert children(tree["villages"][0].pk) == []  # a leaf: no children


def test_select_related_only_and_annotations(tree):
    @Statement
    def with_parent(code):
        return (Jurisdiction.objects.filter(code=code).select_related("parent__parent").only(
            "code", "parent__code", "parent__parent__name").annotate(doubled=F("depth") * 2))

    village = tree["villages"][0]
    [got] = with_parent(village.code)
    with CaptureQueriesContext(connection) as queries:
        assert got.code == village.code and got.doubled == village.depth * 2
        assert got.parent.code == village.parent.code
        assert got.parent.parent.name == village.parent.parent.name
    assert not queries.captured_queries  # all of it came with the row
    assert got.get_deferred_fields() >= {"name", "path"}


def test_values_lists(tree):
    @Statement
    def rows(level):
        return Jurisdiction.objects.filter(level=level).order_by("code").values_list("code", "created_at")

    @Statement
    def codes(level):
        return Jurisdiction.objects.filter(level=level).order_by("code").values_list("code", flat=True)

    queryset = Jurisdiction.objects.filter(level="village").order_by("code")
    assert rows("village") == list(queryset.values_list("code", "created_at"))
    assert codes("village") == list(queryset.values_list("code", flat=True))
    assert isinstance(rows("village")[0], tuple)


def test_one_query_a_call_and_compiled_once_per_connection(tree):
    built = []

    @Statement
    def node(pk):
        built.append(pk)
        return Jurisdiction.objects.filter(pk=pk)

    for item in tree["villages"]:
        with CaptureQueriesContext(connection) as queries:
            assert node(item.pk)[0].code == item.code
        assert len(queries.captured_queries) == 1
    assert len(built) == 2  # once with each of the two markers, never with a real key
    assert tree["villages"][0].pk not in built

    def in_a_thread():
        try:
            node(tree["county"].pk)
        finally:
            connections["default"].close()

    if connection.vendor == "postgresql":  # SQLite's in-memory test database is not shared
        thread = threading.Thread(target=in_a_thread)
        thread.start()
        thread.join()
        assert len(built) == 4  # the thread's own connection compiled its own


def test_an_argument_used_twice_and_constants_kept(tree):
    @Statement
    def same(code):
        return Jurisdiction.objects.filter(code=code, level="county") | Jurisdiction.objects.filter(path__gt=code,
                                                                                                     code=code)

    county = tree["county"]
    assert [o.pk for o in same(county.code)] == [county.pk]
    assert same(tree["villages"][0].code) == []  # the constant 'county' is still there


@pytest.mark.parametrize("build, message", [
    (lambda n: Jurisdiction.objects.order_by("pk")[:n], "depends on the arguments"),  # LIMIT n in the SQL
    (lambda code: Jurisdiction.objects.filter(code__startswith=code), "changed"),
    (lambda depth: Jurisdiction.objects.filter(depth__gte=1) if depth > 2_000_050_000 else Jurisdiction.objects.all(),
     "depends on the arguments"),
    (lambda pk: Jurisdiction.objects.filter(depth=1), "not a parameter"),
    (lambda pk: Jurisdiction.objects.filter(pk=pk).values_list("code", named=True), "only models"),
    (lambda pk: Jurisdiction.objects.filter(pk=pk).prefetch_related("children"), "prefetching"),
    (lambda pk: Jurisdiction.objects.filter(pk=pk).annotate(n=Count("children")).values_list("code", "n"),
     "annotations"),
])
def test_refused_where_the_sql_depends_on_the_values(tree, build, message):
    argument = "98" if "code" in build.__code__.co_varnames else 3
    with pytest.raises(ImproperlyConfigured, match=message):
        Statement(build)(argument)


def test_an_empty_queryset_is_no_query(tree):
    nothing = Statement(lambda pk: Jurisdiction.objects.none().filter(pk=pk))
    with CaptureQueriesContext(connection) as queries:
        assert nothing(tree["county"].pk) == []
    assert not queries.captured_queries
    with pytest.raises(ImproperlyConfigured, match="depends on the arguments"):
        Statement(lambda pk: Jurisdiction.objects.none() if pk < 2_000_050_000 else Jurisdiction.objects.all())(1)


def test_arguments_are_keys_strings_or_dates(tree):
    import datetime

    with pytest.raises(ImproperlyConfigured, match="integers, strings or dates"):
        Statement(lambda when: Jurisdiction.objects.filter(created_at__lt=when))(datetime.datetime.now())


def test_values_dicts_with_annotations_and_date_arguments(tree):
    """``values()`` dicts with grouping, an aggregate filtered by a date argument and a date in
    the WHERE clause: the same dicts as the queryset, on either database (dates reach SQLite as
    text)."""
    import datetime

    from django.db.models import Max, Q

    from persons.models import StatusChange
    from persons.tests.people import person

    village = tree["villages"][0]
    for n, day in enumerate([datetime.date(2026, 1, 5), datetime.date(2026, 3, 1), datetime.date(2026, 6, 30)]):
        someone = person(village, name=f"人员{n}")
        StatusChange.objects.create(person=someone, status="community_treatment", changed_on=day)
        StatusChange.objects.create(person=someone, status="community_rehabilitation",
                                    changed_on=day + datetime.timedelta(days=40))

    def build(until, since):
        return (StatusChange.objects.filter(changed_on__lte=until).values("status")
                .annotate(last=Max("changed_on"), recent=Count("pk", filter=Q(changed_on__gte=since)))
                .order_by("status"))

    statement = Statement(build)
    for until, since in [(datetime.date(2026, 12, 31), datetime.date(2026, 3, 1)),
                         (datetime.date(2026, 3, 1), datetime.date(2026, 1, 1)),
                         (datetime.date(2025, 1, 1), datetime.date(2025, 1, 1))]:
        expected = list(build(until, since))
        assert statement(until, since) == expected
    assert expected == [] and statement(datetime.date(2026, 12, 31), datetime.date(2026, 3, 1))[0]["recent"] >= 1
