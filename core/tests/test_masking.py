"""ID numbers and phones found in free text and masked (what the audit log keeps, issue 19)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import masking


@pytest.mark.parametrize(("text", "expected"), [
    ("查询11010119900307123X", "查询110101**********3X"),
    ("110101 19900307 123x", "110101**********3x"),
    ("１１０１０１１９９００３０７１２３Ｘ", "１１０１０１**********３Ｘ"),
    ("老号110101900307123", "老号110101*******23"),
    ("电话13812345678。", "电话138****5678。"),
    ("tel 138 1234 5678", "tel 138****5678"),
    ("座机0871-1234567", "座机087****4567"),
    # Not numbers of a person: dates, counts, hashes, a number inside a longer one.
    ("2024-01-01 至 2024-12-31", "2024-01-01 至 2024-12-31"),
    ("共 1234567 行", "共 1234567 行"),
    ("ab13812345678901234567890cd" * 2, "ab13812345678901234567890cd" * 2),
    ("1381234567890", "1381234567890"),
])
def test_numbers_in_text_are_masked(text, expected):
    assert masking.redact_numbers(text) == expected


TEXT = st.text(alphabet=st.sampled_from("0123456789０９ -Xx+ab张"), max_size=40)


@settings(max_examples=300, deadline=None, database=None)
@given(before=TEXT, number=st.from_regex(r"1[3-9][0-9]{9}|[0-9]{17}[0-9X]", fullmatch=True), after=TEXT)
def test_the_quick_test_never_misses_a_number(before, number, after):
    """``may_hold_numbers`` (the import's fast path) is True wherever ``redact_numbers`` masks."""
    for text in (before + number + after, before + after):
        if masking.redact_numbers(text) != text:
            assert masking.may_hold_numbers(text.encode())
