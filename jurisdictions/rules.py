"""Rules for jurisdiction codes: GB/T 2260 (6 digits down to county) and the 12-digit
statistical division codes (统计用区划代码: 9 digits for a township, 12 for a village).
Grid codes are not national; they extend the village code with 1–8 more digits.

Each function is pure and returns a Chinese message, or None when the value is valid.
"""

import re

from django.utils.translation import gettext as _

from jurisdictions.choices import LEVEL_ORDER, Level

# How many leading digits of a node's code its descendants share.
PREFIX_LENGTH = {
    Level.PROVINCE: 2,
    Level.CITY: 4,
    Level.COUNTY: 6,
    Level.TOWNSHIP: 9,
    Level.VILLAGE: 12,
    Level.GRID: 20,
}

# ASCII only: ``\d`` would also accept full-width digits (９９０１０１), which a Chinese input
# method easily produces and which no prefix or lookup would then match.
_DIGITS = re.compile(r"[0-9]+")


def code_error(code: str, level: str) -> str | None:
    """The code's shape for its level."""
    if not code:
        return _("The code is empty.")
    if not _DIGITS.fullmatch(code):
        return _("The code may contain digits only.")
    if level == Level.PROVINCE:
        if len(code) != 6 or not code.endswith("0000"):
            return _("A province code has 6 digits ending in 0000.")
    elif level == Level.CITY:
        if len(code) != 6 or not code.endswith("00") or code.endswith("0000"):
            return _("A city code has 6 digits ending in 00 (but not 0000).")
    elif level == Level.COUNTY:
        if len(code) != 6 or code.endswith("00"):
            return _("A county code has 6 digits and does not end in 00.")
    elif level == Level.TOWNSHIP:
        if len(code) != 9:
            return _("A township code has 9 digits.")
    elif level == Level.VILLAGE:
        if len(code) != 12:
            return _("A village code has 12 digits.")
    elif level == Level.GRID:
        if not 13 <= len(code) <= 20:
            return _("A grid code has 13 to 20 digits (the village code followed by the grid number).")
    else:
        return _("Unknown level.")
    return None


def parent_error(code: str, level: str, parent_code: str | None, parent_level: str | None) -> str | None:
    """Whether ``parent`` can hold a node of ``level`` with ``code``."""
    if level == Level.PROVINCE:
        return _("A province has no parent.") if parent_code else None
    if not parent_code:
        return _("Only a province may be without a parent code.")
    if parent_level is None:
        return _("The parent code %(code)s is neither in the file nor in the system.") % {"code": parent_code}
    if LEVEL_ORDER[parent_level] >= LEVEL_ORDER[level]:
        return _("The parent must be at a higher level than the node.")
    prefix = parent_code[: PREFIX_LENGTH[parent_level]]
    if not code.startswith(prefix):
        return _("The code must begin with the parent's code %(prefix)s.") % {"prefix": prefix}
    return None


def county_code_of(code: str, level: str) -> str:
    """The 6-digit county code a node belongs to ('' above county level).

    Every tenant table carries it so that the schema can later be distributed by county (Citus).
    """
    if LEVEL_ORDER[level] < LEVEL_ORDER[Level.COUNTY]:
        return ""
    return code[:6]
