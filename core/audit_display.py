"""The audit log in words, for its administrator (issue 20): an entry's object type by the
model's Chinese name, and its changes as "双因素认证：否 → 是" lines — field verbose names and
choice labels where the entry's model has them, a fixed Chinese label for the other keys the
services write (rows, criteria, layout…) — instead of the raw JSON kept for the chain."""

from functools import cache

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Keys the services write that are not a field of the entry's model.
KEY_LABELS = {
    "rows": gettext_lazy("rows"),
    "results": gettext_lazy("results"),
    "page": gettext_lazy("page"),
    "criteria": gettext_lazy("criteria"),
    "filters": gettext_lazy("filters"),
    "layout": gettext_lazy("layout"),
    "field": gettext_lazy("field"),
    "document": gettext_lazy("document"),
    "format": gettext_lazy("format"),
    "period": gettext_lazy("period"),
    "suppressed": gettext_lazy("small counts suppressed"),
    "jurisdiction": gettext_lazy("jurisdiction"),
    "reason": gettext_lazy("reason"),
    "report": gettext_lazy("error report"),
    "rejected_rows": gettext_lazy("rows refused"),
    "count": gettext_lazy("count"),
    "n": gettext_lazy("count"),
    "q": gettext_lazy("search text"),
    "list": gettext_lazy("list"),
    "source": gettext_lazy("source"),
    "roles": gettext_lazy("roles"),
    "password": gettext_lazy("password"),
    "second_factor": gettext_lazy("second factor"),
    "checkpoint": gettext_lazy("checkpoint"),
    "checkpoints": gettext_lazy("checkpoints compared"),
    "checked": gettext_lazy("entries checked"),
    "problem": gettext_lazy("problem found"),
    "result": gettext_lazy("result"),
    "expires_at": gettext_lazy("expires at"),
    "read_only": gettext_lazy("read only"),
    "grants": gettext_lazy("grants"),
    "destination": gettext_lazy("destination"),
    "day": gettext_lazy("day"),
    "year": gettext_lazy("year"),
    "indicator": gettext_lazy("indicator"),
    "value": gettext_lazy("value"),
    "kind": gettext_lazy("kind"),
    "state": gettext_lazy("state"),
    "name": gettext_lazy("name"),
    "size": gettext_lazy("size"),
    "filename": gettext_lazy("file"),
    "key": gettext_lazy("key"),
    "changed_on": gettext_lazy("date"),
    "document_number": gettext_lazy("document number"),
    "persons": gettext_lazy("persons"),
    "check_ins": gettext_lazy("check-ins"),
    "plan_items_closed": gettext_lazy("plan items closed"),
    "seed": gettext_lazy("random seed"),
    "as_of": gettext_lazy("as of"),
    "years": gettext_lazy("years"),
    "province": gettext_lazy("province"),
    "rows_read": gettext_lazy("rows read"),
    "imported": gettext_lazy("imported"),
    "created": gettext_lazy("created"),
    "updated": gettext_lazy("updated"),
    "unchanged": gettext_lazy("unchanged"),
    "rejected": gettext_lazy("rows refused"),
    "imports": gettext_lazy("imports"),
}
PAIRS = frozenset({"second_factor", "password", "roles"})  # [before, after], not being fields
LAYOUTS = {"xlsx": gettext_lazy("table"), "roster": gettext_lazy("roster (花名册)")}
EMPTY = "—"


@cache
def model_of(object_type: str) -> type[models.Model] | None:
    if not object_type:
        return None
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def object_type_label(object_type: str) -> str:
    """The Chinese name of the entry's model ("人员" for persons.person), or "" for none."""
    model = model_of(object_type)
    return str(model._meta.verbose_name) if model is not None else ""


def object_type_choices() -> list[tuple[str, str]]:
    """Every model an entry may name, by its Chinese name, for the log's filter."""
    choices = {model._meta.label: str(model._meta.verbose_name) for model in apps.get_models()
               if model._meta.app_config.path.startswith(_project_root())}
    return sorted(choices.items(), key=lambda choice: choice[1])


@cache
def _project_root() -> str:
    from django.conf import settings

    return str(settings.BASE_DIR)


def _field(model, key: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(key)
    except FieldDoesNotExist:
        return None


def label_of(model, key: str) -> str:
    field = _field(model, key)
    if field is not None and hasattr(field, "verbose_name"):
        return str(field.verbose_name)
    label = KEY_LABELS.get(key)
    return str(label) if label is not None else key


def value_text(value, field=None, key: str = "") -> str:
    """One value as a person reads it: 是/否, a choice's label, lists joined, nested criteria
    as "label：value"."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return "；".join(f"{label_of(None, str(k))}：{value_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "、".join(value_text(v, field, key) for v in value)
    if field is not None and getattr(field, "flatchoices", None):
        labels = {str(choice): label for choice, label in field.flatchoices}
        if str(value) in labels:
            return str(labels[str(value)])
    if key == "layout" and value in LAYOUTS:
        return str(LAYOUTS[value])
    if key == "roles":
        from core.roles import Role

        return str(Role(value).label) if value in Role.values else str(value)
    return str(value)


def change_lines(object_type: str, changes) -> list[tuple[str, str]]:
    """(label, text) for each key of an entry's changes; a field's [old, new] as "old → new"."""
    if not isinstance(changes, dict):
        return [(_("changes"), value_text(changes))] if changes else []
    model = model_of(object_type)
    lines = []
    for key, value in changes.items():
        field = _field(model, key)
        pair = key in PAIRS if field is None else not field.many_to_many
        if pair and isinstance(value, list) and len(value) == 2:
            text = f"{value_text(value[0], field, key)} → {value_text(value[1], field, key)}"
        else:
            text = value_text(value, field, key)
        lines.append((label_of(model, key), text))
    return lines


def summary(object_type: str, changes, limit: int = 60) -> str:
    """The changes on one line, cut at ``limit`` characters (the details show them whole)."""
    text = "；".join(f"{label}：{value}" for label, value in change_lines(object_type, changes))
    return text if len(text) <= limit else text[: limit - 1] + "…"
