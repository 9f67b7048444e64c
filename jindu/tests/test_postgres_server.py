"""The throwaway PostgreSQL server of the tests and of `make bench` (jindu.testing.postgres):
its socket URL reaches the same database through the Unix socket, as Django reads it."""

import dj_database_url
import psycopg
import pytest

from jindu.testing import plugin


@pytest.mark.skipif(plugin._server is None, reason="needs the PostgreSQL test server")
def test_the_socket_url_reaches_the_server_through_its_unix_socket():
    server = plugin._server
    settings = dj_database_url.parse(server.socket_url)
    assert (settings["HOST"], settings["PORT"], settings["NAME"]) == (str(server.directory), server.port, "jindu")
    with psycopg.connect(server.socket_url) as over_socket, psycopg.connect(server.url) as over_tcp:
        # inet_server_addr() is the address the session came in on: none for a Unix socket.
        assert over_socket.execute("SELECT inet_server_addr()").fetchone()[0] is None
        assert str(over_tcp.execute("SELECT inet_server_addr()").fetchone()[0]) == "127.0.0.1"
        assert over_socket.execute("SELECT current_database()").fetchone()[0] == "jindu"
