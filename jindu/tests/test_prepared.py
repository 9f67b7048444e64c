"""jindu.postgresql.prepared(): statements inside the block are prepared on PostgreSQL, the
same statements outside it are not, and nothing changes on SQLite."""

import pytest
from django.db import connection

from core.models import AuditAnchor
from jindu.postgresql import prepared
from jurisdictions.models import Jurisdiction


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _mentions(table: str) -> list[str]:
    return [sql for sql in _prepared_statements() if f'FROM "{table}"' in sql]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs the PostgreSQL test server")
def test_statements_in_the_block_are_prepared_and_reused(tree):
    county = Jurisdiction.objects.get(code=tree["county"].code)
    list(Jurisdiction.objects.filter(parent=county))
    assert _mentions("jurisdictions_jurisdiction") == [], "outside a block nothing is prepared"
    with prepared():
        first = list(Jurisdiction.objects.filter(parent=county))
        with prepared():  # nested blocks keep preparing
            list(AuditAnchor.objects.filter(pk=1))
        assert connection.connection.prepare_threshold == 0
        second = list(Jurisdiction.objects.filter(parent=tree["townships"][0].parent))
    assert first == second
    assert len(_mentions("jurisdictions_jurisdiction")) == 1, "the same text is prepared once"
    assert len(_mentions("core_auditanchor")) == 1
    assert connection.connection.prepare_threshold is None, "the settings' threshold is back"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs the PostgreSQL test server")
@pytest.mark.django_db(transaction=True)
def test_a_connection_opened_inside_the_block_prepares():
    connection.close()
    with prepared():
        list(Jurisdiction.objects.filter(pk=1))
        assert connection.connection.prepare_threshold == 0
    assert len(_mentions("jurisdictions_jurisdiction")) == 1
    assert connection.connection.prepare_threshold is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs the PostgreSQL test server")
def test_an_error_in_the_block_restores_the_threshold(tree):
    with pytest.raises(ZeroDivisionError), prepared():
        list(Jurisdiction.objects.filter(pk=tree["county"].pk))
        1 / 0  # noqa: B018
    assert connection.connection.prepare_threshold is None


def test_nothing_changes_elsewhere(tree):
    with prepared():
        assert Jurisdiction.objects.filter(pk=tree["county"].pk).exists()
    assert Jurisdiction.objects.filter(pk=tree["county"].pk).exists()
