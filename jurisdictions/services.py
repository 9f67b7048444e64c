"""Every change to jurisdictions goes through these functions, which write their own audit."""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.models import AuditEntry
from core.roles import Role, has_any_role
from core.services import save_versioned
from jurisdictions import rules
from jurisdictions.choices import LEVEL_ORDER, Level
from jurisdictions.importers import FileRejected, JurisdictionRow, RowError
from jurisdictions.models import Jurisdiction


class NotAllowed(PermissionError):
    pass


@dataclass
class ImportResult:
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self):
        return {
            "rows_read": self.rows_read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [e.as_dict() for e in self.errors],
        }


def validate_rows(rows: list[JurisdictionRow], acting_user=None) -> list[RowError]:
    """Check every row against the file and the tree; returns all errors, not only the first.

    With an ``acting_user``, a row that would create or rename a node outside that user's
    subtree is an error too (the same rule as ``do_rename_jurisdiction``).
    """
    name_length = Jurisdiction._meta.get_field("name").max_length
    errors: list[RowError] = []
    in_file: dict[str, JurisdictionRow] = {}
    for r in rows:
        if r.level not in Level.values:
            errors.append(RowError(r.row, "level", _("Unknown level “%(level)s”.") % {"level": r.level}))
            continue
        if message := rules.code_error(r.code, r.level):
            errors.append(RowError(r.row, "code", message))
            continue
        if not r.name:
            errors.append(RowError(r.row, "name", _("The name is empty.")))
        elif len(r.name) > name_length:
            errors.append(RowError(r.row, "name", _("The name is longer than %(max)s characters.")
                                   % {"max": name_length}))
        if r.code in in_file:
            errors.append(
                RowError(r.row, "code", _("The code also appears on row %(row)s.") % {"row": in_file[r.code].row})
            )
            continue
        in_file[r.code] = r

    codes = set(in_file) | {r.parent_code for r in in_file.values() if r.parent_code}
    existing = {j.code: j for j in Jurisdiction.objects.filter(code__in=codes).select_related("parent")}
    for r in in_file.values():
        parent_level = None
        if r.parent_code in in_file:
            parent_level = in_file[r.parent_code].level
        elif r.parent_code in existing:
            parent_level = existing[r.parent_code].level
        if message := rules.parent_error(r.code, r.level, r.parent_code or None, parent_level):
            errors.append(RowError(r.row, "parent_code", message))
        current = existing.get(r.code)
        if current is not None:
            if current.level != r.level:
                errors.append(
                    RowError(r.row, "level", _("Code %(code)s is already a %(level)s in the system.")
                             % {"code": r.code, "level": current.get_level_display()})
                )
            current_parent = current.parent.code if current.parent else ""
            if current_parent != r.parent_code:
                errors.append(
                    RowError(r.row, "parent_code", _("Code %(code)s already sits under %(parent)s in the system.")
                             % {"code": r.code, "parent": current_parent or "-"})
                )
    if acting_user is not None:
        errors += _outside_scope(in_file, existing, acting_user)
    errors.sort(key=lambda e: (e.row, e.field))
    return errors


def _outside_scope(in_file: dict[str, JurisdictionRow], existing: dict[str, Jurisdiction],
                   acting_user) -> list[RowError]:
    """Rows that would create or rename a node outside the acting user's subtree. Rows that
    repeat an enclosing node unchanged (a whole-county file re-imported) are not changes."""
    root = getattr(acting_user, "jurisdiction", None)

    def inside(code: str, seen: frozenset = frozenset()) -> bool:
        if root is None or code in seen:
            return False
        if code in existing:
            return existing[code].path.startswith(root.path)
        row = in_file.get(code)  # a node this file creates: inside if its parent is
        return row is not None and bool(row.parent_code) and inside(row.parent_code, seen | {code})

    errors = []
    for r in in_file.values():
        current = existing.get(r.code)
        if current is not None and current.name == r.name:
            continue
        if not inside(r.code if current is not None else r.parent_code):
            errors.append(RowError(r.row, "code", _("This jurisdiction is outside your area.")))
    return errors


def do_import_jurisdictions(rows: list[JurisdictionRow], *, acting_user, source: str = "") -> ImportResult:
    """Create or rename jurisdictions from ``rows``: all or nothing.

    Re-importing a file updates names and never duplicates a code. A file with any bad row
    raises FileRejected with every row's error and changes nothing.
    """
    if acting_user is not None and not has_any_role(acting_user, {Role.SYSTEM_ADMIN}):
        raise NotAllowed(_("Only the system administrator may import jurisdictions."))
    errors = validate_rows(rows, acting_user)
    if errors:
        raise FileRejected(errors)
    result = ImportResult(rows_read=len(rows))
    ordered = sorted(rows, key=lambda r: LEVEL_ORDER[r.level])
    now = timezone.now()
    with transaction.atomic():
        known = {j.code: j for j in Jurisdiction.objects.filter(code__in=[r.code for r in rows] + [
            r.parent_code for r in rows if r.parent_code])}
        for level in Level:
            batch = [r for r in ordered if r.level == level]
            new, renamed = [], []
            for r in batch:
                current = known.get(r.code)
                if current is None:
                    parent = known.get(r.parent_code) if r.parent_code else None
                    node = Jurisdiction(
                        code=r.code, name=r.name, level=r.level, parent=parent,
                        path=Jurisdiction.build_path(r.code, parent), depth=LEVEL_ORDER[r.level],
                        county_code=rules.county_code_of(r.code, r.level),
                    )
                    new.append(node)
                elif current.name != r.name:
                    current.name = r.name
                    current.version += 1
                    current.updated_at = now  # bulk_update does not apply auto_now
                    renamed.append(current)
                else:
                    result.unchanged += 1
            Jurisdiction.objects.bulk_create(new, batch_size=2000)
            if renamed:
                Jurisdiction.objects.bulk_update(renamed, ["name", "version", "updated_at"], batch_size=2000)
            # bulk_create sets primary keys on PostgreSQL and SQLite, so children can refer to them.
            for node in new:
                known[node.code] = node
            result.created += len(new)
            result.updated += len(renamed)
        audit.record(
            AuditEntry.Action.IMPORT, actor=acting_user, object_repr=_("Jurisdiction import %(source)s")
            % {"source": source}, changes={k: v for k, v in result.as_dict().items() if k != "rejected"},
        )
    return result


def do_rename_jurisdiction(jurisdiction: Jurisdiction, name: str, *, expected_version: int, acting_user) -> None:
    if not has_any_role(acting_user, {Role.SYSTEM_ADMIN}):
        raise NotAllowed(_("Only the system administrator may edit jurisdictions."))
    if not Jurisdiction.objects.visible_to(acting_user).filter(pk=jurisdiction.pk).exists():
        raise NotAllowed(_("This jurisdiction is outside your area."))
    with transaction.atomic():
        before = jurisdiction.name
        jurisdiction.name = name
        save_versioned(jurisdiction, expected_version, ["name"])
        audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=jurisdiction,
                     changes=audit.diff({"name": before}, {"name": name}))
