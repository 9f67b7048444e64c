"""Masking (脱敏) of personal values for display and export (SPEC §4).

Pure functions; the templates and exporters call them through ``core.templatetags`` and the
export helpers, so a value is masked unless a role that may see it reveals it explicitly.
"""

import re

MASK = "*"


def mask_id_number(value: str | None) -> str:
    """``110101199003071234`` → ``110101********1234`` (area code and last four kept)."""
    if not value:
        return ""
    value = str(value)
    if len(value) <= 10:
        return MASK * len(value)
    return value[:6] + MASK * (len(value) - 10) + value[-4:]


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
