"""The import page of jurisdiction outlines for the dashboard's map (issue 20): the system
administrator uploads GeoJSON, every feature checked (code in this installation's tree and in
the administrator's area, a valid polygon), loaded through do_import_shapes with its audit;
the dashboard then draws the map, and its empty map links to the page."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tests.factories import UserFactory
from core.models import AuditEntry
from core.roles import Role
from monitoring.shapes import JurisdictionShape
from monitoring.tests.test_dashboard import chart_data

URL = reverse("monitoring:boundaries")
DASHBOARD = reverse("monitoring:dashboard")
SQUARE = {"type": "Polygon", "coordinates": [[[100, 25], [100.1, 25], [100.1, 25.1], [100, 25.1], [100, 25]]]}
# A "bow tie": the ring crosses itself at (100.05, 25.05).
BOWTIE = {"type": "Polygon", "coordinates": [[[100, 25], [100.1, 25.1], [100.1, 25], [100, 25.1], [100, 25]]]}


def collection(*pairs) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": code}, "geometry": geometry} for code, geometry in pairs]}).encode()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/geo+json")


@pytest.fixture
def admin(tree):
    return UserFactory(jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN])


def test_a_feature_collection_is_loaded_audited_and_drawn(client, tree, admin):
    first, second = tree["townships"]
    client.force_login(admin)
    assert client.get(URL).status_code == 200
    response = client.post(URL, {"files": [upload("乡镇.geojson", collection((first.code, SQUARE),
                                                                              (second.code, SQUARE)))]})
    assert response.status_code == 302
    assert set(JurisdictionShape.objects.values_list("jurisdiction__code", flat=True)) == {first.code, second.code}
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT, actor=admin)
    assert entry.changes["count"] == 2 and entry.changes["codes"] == sorted([first.code, second.code])
    assert "2" in client.get(URL).content.decode().split('id="boundary-coverage"')[1]
    office = UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE])
    client.force_login(office)
    assert chart_data(client.get(DASHBOARD))["charts"]["map"]["kind"] == "map"


def test_one_file_per_jurisdiction_named_by_its_code(client, tree, admin):
    first, second = tree["townships"]
    client.force_login(admin)
    feature = json.dumps({"type": "Feature", "properties": {"name": first.name}, "geometry": SQUARE}).encode()
    bare = json.dumps(SQUARE).encode()
    response = client.post(URL, {"files": [upload(f"{first.code}.geojson", feature),
                                           upload(f"{second.code}.json", bare)]})
    assert response.status_code == 302
    assert JurisdictionShape.objects.count() == 2


@pytest.mark.parametrize("files, expected", [
    ([("a.geojson", collection(("980101001", BOWTIE)))], "不是有效的多边形"),
    ([("a.geojson", collection(("999999001", SQUARE)))], "本系统没有编码为 999999001 的区划"),
    ([("a.geojson", collection(("980102", SQUARE)))], "本系统没有编码为 980102 的区划"),  # the next county
    ([("a.geojson", b"{not json")], "第1行"),
    ([("a.geojson", collection(("980101001", {"type": "Point", "coordinates": [1, 2]})))], "Polygon"),
    ([("a.geojson", collection(("980101001", {"type": "Polygon", "coordinates": [[[1000, 25], [1000.1, 25],
                                                                                  [1000, 25.1], [1000, 25]]]})))],
     "经纬度"),
    ([("a.geojson", collection(("980101001", SQUARE))), ("b.geojson", collection(("980101001", SQUARE)))],
     "也在 a.geojson 中"),
])
def test_bad_files_are_refused_in_chinese_and_nothing_is_saved(client, tree, admin, files, expected):
    client.force_login(admin)
    good = (tree["townships"][1].code, SQUARE)  # a good feature beside the bad one is not loaded either
    uploads = [upload(name, content) for name, content in files] + [upload("good.geojson", collection(good))]
    response = client.post(URL, {"files": uploads})
    assert response.status_code == 400
    body = response.content.decode()
    assert expected in body, body.split('id="boundary-errors"')[-1][:2000]
    assert not JurisdictionShape.objects.exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).exists()


def test_only_the_system_administrator_imports(client, tree):
    for role in (Role.OFFICE, Role.SECURITY_ADMIN, Role.LEADERSHIP):
        client.force_login(UserFactory(jurisdiction=tree["county"], roles=[role]))
        assert client.get(URL).status_code == 403
        assert client.post(URL, {"files": [upload("a.geojson", collection((tree["townships"][0].code, SQUARE)))]}
                           ).status_code == 403
    assert not JurisdictionShape.objects.exists()


def test_the_empty_map_says_who_imports_and_links_for_the_administrator(client, tree):
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    body = client.get(DASHBOARD).content.decode()
    note = body.split('id="no-boundaries"')[1].split("</div>")[0]
    assert "尚未导入区划边界" in note and "系统管理员" in note and URL not in note
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE, Role.SYSTEM_ADMIN]))
    note = client.get(DASHBOARD).content.decode().split('id="no-boundaries"')[1].split("</div>")[0]
    assert f'href="{URL}"' in note
