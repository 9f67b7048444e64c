"""Login-policy rules as pure functions (SPEC §4; 等保 2.0 level 3 身份鉴别)."""

import datetime


def locked(recent_failures: list[datetime.datetime], limit: int) -> bool:
    """Locked once ``limit`` failures fall inside the lock-out window (the caller passes only
    failures from that window)."""
    return limit > 0 and len(recent_failures) >= limit


def address_locked(distinct_names: int, names_needed: int) -> bool:
    """An address (an office behind one router or proxy) is locked only when its failures name
    ``names_needed`` different usernames: guessing across accounts, not one user's mistakes."""
    return distinct_names >= max(names_needed, 1)


def password_change_due(changed_at: datetime.datetime | None, now: datetime.datetime, max_age_days: int) -> bool:
    """Due when the password was set by someone else (never changed by its holder) or is older
    than the maximum age."""
    if changed_at is None:
        return True
    return now - changed_at > datetime.timedelta(days=max_age_days)
