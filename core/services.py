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
