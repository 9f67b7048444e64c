"""core.services.save_versioned: optimistic locking (SPEC §4: no silent overwrite)."""

import pytest

from core.services import ConflictError, save_versioned
from jurisdictions.models import Jurisdiction


def _fresh(node):
    return Jurisdiction.objects.get(pk=node.pk)


def test_save_bumps_the_version_and_writes_only_the_named_fields(township):
    node = _fresh(township)
    before = node.updated_at
    node.name = "新名"
    node.code = "999999999"  # changed in memory but not named: not written
    save_versioned(node, 1, ["name"])
    assert node.version == 2
    stored = _fresh(township)
    assert (stored.name, stored.code, stored.version) == ("新名", township.code, 2)
    assert stored.updated_at == node.updated_at
    assert stored.updated_at > before


def test_stale_version_is_a_conflict_and_writes_nothing(township):
    first, second = _fresh(township), _fresh(township)
    first.name = "第一个"
    save_versioned(first, 1, ["name"])
    second.name = "第二个"
    with pytest.raises(ConflictError) as raised:
        save_versioned(second, 1, ["name"])
    assert raised.value.code == "conflict"
    assert second.version == 1  # the loser keeps the version it opened
    stored = _fresh(township)
    assert (stored.name, stored.version) == ("第一个", 2)


def test_a_future_version_is_a_conflict_too(township):
    node = _fresh(township)
    with pytest.raises(ConflictError):
        save_versioned(node, 5, ["name"])
    assert _fresh(township).version == 1


def test_without_an_expected_version_the_instance_version_is_used(township):
    node = _fresh(township)
    node.name = "一"
    save_versioned(node, None, ["name"])
    node.name = "二"
    save_versioned(node, None, ["name"])
    assert _fresh(township).version == 3
    stale = Jurisdiction.objects.get(pk=township.pk)
    stale.version = 2
    with pytest.raises(ConflictError):
        save_versioned(stale, None, ["name"])


def test_conflict_is_a_validation_error():
    from django.core.exceptions import ValidationError

    assert issubclass(ConflictError, ValidationError)
