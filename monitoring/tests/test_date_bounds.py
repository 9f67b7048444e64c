"""Periods and days outside what the registry can hold (9999-12, 0001-01, a span to 9999-12-31)
are refused with a Chinese validation error on every entry point that reads one (issue 19,
item 7): a 400 naming the field on the API, a form error on the pages, never a server error."""

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from core.roles import Role

OUT_OF_RANGE_PERIODS = ["9999-12", "0001-01", "9999-Q4", "0001-Q1", "9999", "0001", "1999-12",
                        "2019-01-01..9999-12-31", "0001-01-01..2019-01-01"]


@pytest.fixture
def office(tree):
    client = Client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    return client


@pytest.mark.parametrize("period", OUT_OF_RANGE_PERIODS)
def test_api_refuses_the_period(office, period):
    response = office.get("/api/indicators/values/", {"period": period, "codes": "registered"})
    assert response.status_code == 400
    assert "统计期间" in response.json()["period"][0]


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31", "1999-12-31"])
def test_api_refuses_the_day(office, as_of):
    response = office.get("/api/indicators/values/", {"period": "2024-06", "codes": "registered", "as_of": as_of})
    assert response.status_code == 400
    assert "日期" in response.json()["as_of"][0]


@pytest.mark.parametrize("url", ["/monitoring/dashboard/", "/monitoring/alerts/"])
@pytest.mark.parametrize("period", OUT_OF_RANGE_PERIODS)
def test_pages_show_a_form_error(office, url, period):
    response = office.get(url, {"period": period})
    assert response.status_code == 200
    assert "统计期间" in response.content.decode()


@pytest.mark.parametrize("document", ["statistics.xlsx", "bulletin.docx"])
@pytest.mark.parametrize("period", OUT_OF_RANGE_PERIODS)
def test_documents_refuse_the_period(office, document, period):
    response = office.get(f"/monitoring/dashboard/{document}", {"period": period})
    assert response.status_code == 302 and response["Location"].startswith("/monitoring/dashboard/?")
    page = office.get(response["Location"])
    assert "统计期间" in page.content.decode() and "attachment" not in page.get("Content-Disposition", "")


@pytest.mark.parametrize("year", ["-5", "0", "1999", "99999999999999999999", "abc"])
def test_targets_refuse_the_year(office, year):
    response = office.get("/monitoring/targets/", {"year": year})
    assert response.status_code == 200
    assert "年度应在2000至" in response.content.decode()


@pytest.mark.parametrize("year", ["0", "1999", "99999999999999999999"])
def test_a_target_of_a_year_out_of_range_does_not_exist(office, year):
    assert office.get(f"/monitoring/targets/execution_rate/{year}/").status_code == 404


def test_a_record_key_beyond_any_is_not_found(office):
    assert office.get("/persons/99999999999999999999/").status_code == 404
