import datetime

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from core.roles import Role
from monitoring.models import READER_ROLES
from monitoring.tests import builders
from persons.choices import ControlStatus as S


@pytest.fixture
def client():
    return Client()


def test_catalogue(tree, client):
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.LEADERSHIP]))
    data = client.get("/api/indicators/").json()
    execution = next(i for i in data if i["code"] == "execution_rate")
    assert execution["unit"] == "%" and execution["higher_is_better"] is True and "1448" in execution["source"]
    assert client.get("/api/indicators/execution_rate/").json()["code"] == "execution_rate"
    assert client.get("/api/indicators/nothing/").status_code == 404


def test_values_are_scoped_and_suppressed(scope_matrix, tree, client):
    village = tree["villages"][0]
    builders.persons(village, 3, status=S.COMMUNITY_TREATMENT, since=datetime.date(2024, 1, 1))
    url = f"/api/indicators/values/?jurisdiction={scope_matrix.target.code}&period=2024-06&codes=registered,grid_rate"
    for case in scope_matrix.cases:
        client.force_login(case.user)
        response = client.get(url)
        visible = case.position in ("in_scope", "above") and case.role in READER_ROLES
        if not visible:
            assert response.status_code in (403, 404), str(case)
            continue
        assert response.status_code == 200, str(case)
        registered = next(r for r in response.json() if r["code"] == "registered")
        if case.role == Role.LEADERSHIP:
            assert registered["value"] is None and registered["display"] == "<5" and registered["numerator"] is None
        else:
            assert registered["value"] == 3 and registered["display"] == "3"
    client.logout()


def test_values_of_children_and_bad_input(tree, client):
    for village in tree["villages"]:
        builders.persons(village, 6, since=datetime.date(2024, 1, 1))
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    rows = client.get("/api/indicators/values/?period=2024-06&codes=registered&children=true").json()
    assert sorted((r["jurisdiction"], r["value"]) for r in rows) == sorted(
        (t.code, 12) for t in tree["townships"])
    response = client.get("/api/indicators/values/?period=June")
    assert response.status_code == 400 and "period" in response.json()
    assert client.get("/api/indicators/values/?codes=nothing").status_code == 400


def test_openapi_lists_the_endpoints(tree, client):
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    from django.urls import reverse

    try:
        url = reverse("schema")
    except Exception:
        url = "/api/schema/"
    schema = client.get(url).content.decode()
    assert "/api/indicators/values/" in schema
