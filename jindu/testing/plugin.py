"""pytest plugin (loaded with ``-p jindu.testing.plugin``).

``JINDU_TEST_DB=postgres`` starts a throwaway PostgreSQL server before Django's settings are
read and points DATABASE_URL at it; the default is SQLite. Browser tests (marker
``browser``) are skipped unless ``JINDU_BROWSER_TESTS=1``, which `make test` sets for its
browser run.

``JINDU_TEST_START`` (an instant, e.g. ``2028-02-29T10:00+08:00``) runs the whole session on
a clock that starts there and ticks on (time-machine): how to find the tests and rules that
hold only on some days of the year. The database's own clock does not move, so the tests of
break-glass grants (which expire by the database's ``now()``) fail under it; nothing else
should. `make test` does not set it.
"""

import os
import tempfile

import pytest

_server = None
_clock = None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    global _server, _clock
    if os.environ.get("JINDU_TEST_START"):
        import datetime

        import time_machine

        _clock = time_machine.travel(datetime.datetime.fromisoformat(os.environ["JINDU_TEST_START"]), tick=True)
        _clock.start()
    os.environ["JINDU_TESTING"] = "1"
    os.environ.setdefault("JINDU_DATA_DIR", tempfile.mkdtemp(prefix="jindu-test-data-"))
    os.environ.setdefault("JINDU_TASK_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")
    # `jindu demo` and demo.builders.build() in tests: a small county (the scripted cases and a
    # few drawn persons) instead of about 2,300 persons.
    os.environ.setdefault("JINDU_DEMO_PERSONS", "40")
    if os.environ.get("JINDU_TEST_DB") == "postgres":
        from jindu.testing.postgres import TemporaryPostgres

        _server = TemporaryPostgres().start()
        os.environ["DATABASE_URL"] = _server.url
    else:
        os.environ.pop("DATABASE_URL", None)


def pytest_unconfigure(config):
    global _server, _clock
    if _server is not None:
        _server.stop()
        _server = None
    if _clock is not None:
        _clock.stop()
        _clock = None


def pytest_report_header(config):
    from django.conf import settings

    lines = [f"jindu database: {settings.DATABASES['default']['ENGINE']}"]
    if _clock is not None:
        lines.append(f"jindu clock: from {os.environ['JINDU_TEST_START']}, ticking (JINDU_TEST_START)")
    return lines


def pytest_collection_modifyitems(config, items):
    if os.environ.get("JINDU_BROWSER_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="browser tests run in `make test` (JINDU_BROWSER_TESTS=1)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


def pytest_configure(config):
    """The audit log's SQLite triggers (core migration audit_append_only_sqlite) refuse the
    DELETE with which Django empties the tables after a transactional test; that flush alone is
    let through, as pruning is (on PostgreSQL it is a TRUNCATE, which row triggers do not see).
    Any other flush (``jindu demo --reset``) must ask for it itself."""
    from django.test.testcases import TransactionTestCase

    teardown = TransactionTestCase._fixture_teardown

    def _fixture_teardown(self):
        from django.db import connections

        for connection in connections.all(initialized_only=True):
            connection.jindu_audit_prune = True
        try:
            return teardown(self)
        finally:
            for connection in connections.all(initialized_only=True):
                connection.jindu_audit_prune = False

    TransactionTestCase._fixture_teardown = _fixture_teardown
