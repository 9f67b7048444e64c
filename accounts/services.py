"""Every change to accounts goes through these functions; each writes its own audit entry.

三员分立: the system administrator creates accounts and edits their details; the security
administrator grants and withdraws roles; the command-line operator (``acting_user=None``,
used by ``jindu createuser`` and ``jindu demo``) may do both.
"""

import datetime

import pyotp
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import rules
from accounts.models import LoginFailure, MemberUnit, PasswordHistory, SecurityPolicy, User, UserRole
from accounts.validators import PASSWORD_HISTORY
from core import audit
from core.masking import mask_phone
from core.models import AuditEntry
from core.roles import ADMIN_ROLES, has_any_role, separation_of_duties_error
from core.roles import Role as RoleCode
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


def _grant_roles(user: User, codes) -> None:
    """Make ``user`` hold exactly the roles ``codes``."""
    codes = frozenset(codes)
    user.role_grants.exclude(role__in=codes).delete()
    held = set(user.role_grants.values_list("role", flat=True))
    UserRole.objects.bulk_create([UserRole(user=user, role=code) for code in sorted(codes - held)])
    user.__dict__.pop("role_codes", None)
    user._prefetched_objects_cache = {}


def _snapshot(user: User) -> dict:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "phone": mask_phone(user.phone),
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
    if password:
        _keep_in_history(user)
    _grant_roles(user, roles)
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
    _grant_roles(user, roles)
    audit.record(AuditEntry.Action.PERMISSION, actor=acting_user, obj=user,
                 changes={"roles": [before, sorted(roles)]})
    return user


@transaction.atomic
def do_set_password(user: User, password: str, *, acting_user) -> None:
    """An administrator (or the operator) sets a password; the user must change it at the next
    login. The system administrator may not set another administrator's password (三员分立):
    that is the operator's, on the command line."""
    _require(acting_user, {RoleCode.SYSTEM_ADMIN}, _("Only the system administrator may reset passwords."))
    if acting_user is not None:
        if user.role_codes & ADMIN_ROLES:
            raise NotAllowed(_("An administrator's password is reset by the operator, not through the application."))
        _require_in_scope(acting_user, user.jurisdiction)
    validate_password(password, user)
    user.set_password(password)
    user.password_changed_at = None
    user.save(update_fields=["password", "password_changed_at"])
    _keep_in_history(user)
    _clear_failures(user.username)
    audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=user, changes={"password": ["***", "***"]})


@transaction.atomic
def do_change_own_password(user: User, old_password: str, new_password: str) -> None:
    """The user changes their own password (forced at first login and after the maximum age)."""
    if not user.check_password(old_password):
        raise ValidationError({"old_password": _("The current password is wrong.")})
    if old_password == new_password:
        raise ValidationError({"new_password1": _("The new password must differ from the current one.")})
    validate_password(new_password, user)
    user.set_password(new_password)
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at"])
    _keep_in_history(user)
    audit.record(AuditEntry.Action.UPDATE, actor=user, obj=user, changes={"password": ["***", "***"]})


def _keep_in_history(user: User) -> None:
    """Keep the hash of the password just set, and only the last PASSWORD_HISTORY of them."""
    PasswordHistory.objects.create(user=user, password=user.password)
    stale = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[PASSWORD_HISTORY:]
    PasswordHistory.objects.filter(pk__in=list(stale)).delete()


# --- security policy, lock-out, second factor -------------------------------------------------


@transaction.atomic
def do_update_policy(*, expected_version: int, acting_user, **values) -> SecurityPolicy:
    """The security administrator changes the login and session policy (audited).
    Values below the legal floor or above the ceiling are refused."""
    _require(acting_user, {RoleCode.SECURITY_ADMIN}, _("Only the security administrator may change the policy."))
    errors = {}
    for name, floor in SecurityPolicy.FLOORS.items():
        if name in values and values[name] < floor:
            errors[name] = _("At least %(n)s.") % {"n": floor}
    for name, ceiling in SecurityPolicy.CEILINGS.items():
        if name in values and values[name] > ceiling:
            errors[name] = _("At most %(n)s.") % {"n": ceiling}
    for name in ("max_failures", "max_failures_per_ip", "lockout_minutes", "idle_timeout_minutes",
                 "password_max_age_days"):
        if name in values and values[name] < 1:
            errors[name] = _("At least %(n)s.") % {"n": 1}
    if errors:
        raise ValidationError(errors)
    policy = SecurityPolicy.objects.select_for_update().filter(pk=1).first()
    if policy is None:
        policy = SecurityPolicy.objects.create(pk=1)
    before = {name: getattr(policy, name) for name in values}
    for name, value in values.items():
        setattr(policy, name, value)
    save_versioned(policy, expected_version, sorted(values))
    # This process reads the policy again on its next request (the other processes within
    # SecurityPolicy.CACHE_SECONDS), and once more after the commit, should anything in this
    # transaction have read the new values before they were committed.
    SecurityPolicy.forget()
    transaction.on_commit(SecurityPolicy.forget)
    changes = audit.diff(before, values)
    if changes:
        audit.record(AuditEntry.Action.POLICY, actor=acting_user, obj=policy, changes=changes)
    return policy


