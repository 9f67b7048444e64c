"""The monitoring pages: scoped (the matrix), the alert centre's personal rows only for roles with
personal-data rights, the office's entry pages refusing bad input in Chinese, query bounds."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.models import AuditEntry
from core.roles import ALL_ROLES, PERSONAL_DATA_ROLES, Role
from jindu.testing.scope import TASKED
from monitoring import services
from monitoring.choices import Comparison
from monitoring.models import READER_ROLES, PopulationFigure, Target, Threshold
from monitoring.tests import builders
from monitoring.tests.builders import ui
from persons.tests import people

OFFICE = frozenset({Role.OFFICE})
MARKER = "预警对象"


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def village(tree):
    return tree["villages"][0]


def _login(client, jurisdiction, *roles):
    user = UserFactory(jurisdiction=jurisdiction, roles=list(roles))
    client.force_login(user)
    return user


def _overdue_person(village):
    """A person under community treatment whose check-ins since 120 days ago are open, with a
    serious-breach flag from three refused tests."""
    from persons import services as person_services
    from persons.choices import CheckInKind, DrugTestResult

    person = people.under_treatment(village, name=MARKER)
    today = timezone.localdate()
    for days in (60, 30, 2):
        person_services.do_record_check_in(person, CheckInKind.DRUG_TEST, today - datetime.timedelta(days=days),
                                           acting_user=None, result=DrugTestResult.REFUSED)
    return person


# --- scope ---------------------------------------------------------------------------------------------


def test_alert_centre_names_persons_only_in_scope_and_to_personal_data_roles(scope_matrix, village, client):
    """The matrix target is the township; the person lives in one of its villages. The roles that
    read files, in scope and above, see the person's line; a member unit does not, even with a
    support task for the person (its flags and missed check-ins are not the task's business);
    the leadership sees counts only; the administrators do not reach the page."""
    person = _overdue_person(village)
    scope_matrix.add_tasked_member_units(person)
    scope_matrix.check_list(client, reverse("monitoring:alerts"), marker=MARKER,
                            allowed_roles=PERSONAL_DATA_ROLES - {Role.SOCIAL_WORKER, Role.MEMBER_UNIT},
                            hidden={TASKED: [reverse("persons:detail", args=[person.pk])]})
    leader = next(c.user for c in scope_matrix.cases if c.position == "above" and c.role == Role.LEADERSHIP)
    client.force_login(leader)
    response = client.get(reverse("monitoring:alerts"))
    body = response.content.decode()
    assert response.status_code == 200 and MARKER not in body and "&lt;5" in body
    for role in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN):
        admin = next(c.user for c in scope_matrix.cases if c.position == "in_scope" and c.role == role)
        client.force_login(admin)
        assert client.get(reverse("monitoring:alerts")).status_code == 403


def test_entry_lists_are_scoped(scope_matrix, township, client):
    services.do_set_population(township, 2024, 87_654, acting_user=None)
    services.do_set_threshold("newly_found", township, Comparison.YOY_ABOVE, 20, acting_user=None, note=MARKER)
    scope_matrix.check_list(client, reverse("monitoring:population"), marker="87654", allowed_roles=READER_ROLES)
    scope_matrix.check_list(client, reverse("monitoring:thresholds"), marker=MARKER, allowed_roles=READER_ROLES)


def test_records_are_scoped(scope_matrix, township):
    figure = services.do_set_population(township, 2024, 1000, acting_user=None)
    target = services.do_set_target("execution_rate", township, 2024, 90, acting_user=None)
    scope_matrix.check_queryset(PopulationFigure, figure, allowed_roles=READER_ROLES)
    scope_matrix.check_queryset(Target, target, allowed_roles=READER_ROLES)


def test_office_pages_serve_the_office_only(scope_matrix, client):
    for name in ("monitoring:settings", "monitoring:population_edit", "monitoring:threshold_edit"):
        failures = []
        for case in scope_matrix.cases:
            client.force_login(case.user)
            status = client.get(reverse(name)).status_code
            if (status == 200) != (case.role == Role.OFFICE):
                failures.append(f"{case}: {status}")
        assert failures == [], name


def test_catalogue_and_targets_pages_for_readers(scope_matrix, client):
    for name in ("monitoring:indicators", "monitoring:targets"):
        for case in scope_matrix.cases:
            client.force_login(case.user)
            status = client.get(reverse(name)).status_code
            assert (status == 200) == (case.role in READER_ROLES), (name, str(case), status)


def test_targets_of_another_area_are_refused(tree, client):
    _login(client, tree["townships"][0], Role.OFFICE)
    other = tree["townships"][1]
    assert client.get(reverse("monitoring:targets") + f"?jurisdiction={other.code}").status_code == 404
    url = reverse("monitoring:target_edit", args=["execution_rate", 2024]) + f"?jurisdiction={other.code}"
    assert client.post(url, {"value": "90"}).status_code == 404
    assert not Target.objects.exists()


# --- the alert centre ----------------------------------------------------------------------------------


def test_alert_centre_lists_owner_and_age(tree, village, client):
    person = _overdue_person(village)
    worker = UserFactory(jurisdiction=village, roles=[Role.SOCIAL_WORKER], full_name="王社工")
    person.assigned_worker = worker
    person.save(update_fields=["assigned_worker"])
    _login(client, tree["county"], Role.OFFICE)
    response = client.get(reverse("monitoring:alerts"))
    centre = response.context["centre"]
    township_row = next(a for a in centre.areas if a.jurisdiction == tree["townships"][0])
    assert township_row.open_flags == 1 and township_row.oldest_flag_days == 0
    assert township_row.overdue_items >= 1 and township_row.overdue_persons == 1
    flag_row = centre.flags[0]
    assert flag_row["person"] == person and flag_row["owner"] == "王社工" and flag_row["age_days"] == 0
    assert centre.overdue[0]["owner"] == "王社工" and centre.overdue[0]["age_days"] > 0


def test_alert_centre_shows_threshold_breaches_per_area(tree, client):
    today = timezone.localdate()
    # The same day a year earlier, as the comparison reads it (29 February: the 28th); 365 days
    # back is the day after it in a year following 29 February, outside last year's period to date.
    year_ago = today - relativedelta(years=1)
    first, second = tree["villages"][0], tree["villages"][2]  # one village in each township
    builders.persons(first, 6, first_found_on=today)
    builders.persons(first, 2, first_found_on=year_ago)
    builders.persons(second, 1, first_found_on=today)
    builders.persons(second, 1, first_found_on=year_ago)
    services.do_set_threshold("newly_found", tree["county"], Comparison.YOY_ABOVE, 20, acting_user=None)
    _login(client, tree["county"], Role.LEADERSHIP)
    response = client.get(reverse("monitoring:alerts"))
    breaches = response.context["centre"].breaches
    places = sorted(b.jurisdiction.name for b in breaches)
    # The first township's 6 is withheld from the leadership (the county's 7 minus it is the
    # second's 1): a breach of a figure not shown is not listed for them (monitoring.disclosure).
    assert places == [tree["county"].name]
    assert response.context["centre"].flags == []  # the leadership never gets personal rows
    _login(client, tree["county"], Role.OFFICE)
    breaches = client.get(reverse("monitoring:alerts")).context["centre"].breaches
    assert sorted(b.jurisdiction.name for b in breaches) == sorted([tree["county"].name, tree["townships"][0].name])
    # The township office sees its own township's breach under the county's threshold.
    _login(client, tree["townships"][0], Role.OFFICE)
    breaches = client.get(reverse("monitoring:alerts")).context["centre"].breaches
    assert [b.jurisdiction for b in breaches] == [tree["townships"][0]]


@pytest.mark.parametrize("persons_per_village", [1, 6])
def test_alert_centre_query_count_is_bounded(tree, client, persons_per_village, django_assert_max_num_queries):
    for village in tree["villages"]:
        for index in range(persons_per_village):
            people.under_treatment(village, name=f"人员{index}")
    services.do_set_threshold("overdue_items", tree["county"], Comparison.VALUE_ABOVE, 0, acting_user=None)
    _login(client, tree["county"], Role.OFFICE)
    with django_assert_max_num_queries(60):
        response = client.get(reverse("monitoring:alerts"))
    assert response.status_code == 200


# --- entry pages ------------------------------------------------------------------------------------------


def test_office_sets_a_target_and_sees_it_inherited_below(tree, client):
    county, township = tree["county"], tree["townships"][0]
    _login(client, county, Role.OFFICE)
    url = reverse("monitoring:target_edit", args=["execution_rate", 2024])
    response = client.post(url + f"?jurisdiction={county.code}", {"value": "80", "note": "seed 003"})
    assert response.status_code == 302
    assert Target.objects.get().value == 80
    entry = AuditEntry.objects.filter(object_type="monitoring.Target").get()
    assert entry.action == AuditEntry.Action.CREATE and entry.changes["value"] == [None, "80.00"]
    page = client.get(reverse("monitoring:targets") + f"?year=2024&jurisdiction={township.code}")
    row = next(r for r in page.context["rows"] if r["indicator"].code == "execution_rate")
    assert row["own"] is None and row["inherited"].value == 80
    form = client.get(url + f"?jurisdiction={township.code}")
    assert county.name in form.context["intro"]
    # Empty value on the county's own target clears it.
    client.post(url + f"?jurisdiction={county.code}", {"value": "", "version": 1})
    assert not Target.objects.exists()


@pytest.mark.parametrize(("data", "field", "msgid"), [
    ({"value": "120"}, "value", "A rate cannot exceed 100%."),
    ({"value": "-1"}, "value", "A target cannot be negative."),
])
def test_target_form_refuses_bad_values_in_chinese(tree, client, data, field, msgid):
    _login(client, tree["county"], Role.OFFICE)
    response = client.post(reverse("monitoring:target_edit", args=["execution_rate", 2024]), data)
    assert response.status_code == 400
    assert ui(msgid) in " ".join(response.context["form"].errors[field])
    assert not Target.objects.exists()


def test_population_and_threshold_forms(tree, client):
    county = tree["county"]
    _login(client, county, Role.OFFICE)
    response = client.post(reverse("monitoring:population_edit"),
                           {"jurisdiction": county.code, "year": 2024, "population": 350000, "source": "统计年鉴"})
    assert response.status_code == 302 and PopulationFigure.objects.get().population == 350000
    response = client.post(reverse("monitoring:population_edit"),
                           {"jurisdiction": county.code, "year": 1999, "population": 1})
    assert response.status_code == 400
    assert ui("The year must be between %(low)s and %(high)s.") % {"low": 2000, "high": 2100} in " ".join(
        response.context["form"].errors["year"])
    response = client.post(reverse("monitoring:threshold_edit"), {
        "indicator": "newly_found", "jurisdiction": county.code, "comparison": Comparison.YOY_ABOVE,
        "value": "20", "active": "on"})
    assert response.status_code == 302
    threshold = Threshold.objects.get()
    response = client.post(reverse("monitoring:threshold_edit"), {
        "indicator": "newly_found", "jurisdiction": county.code, "comparison": Comparison.YOY_ABOVE,
        "value": "-5"})
    assert response.status_code == 400
    client.post(reverse("monitoring:threshold_delete", args=[threshold.pk]))
    assert not Threshold.objects.exists()
    assert AuditEntry.objects.filter(object_type="monitoring.Threshold", action=AuditEntry.Action.DELETE).exists()


def test_settings_form(tree, client):
    township = tree["townships"][0]
    services.do_set_monitoring_settings(tree["county"], acting_user=None, hidden_ratio=4, staffing_standard=20)
    _login(client, township, Role.OFFICE)
    page = client.get(reverse("monitoring:settings"))
    assert tree["county"].name in page.context["intro"]
    assert page.context["form"].initial["staffing_standard"] == 20
    response = client.post(reverse("monitoring:settings"), {"hidden_ratio": "0.1", "staffing_standard": "0"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert ui("The ratio must be between 1:0.5 and 1:50.") in errors["hidden_ratio"]
    assert ui("The standard must be between 1 and 200 persons per social worker.") in errors["staffing_standard"]
    assert client.post(reverse("monitoring:settings"), {"hidden_ratio": "6", "staffing_standard": "25"}
                       ).status_code == 302
    assert services.settings_for(tree["villages"][0]).staffing_standard == 25


def test_menu_has_the_monitoring_pages(tree, client):
    _login(client, tree["county"], Role.LEADERSHIP)
    body = client.get(reverse("core:work_line", args=["monitoring"])).content.decode()
    assert reverse("monitoring:alerts") in body and reverse("monitoring:settings") not in body
    assert set(ALL_ROLES) > READER_ROLES
