"""Schemathesis against the API in-process (WSGI), signed in as the county office, with every
check (server errors, responses and status codes outside the schema, invalid requests accepted,
valid ones refused, auth ignored) on positive and negative data (issue 19, item 7). Bounded:
SCHEMATHESIS_EXAMPLES examples per operation (default 40), a deadline per example, so that the
run takes about a minute on two cores; `scripts/test.sh` runs it on SQLite only (-m schemathesis)."""

import os
from collections import Counter

import pytest
import schemathesis
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup

from accounts.tests.factories import UserFactory
from core.roles import Role
from persons.choices import ControlStatus
from persons.tests import people

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "40"))

pytestmark = pytest.mark.schemathesis


@pytest.fixture
def api_schema(tree):
    for n, village in enumerate(tree["villages"]):
        people.person(village, f"测试{n}", phone="13912345678")
        people.under_treatment(village, f"戒毒{n}", status=ControlStatus.COMMUNITY_TREATMENT)
    office = UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE])
    UserFactory(jurisdiction=tree["townships"][0], roles=[Role.TOWNSHIP])
    client = Client()
    client.force_login(office)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app,
                                           headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"})

    class SessionCookie:
        """The office's session, as the browser sends it (the schema's cookieAuth)."""

        def get(self, case, context):
            return session

        def set(self, case, data, context):
            case.cookies = {**(case.cookies or {}), settings.SESSION_COOKIE_NAME: data}

    schema.auth.auth(refresh_interval=None)(SessionCookie)
    return schema


def failures_of(operation, mode) -> dict[tuple[str, str], str]:
    """Every distinct failure (check's code and title, first line of its message) of ``EXAMPLES``
    cases of ``operation`` in ``mode``, with one request that shows it. Collected rather than
    stopped at, so one run counts them all (schemathesis' pytest loader does not run under pytest 9)."""
    found: dict[tuple[str, str], str] = {}

    @hypothesis_settings(max_examples=EXAMPLES, deadline=2000, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        try:
            case.call_and_validate()
        except (Failure, FailureGroup) as error:
            for failure in getattr(error, "exceptions", None) or [error]:
                first = (failure.message or "").strip().splitlines()[:1]
                key = (f"{failure.code} {failure.title}", first[0] if first else "")
                found.setdefault(key, f"{case.method} {case.formatted_path} query={case.query}")

    run()
    return found


def test_api_conforms_to_its_schema(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 9
    found = {}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for (kind, message), example in failures_of(operation, mode).items():
                found[(operation.label, mode.value, kind, message)] = example
    # Counted as schemathesis' own report counts them: one per operation and kind of failure.
    kinds = Counter(kind for _label, kind in {(label, kind) for label, _mode, kind, _message in found})
    summary = ", ".join(f"{kind}: {count}" for kind, count in sorted(kinds.items()))
    assert not found, f"{summary}\n" + "\n".join(f"{label} [{mode}] {kind}: {message}\n    e.g. {example}"
                                                for (label, mode, kind, message), example in sorted(found.items()))
