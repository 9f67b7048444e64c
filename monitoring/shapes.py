"""Jurisdiction outlines for the dashboard's map (issue 6: "a choropleth ... drawn from jurisdiction
geometry when present and a schematic tile grid when not").

An office loads its townships' outlines once from a GeoJSON file, e.g. exported from the
natural-resources bureau's 行政区划 layer: on the system administrator's import page
(/monitoring/dashboard/boundaries/, issue 20) or `jindu import shapes FILE.geojson`. Each feature
names its jurisdiction by code in ``properties.code`` (or ``properties.adcode``, the name GB/T 2260
layers use), or a file holding one outline is named by the code. Outlines are checked with
shapely (a valid polygon of longitude/latitude). The whole upload is checked first and rejected
with every problem listed in Chinese, or loaded as a whole (SPEC §4 "nothing lost").
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
    file: str = ""  # the file it came from, when several are loaded together


def _where(file: str, field: str) -> str:
    return f"{file}：{field}" if file else field


def _features(document) -> list | None:
    """The features of a FeatureCollection, a single Feature, or a bare outline; None otherwise."""
    if not isinstance(document, dict):
        return None
    kind = document.get("type")
    if kind == "FeatureCollection":
        return document.get("features") if isinstance(document.get("features"), list) else None
    if kind == "Feature":
        return [document]
    if kind in GEOMETRY_TYPES:
        return [{"type": "Feature", "properties": {}, "geometry": document}]
    return None


def geometry_problem(geometry) -> str:
    """Why an outline cannot be drawn, in Chinese ("" when it can): a Polygon or MultiPolygon
    of longitude/latitude pairs (WGS 84) whose rings are closed and do not cross themselves
    (checked with shapely, as GIS tools check it)."""
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES or not geometry.get("coordinates"):
        return _("The outline must be a Polygon or MultiPolygon.")
    import shapely
    from shapely.geometry import shape
    from shapely.validation import explain_validity

    try:
        outline = shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.ShapelyError):
        return _("The outline's coordinates cannot be read: each ring is a closed list of [longitude, latitude] "
                 "pairs.")
    west, south, east, north = outline.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        return _("The coordinates are not longitude and latitude (WGS 84).")
    if not outline.is_valid:
        where = explain_validity(outline)
        point = where[where.find("[") :] if "[" in where else ""
        return _("The outline is not a valid polygon (a ring crosses itself or is not closed) near %(point)s.") % {
            "point": point or "—"}
    return ""


def read_geojson(data: bytes, filename: str = "") -> list[ShapeRow]:
    """The outlines of one file: a FeatureCollection whose features carry the jurisdiction's
    code in ``properties.code`` (or ``adcode``), or one jurisdiction's Feature or outline in a
    file named by its code (``320101001.geojson``). Every problem is listed, in Chinese."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise FileRejected([RowError(0, "", _("Not a GeoJSON file: it is not UTF-8 text."))]) from None
    except json.JSONDecodeError as error:
        raise FileRejected([RowError(0, "", _("Not a GeoJSON file: the JSON breaks at line %(line)s, column "
                                              "%(column)s.") % {"line": error.lineno, "column": error.colno})]
                           ) from None
    features = _features(document)
    if features is None:
        raise FileRejected([RowError(0, "", _("A GeoJSON FeatureCollection is expected."))])
    stem = Path(filename).stem if filename else ""
    by_name = stem if stem.isdigit() and len(features) == 1 else ""
    code_field, outline_field = str(_("jurisdiction code")), str(_("outline"))
    rows, errors, seen = [], [], set()
    for number, feature in enumerate(features, start=1):
        feature = feature if isinstance(feature, dict) else {}
        properties = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
        code = next((str(properties[key]).strip() for key in CODE_PROPERTIES if properties.get(key)), by_name)
        geometry = feature.get("geometry")
        problem = geometry_problem(geometry)
        if not code:
            errors.append(RowError(number, code_field, _("The feature has no code property.")))
        elif code in seen:
            errors.append(RowError(number, code_field, _("The code %(code)s appears twice.") % {"code": code}))
        elif problem:
            errors.append(RowError(number, outline_field, problem))
        else:
            seen.add(code)
            rows.append(ShapeRow(number, code, geometry))
    if errors:
        raise FileRejected(errors)
    return rows


def read_files(files) -> list[ShapeRow]:
    """The outlines of several files [(name, bytes)] read together: every problem of every
    file, each named by its file, and no code twice across them."""
    rows, errors, seen = [], [], {}
    for name, data in files:
        try:
            found = read_geojson(data, name)
        except FileRejected as rejected:
            errors += [RowError(e.row, _where(name, e.field), e.message) for e in rejected.errors]
            continue
        for row in found:
            if row.code in seen:
                errors.append(RowError(row.number, _where(name, str(_("jurisdiction code"))),
                                       _("The code %(code)s is also in %(file)s.") % {"code": row.code,
                                                                                       "file": seen[row.code]}))
            seen[row.code] = name
            rows.append(ShapeRow(row.number, row.code, row.geometry, name if len(files) > 1 else ""))
    if errors:
        raise FileRejected(errors)
    return rows


def do_import_shapes(rows: list[ShapeRow], *, acting_user, source: str) -> int:
    """Load the outlines (replacing a jurisdiction's earlier one); every code must name a
    jurisdiction of this installation's tree — within the acting user's area, for a user —
    else nothing is written. Audited as one IMPORT entry. Returns the count."""
    from jurisdictions.models import Jurisdiction

    nodes = Jurisdiction.objects.all() if acting_user is None else Jurisdiction.objects.visible_to(acting_user)
    known = dict(nodes.filter(code__in=[r.code for r in rows]).values_list("code", "pk"))
    errors = [RowError(r.number, _where(r.file, str(_("jurisdiction code"))),
                       _("No jurisdiction of this installation has the code %(code)s.") % {"code": r.code})
              for r in rows if r.code not in known]
    if not rows:
        errors.append(RowError(0, "", _("The file holds no outline.")))
    if errors:
        raise FileRejected(errors)
    with transaction.atomic():
        for row in rows:
            JurisdictionShape.objects.update_or_create(
                jurisdiction_id=known[row.code], defaults={"geometry": row.geometry, "source": source[:200]})
        audit.record(AuditEntry.Action.IMPORT, actor=acting_user, object_repr=str(_("jurisdiction outlines")),
                     changes={"source": source, "count": len(rows), "codes": sorted(r.code for r in rows)})
    return len(rows)


# --- `jindu import shapes FILE.geojson` -----------------------------------------------------


def add_arguments(parser):
    parser.add_argument("file", type=Path, help="GeoJSON FeatureCollection, properties.code = jurisdiction code")


def handle(*, file: Path, stdout, stderr, **options) -> int:
    try:
        count = do_import_shapes(read_geojson(file.read_bytes(), file.name), acting_user=None, source=file.name)
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
