"""The drug-situation dashboard (issue 6): who may open it for which area, what each role sees
(the leadership: aggregates with "<5" and no links), links to the person list behind a number,
the map or the tile grid, the audited downloads, and a number of queries that does not grow
with the data."""

import datetime
import json
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.models import AuditEntry
from core.roles import Role
from jurisdictions.tests.factories import JurisdictionFactory
from monitoring import dashboards, indicators
from monitoring.periods import Period
from monitoring.shapes import JurisdictionShape
from monitoring.tests import builders
from persons.choices import ControlStatus as S
from persons.choices import Substance

URL = reverse("monitoring:dashboard")
# The dashboard's queries: the cards (with 同比/环比), the children, 24 months of trends (the rates
# over the last 12 read with them), four breakdowns, the outlines, the pickers, the session and the
# user. Fixed, whatever the data: computed from the records (82 when written), from the rollups
# (ROLLED_UP_LIMIT, 27 when written: the area's rollups refreshed and checked once, two reads per evaluation).
QUERY_LIMIT = 100
ROLLED_UP_LIMIT = 30


def chart_data(response) -> dict:
    match = re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>',
                      response.content.decode(), re.S)
    assert match, "the page carries its chart data as JSON"
    return json.loads(match.group(1))


def card_html(response, code: str) -> str:
    body = response.content.decode()
    match = re.search(rf'data-indicator="{code}">(.*?)</div>\s*</div>\s*</div>', body, re.S)
    assert match, code
    return match.group(1)


