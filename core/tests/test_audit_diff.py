"""core.audit.diff: the before/after that services write into the audit log."""

import pytest

from core.audit import diff


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ({}, {}, {}),
        ({"name": "甲"}, {"name": "甲"}, {}),
        ({"name": "甲"}, {"name": "乙"}, {"name": ["甲", "乙"]}),
        ({}, {"name": "乙"}, {"name": [None, "乙"]}),
        ({"name": "甲", "phone": "1"}, {"name": "甲"}, {}),  # only the keys of ``after`` count
        ({"active": True}, {"active": False}, {"active": [True, False]}),
        ({"n": 0}, {"n": None}, {"n": [0, None]}),
        ({"roles": ["a"]}, {"roles": ["a", "b"]}, {"roles": [["a"], ["a", "b"]]}),
        ({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 5, "c": 3}, {"b": [2, 5]}),
    ],
)
def test_diff(before, after, expected):
    assert diff(before, after) == expected


def test_diff_masks_sensitive_values():
    def mask(value):
        return None if value is None else value[:3] + "****"

    changes = diff({"phone": "13800001111", "name": "甲"}, {"phone": "13900002222", "name": "乙"},
                   masks={"phone": mask})
    assert changes == {"phone": ["138****", "139****"], "name": ["甲", "乙"]}
    assert "13800001111" not in str(changes)
