import re

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_CLASSES = (re.compile(r"[a-z]"), re.compile(r"[A-Z]"), re.compile(r"\d"), re.compile(r"[^a-zA-Z\d]"))


def character_classes(password: str) -> int:
    return sum(1 for pattern in _CLASSES if pattern.search(password))


class PolicyPasswordValidator:
    """Length and character classes from the security policy (SPEC §4, 等保 2.0): by default
    at least 8 characters mixing three of lower case, upper case, digits and symbols."""

    def _policy(self):
        from accounts.models import SecurityPolicy

        return SecurityPolicy.current()

    def validate(self, password, user=None):
        policy = self._policy()
        errors = []
        if len(password) < policy.min_password_length:
            errors.append(ValidationError(
                _("The password must have at least %(n)s characters.") % {"n": policy.min_password_length},
                code="password_too_short"))
        if character_classes(password) < policy.min_character_classes:
            errors.append(ValidationError(
                _("The password must mix at least %(n)s of: lower-case letters, upper-case letters, digits, "
                  "symbols.") % {"n": policy.min_character_classes}, code="password_too_simple"))
        if errors:
            raise ValidationError(errors)

    def get_help_text(self):
        policy = self._policy()
        return _("At least %(length)s characters, mixing at least %(classes)s of: lower-case letters, upper-case "
                 "letters, digits, symbols.") % {"length": policy.min_password_length,
                                                 "classes": policy.min_character_classes}


class UsernamePasswordValidator:
    """A password must not contain the username, in any case: it is the first thing a guesser
    tries, and it is printed on every page the user opens."""

    def validate(self, password, user=None):
        username = (getattr(user, "username", "") or "").casefold()
        if username and username in password.casefold():
            raise ValidationError(_("The password must not contain the username."), code="password_has_username")

    def get_help_text(self):
        return _("It must not contain your username.")


# How many of a user's passwords a new one may not repeat (the current one included).
PASSWORD_HISTORY = 5


class PasswordHistoryValidator:
    """A new password is none of the user's last PASSWORD_HISTORY passwords: the current one
    and the hashes kept in ``PasswordHistory`` (every way a password is set keeps it there:
    the user's own change, an administrator's reset, the first-login change)."""

    def validate(self, password, user=None):
        if user is None or not user.pk:
            return
        from accounts.models import PasswordHistory

        kept = list(PasswordHistory.objects.filter(user_id=user.pk).values_list("password", flat=True)
                    [:PASSWORD_HISTORY])
        if user.password and user.password not in kept:
            kept = [user.password, *kept][:PASSWORD_HISTORY]
        if any(check_password(password, encoded) for encoded in kept if encoded):
            raise ValidationError(_("The password must differ from your last %(n)s passwords.")
                                  % {"n": PASSWORD_HISTORY}, code="password_reused")

    def get_help_text(self):
        return _("It must differ from your last %(n)s passwords.") % {"n": PASSWORD_HISTORY}