def card(response, code: str) -> str:
    """The text of one KPI card."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card_html(response, code))).strip()


@pytest.fixture
def county(tree):
    return tree["county"]


@pytest.fixture
def small_village(tree):
    """Three persons in the first village: a count the leadership must not see."""
    village = tree["villages"][0]
    builders.persons(village, 3, status=S.COMMUNITY_TREATMENT, substances=[Substance.HEROIN])
    return village


def user(place, role):
    return UserFactory(jurisdiction=place, roles=[role])


# --- who may open it ------------------------------------------------------------------------------


def test_dashboard_scope_matrix(client, scope_matrix, township):
    """A township's dashboard: its own staff and the county's, in the dashboard roles; never a
    sibling township, another county or a role without dashboards."""
    scope_matrix.check_detail(client, f"{URL}?jurisdiction={township.code}", allowed_roles=dashboards.DASHBOARD_ROLES)


def test_own_area_by_default_and_children_in_the_picker(client, tree, county):
    client.force_login(user(county, Role.OFFICE))
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["dashboard"].jurisdiction == county
    codes = [j.code for j in response.context["jurisdiction_choices"]]
    assert codes == [county.code] + [t.code for t in tree["townships"]]
    assert tree["other_county"].code not in codes
    data = chart_data(response)
    assert {"trend", "rates", "ranking", "map", "status", "age", "substance", "risk"} <= set(data["charts"])


def test_a_village_or_a_place_outside_is_not_a_dashboard(client, tree, county):
    client.force_login(user(county, Role.OFFICE))
    assert client.get(f"{URL}?jurisdiction={tree['villages'][0].code}").status_code == 404
    assert client.get(f"{URL}?jurisdiction={tree['other_county'].code}").status_code == 404
    client.force_login(user(tree["villages"][0], Role.TOWNSHIP))
    assert client.get(URL).status_code == 404


def test_a_wrong_period_says_so_and_shows_this_month(client, county):
    client.force_login(user(county, Role.OFFICE))
    response = client.get(f"{URL}?period=2024-13")
    assert response.status_code == 200
    assert response.context["dashboard"].period == Period.containing(timezone.localdate())
    assert [str(m) for m in response.context["messages"]]


# --- what each role sees --------------------------------------------------------------------------


def test_office_sees_the_numbers_and_links_to_the_list(client, county, small_village):
    client.force_login(user(county, Role.OFFICE))
    response = client.get(URL)
    assert card(response, "registered").startswith(f"{indicators.INDICATORS['registered'].name} 3")
    data = chart_data(response)
    assert data["links"] is True
    status = {p["name"]: p for p in data["charts"]["status"]["items"]}
    treatment = status[str(S.COMMUNITY_TREATMENT.label)]
    assert treatment["value"] == 3 and treatment["label"] == "3"
    assert treatment["url"] == "/persons/?status=community_treatment"
    substance = {p["name"]: p for p in data["charts"]["substance"]["items"]}[str(Substance.HEROIN.label)]
    assert substance["url"] == "/persons/?substance=heroin"
    ranking = data["charts"]["ranking"]["options"][0]
    assert ranking["code"] == "registered"
    assert ranking["items"][0]["url"] == f"/persons/?area={small_village.parent.code}"
    # The list behind the link holds those three persons.
    listed = client.get(treatment["url"])
    assert listed.status_code == 200
    assert all(f"测试{i}" in listed.content.decode() for i in range(3))


def test_leadership_sees_aggregates_only(client, county, small_village):
    client.force_login(user(county, Role.LEADERSHIP))
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert card(response, "registered").startswith(f"{indicators.INDICATORS['registered'].name} &lt;5")
    data = chart_data(response)
    assert data["links"] is False
    assert "/persons/" not in json.dumps(data) and 'href="/persons/' not in body
    status = {p["name"]: p for p in data["charts"]["status"]["items"]}[str(S.COMMUNITY_TREATMENT.label)]
    assert status == {"name": str(S.COMMUNITY_TREATMENT.label), "value": None, "label": "<5", "url": "",
                      "key": S.COMMUNITY_TREATMENT.value, "colour": ""}
    ranking = data["charts"]["ranking"]["options"][0]["items"]
    township = next(item for item in ranking if item["name"] == small_village.parent.name)
    assert township["value"] is None and township["label"] == "<5"
    assert ranking[-1] == township  # a figure not shown takes no place in the order (it would bound it)
    tile = next(t for t in data["charts"]["map"]["items"] if t["code"] == small_village.parent.code)
    assert tile["value"] is None and tile["label"] == "<5"
    # No chart anywhere carries the number 3 for these persons.
    trend = data["charts"]["trend"]["series"][0]["points"][-1]
    assert trend["value"] is None and trend["label"] == "<5"
    assert str(S.COMMUNITY_TREATMENT.label) in data["charts"]["status"]["suppressed"]


def test_five_or_more_are_shown_to_the_leadership(client, county, tree):
    builders.persons(tree["villages"][0], 5)
    client.force_login(user(county, Role.LEADERSHIP))
    response = client.get(URL)
    assert card(response, "registered").startswith(f"{indicators.INDICATORS['registered'].name} 5")


def test_no_links_for_a_past_month(client, county, small_village):
    """The list shows today's files; a past month's numbers have no list behind them."""
    client.force_login(user(county, Role.OFFICE))
    data = chart_data(client.get(f"{URL}?period=2024-06"))
    assert not any(p["url"] for p in data["charts"]["status"]["items"])
    assert not any(p["url"] for p in data["charts"]["ranking"]["options"][0]["items"])


def test_a_township_seen_from_the_county_links_to_its_area(client, county, small_village):
    client.force_login(user(county, Role.POLICE))
    township = small_village.parent
    data = chart_data(client.get(f"{URL}?jurisdiction={township.code}"))
    status = {p["name"]: p for p in data["charts"]["status"]["items"]}[str(S.COMMUNITY_TREATMENT.label)]
    assert status["url"] == f"/persons/?area={township.code}&status=community_treatment"
    tile = data["charts"]["map"]["items"][0]
    assert tile["code"] == small_village.code and tile["url"] == f"/persons/?area={small_village.code}"


def test_cards_show_the_target_and_whether_it_is_met(client, county, tree):
    from monitoring import services

    office = user(county, Role.OFFICE)
    year = timezone.localdate().year
    services.do_set_target("execution_rate", county, year, 90, acting_user=office)
    services.do_set_target("newly_found", county, year, 10, acting_user=office)
    client.force_login(office)
    response = client.get(URL)
    assert "90.0%" in card(response, "execution_rate")
    # Nobody under measures: no rate, so neither met nor missed; nobody newly found: met (≤ 10).
    assert "badge" not in card_html(response, "execution_rate")
    assert "bg-success-lt" in card_html(response, "newly_found")
    builders.persons(tree["villages"][0], 11, first_found_on=timezone.localdate())
    assert "bg-danger-lt" in card_html(client.get(URL), "newly_found")


# --- the map ----------------------------------------------------------------------------------------


SQUARE = {"type": "Polygon", "coordinates": [[[100, 25], [100.1, 25], [100.1, 25.1], [100, 25.1], [100, 25]]]}


def test_map_from_outlines_when_every_area_has_one(client, county, tree):
    client.force_login(user(county, Role.OFFICE))
    JurisdictionShape.objects.create(jurisdiction=tree["townships"][0], geometry=SQUARE)
    assert chart_data(client.get(URL))["charts"]["map"]["kind"] == "tiles"  # one outline missing
    JurisdictionShape.objects.create(jurisdiction=tree["townships"][1], geometry=SQUARE)
    spec = chart_data(client.get(URL))["charts"]["map"]
    assert spec["kind"] == "map"
    assert [f["properties"]["code"] for f in spec["geojson"]["features"]] == [t.code for t in tree["townships"]]


def test_risk_slices_take_the_colour_of_their_category(client, county, small_village):
    """High red, medium orange, low green, not assessed grey: by the category's key, whatever
    its place in the ring; categories without a meaning take the palette."""
    client.force_login(user(county, Role.OFFICE))
    risk = chart_data(client.get(URL))["charts"]["risk"]["items"]
    assert {item["key"]: item["colour"] for item in risk} == {
        "high": "#d63939", "medium": "#f76707", "low": "#2fb344", "": "#9aa0ac"}
    assert [item["name"] for item in risk] == ["高", "中", "低", "未登记"]
    assert dashboards.category_colour("living", "") == dashboards.UNRECORDED_COLOUR
    status = chart_data(client.get(URL))["charts"]["status"]["items"]
    assert all(item["colour"] == "" for item in status)  # no meaning: the palette


# --- queries ------------------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_query_count_does_not_grow_with_the_data(client, county, tree, django_assert_max_num_queries):
    office = user(county, Role.OFFICE)
    client.force_login(office)
    builders.persons(tree["villages"][0], 2)
    client.get(URL)  # the first page of a session renews its idle time-out (a session write)
    small = _queries(client, URL)
    for number in range(3, 9):  # more townships, villages and persons
        township = JurisdictionFactory(level="township", parent=county, name=f"加测镇{number}")
        for v in range(2):
            village = JurisdictionFactory(level="village", parent=township, name=f"加测村{number}-{v}")
            builders.persons(village, 20, status=S.COMMUNITY_REHABILITATION, substances=[Substance.METHAMPHETAMINE])
    with django_assert_max_num_queries(QUERY_LIMIT):
        assert client.get(URL).status_code == 200
    assert _queries(client, URL) == small
    call_command("rollups", "rebuild")
    with django_assert_max_num_queries(ROLLED_UP_LIMIT):
        assert client.get(URL).status_code == 200


# --- downloads -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "content_type"), [
    ("monitoring:report_statistics", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("monitoring:report_bulletin", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
])
def test_downloads_are_audited(client, county, small_village, name, content_type):
    leader = user(county, Role.LEADERSHIP)
    client.force_login(leader)
    response = client.get(f"{reverse(name)}?jurisdiction={county.code}&period=2024-06")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert "attachment" in response["Content-Disposition"]
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT, actor=leader).get()
    assert entry.changes["period"] == "2024-06" and entry.changes["jurisdiction"] == county.code
    assert entry.changes["suppressed"] is True


def test_downloads_follow_the_dashboard_scope(client, scope_matrix, township):
    scope_matrix.check_detail(client, f"{reverse('monitoring:report_statistics')}?jurisdiction={township.code}"
                                      f"&period=2024-06", allowed_roles=dashboards.DASHBOARD_ROLES)


# --- the home page ---------------------------------------------------------------------------------------


def test_leadership_lands_on_the_dashboard(client, county):
    client.force_login(user(county, Role.LEADERSHIP))
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == URL


def test_home_links_to_the_dashboard_for_its_roles(client, county):
    client.force_login(user(county, Role.OFFICE))
    assert f'href="{URL}"' in client.get("/").content.decode()
    client.force_login(user(county, Role.MEMBER_UNIT))
    assert 'class="card card-link card-link-pop home-dashboard"' not in client.get("/").content.decode()


def test_period_choices_are_the_last_months_quarters_and_years():
    choices = dict(dashboards.period_choices(datetime.date(2024, 7, 5)))
    assert list(choices)[:2] == ["2024-07", "2024-06"]
    assert "2022-08" in choices and "2022-07" not in choices
    assert "2024-Q3" in choices and "2022-Q4" in choices and "2022-Q3" not in choices
    assert "2020" in choices and "2019" not in choices
