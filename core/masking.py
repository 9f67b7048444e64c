"""Masking (脱敏) of personal values for display and export (SPEC §4).

Pure functions; the templates and exporters call them through ``core.templatetags`` and the
export helpers, so a value is masked unless a role that may see it reveals it explicitly.
"""

import re

MASK = "*"


def mask_id_number(value: str | None) -> str:
    """``11010119900307123X`` → ``110101**********3X``: the area code and the last two kept.

    The birth date (digits 7–14) is hidden, and so is the sequence code (15–16): a birth date
    learnt elsewhere (the person's age as it turns, an acquaintance) then still leaves about ten
    numbers that fit the check digit, where keeping the last four left exactly one (issue 19).
    Pages show the age instead of the birth date for the same reason. The 17th digit says the
    sex, which is shown anyway."""
    if not value:
        return ""
    value = str(value)
    if len(value) < 12:
        return MASK * len(value)
    return value[:6] + MASK * (len(value) - 8) + value[-2:]


def mask_phone(value: str | None) -> str:
    """``13812345678`` → ``138****5678``; other lengths keep the first 3 and last 4 when long enough."""
    if not value:
        return ""
    value = str(value)
    if len(value) < 8:
        return MASK * len(value)
    return value[:3] + MASK * (len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str:
    """``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``: for aggregate contexts."""
    if not value:
        return ""
    value = str(value)
    return value[0] + MASK * (len(value) - 1) if len(value) > 1 else MASK


# ID numbers and phones inside free text (a search typed into the name box, a note, a file
# name, a reason): what the audit log keeps of any text (core.audit). A number is a run of
# digits not touching another digit nor a hexadecimal letter, so that hashes stay as they are;
# typed whole or in the usual groups (110101 19900307 123X, 138 1234 5678), in ASCII or
# full-width digits (which the ID number box accepts too).
_X = "XxＸｘ"
_D = "[0-9０-９]"  # ASCII and full-width digits, the two an office types
_NUMBERS = re.compile(
    rf"(?<![0-9A-Fa-f０-９])(?:"
    rf"(?P<id>{_D}{{17}}[0-9０-９{_X}]|{_D}{{6}}[ -]{_D}{{8}}[ -]{_D}{{3}}[0-9０-９{_X}]|{_D}{{15}})"
    rf"|(?P<phone>(?:\+?86[ -]?)?1[3-9]{_D}(?:{_D}{{8}}|[ -]{_D}{{4}}[ -]{_D}{{4}})|0{_D}{{2,3}}[ -]?{_D}{{7,8}})"
    rf")(?![0-9A-Fa-f０-９])")
# What every such number holds (seven digits in a row, or three groups), found in a fraction of
# the time: most texts (an import's 100,000 entries) have none and skip the search above.
_LIKELY = re.compile(rf"{_D}{{7}}|{_D}{{3,4}}[ -]{_D}{{4}}[ -]{_D}{{4}}")
# The same in UTF-8, by byte translation (a regular expression took ten times as long): digits
# become 0, spaces and hyphens -, the rest .; a full-width digit (rare) always takes the search.
_FULL_WIDTH_DIGIT = re.compile(rb"\xef\xbc[\x90-\x99]")
_SHAPES = bytes(48 if 48 <= b <= 57 else 45 if b in (32, 45) else 46 for b in range(256))


def redact_numbers(text: str) -> str:
    """``text`` with every ID number and phone number in it masked as their fields mask them:
    ``查询11010119900307123X`` → ``查询110101**********3X``."""
    if not _LIKELY.search(text):
        return text
    return _NUMBERS.sub(_redacted, text)


def may_hold_numbers(utf8: bytes) -> bool:
    """False when UTF-8 text certainly holds no number ``redact_numbers`` masks."""
    if b"\xef\xbc" in utf8 and _FULL_WIDTH_DIGIT.search(utf8):  # full-width forms, then their digits
        return True
    shapes = utf8.translate(_SHAPES)
    return b"0000000" in shapes or b"000-0000-0000" in shapes


def _redacted(match: re.Match) -> str:
    value = re.sub(r"[ -]", "", match.group(0))
    return mask_id_number(value) if match.group("id") else mask_phone(value)
