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


BREAK_GLASS_HOURS = 4
MIN_REASON_LENGTH = 10


def do_break_glass(obj, reason: str, *, acting_user, hours: int = BREAK_GLASS_HOURS):
    """Open one record outside the user's area for ``hours``, with a reason (audited)."""
    import datetime

    from django.db import transaction
    from django.utils import timezone

    from core import audit
    from core.models import AuditEntry, BreakGlassGrant
    from core.roles import role_codes

    model = type(obj)
    if not getattr(model, "break_glass", False):
        raise PermissionError(_("This kind of record cannot be opened outside your area."))
    if not role_codes(acting_user) & frozenset(model.scope_roles):
        raise PermissionError(_("Your role may not open this kind of record."))
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError({"reason": _("Give the reason in at least %(n)s characters.") % {"n": MIN_REASON_LENGTH}})
    with transaction.atomic():
        grant = BreakGlassGrant.objects.create(
            user=acting_user, object_type=model._meta.label, object_pk=obj.pk, object_repr=audit.object_name(obj),
            reason=reason, expires_at=timezone.now() + datetime.timedelta(hours=hours),
        )
        audit.record(AuditEntry.Action.BREAK_GLASS, actor=acting_user, obj=obj,
                     changes={"reason": reason, "expires_at": grant.expires_at.isoformat()})
    return grant
