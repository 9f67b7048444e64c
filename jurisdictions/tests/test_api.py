"""/api/jurisdictions/: read-only, scoped like the pages."""

from django.test import Client

from accounts.tests.factories import UserFactory
from core.roles import ALL_ROLES, Role
from jurisdictions.choices import Level
from jurisdictions.tests.factories import JurisdictionFactory

LIST = "/api/jurisdictions/"


def test_list_is_scoped(scope_matrix, township):
    scope_matrix.check_list(Client(), f"{LIST}?level=township", marker=f'"{township.code}"', allowed_roles=ALL_ROLES)


def test_detail_is_scoped(scope_matrix, township):
    scope_matrix.check_detail(Client(), f"{LIST}{township.code}/", allowed_roles=ALL_ROLES)


def test_anonymous_gets_nothing(township):
    response = Client().get(f"{LIST}{township.code}/")
    assert response.status_code in (302, 401, 403)
    assert township.code not in response.content.decode()


def test_user_without_a_role_gets_nothing(township):
    client = Client()
    client.force_login(UserFactory(jurisdiction=township, roles=[]))
    assert client.get(LIST).status_code == 403


def test_fields(tree, township):
    client = Client()
    client.force_login(UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP]))
    data = client.get(f"{LIST}{township.code}/").json()
    assert data == {"code": township.code, "name": township.name, "level": "township",
                    "parent_code": "980101", "path": "980000/980100/980101/980101001/", "county_code": "980101"}


def test_list_shows_only_the_subtree(tree, township):
    client = Client()
    client.force_login(UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP]))
    data = client.get(LIST).json()
    assert data["count"] == 3
    assert {r["code"] for r in data["results"]} == {township.code, f"{township.code}001", f"{township.code}002"}


def test_read_only(tree):
    client = Client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.SYSTEM_ADMIN]))
    payload = {"code": "980101009", "name": "X", "level": "township", "parent_code": "980101"}
    assert client.post(LIST, payload).status_code == 405
    assert client.delete(f"{LIST}{tree['townships'][0].code}/").status_code == 405


def test_filter_by_level(tree):
    client = Client()
    client.force_login(UserFactory(jurisdiction=tree["province"], roles=[Role.OFFICE]))
    codes = {r["code"] for r in client.get(f"{LIST}?level=county").json()["results"]}
    assert codes == {"980101", "980102"}


def test_filter_within_matches_whole_codes_only(tree):
    """?within=980101 must not take in a node of another county whose code merely contains 980101."""
    province = tree["province"]
    county = JurisdictionFactory(code="980201", name="另一县", level=Level.COUNTY,
                                 parent=JurisdictionFactory(code="980200", level=Level.CITY, parent=province))
    township = JurisdictionFactory(code="980201980", name="巧合镇", level=Level.TOWNSHIP, parent=county)
    JurisdictionFactory(code="980201980101", name="巧合村", level=Level.VILLAGE, parent=township)
    client = Client()
    client.force_login(UserFactory(jurisdiction=province, roles=[Role.OFFICE]))
    codes = {r["code"] for r in client.get(f"{LIST}?within=980101&page_size=100").json()["results"]}
    assert "980201980101" not in codes
    assert codes == {"980101", *(t.code for t in tree["townships"]), *(v.code for v in tree["villages"])}
    codes = {r["code"] for r in client.get(f"{LIST}?within=980000").json()["results"]}
    assert "980201980101" in codes


def test_anonymous_api_request_gets_403_not_a_login_page(client, tree):
    response = client.get("/api/jurisdictions/")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
