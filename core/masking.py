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


# A number inside free text (a family contact's phone): 7 or more digits, maybe grouped by
# spaces or dashes ("139 1234 5678"); shorter runs (a house number, an age) are not numbers.
NUMBER_IN_TEXT = re.compile(r"\d[\d -]{5,}[\dXx]")
# What a masked number leaves: a digit beside a mask character.
MASKED_DIGITS = re.compile(r"\d\*|\*\d")


def _mask_number(match: re.Match) -> str:
    run = match.group()
    digits = [i for i, char in enumerate(run) if char.isdigit() or char in "Xx"]
    if len(digits) < 7:
        return run
    kept = set(digits[:3] + digits[-4:]) if len(digits) >= 8 else set()
    return "".join(char if i in kept or i not in digits else MASK for i, char in enumerate(run))


def mask_numbers(value: str | None) -> str:
    """Every number of 7 digits or more in a text masked as ``mask_phone`` masks a phone:
    ``母亲 王芳 13912345678`` → ``母亲 王芳 139****5678``; the words stay."""
    if not value:
        return ""
    return NUMBER_IN_TEXT.sub(_mask_number, str(value))


def restore_masked(submitted: str, stored: str, mask) -> str:
    """What to save from a form field that showed ``mask(stored)``: the stored value when the
    shown text comes back as it was; in a text, each masked number left as shown is put back
    (the first such number shown for the first stored one, and so on); anything typed instead
    is kept as typed. Masked text is never saved: ValueError when some is left that cannot be
    put back (a masked number edited by hand)."""
    submitted, stored = submitted or "", stored or ""
    if submitted == mask(stored):
        return stored
    originals: dict[str, list[str]] = {}
    for match in NUMBER_IN_TEXT.finditer(stored):
        originals.setdefault(_mask_number(match), []).append(match.group())
    for shown, numbers in originals.items():
        if shown in numbers:  # not masked (too short): nothing to put back
            continue
        queue = iter(numbers)
        submitted = re.sub(re.escape(shown), lambda m, q=queue: next(q, m.group()), submitted)
    if MASKED_DIGITS.search(submitted):
        raise ValueError("masked digits left")
    return submitted


# 9 digits or more, with single spaces or hyphens between them as people type numbers
# ("110101 19900307 1234", "0851-12345678"), and an ID number's final X. Dates (8 digits) stay.
_NUMBER_RUN = re.compile(r"\d(?:[ \-]?\d){8,}(?:[ \-]?[Xx](?![A-Za-z]))?")


def mask_numbers_in(text) -> str:
    """``text`` with every run of digits long enough to be an ID number or a phone masked: as
    an ID number from 15 digits on, as a phone below. For messages that echo what a user typed or
    a file held (import row errors; file names in the audit log)."""
    text = "" if text is None else str(text)

    def masked(match):
        run = re.sub(r"[ \-]", "", match.group())
        return mask_id_number(run) if len(run) >= 15 else mask_phone(run)

    return _NUMBER_RUN.sub(masked, text)


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
