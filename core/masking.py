"""Masking (脱敏) of personal values for display and export (SPEC §4).

Pure functions; the templates and exporters call them through ``core.templatetags`` and the
export helpers, so a value is masked unless a role that may see it reveals it explicitly.
"""

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
