"""The throwaway PostgreSQL server of jindu.testing.postgres (runs only with JINDU_TEST_DB=postgres)."""

import os
from pathlib import Path

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs the PostgreSQL test server"),
]


def _query(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def test_server_version_is_15_or_newer(db):
    version = _query("SHOW server_version")
    assert int(version.split(".")[0]) >= 15, version


def test_server_runs_as_a_non_root_user(db):
    """PostgreSQL refuses root; the harness runs it as the postgres system user when we are root."""
    backend_pid = _query("SELECT pg_backend_pid()")
    status = Path(f"/proc/{backend_pid}/status")
    assert status.exists(), "the test server runs on this machine"
    real_uid = int(next(line for line in status.read_text().splitlines() if line.startswith("Uid:")).split()[1])
    assert real_uid != 0
    if os.geteuid() == 0:
        import pwd

        assert pwd.getpwuid(real_uid).pw_name == os.environ.get("JINDU_PG_USER", "postgres")


def test_private_server_and_database(db):
    assert _query("SELECT current_database()") == "test_jindu"
    assert _query("SHOW fsync") == "off"  # the throwaway settings, not a machine's own cluster
    assert _query("SHOW server_encoding") == "UTF8"


def test_prefix_index_on_the_jurisdiction_path(db):
    """Subtree queries (path LIKE 'x/%') need varchar_pattern_ops under a non-C collation."""
    definition = _query("SELECT indexdef FROM pg_indexes WHERE indexname = 'jurisdiction_path_prefix'")
    assert "varchar_pattern_ops" in definition


def test_the_socket_url_reaches_the_server_through_its_unix_socket():
    """``socket_url`` (what `make bench` gives the application) is the same database through the
    Unix socket in the server's private directory, as Django reads the URL."""
    import dj_database_url
    import psycopg

    from jindu.testing import plugin

    server = plugin._server
    settings = dj_database_url.parse(server.socket_url)
    assert (settings["HOST"], settings["PORT"], settings["NAME"]) == (str(server.directory), server.port, "jindu")
    with psycopg.connect(server.socket_url) as over_socket, psycopg.connect(server.url) as over_tcp:
        # inet_server_addr() is the address the session came in on: none for a Unix socket.
        assert over_socket.execute("SELECT inet_server_addr()").fetchone()[0] is None
        assert str(over_tcp.execute("SELECT inet_server_addr()").fetchone()[0]) == "127.0.0.1"
