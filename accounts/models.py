from functools import cached_property

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.choices import UnitKind
from core.models import BaseModel
from core.roles import Role as RoleCode
from core.scoping import ScopedQuerySet


class Role(models.Model):
    """One row per role of SPEC §2 (created by a migration); users hold one or more."""

    code = models.CharField(_("code"), max_length=20, primary_key=True, choices=RoleCode.choices)

    class Meta:
        ordering = ["code"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self):
        return str(RoleCode(self.code).label)


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
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    jurisdiction = models.ForeignKey(
        "jurisdictions.Jurisdiction", verbose_name=_("jurisdiction"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="users",
    )
    roles = models.ManyToManyField(Role, verbose_name=_("roles"), blank=True, related_name="users")
    member_unit = models.ForeignKey(
        MemberUnit, verbose_name=_("member unit"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="users",
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = ScopedUserManager()
    scope_path = "jurisdiction__path"
    scope_roles = frozenset({RoleCode.SYSTEM_ADMIN, RoleCode.SECURITY_ADMIN, RoleCode.OFFICE})

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
        return frozenset(r.code for r in self.roles.all())

    def role_labels(self) -> list[str]:
        return [str(RoleCode(code).label) for code in sorted(self.role_codes)]
