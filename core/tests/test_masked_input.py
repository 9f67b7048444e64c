"""Numbers inside free text are masked, and a form that showed a masked value saves the stored
one where the mask came back as shown, never the mask itself (core.masking)."""

import pytest

from core.masking import mask_numbers, mask_phone, restore_masked

CONTACTS = "母亲 王芳 13912345678；父亲 139 0000 5678，3组12号"


@pytest.mark.parametrize("text, masked", [
    ("", ""),
    (None, ""),
    ("母亲 王芳", "母亲 王芳"),
    ("母亲 王芳 13912345678", "母亲 王芳 139****5678"),
    (CONTACTS, "母亲 王芳 139****5678；父亲 139 **** 5678，3组12号"),
    ("座机 0371-6612345", "座机 037*-***2345"),
    ("小号 1234567", "小号 *******"),
    ("住 3组12号 电话123456", "住 3组12号 电话123456"),  # six digits and fewer are not numbers
])
def test_numbers_in_a_text_are_masked_and_words_stay(text, masked):
    assert mask_numbers(text) == masked


@pytest.mark.parametrize("submitted, saved", [
    ("母亲 王芳 139****5678；父亲 139 **** 5678，3组12号", CONTACTS),  # as shown
    ("姐姐 王芳 139****5678；父亲 139 **** 5678，3组12号", CONTACTS.replace("母亲", "姐姐")),
    ("母亲 王芳 13700001111", "母亲 王芳 13700001111"),  # typed over: kept as typed
    ("", ""),
])
def test_a_masked_text_left_as_shown_gives_back_the_stored_numbers(submitted, saved):
    assert restore_masked(submitted, CONTACTS, mask_numbers) == saved


def test_two_numbers_with_the_same_mask_come_back_in_their_order():
    stored = "甲 13912345678 乙 13900005678"
    shown = mask_numbers(stored)
    assert shown == "甲 139****5678 乙 139****5678"
    assert restore_masked(shown.replace("甲", "丙"), stored, mask_numbers) == "丙 13912345678 乙 13900005678"
    # Three shown where two were stored: the third cannot be put back.
    with pytest.raises(ValueError):
        restore_masked(shown + " 丁 139****5678", stored, mask_numbers)


@pytest.mark.parametrize("submitted", ["139****5679", "1*9****5678", "139****", "*****5678"])
def test_a_mask_changed_by_hand_is_refused(submitted):
    with pytest.raises(ValueError):
        restore_masked(submitted, "13912345678", mask_phone)


def test_a_phone_left_as_shown_keeps_the_stored_one():
    assert restore_masked("139****5678", "13912345678", mask_phone) == "13912345678"
    assert restore_masked("13700002222", "13912345678", mask_phone) == "13700002222"
    assert restore_masked("", "13912345678", mask_phone) == ""
    assert restore_masked("", "", mask_phone) == ""
