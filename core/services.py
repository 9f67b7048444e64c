"""Shared service helpers: optimistic locking for every editable record (SPEC §4)."""

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils.translation import gettext as _


class ConflictError(ValidationError):
    """Somebody saved the record after the editor opened it."""


def save_versioned(instance, expected_version: int | None, update_fields: list[str]) -> None:
    """Write ``update_fields`` of ``instance`` only if its stored version is ``expected_version``.

    The check and the write are one UPDATE ... WHERE version = expected, so two editors who
    opened the same version cannot both succeed; the second gets a ConflictError.
    """
    model = type(instance)
    if expected_version is None:
        expected_version = instance.version
    values = {field: getattr(instance, field) for field in update_fields}
    if any(f.name == "updated_at" for f in model._meta.concrete_fields):
        instance.updated_at = model._meta.get_field("updated_at").pre_save(instance, add=False)
        values["updated_at"] = instance.updated_at
    updated = model._default_manager.filter(pk=instance.pk, version=expected_version).update(
        version=F("version") + 1, **values
    )
    if not updated:
        raise ConflictError(
            _("This record was changed by someone else after you opened it. Reload it and apply your change again."),
            code="conflict",
        )
    instance.version = expected_version + 1


def do_break_glass(model, pk: int, reason: str, *, acting_user):
    """Open one record of ``model`` outside the user's area for reading, for
    ``JINDU_BREAK_GLASS_HOURS`` (audited; the office sees it in its alert centre at once).

    Refused: a model or role that does not allow it; a reason that says nothing of this record
    (core.rules.reason_problem); more than ``JINDU_BREAK_GLASS_MAX_ACTIVE`` grants at a time.
    Whether a record ``pk`` exists makes no difference to the answer: a grant to a key without a
    record opens nothing, and is audited and counted like any other."""
    import datetime

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from core import audit, rules
    from core.models import AuditEntry, BreakGlassGrant
    from core.roles import role_codes

    if not getattr(model, "break_glass", False):
        raise PermissionError(_("This kind of record cannot be opened outside your area."))
    # The roles that see a whole area; a member unit (task_roles) reaches a record only through a
    # task given to it, never by giving a reason (core.scoping ignores its grants too).
    if not role_codes(acting_user) & (frozenset(model.scope_roles) - frozenset(getattr(model, "task_roles", ()))):
        raise PermissionError(_("Your role may not open this kind of record."))
    reason = (reason or "").strip()
    limit = settings.JINDU_BREAK_GLASS_MAX_ACTIVE
    with transaction.atomic():
        # One grant at a time per user: two requests at once cannot both pass the limit.
        get_user_model().objects.select_for_update().filter(pk=acting_user.pk).exists()
        now = timezone.now()
        mine = BreakGlassGrant.objects.filter(user=acting_user)
        recent = mine.filter(granted_at__gte=now - datetime.timedelta(days=rules.REASON_MEMORY_DAYS))
        problem = rules.reason_problem(reason, recent.values_list("reason", flat=True))
        if problem:
            raise ValidationError({"reason": problem})
        if mine.filter(expires_at__gt=now).count() >= limit:
            raise ValidationError({"reason": _(
                "You already hold %(n)s break-glass accesses; a new one is possible when one of them "
                "expires.") % {"n": limit}})
        obj = model._base_manager.filter(pk=pk).first()
        grant = BreakGlassGrant.objects.create(
            user=acting_user, object_type=model._meta.label, object_pk=pk,
            object_repr=audit.object_name(obj)[:200] if obj is not None else "", reason=reason,
            expires_at=now + datetime.timedelta(hours=settings.JINDU_BREAK_GLASS_HOURS),
        )
        audit.record(AuditEntry.Action.BREAK_GLASS, actor=acting_user, obj=obj if obj is not None else model(pk=pk),
                     object_repr=grant.object_repr or "—",
                     changes={"reason": reason, "expires_at": grant.expires_at.isoformat(), "read_only": True})
    return grant


def break_glass_for_office(user, *, hours: int = 24):
    """The grants of the last ``hours`` taken by users inside an office user's area: what the
    alert centre shows the office (the reason, who, which kind of record and its key; not the
    record, which the office opens through its own scope)."""
    import datetime

    from django.utils import timezone

    from core.models import BreakGlassGrant
    from core.roles import Role, role_codes

    area = getattr(user, "jurisdiction", None)
    if Role.OFFICE not in role_codes(user) or area is None or not area.path:
        return BreakGlassGrant.objects.none()
    return (BreakGlassGrant.objects.filter(user__jurisdiction__path__startswith=area.path,
                                           granted_at__gte=timezone.now() - datetime.timedelta(hours=hours))
            .select_related("user", "user__jurisdiction").order_by("-granted_at"))


def break_glass_daily(day=None) -> dict:
    """Daily sweep job: the list of the previous day's grants (who, which record, why, until when)
    written once into the audit log, which the audit administrator reads (and /audit/break-glass/
    shows by day)."""
    import datetime

    from django.utils import timezone

    from core import audit
    from core.models import AuditEntry, BreakGlassGrant

    day = day or timezone.localdate() - datetime.timedelta(days=1)
    title = f"越权调阅日报 {day.isoformat()}"
    if AuditEntry.objects.filter(action=AuditEntry.Action.BREAK_GLASS, actor=None, object_repr=title).exists():
        return {"day": day.isoformat(), "already": True}  # the sweep ran twice that day
    grants = (BreakGlassGrant.objects.filter(granted_at__date=day).select_related("user", "user__jurisdiction")
              .order_by("granted_at"))
    listed = [{"user": g.user.username, "jurisdiction": g.user.jurisdiction.name if g.user.jurisdiction else "",
               "object_type": g.object_type, "object_id": g.object_pk, "reason": g.reason,
               "granted_at": timezone.localtime(g.granted_at).isoformat(timespec="minutes"),
               "expires_at": timezone.localtime(g.expires_at).isoformat(timespec="minutes")} for g in grants]
    audit.record(AuditEntry.Action.BREAK_GLASS, object_repr=title,
                 changes={"day": day.isoformat(), "grants": len(listed), "list": listed})
    return {"day": day.isoformat(), "grants": len(listed)}


def do_verify_audit_chain(*, acting_user) -> tuple[int, object, int]:
    """The audit administrator's "校验日志链": the same walk as `jindu audit verify`
    (core.audit.verify: the chain, then the checkpoints outside the database), its result
    written to the log itself. Returns (entries checked, the first problem or None, checkpoints)."""
    from core import audit, audit_checkpoints
    from core.models import AuditEntry

    checked, problem = audit.verify()
    checkpoints = len(audit_checkpoints.all_checkpoints())
    audit.record(AuditEntry.Action.VERIFY, actor=acting_user, object_repr=_("Audit chain"), changes={
        "checked": checked, "checkpoints": checkpoints, "problem": str(problem) if problem else ""})
    return checked, problem, checkpoints
