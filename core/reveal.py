"""Masked by default, revealed one record at a time (SPEC §4).

A model lists its sensitive display fields in ``masked_fields = {"phone": (mask_phone, roles)}``:
the masking function and the roles that may reveal the full value. Templates show values
with ``{% masked obj "phone" %}``; revealing is a POST to ``core:reveal`` that re-reads the
record through ``visible_to`` and writes an audit entry.
"""

from django.apps import apps
from django.http import Http404

from core.roles import role_codes


def masked_spec(model, field: str):
    spec = getattr(model, "masked_fields", {}).get(field)
    if spec is None:
        raise Http404
    return spec


def masked_value(obj, field: str) -> str:
    mask, _roles = masked_spec(type(obj), field)
    return mask(getattr(obj, field))


def may_reveal(user, model, field: str) -> bool:
    _mask, roles = masked_spec(model, field)
    return bool(role_codes(user) & frozenset(roles))


def model_for(label: str, feature: str):
    """The model named ``app.Model`` if it opts in to ``feature`` (e.g. ``masked_fields``,
    ``break_glass``); 404 otherwise, so a URL cannot reach any other model."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        raise Http404 from None
    if not getattr(model, feature, None):
        raise Http404
    return model
