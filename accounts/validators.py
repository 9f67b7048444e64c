import re

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
