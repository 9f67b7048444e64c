"""/api/persons/: read-only, scoped and filtered like the list page, masked, audited."""

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from core.models import AuditEntry
from core.roles import Role
from jindu.testing.scope import TASKED
from persons import services
from persons.tests import people

LIST = "/api/persons/"
MARKER = "目标人员"
# A member unit reads a person only with a support task for them (TASKED), and then its name,
# masked ID number and village only.
READERS = frozenset({Role.OFFICE, Role.TOWNSHIP, Role.POLICE, TASKED})
NOT_FOR_MEMBER_UNITS = ['"birth_date"', '"age"', '"risk_level"', '"open_flags"', '"control_status"', '"substances"']


@pytest.fixture
def target(tree):
    return people.under_treatment(tree["villages"][0], name=MARKER, phone="13912345678")


@pytest.fixture
def office(tree):
    client = Client()
    client.force_login(UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE]))
    return client


def test_list_is_scoped(scope_matrix, target):
    scope_matrix.add_tasked_member_units(target)
    scope_matrix.check_list(Client(), LIST, marker=f'"{MARKER}"', allowed_roles=READERS,
                            hidden={TASKED: NOT_FOR_MEMBER_UNITS})


def test_detail_is_scoped(scope_matrix, target):
    scope_matrix.add_tasked_member_units(target)
    scope_matrix.check_detail(Client(), f"{LIST}{target.pk}/", allowed_roles=READERS,
                              hidden={TASKED: NOT_FOR_MEMBER_UNITS})


def test_a_social_worker_reads_only_assigned_persons(township, target, tree):
    social_worker = UserFactory(jurisdiction=township, roles=[Role.SOCIAL_WORKER])
    client = Client()
    client.force_login(social_worker)
    assert client.get(LIST).json()["count"] == 0
    services.do_update_person(target, expected_version=target.version, acting_user=None,
                              assigned_worker=social_worker)
    assert [p["name"] for p in client.get(LIST).json()["results"]] == [MARKER]


def test_fields_are_masked(target, office, tree):
    data = office.get(f"{LIST}{target.pk}/").json()
    assert data["id_number"] == target.id_number[:6] + "*" * 10 + target.id_number[-2:]
    assert data["village_code"] == tree["villages"][0].code
    assert data["control_status"] == "community_treatment" and data["open_flags"] == 0
    assert "phone" not in data and "hiv_positive" not in data and "birth_date" not in data  # the age instead
    assert target.id_number not in office.get(LIST).content.decode()


def test_filters_are_the_list_pages(target, office, tree):
    people.person(tree["villages"][1], name="另一人")
    assert [p["name"] for p in office.get(f"{LIST}?q=mbry").json()["results"]] == [MARKER]
    assert [p["name"] for p in office.get(f"{LIST}?id_number={target.id_number}").json()["results"]] == [MARKER]
    assert [p["name"] for p in office.get(f"{LIST}?area={tree['villages'][1].code}").json()["results"]] == ["另一人"]
    assert office.get(f"{LIST}?id_number=123").status_code == 400


def test_reads_are_audited(target, office):
    office.get(f"{LIST}?q=mbry")
    office.get(f"{LIST}{target.pk}/")
    search = AuditEntry.objects.filter(action=AuditEntry.Action.SEARCH).get()
    assert search.changes == {"criteria": {"q": "m***"}, "page": 1, "rows": 1, "results": 1}  # a name searched is masked
    assert AuditEntry.objects.filter(action=AuditEntry.Action.VIEW, object_id=str(target.pk)).count() == 1


def test_read_only(target, office):
    assert office.post(LIST, {"name": "x"}).status_code == 405
    assert office.delete(f"{LIST}{target.pk}/").status_code == 405


@pytest.mark.parametrize("count", [5, 40])
def test_query_count_does_not_grow_with_rows(tree, office, count, django_assert_max_num_queries):
    for n in range(count):
        people.person(tree["villages"][n % 2], name=f"人员{n}")
    with django_assert_max_num_queries(18):
        assert office.get(LIST).json()["count"] == count
