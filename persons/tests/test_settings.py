"""The office's settings: check-in policy and risk model (SPEC §3.1: policies a jurisdiction can change)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.models import AuditEntry
from core.roles import Role
from persons import services
from persons.choices import CheckInKind, ControlStatus, MeasureKind
from persons.models import CheckInPolicy, RiskModel


@pytest.fixture
def office(tree):
    return UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE])


@pytest.fixture
def measure(tree, township, office):
    today = timezone.localdate()
    person = services.do_create_person(acting_user=office, name="李四", id_number="11010119900307125X",
                                       jurisdiction=tree["villages"][0], control_status=ControlStatus.SOCIAL_CONTROL,
                                       control_status_since=today - datetime.timedelta(days=40))
    measure = services.do_decide_measure(person, MeasureKind.COMMUNITY_TREATMENT, today - datetime.timedelta(days=30),
                                         acting_user=office)
    return services.do_report_in(measure, today - datetime.timedelta(days=20), acting_user=office)


def test_policy_change_regenerates_open_due_dates_and_is_audited(office, tree, measure):
    tests_before = measure.planned.filter(kind=CheckInKind.DRUG_TEST).count()
    services.do_set_check_in_policy(tree["county"], acting_user=office, test_every_months_year1=2,
                                    test_every_months_year2=2, test_every_months_year3=3)
    assert measure.planned.filter(kind=CheckInKind.DRUG_TEST).count() < tests_before
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.POLICY).latest("seq")
    assert entry.changes["test_every_months_year1"] == [1, 2] and entry.changes["plans_regenerated"] == 1
    # The nearest policy up the tree applies below it.
    assert services.policy_for(tree["villages"][0]).test_every_months == (2, 2, 3)


def test_policy_bounds_and_roles(office, tree, township):
    with pytest.raises(ValidationError):
        services.do_set_check_in_policy(tree["county"], acting_user=office, test_every_months_year1=0)
    with pytest.raises(services.NotAllowed):
        services.do_set_check_in_policy(township, acting_user=UserFactory(jurisdiction=township,
                                                                          roles=[Role.TOWNSHIP]),
                                        interview_every_months=2)
    with pytest.raises(services.NotAllowed):
        services.do_set_check_in_policy(tree["other_county"], acting_user=office, interview_every_months=2)
    assert not CheckInPolicy.objects.exists()


def test_risk_model_changes_the_score(office, tree, measure):
    person = measure.person
    person.mental_disorder = True
    person.save(update_fields=["mental_disorder"])
    before = services.do_assess_risk(person, acting_user=office)
    weights = {name: 0 for name in services.rules.DEFAULT_RISK_WEIGHTS} | {"mental_disorder": 80}
    services.do_set_risk_model(tree["county"], acting_user=office, weights=weights, high=70, medium=30)
    assert services.risk_model_for(tree["villages"][0]) == (weights, 70, 30)
    after = services.do_assess_risk(person, acting_user=office, today=timezone.localdate() + datetime.timedelta(days=1))
    assert after.score == 80 and after.level == "high" and before.score != after.score
    with pytest.raises(ValidationError):
        services.do_set_risk_model(tree["county"], acting_user=office, weights=weights, high=30, medium=40,
                                   expected_version=RiskModel.objects.get().version)


def test_settings_pages_for_the_office(client, office, tree, scope_matrix):
    for name in ("persons:policy", "persons:risk_model"):
        scope_matrix.check_detail(client, reverse(name), allowed_roles={Role.OFFICE},
                                  positions={"in_scope", "sibling", "above", "other"})
    client.force_login(office)
    data = {"test_every_months_year1": 1, "test_every_months_year2": 3, "test_every_months_year3": 3,
            "interview_every_months": 1, "home_visit_every_months": 0, "half_year_summary": "on", "version": ""}
    assert client.post(reverse("persons:policy"), data).status_code == 302
    assert CheckInPolicy.objects.get(jurisdiction=tree["county"]).test_every_months_year2 == 3
    version = CheckInPolicy.objects.get().version
    # Two editors open the same version; the second to save gets a conflict, not an overwrite.
    first = data | {"version": version, "interview_every_months": 2}
    second = data | {"version": version, "test_every_months_year2": 2}
    assert client.post(reverse("persons:policy"), first).status_code == 302
    assert client.post(reverse("persons:policy"), second).status_code == 409
    policy = CheckInPolicy.objects.get()
    assert (policy.interview_every_months, policy.test_every_months_year2) == (2, 3)
