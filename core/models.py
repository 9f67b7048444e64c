from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.scoping import ScopedQuerySet


class BaseModel(models.Model):
    """Timestamps and an optimistic-lock version for every editable record.

    ``version`` is incremented by ``core.services.save_versioned``; a form posts the version it
    was rendered with, and a stale one is refused instead of silently overwriting (SPEC §4).
    """

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        abstract = True


class AuditQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The audit administrator's entries: those of users in their subtree, and the
        system's own (scheduled jobs, the command-line operator). Nobody else reads the log."""
        from core.roles import Role, role_codes

        jurisdiction = getattr(user, "jurisdiction", None)
        if Role.AUDIT_ADMIN not in role_codes(user) or jurisdiction is None or not jurisdiction.path:
            return self.none()
        return self.filter(models.Q(actor_path__startswith=jurisdiction.path) | models.Q(actor_path=""))

    def update(self, **kwargs):
        raise PermissionError("the audit log is append-only")

    def delete(self):
        raise PermissionError("the audit log is append-only; pruning goes through core.audit.prune")


class AuditEntry(models.Model):
    """One line of the audit log, hash-chained (SPEC §4, issue «Privacy and security core»).

    ``seq`` numbers the entries without gaps; ``prev_hash`` is the previous entry's ``hash``;
    ``hash`` is HMAC-SM3 over ``prev_hash`` and the entry's canonical content (core.audit). Rows are
    only inserted: the model, its queryset and database triggers refuse updates and deletes.
    """

    class Action(models.TextChoices):
        LOGIN = "login", _("Login")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOGOUT = "logout", _("Logout")
        VIEW = "view", _("View")
        SEARCH = "search", _("Search")
        CREATE = "create", _("Create")
        UPDATE = "update", _("Update")
        DELETE = "delete", _("Delete")
        IMPORT = "import", _("Import")
        EXPORT = "export", _("Export")
        PERMISSION = "permission", _("Role or permission change")
        SYSTEM = "system", _("System job")
        REVEAL = "reveal", _("Reveal full value")
        LOCKOUT = "lockout", _("Account locked")
        POLICY = "policy", _("Security policy change")
        BREAK_GLASS = "break_glass", _("Break-glass access")
        PRUNE = "prune", _("Audit log pruning")
        VERIFY = "verify", _("Audit chain verification")

    seq = models.PositiveBigIntegerField(_("sequence"), unique=True, editable=False)

    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.PROTECT
    )
    # Snapshots, so the entry stays true when the user or tree later changes.
    actor_username = models.CharField(_("username"), max_length=150, blank=True)
    actor_jurisdiction = models.CharField(_("user's jurisdiction"), max_length=20, blank=True)
    actor_path = models.CharField(max_length=255, blank=True, editable=False)  # Meta.indexes
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)  # Meta.indexes
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=32, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64, editable=False)
    hash = models.CharField(_("hash"), max_length=64, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["action"], name="audit_action"),  # matched exactly
                   # Scoped by prefix (LIKE 'path%') and equality: one pattern_ops index serves both.
                   models.Index(fields=["actor_path"], name="audit_actor_path", opclasses=["varchar_pattern_ops"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("the audit log is append-only")


class AuditAnchor(models.Model):
    """The chain's head (one row): lets `jindu audit verify` notice entries cut off the end."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    # Entries from this seq on are chained with HMAC-SM3 under the audit key (core.crypto), those
    # before it (written before the chain was keyed) with plain SM3. Every checkpoint file names
    # it too, so that moving it is seen (core.audit_checkpoints).
    keyed_from = models.PositiveBigIntegerField(default=1)

    def __str__(self):
        return f"{self.seq} {self.hash[:12]}"


class ScheduledRun(models.Model):
    """One row per scheduled job and day, so a daily job is enqueued once even if two
    ``jindu serve`` processes run (the unique constraint is the lock)."""

    job = models.CharField(max_length=50)
    run_date = models.DateField()
    enqueued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "run_date"], name="unique_scheduled_run")]

    def __str__(self):
        return f"{self.job} {self.run_date}"


class BreakGlassGrant(models.Model):
    """Temporary access to one record outside the user's area, given with a reason (DHIS2's
    "break the glass"). ``visible_to`` includes the record until ``expires_at``; the grant and
    its reason are audited and listed for the audit administrator."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT,
                             related_name="break_glass_grants")
    object_type = models.CharField(_("object type"), max_length=100)
    object_pk = models.BigIntegerField(_("object id"))
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    reason = models.TextField(_("reason"))
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))

    scope_path = "user__jurisdiction__path"
    scope_roles = frozenset({"audit_admin"})

    objects = models.Manager.from_queryset(ScopedQuerySet)()

    class Meta:
        ordering = ["-granted_at"]
        verbose_name = _("break-glass access")
        verbose_name_plural = _("break-glass accesses")
        indexes = [models.Index(fields=["user", "object_type", "expires_at"], name="break_glass_lookup")]

    def __str__(self):
        return f"{self.user} → {self.object_type}#{self.object_pk}"
