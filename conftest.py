import pytest

from jindu.testing.scope import ScopeMatrix
from jurisdictions.tests.factories import build_tree


@pytest.fixture
def tree(db):
    return build_tree()


@pytest.fixture
def township(tree):
    return tree["townships"][0]


@pytest.fixture
def scope_matrix(township):
    return ScopeMatrix(township)
