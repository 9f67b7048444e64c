"""The roles of SPEC §2 and what each may reach.

Roles are fixed by the product (the SPEC's table); which role reaches which model is declared
on the model (``scope_roles``) and checked in one place, ``core.scoping``.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")
    OFFICE = "office", _("Drug-control office staff")
    TOWNSHIP = "township", _("Township worker")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    POLICE = "police", _("Police")
    MEMBER_UNIT = "member_unit", _("Member unit")
    LEADERSHIP = "leadership", _("Leadership")


# 三员分立 (separation of admin duties): a user holds at most one of these, and no other role.
ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})

# Roles that work with personal records (person files and what hangs off them). The admin
# roles and the leadership never do (SPEC §2: "never reads personal data", "aggregates only").
PERSONAL_DATA_ROLES = frozenset(
    {Role.OFFICE, Role.TOWNSHIP, Role.SOCIAL_WORKER, Role.POLICE, Role.MEMBER_UNIT}
)

ALL_ROLES = frozenset(Role)

# For the few pages every signed-in user needs whatever their roles, even none yet (changing
# one's own password, setting up the second factor). A view must say so explicitly.
ANY_AUTHENTICATED = "any_authenticated"


def role_codes(user) -> frozenset:
    """The role codes of ``user``; empty for anonymous or inactive users (fail closed)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    return frozenset(getattr(user, "role_codes", ()))


def has_any_role(user, roles) -> bool:
    return bool(role_codes(user) & frozenset(roles))


def may_see_personal_data(user) -> bool:
    return has_any_role(user, PERSONAL_DATA_ROLES)


def separation_of_duties_error(roles) -> str | None:
    """三员分立: return the reason a role combination is not allowed, or None."""
    roles = frozenset(roles)
    admin = roles & ADMIN_ROLES
    if len(admin) > 1:
        return str(_("The system, security and audit administrator roles must be held by different people."))
    if admin and roles - admin:
        return str(_("An administrator role cannot be combined with a business role."))
    if not roles:
        return str(_("A user needs at least one role."))
    return None
