"""The roles of SPEC §2: 三员分立 and who may see personal data."""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.tests.factories import UserFactory
from core.roles import (
    ADMIN_ROLES,
    ALL_ROLES,
    PERSONAL_DATA_ROLES,
    Role,
    has_any_role,
    may_see_personal_data,
    role_codes,
    separation_of_duties_error,
)

S, C, A = Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        ({S}, True),
        ({C}, True),
        ({A}, True),
        ({Role.OFFICE}, True),
        ({Role.LEADERSHIP}, True),
        ({Role.TOWNSHIP, Role.SOCIAL_WORKER}, True),
        ({Role.OFFICE, Role.POLICE, Role.MEMBER_UNIT, Role.LEADERSHIP}, True),
        (ALL_ROLES - ADMIN_ROLES, True),
        (set(), False),  # nobody holds no role
        ({S, C}, False),
        ({S, A}, False),
        ({C, A}, False),
        ({S, C, A}, False),
        ({S, Role.OFFICE}, False),
        ({C, Role.LEADERSHIP}, False),
        ({A, Role.POLICE}, False),
        (ALL_ROLES, False),
    ],
)
def test_separation_of_duties(roles, allowed):
    error = separation_of_duties_error(roles)
    assert (error is None) == allowed
    if not allowed:
        assert isinstance(error, str) and error


def test_separation_of_duties_accepts_any_iterable():
    assert separation_of_duties_error([S, S]) is None
    assert separation_of_duties_error(iter([S, A])) is not None
    assert separation_of_duties_error(["office"]) is None  # plain strings as they come from a form


def test_the_three_failures_say_different_things():
    messages = {separation_of_duties_error(r) for r in ({S, C}, {S, Role.OFFICE}, set())}
    assert len(messages) == 3


@pytest.mark.parametrize("role", sorted(ALL_ROLES))
def test_personal_data_roles(tree, role):
    user = UserFactory(jurisdiction=tree["county"], roles=[role])
    expected = role not in ADMIN_ROLES | {Role.LEADERSHIP}
    assert may_see_personal_data(user) is expected
    assert (role in PERSONAL_DATA_ROLES) is expected


def test_no_personal_data_without_an_active_login(tree):
    assert not may_see_personal_data(AnonymousUser())
    assert not may_see_personal_data(None)
    inactive = UserFactory(jurisdiction=tree["county"], roles=[Role.OFFICE], is_active=False)
    assert not may_see_personal_data(inactive)
    assert role_codes(inactive) == frozenset()
    assert not has_any_role(inactive, ALL_ROLES)


def test_role_codes(tree):
    user = UserFactory(jurisdiction=tree["county"], roles=[Role.TOWNSHIP, Role.SOCIAL_WORKER])
    assert role_codes(user) == {Role.TOWNSHIP, Role.SOCIAL_WORKER}
    assert has_any_role(user, {Role.SOCIAL_WORKER, Role.POLICE})
    assert not has_any_role(user, {Role.POLICE})
    assert not has_any_role(user, frozenset())
    assert role_codes(AnonymousUser()) == frozenset()
