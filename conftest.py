from pathlib import Path

import pytest

from jindu.testing.scope import ScopeMatrix
from jurisdictions.tests.factories import build_tree

SAMPLE_JURISDICTIONS = Path(__file__).parent / "jurisdictions" / "tests" / "samples" / "sample_jurisdictions.csv"


@pytest.fixture(autouse=True)
def _fresh_security_policy(monkeypatch):
    """SecurityPolicy.current() is cached per process; each test starts from its database and,
    unless it ages the cache itself, reads the policy once: a cache expiring in the middle of a
    counted request would add a query at random (CI once saw 11 queries against 10 on a slow run)."""
    from accounts.models import SecurityPolicy

    monkeypatch.setattr(SecurityPolicy, "CACHE_SECONDS", 10**9)
    SecurityPolicy.forget()
    yield
    SecurityPolicy.forget()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Fragments kept in the cache (the menu bar, a user's menu) are keyed by what they show;
    a test's rolled-back rows give their keys to the next test's rows, so each test starts
    with an empty cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def tree(db):
    return build_tree()


@pytest.fixture
def township(tree):
    return tree["townships"][0]


@pytest.fixture
def scope_matrix(township):
    return ScopeMatrix(township)


@pytest.fixture
def sample_csv() -> bytes:
    """shared/samples/sample_jurisdictions.csv: 演示省 → 演示市 → 示范县 → 2 townships → 8 villages."""
    return SAMPLE_JURISDICTIONS.read_bytes()


@pytest.fixture
def sample_tree(db, sample_csv):
    """The sample file imported by the command-line operator; returns the nodes by code."""
    from jurisdictions.importers import read_csv
    from jurisdictions.models import Jurisdiction
    from jurisdictions.services import do_import_jurisdictions

    do_import_jurisdictions(read_csv(sample_csv), acting_user=None, source="sample")
    return {j.code: j for j in Jurisdiction.objects.all()}


@pytest.fixture
def jurisdiction_table(db):
    """A callable returning every column of every jurisdiction, to prove that nothing changed."""
    from jurisdictions.models import Jurisdiction

    def snapshot():
        return list(Jurisdiction.objects.order_by("code").values_list(
            "code", "name", "level", "parent__code", "path", "depth", "county_code", "version", "updated_at"))

    return snapshot


@pytest.fixture(autouse=True)
def _audit_checkpoints(settings, tmp_path):
    """Each test writes and reads the audit checkpoints of its own database only."""
    settings.JINDU_AUDIT_DIR = tmp_path / "audit"
