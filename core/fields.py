"""Model fields for sensitive values: encrypted at rest, looked up by blind index."""

from django.core.exceptions import FieldError
from django.db import models

from core import crypto


def _context(model, name: str) -> str:
    return f"{model._meta.label}.{name}"


class EncryptedTextField(models.TextField):
    """Python sees the plaintext; the column holds only SM4-GCM ciphertext.

    Only ``isnull`` can be queried: an exact match goes through the field's BlindIndexField,
    and anything else (contains, ordering by value) cannot work on ciphertext, so it fails
    loudly instead of silently returning nothing.
    """

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        self.crypto_context = _context(cls, name)

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return crypto.decrypt(value, self.crypto_context)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, "") or crypto.is_encrypted(value):
            return value
        return crypto.encrypt(value, self.crypto_context)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(f"{self.crypto_context} is encrypted; look it up through its blind index")


def normalise_upper(value: str) -> str:
    return value.strip().upper()


class BlindIndexField(models.CharField):
    """HMAC-SM3 of another field's normalised value, kept current on every save.

    ``bulk_update`` does not call ``pre_save``: services that bulk-update the source field
    set the index themselves with ``index_for``.
    """

    def __init__(self, *args, source: str, normaliser=normalise_upper, **kwargs):
        self.source = source
        self.normaliser = normaliser
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key in ("max_length", "editable", "blank", "db_index"):
            kwargs.pop(key, None)
        if not self.db_index:  # not the default here (a unique constraint instead, say)
            kwargs["db_index"] = False
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        self.crypto_context = _context(cls, self.source)

    def index_for(self, value) -> str:
        if value in (None, ""):
            return ""
        return crypto.blind_index(self.normaliser(str(value)), self.crypto_context)

    def pre_save(self, model_instance, add):
        value = self.index_for(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


def blind_lookup(model, source: str, value) -> dict:
    """``Model.objects.filter(**blind_lookup(Model, "id_number", "11010119900307123X"))``"""
    for field in model._meta.concrete_fields:
        if isinstance(field, BlindIndexField) and field.source == source:
            return {field.name: field.index_for(value)}
    raise FieldError(f"{model._meta.label}.{source} has no blind index")


def encrypted_fields(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def index_fields(model) -> list[BlindIndexField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]
