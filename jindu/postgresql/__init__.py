"""jindu's PostgreSQL backend (base.py) and the one place statements are prepared.

Statements are not prepared by default (settings: a generic plan cannot see an area's path
prefix or its size, and took the province dashboard from 0.75 to 2.1 s). Statements that
look a row up by its key plan the same whatever the key, and the busiest pages run a dozen
of them on every request: ``prepared()`` marks such a block, and PostgreSQL parses and plans
each of its statements once per connection instead of on every request."""

import contextlib

from django.db import DEFAULT_DB_ALIAS, connections


@contextlib.contextmanager
def prepared(using: str = DEFAULT_DB_ALIAS):
    """Prepare every statement run in this block on the connection ``using`` (jindu's
    PostgreSQL backend; elsewhere nothing changes). Only for statements whose plan cannot
    depend on their parameters: look-ups by primary or foreign key, inserts. A statement
    prepared here is reused only inside such blocks; outside them the same text is planned
    afresh. The block opens no connection: one opened inside it prepares as well."""
    connection = connections[using]
    if not hasattr(connection, "preparing"):
        yield
        return
    connection.preparing += 1
    connection.apply_preparing()
    try:
        yield
    finally:
        connection.preparing -= 1
        connection.apply_preparing()
