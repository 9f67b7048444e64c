"""Pure rules of the shared machinery (no ORM): what a break-glass reason must say."""

import unicodedata

from django.utils.translation import gettext as _

MIN_REASON_LENGTH = 10  # characters of the reason itself, punctuation and spaces left out
MIN_DISTINCT_CHARACTERS = 6  # "工作需要工作需要工作需要" has 4
REASON_MEMORY_DAYS = 30  # a reason given again within this time is a stock reason


def reason_key(reason: str) -> str:
    """The reason's words: letters and digits only, case folded (a full stop or a comma more
    does not make another reason)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", reason or "").casefold()
                   if unicodedata.category(ch)[0] in "LN")


def reason_problem(reason: str, earlier_reasons=()) -> str | None:
    """Why a break-glass reason is refused, or None: it must be substantive — at least
    ``MIN_REASON_LENGTH`` letters or digits, ``MIN_DISTINCT_CHARACTERS`` of them different — and
    be this record's own: not a reason the user gave already (``earlier_reasons``, their last
    ``REASON_MEMORY_DAYS`` days), as township2's ten grants with one stock reason were."""
    key = reason_key(reason)
    if len(key) < MIN_REASON_LENGTH:
        return _("Give the reason in at least %(n)s characters.") % {"n": MIN_REASON_LENGTH}
    if len(set(key)) < MIN_DISTINCT_CHARACTERS:
        return _("Say why your work needs this record: who asked, what you check.")
    if any(reason_key(earlier) == key for earlier in earlier_reasons):
        return _("You gave this reason already for another record. Say why your work needs this one.")
    return None
