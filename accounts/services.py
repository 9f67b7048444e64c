"""Every change to accounts goes through these functions; each writes its own audit entry.

三员分立: the system administrator creates accounts and edits their details; the security
administrator grants and withdraws roles; the command-line operator (``acting_user=None``,
used by ``jindu createuser`` and ``jindu demo``) may do both.
"""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import MemberUnit, Role, User
from core import audit
from core.models import AuditEntry
from core.roles import Role as RoleCode
from core.roles import has_any_role, separation_of_duties_error
from core.services import save_versioned
from jurisdictions.models import Jurisdiction


class NotAllowed(PermissionError):
    pass


def _require(acting_user, roles, message):
    if acting_user is not None and not has_any_role(acting_user, roles):
        raise NotAllowed(message)


def _require_in_scope(acting_user, jurisdiction: Jurisdiction):
    if acting_user is None:
        return
    if not Jurisdiction.objects.visible_to(acting_user).filter(pk=jurisdiction.pk).exists():
        raise NotAllowed(_("%(name)s is outside your area.") % {"name": jurisdiction.name})


def check_roles(roles, member_unit) -> None:
    """Raise ValidationError if the role set breaks 三员分立 or the member-unit rule."""
    roles = frozenset(roles)
    if message := separation_of_duties_error(roles):
        raise ValidationError({"roles": message})
    if RoleCode.MEMBER_UNIT in roles and member_unit is None:
        raise ValidationError({"member_unit": _("A member-unit user must belong to a member unit.")})


def _role_rows(codes) -> list[Role]:
    """The Role rows for ``codes``. A migration creates them, but ``flush`` (``jindu demo
    --reset``) empties the table with the rest; recreate missing ones rather than silently
    granting fewer roles than asked."""
    codes = frozenset(codes)
    rows = list(Role.objects.filter(code__in=codes))
    if len(rows) < len(codes):
        Role.objects.bulk_create([Role(code=code) for code in codes if code in RoleCode.values],
                                 ignore_conflicts=True)
        rows = list(Role.objects.filter(code__in=codes))
    return rows


def _snapshot(user: User) -> dict:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "phone": user.phone,
        "jurisdiction": user.jurisdiction.code if user.jurisdiction else None,
        "member_unit": user.member_unit.name if user.member_unit else None,
        "is_active": user.is_active,
    }


def _check_member_unit(member_unit, jurisdiction):
    if member_unit is not None and not jurisdiction.is_within(member_unit.jurisdiction):
        raise ValidationError({"member_unit": _("The member unit belongs to another area.")})


@transaction.atomic
def do_create_user(*, username: str, jurisdiction: Jurisdiction, roles=(), full_name: str = "", phone: str = "",
                   member_unit: MemberUnit | None = None, password: str | None = None, acting_user) -> User:
    _require(acting_user, {RoleCode.SYSTEM_ADMIN}, _("Only the system administrator may create accounts."))
    _require_in_scope(acting_user, jurisdiction)
    roles = frozenset(roles)
    if roles:
        # Granting roles is the security administrator's; the system administrator's new
        # account starts without roles (it can log in but reaches nothing) until one is granted.
        _require(acting_user, {RoleCode.SECURITY_ADMIN}, _("Only the security administrator may grant roles."))
        check_roles(roles, member_unit)
    _check_member_unit(member_unit, jurisdiction)
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("The username %(username)s is taken.") % {"username": username}})
    user = User(username=username, full_name=full_name, phone=phone, jurisdiction=jurisdiction,
                member_unit=member_unit)
    if password:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user.roles.set(_role_rows(roles))
    audit.record(AuditEntry.Action.CREATE, actor=acting_user, obj=user, changes={
        k: [None, v] for k, v in _snapshot(user).items()} | {"roles": [[], sorted(roles)]})
    return user


@transaction.atomic
def do_update_user(user: User, *, expected_version: int, acting_user, **fields) -> User:
    """Change account details (name, phone, jurisdiction, member unit, active)."""
    _require(acting_user, {RoleCode.SYSTEM_ADMIN}, _("Only the system administrator may edit accounts."))
    _require_in_scope(acting_user, user.jurisdiction)
    allowed = {"full_name", "phone", "jurisdiction", "member_unit", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    before = _snapshot(user)
    for name, value in fields.items():
        setattr(user, name, value)
    if "jurisdiction" in fields:
        _require_in_scope(acting_user, user.jurisdiction)
    _check_member_unit(user.member_unit, user.jurisdiction)
    if RoleCode.MEMBER_UNIT in user.role_codes and user.member_unit is None:
        raise ValidationError({"member_unit": _("A member-unit user must belong to a member unit.")})
    save_versioned(user, expected_version, sorted(fields))
    changes = audit.diff(before, _snapshot(user))
    if changes:
        audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=user, changes=changes)
    return user


@transaction.atomic
def do_set_roles(user: User, roles, *, expected_version: int, acting_user) -> User:
    _require(acting_user, {RoleCode.SECURITY_ADMIN}, _("Only the security administrator may change roles."))
    _require_in_scope(acting_user, user.jurisdiction)
    roles = frozenset(roles)
    check_roles(roles, user.member_unit)
    if acting_user is not None and user.pk == acting_user.pk:
        raise NotAllowed(_("Nobody may change their own roles."))
    before = sorted(user.role_codes)
    save_versioned(user, expected_version, [])
    user.roles.set(_role_rows(roles))
    user.__dict__.pop("role_codes", None)
    audit.record(AuditEntry.Action.PERMISSION, actor=acting_user, obj=user,
                 changes={"roles": [before, sorted(roles)]})
    return user


@transaction.atomic
def do_set_password(user: User, password: str, *, acting_user) -> None:
    _require(acting_user, {RoleCode.SYSTEM_ADMIN}, _("Only the system administrator may reset passwords."))
    if acting_user is not None and acting_user.pk != user.pk:
        _require_in_scope(acting_user, user.jurisdiction)
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=user, changes={"password": ["***", "***"]})


@transaction.atomic
def do_create_member_unit(*, name: str, kind: str, jurisdiction: Jurisdiction, acting_user) -> MemberUnit:
    _require(acting_user, {RoleCode.SYSTEM_ADMIN}, _("Only the system administrator may create member units."))
    _require_in_scope(acting_user, jurisdiction)
    unit = MemberUnit(name=name, kind=kind, jurisdiction=jurisdiction)
    unit.full_clean()
    unit.save()
    audit.record(AuditEntry.Action.CREATE, actor=acting_user, obj=unit,
                 changes={"name": [None, name], "kind": [None, kind], "jurisdiction": [None, jurisdiction.code]})
    return unit
