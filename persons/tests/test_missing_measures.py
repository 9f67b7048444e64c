"""待补录措施 (issue 20): a file in 社区戒毒/社区康复 with no measure (a ledger row without dates,
a file opened by the form) waits on the today list of its township and of the office, scoped,
with a quick form that opens the measure through the same services as the import; bad dates
are refused on their field, nothing saved; a measure recorded meanwhile refuses the second."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.roles import Role
from persons import queries, services
from persons.choices import ControlStatus, MeasureKind, MeasureState
from persons.importers import read_ledger
from persons.models import Measure, Person, PlannedCheckIn
from persons.tests import people
from persons.tests.ledger_files import MEASURES_HEADER, measure_row, xlsx

TODAY = timezone.localdate


def days_ago(n):
    return TODAY() - datetime.timedelta(days=n)


@pytest.fixture
def village(tree):
    return tree["villages"][0]


def waiting(user) -> list[int]:
    return [item.person_id for section in queries.today_list(user).sections if section.key == "missing_measures"
            for item in section.items]


def test_an_undated_import_and_a_form_file_wait_on_the_township_and_office_lists(tree, township, village):
    ledger = read_ledger(xlsx([MEASURES_HEADER, measure_row(name="赵六", village=village.name)]), "台账.xlsx")
    services.do_import_persons(ledger, acting_user=None, jurisdiction=township)
    imported = Person.objects.get()
    assert imported.control_status_since is None
    made = people.person(village, "钱七", status=ControlStatus.COMMUNITY_REHABILITATION)
    dated = people.under_treatment(village, "孙八")  # has its measure: not waiting
    people.person(village, "周九")  # 社会面管控: no measure expected
    township_user = UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP])
    office = UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE])
    assert sorted(waiting(township_user)) == sorted(waiting(office)) == sorted([imported.pk, made.pk])
    assert dated.pk not in waiting(office)
    other = next(t for t in tree["townships"] if t != township)
    assert waiting(UserFactory(jurisdiction=other, roles=[Role.TOWNSHIP])) == []
    item = next(i for i in queries.today_list(office).items if i.person_id == imported.pk)
    assert item.action_url == reverse("persons:measure_missing", args=[imported.pk])


def test_the_quick_form_opens_the_measure_and_its_plan(township, village, client):
    person = people.person(village, status=ControlStatus.COMMUNITY_TREATMENT)
    user = UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP])
    client.force_login(user)
    url = reverse("persons:measure_missing", args=[person.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"kind": MeasureKind.COMMUNITY_TREATMENT, "decided_on": days_ago(40),
                                 "reported_on": days_ago(30), "starts_on": "", "decision_number": "社戒决字1号"})
    assert response.status_code == 302
    measure = Measure.objects.get(person=person)
    assert (measure.state, measure.decided_on, measure.starts_on) == (MeasureState.IN_EFFECT, days_ago(40),
                                                                       days_ago(30))
    assert PlannedCheckIn.objects.filter(measure=measure).exists()
    assert person.pk not in waiting(user)
    # Sent again from a stale page: refused, no second measure.
    again = client.post(url, {"kind": MeasureKind.COMMUNITY_TREATMENT, "decided_on": days_ago(40),
                              "reported_on": "", "starts_on": "", "decision_number": ""})
    assert again.status_code == 400 and "该人员已有措施" in again.content.decode()
    assert Measure.objects.filter(person=person).count() == 1


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"decided_on": days_ago(5), "reported_on": days_ago(9)}, "reported_on", "不能早于决定"),
    ({"decided_on": TODAY() + datetime.timedelta(days=1)}, "decided_on", "不能晚于今天"),
    ({"decided_on": days_ago(9), "reported_on": days_ago(5), "starts_on": days_ago(7)}, "starts_on", "不能早于报到"),
])
def test_the_quick_form_refuses_bad_dates_on_the_field(township, village, client, data, field, message):
    person = people.person(village, status=ControlStatus.COMMUNITY_TREATMENT)
    client.force_login(UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP]))
    response = client.post(reverse("persons:measure_missing", args=[person.pk]), {
        "kind": MeasureKind.COMMUNITY_TREATMENT, "decision_number": "", "reported_on": "", "starts_on": "", **data})
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not Measure.objects.exists()


def test_an_unknown_status_date_shows_as_unknown(township, village, client):
    ledger = read_ledger(xlsx([MEASURES_HEADER, measure_row(name="赵六", village=village.name)]), "台账.xlsx")
    services.do_import_persons(ledger, acting_user=None, jurisdiction=township)
    client.force_login(UserFactory(jurisdiction=township, roles=[Role.TOWNSHIP]))
    page = client.get(reverse("persons:detail", args=[Person.objects.get().pk])).content.decode()
    assert "未知" in page
