import copy
import time
from functools import cached_property

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.choices import UnitKind
from core.fields import EncryptedTextField
from core.masking import mask_phone
from core.models import BaseModel
from core.roles import Role as RoleCode
from core.scoping import ScopedQuerySet


class MemberUnit(BaseModel):
    """A member unit of the commission (公安, 教育 …) at one jurisdiction."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=30, choices=UnitKind.choices)
    jurisdiction = models.ForeignKey(
        "jurisdictions.Jurisdiction", verbose_name=_("jurisdiction"), on_delete=models.PROTECT,
        related_name="member_units",
    )

    objects = models.Manager.from_queryset(ScopedQuerySet)()
    scope_path = "jurisdiction__path"
    scope_roles = frozenset({RoleCode.SYSTEM_ADMIN, RoleCode.SECURITY_ADMIN, RoleCode.OFFICE})

    class Meta:
        ordering = ["jurisdiction__path", "name"]
        verbose_name = _("member unit")
        verbose_name_plural = _("member units")
        constraints = [models.UniqueConstraint(fields=["jurisdiction", "name"], name="unique_member_unit_name")]

    def __str__(self):
        return self.name


class UserQuerySet(ScopedQuerySet):
    pass


class ScopedUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """An account: one jurisdiction, one or more roles, and a member unit for unit users."""

    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True)
    jurisdiction = models.ForeignKey(
        "jurisdictions.Jurisdiction", verbose_name=_("jurisdiction"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="users",
    )
    member_unit = models.ForeignKey(
        MemberUnit, verbose_name=_("member unit"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="users",
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    # None: the password was set by somebody else (an administrator, the operator) and must be
    # changed at the next login (SPEC §4); otherwise it expires after the policy's maximum age.
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)
    totp_secret = EncryptedTextField(_("second-factor secret"), blank=True)
    totp_confirmed_at = models.DateTimeField(_("second factor set up at"), null=True, blank=True)
    # The time step (30 s) of the last code accepted: a code is accepted once, and no code of an
    # earlier step after it (RFC 6238 §5.2), so a code seen over a shoulder or in a second
    # session cannot be used again.
    totp_last_step = models.PositiveBigIntegerField(null=True, blank=True, editable=False)

    objects = ScopedUserManager()
    scope_path = "jurisdiction__path"
    scope_roles = frozenset({RoleCode.SYSTEM_ADMIN, RoleCode.SECURITY_ADMIN, RoleCode.OFFICE})
    # Staff phone numbers are masked; the system administrator, who keeps the accounts, may
    # reveal one at a time (audited).
    masked_fields = {"phone": (mask_phone, frozenset({RoleCode.SYSTEM_ADMIN}))}
    audit_reads = True

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.full_name or self.username

    @cached_property
    def role_codes(self) -> frozenset:
        if not self.pk:
            return frozenset()
        if "role_grants" in getattr(self, "_prefetched_objects_cache", ()):  # a list of users
            return frozenset(grant.role for grant in self.role_grants.all())
        return frozenset(UserRole.objects.filter(user_id=self.pk).values_list("role", flat=True))

    def role_labels(self) -> list[str]:
        return [str(RoleCode(code).label) for code in sorted(self.role_codes)]


class UserRole(models.Model):
    """One role (SPEC §2, core.roles.Role) held by one user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("role"), max_length=20, choices=RoleCode.choices)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_user_role")]

    def __str__(self):
        return f"{self.user} {self.get_role_display()}"


class SecurityPolicy(BaseModel):
    """Login and session policy (等保 2.0 level 3), one row, edited by the security admin.

    The defaults are the issue's; the minimums are the law's floor and cannot be lowered."""

    min_password_length = models.PositiveSmallIntegerField(_("minimum password length"), default=8)
    min_character_classes = models.PositiveSmallIntegerField(_("character classes required"), default=3)
    max_failures = models.PositiveSmallIntegerField(_("failed logins before lock-out (per account)"), default=5)
    # Counted only over JINDU_ADDRESS_LOCK_NAMES different usernames (accounts.services.lockout_until).
    max_failures_per_ip = models.PositiveSmallIntegerField(_("failed logins before lock-out (per address)"),
                                                           default=20)
    # A day at most: a lock-out is a brake on guessing, not a way to shut a user out for weeks.
    lockout_minutes = models.PositiveSmallIntegerField(
        _("lock-out minutes"), default=15,
        validators=[MaxValueValidator(1440, message=_("At most %(limit_value)s minutes (one day)."))])
    idle_timeout_minutes = models.PositiveSmallIntegerField(_("idle time-out minutes"), default=30)
    password_max_age_days = models.PositiveSmallIntegerField(_("password maximum age (days)"), default=90)
    require_totp_for_all = models.BooleanField(_("second factor required for every role"), default=False)

    FLOORS = {"min_password_length": 8, "min_character_classes": 3}
    CEILINGS = {"max_failures": 10, "max_failures_per_ip": 50, "lockout_minutes": 1440,
                "idle_timeout_minutes": 30, "password_max_age_days": 180}

    class Meta:
        verbose_name = _("security policy")
        verbose_name_plural = _("security policy")

    def __str__(self):
        return str(_("security policy"))

    # Every request checks the policy (idle time-out, password age, second factor); a process
    # reads it from the database at most every CACHE_SECONDS. A change saved in this process
    # counts at once, in the server's other processes within those seconds.
    CACHE_SECONDS = 10
    _cached: tuple["SecurityPolicy", float] | None = None

    @classmethod
    def current(cls, fresh: bool = False) -> "SecurityPolicy":
        """The policy; ``fresh`` reads it from the database (the form that edits it)."""
        cached = cls._cached
        if fresh or cached is None or time.monotonic() - cached[1] >= cls.CACHE_SECONDS:
            policy = cls.objects.filter(pk=1).first()
            cached = cls._cached = (policy if policy is not None else cls(pk=1), time.monotonic())
        return copy.copy(cached[0])  # a form may change what it is given

    @classmethod
    def forget(cls, **kwargs) -> None:
        """Read the policy from the database on the next ``current()``."""
        cls._cached = None


models.signals.post_save.connect(SecurityPolicy.forget, sender=SecurityPolicy, dispatch_uid="policy_saved")
models.signals.post_delete.connect(SecurityPolicy.forget, sender=SecurityPolicy, dispatch_uid="policy_deleted")


class PasswordHistory(models.Model):
    """A password a user has had, as its hash (accounts.services keeps the last
    ``accounts.validators.PASSWORD_HISTORY``): a new password may be none of them."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    set_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-set_at", "-id"]

    def __str__(self):
        return f"{self.user_id} {self.set_at:%Y-%m-%d}"


class LoginFailure(models.Model):
    """One failed login, kept for the lock-out window (per account and per address)."""

    username = models.CharField(max_length=150, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self):
        return f"{self.username} {self.ip_address} {self.at:%Y-%m-%d %H:%M}"
