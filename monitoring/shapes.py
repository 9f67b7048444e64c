"""Jurisdiction outlines for the dashboard's map (issue 6: "a choropleth ... drawn from jurisdiction
geometry when present and a schematic tile grid when not").

An office loads its townships' outlines once from a GeoJSON file, e.g. exported from the
natural-resources bureau's 行政区划 layer: `jindu import shapes FILE.geojson`. Each feature names
its jurisdiction by code in ``properties.code`` (or ``properties.adcode``, the name GB/T 2260
layers use). The whole file is checked first and rejected with every problem listed, or
loaded as a whole (SPEC §4 "nothing lost").
"""

import json
from dataclasses import dataclass
from pathlib import Path

from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import audit
from core.importing import FileRejected, RowError
from core.models import AuditEntry
from core.roles import ALL_ROLES
from core.scoping import ScopedManager

GEOMETRY_TYPES = frozenset({"Polygon", "MultiPolygon"})
CODE_PROPERTIES = ("code", "adcode")


class JurisdictionShape(models.Model):
    """The outline of one jurisdiction as a GeoJSON geometry (WGS 84 longitude/latitude).
    A place's outline is not personal data: every role of the area may see it."""

    jurisdiction = models.OneToOneField("jurisdictions.Jurisdiction", verbose_name=gettext_lazy("jurisdiction"),
                                        on_delete=models.CASCADE, related_name="shape")
    geometry = models.JSONField(gettext_lazy("outline"))
    source = models.CharField(gettext_lazy("source"), max_length=200, blank=True)
    updated_at = models.DateTimeField(gettext_lazy("updated at"), auto_now=True)

    objects = ScopedManager()
    scope_path = "jurisdiction__path"
    scope_roles = ALL_ROLES

    class Meta:
        app_label = "monitoring"
        verbose_name = gettext_lazy("jurisdiction outline")
        verbose_name_plural = gettext_lazy("jurisdiction outlines")

    def __str__(self):
        return str(self.jurisdiction)


def feature_collection(children) -> dict | None:
    """A GeoJSON FeatureCollection of the outlines of ``children`` (each feature's
    ``properties.code`` and ``name``), or None unless every child has one: a map with holes
    would read as "no data", so the dashboard draws the tile grid instead. One query."""
    children = list(children)
    if not children:
        return None
    shapes = {s.jurisdiction_id: s.geometry
              for s in JurisdictionShape.objects.filter(jurisdiction__in=children)}
    if len(shapes) < len(children):
        return None
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": child.code, "name": child.name}, "geometry": shapes[child.pk]}
        for child in children
    ]}


@dataclass(frozen=True)
class ShapeRow:
    number: int  # the feature's position in the file, 1-based
    code: str
    geometry: dict


def read_geojson(data: bytes) -> list[ShapeRow]:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FileRejected([RowError(0, "", _("Not a GeoJSON file: %(error)s") % {"error": error})]) from None
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise FileRejected([RowError(0, "", _("A GeoJSON FeatureCollection is expected."))])
    rows, errors = [], []
    for number, feature in enumerate(features, start=1):
        properties = (feature or {}).get("properties") or {}
        code = next((str(properties[key]).strip() for key in CODE_PROPERTIES if properties.get(key)), "")
        geometry = (feature or {}).get("geometry") or {}
        if not code:
            errors.append(RowError(number, "code", _("The feature has no code property.")))
        elif geometry.get("type") not in GEOMETRY_TYPES or not geometry.get("coordinates"):
            errors.append(RowError(number, "geometry", _("The outline must be a Polygon or MultiPolygon.")))
        else:
            rows.append(ShapeRow(number, code, geometry))
    if errors:
        raise FileRejected(errors)
    return rows


def do_import_shapes(rows: list[ShapeRow], *, acting_user, source: str) -> int:
    """Load the outlines (replacing a jurisdiction's earlier one); every code must name a
    jurisdiction, else nothing is written. Audited as one IMPORT entry. Returns the count."""
    from jurisdictions.models import Jurisdiction

    known = dict(Jurisdiction.objects.filter(code__in=[r.code for r in rows]).values_list("code", "pk"))
    errors = [RowError(r.number, "code", _("No jurisdiction has the code %(code)s.") % {"code": r.code})
              for r in rows if r.code not in known]
    if errors:
        raise FileRejected(errors)
    with transaction.atomic():
        for row in rows:
            JurisdictionShape.objects.update_or_create(
                jurisdiction_id=known[row.code], defaults={"geometry": row.geometry, "source": source[:200]})
        audit.record(AuditEntry.Action.IMPORT, actor=acting_user, object_repr=str(_("jurisdiction outlines")),
                     changes={"source": source, "count": len(rows)})
    return len(rows)


# --- `jindu import shapes FILE.geojson` -----------------------------------------------------


def add_arguments(parser):
    parser.add_argument("file", type=Path, help="GeoJSON FeatureCollection, properties.code = jurisdiction code")


def handle(*, file: Path, stdout, stderr, **options) -> int:
    try:
        count = do_import_shapes(read_geojson(file.read_bytes()), acting_user=None, source=file.name)
    except FileNotFoundError:
        stderr.write(_("File not found: %(file)s") % {"file": file})
        return 2
    except FileRejected as rejected:
        stderr.write(_("The file was rejected; nothing was changed:"))
        for e in rejected.errors:
            stderr.write(_("row %(row)s, %(field)s: %(message)s") % e.as_dict())
        return 1
    stdout.write(_("%(count)d jurisdiction outlines loaded.") % {"count": count})
    return 0