def lockout_until(username: str, ip_address: str | None, policy: SecurityPolicy | None = None):
    """When the account or the address is locked, the time the lock ends; else None.

    An account is locked by its own failures (from any address). An address is locked only by
    failures across several usernames (``JINDU_ADDRESS_LOCK_NAMES``, unknown names included):
    an office's users share one address, and one user's mistakes must not lock the others."""
    policy = policy or SecurityPolicy.current()
    since = timezone.now() - datetime.timedelta(minutes=policy.lockout_minutes)
    ends = []
    times = list(LoginFailure.objects.filter(username=username, at__gte=since).order_by("-at")
                 .values_list("at", flat=True)[:policy.max_failures])
    if rules.locked(times, policy.max_failures):
        ends.append(times[policy.max_failures - 1])
    if ip_address:
        failures = LoginFailure.objects.filter(ip_address=ip_address, at__gte=since)
        times = list(failures.order_by("-at").values_list("at", flat=True)[:policy.max_failures_per_ip])
        if rules.locked(times, policy.max_failures_per_ip) and rules.address_locked(
                failures.values("username").distinct().count(), settings.JINDU_ADDRESS_LOCK_NAMES):
            ends.append(times[policy.max_failures_per_ip - 1])
    return max(ends) + datetime.timedelta(minutes=policy.lockout_minutes) if ends else None


def record_login_failure(username: str, ip_address: str | None) -> None:
    """Count a failed login; the failure that trips the lock is audited as a lock-out."""
    policy = SecurityPolicy.current()
    was_locked = lockout_until(username, ip_address, policy)
    LoginFailure.objects.create(username=username[:150], ip_address=ip_address)
    audit.record(AuditEntry.Action.LOGIN_FAILED, object_repr=username[:150], ip_address=ip_address)
    if was_locked is None and (until := lockout_until(username, ip_address, policy)) is not None:
        audit.record(AuditEntry.Action.LOCKOUT, object_repr=username[:150], ip_address=ip_address,
                     changes={"until": until.isoformat(), "minutes": policy.lockout_minutes})


def _clear_failures(username: str) -> None:
    LoginFailure.objects.filter(username=username).delete()


def record_login_success(user: User) -> None:
    _clear_failures(user.username)


def prune_login_failures() -> dict:
    """Daily sweep: failures older than a day no longer count for anything."""
    deleted, _ = LoginFailure.objects.filter(at__lt=timezone.now() - datetime.timedelta(days=1)).delete()
    return {"deleted": deleted}


@transaction.atomic
def do_start_totp(user: User) -> str:
    """A new, unconfirmed secret for the user's authenticator app."""
    user.totp_secret = pyotp.random_base32()
    user.totp_confirmed_at = None
    user.save(update_fields=["totp_secret", "totp_confirmed_at"])
    return user.totp_secret


def totp_step(user: User, code: str, now: datetime.datetime | None = None) -> int | None:
    """The time step whose code ``code`` is (the current one or either neighbour, for clocks a
    little off), or None when it is no code of the user's."""
    code = (code or "").strip().replace(" ", "")
    if not user.totp_secret or not code.isdigit():
        return None
    totp = pyotp.TOTP(user.totp_secret)
    now = now or timezone.now()
    for offset in (0, -1, 1):
        moment = now + datetime.timedelta(seconds=offset * totp.interval)
        if pyotp.utils.strings_equal(code, totp.at(moment)):
            return totp.timecode(moment)
    return None


def use_totp_code(user: User, code: str) -> bool:
    """Accept ``code`` once: it must be the user's current code and of a later time step than the
    last one accepted. The step is taken by one conditional UPDATE, so that two sessions giving
    the same code at once cannot both pass."""
    step = totp_step(user, code)
    if step is None:
        return False
    taken = User.objects.filter(pk=user.pk).filter(
        models.Q(totp_last_step__isnull=True) | models.Q(totp_last_step__lt=step)).update(totp_last_step=step)
    if taken:
        user.totp_last_step = step
    return bool(taken)


@transaction.atomic
def do_confirm_totp(user: User, code: str) -> None:
    if not use_totp_code(user, code):
        raise ValidationError({"code": _("The code is wrong or has expired; enter the current one.")})
    user.totp_confirmed_at = timezone.now()
    user.save(update_fields=["totp_confirmed_at"])
    audit.record(AuditEntry.Action.UPDATE, actor=user, obj=user, changes={"second_factor": [False, True]})


@transaction.atomic
def do_reset_totp(user: User, *, acting_user) -> None:
    """The security administrator removes a lost second factor; the user sets up a new one."""
    _require(acting_user, {RoleCode.SECURITY_ADMIN}, _("Only the security administrator may reset a second factor."))
    _require_in_scope(acting_user, user.jurisdiction)
    user.totp_secret = ""
    user.totp_confirmed_at = None
    user.totp_last_step = None
    user.save(update_fields=["totp_secret", "totp_confirmed_at", "totp_last_step"])
    audit.record(AuditEntry.Action.PERMISSION, actor=acting_user, obj=user, changes={"second_factor": [True, False]})


def needs_totp(user: User, policy: SecurityPolicy | None = None) -> bool:
    """Administrators always; everybody when the policy says so."""
    policy = policy or SecurityPolicy.current()
    return bool(user.role_codes & ADMIN_ROLES) or policy.require_totp_for_all


def password_change_due(user: User, policy: SecurityPolicy | None = None) -> bool:
    policy = policy or SecurityPolicy.current()
    return rules.password_change_due(user.password_changed_at, timezone.now(), policy.password_max_age_days)


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
