"""visible_to fails closed, and the scope matrix catches a view that forgets it."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from accounts.models import LoginFailure, MemberUnit, User
from accounts.tests.factories import UserFactory
from core.models import AuditAnchor
from core.roles import ALL_ROLES
from core.roles import Role as RoleCode
from core.scoping import ScopedQuerySet
from jindu.testing.scope import ScopeMatrix
from jurisdictions.choices import Level
from jurisdictions.models import Jurisdiction
from jurisdictions.tests.factories import JurisdictionFactory

# --- visible_to -------------------------------------------------------------------------------


def _visible(user):
    return set(Jurisdiction.objects.visible_to(user).values_list("code", flat=True))


def test_user_sees_the_own_subtree(tree, township):
    user = UserFactory(jurisdiction=township, roles=[RoleCode.TOWNSHIP])
    assert _visible(user) == {township.code, f"{township.code}001", f"{township.code}002"}
    county_user = UserFactory(jurisdiction=tree["county"], roles=[RoleCode.OFFICE])
    assert _visible(county_user) == {n.code for n in [tree["county"], *tree["townships"], *tree["villages"]]}


def test_a_code_that_merely_starts_alike_is_outside(tree, township):
    JurisdictionFactory(code=f"{township.code}0", name="怪代码", level=Level.TOWNSHIP, parent=tree["county"])
    user = UserFactory(jurisdiction=township, roles=[RoleCode.TOWNSHIP])
    assert f"{township.code}0" not in _visible(user)


def test_anonymous_sees_nothing(tree):
    assert _visible(AnonymousUser()) == set()
    assert _visible(None) == set()


def test_inactive_user_sees_nothing(tree):
    user = UserFactory(jurisdiction=tree["province"], roles=[RoleCode.OFFICE], is_active=False)
    assert _visible(user) == set()


def test_user_without_a_jurisdiction_sees_nothing(tree):
    user = UserFactory(jurisdiction=None, roles=[RoleCode.OFFICE])
    assert _visible(user) == set()
    assert not User.objects.visible_to(user).exists()


def test_user_without_a_role_sees_nothing(tree):
    user = UserFactory(jurisdiction=tree["province"], roles=[])
    assert _visible(user) == set()


def test_a_role_the_model_does_not_list_sees_nothing(tree, township):
    UserFactory(jurisdiction=township, roles=[RoleCode.SOCIAL_WORKER])
    for role in ALL_ROLES - User.scope_roles:
        user = UserFactory(jurisdiction=tree["province"], roles=[role])
        assert not User.objects.visible_to(user).exists(), role
        assert not MemberUnit.objects.visible_to(user).exists(), role
        assert _visible(user), role  # …while the tree itself is open to every role


def test_a_model_without_scope_is_a_configuration_error(tree):
    user = UserFactory(jurisdiction=tree["province"], roles=[RoleCode.OFFICE])
    for model in (LoginFailure, AuditAnchor):  # models that declare no scope
        with pytest.raises(ImproperlyConfigured):
            ScopedQuerySet(model=model).visible_to(user)


@pytest.mark.parametrize(("attribute", "value"), [("scope_path", None), ("scope_path", ""), ("scope_roles", None)])
def test_a_half_declared_scope_is_a_configuration_error(tree, monkeypatch, attribute, value):
    user = UserFactory(jurisdiction=tree["province"], roles=[RoleCode.OFFICE])
    monkeypatch.setattr(Jurisdiction, attribute, value)
    with pytest.raises(ImproperlyConfigured):
        Jurisdiction.objects.visible_to(user)
    with pytest.raises(ImproperlyConfigured):
        Jurisdiction.objects.visible_to(AnonymousUser())  # even before looking at the user


def test_check_queryset_passes_for_a_scoped_model(scope_matrix, township):
    scope_matrix.check_queryset(Jurisdiction, township, allowed_roles=ALL_ROLES)
    target = UserFactory(jurisdiction=township, roles=[RoleCode.TOWNSHIP])
    scope_matrix.check_queryset(User, target, allowed_roles=User.scope_roles)


def test_check_queryset_catches_wrong_roles(scope_matrix, township):
    target = UserFactory(jurisdiction=township, roles=[RoleCode.TOWNSHIP])
    with pytest.raises(AssertionError, match="visible_to"):
        scope_matrix.check_queryset(User, target, allowed_roles=ALL_ROLES)


def test_matrix_positions(tree, township):
    matrix = ScopeMatrix(township, roles=[RoleCode.OFFICE])
    places = matrix.places
    assert places["in_scope"] == township
    assert places["above"] == tree["county"]
    assert places["sibling"].parent == township.parent and places["sibling"] != township
    assert places["other"].level == Level.COUNTY and places["other"] != tree["county"]
    assert len(matrix.cases) == 4


# --- the matrix catches a forgotten scope -------------------------------------------------------

with_broken_urls = pytest.mark.urls("core.tests.broken_urls")


@with_broken_urls
def test_matrix_catches_a_list_view_without_scope(scope_matrix, township):
    with pytest.raises(AssertionError, match="sees a record outside its scope"):
        scope_matrix.check_list(Client(), "/broken/list/?level=township", marker=township.code,
                                allowed_roles=ALL_ROLES)


@with_broken_urls
@pytest.mark.parametrize("url", ["/broken/detail/{code}/", "/broken/function/{code}/", "/broken/api/{code}/"])
def test_matrix_catches_a_detail_view_without_scope(scope_matrix, township, url):
    with pytest.raises(AssertionError) as raised:
        scope_matrix.check_detail(Client(), url.format(code=township.code), allowed_roles=ALL_ROLES)
    report = str(raised.value)
    assert "sibling:" in report and "other:" in report
    assert "expected 403/404, got 200" in report
    assert "in_scope:" not in report and "above:" not in report


@with_broken_urls
def test_matrix_catches_a_forgotten_role_check(scope_matrix, township):
    with pytest.raises(AssertionError, match="in_scope:office: expected 403/404, got 200"):
        scope_matrix.check_detail(Client(), f"/broken/admin/{township.code}/",
                                  allowed_roles=frozenset({RoleCode.SYSTEM_ADMIN}))


@with_broken_urls
def test_the_real_views_pass_under_the_same_urlconf(scope_matrix, township):
    """Control: with the same test urlconf mounted, the real views pass the same checks."""
    scope_matrix.check_list(Client(), "/jurisdictions/?level=township", marker=township.code, allowed_roles=ALL_ROLES)
    scope_matrix.check_detail(Client(), f"/jurisdictions/{township.code}/", allowed_roles=ALL_ROLES)


# --- the county equality and the alternatives (docs/scaling.md) -----------------------------------


def _person_sql(user) -> str:
    from persons.models import Person

    return str(Person.objects.visible_to(user).values("pk").query)


def test_users_at_county_level_or_below_are_narrowed_by_county_code(tree, township):
    from persons.models import Person
    from persons.tests.people import person

    county_user = UserFactory(jurisdiction=tree["county"], roles=[RoleCode.OFFICE])
    township_user = UserFactory(jurisdiction=township, roles=[RoleCode.TOWNSHIP])
    province_user = UserFactory(jurisdiction=tree["province"], roles=[RoleCode.OFFICE])
    assert f"county_code\" = {tree['county'].code}" in _person_sql(county_user)
    assert "county_code" in _person_sql(township_user)
    assert "county_code" not in _person_sql(province_user)  # the area spans counties
    mine = person(tree["villages"][0], name="本县人员")
    # A row whose county stamp says another county is outside a county user's scope (fail closed),
    # even though its village is inside; the province still reaches it by its path.
    Person.objects.filter(pk=mine.pk).update(county_code=tree["other_county"].code)
    assert not Person.objects.visible_to(county_user).filter(pk=mine.pk).exists()
    assert not Person.objects.visible_to(township_user).filter(pk=mine.pk).exists()
    assert Person.objects.visible_to(province_user).filter(pk=mine.pk).exists()


def test_the_receiving_area_and_break_glass_reach_across_counties(tree, township):
    """The county equality belongs to the person's own area only: a receiving area or a
    break-glass grant in another county still reaches the person."""
    from core.services import do_break_glass
    from persons.models import Person
    from persons.tests.people import person

    elsewhere = JurisdictionFactory(level=Level.TOWNSHIP, parent=tree["other_county"], name="邻县镇")
    moving = person(tree["villages"][0], name="迁出人员")
    staying = person(tree["villages"][0], name="留下人员")
    Person.objects.filter(pk=moving.pk).update(receiving_jurisdiction=elsewhere)
    receiving = UserFactory(jurisdiction=elsewhere, roles=[RoleCode.TOWNSHIP])
    receiving_office = UserFactory(jurisdiction=tree["other_county"], roles=[RoleCode.OFFICE])
    sending = UserFactory(jurisdiction=township, roles=[RoleCode.TOWNSHIP])
    for user in (receiving, receiving_office):
        assert set(Person.objects.visible_to(user).values_list("name", flat=True)) == {"迁出人员"}
    assert set(Person.objects.visible_to(sending).values_list("name", flat=True)) == {"迁出人员", "留下人员"}
    police = UserFactory(jurisdiction=tree["other_county"], roles=[RoleCode.POLICE])
    assert not Person.objects.visible_to(police).filter(pk=staying.pk).exists()
    do_break_glass(Person, staying.pk, "夜间盘查时核实此人身份与管控情况", acting_user=police)
    assert Person.objects.visible_to(police, with_grants=True).filter(pk=staying.pk).exists()
    assert not Person.objects.visible_to(police).filter(pk=staying.pk).exists()  # for reading only
    # A record hanging off the person follows it.
    from persons.models import StatusChange

    assert StatusChange.objects.visible_to(police, with_grants=True).filter(person=staying).exists()
    assert not StatusChange.objects.visible_to(police).filter(person=staying).exists()


def test_a_social_worker_is_held_to_assignment_in_every_area_alternative(tree, township):
    from persons.models import Person
    from persons.tests.people import person

    elsewhere = JurisdictionFactory(level=Level.TOWNSHIP, parent=tree["other_county"], name="邻县镇")
    worker = UserFactory(jurisdiction=elsewhere, roles=[RoleCode.SOCIAL_WORKER])
    assigned = person(tree["villages"][0], name="已分配")
    unassigned = person(tree["villages"][0], name="未分配")
    Person.objects.filter(pk__in=[assigned.pk, unassigned.pk]).update(receiving_jurisdiction=elsewhere)
    Person.objects.filter(pk=assigned.pk).update(assigned_worker=worker)
    assert set(Person.objects.visible_to(worker).values_list("name", flat=True)) == {"已分配"}


def test_rows_without_a_jurisdiction_stay_invisible(tree, township):
    """The area alternative is ``jurisdiction_id IN (areas)``: a NULL key is in no area."""
    UserFactory(jurisdiction=None, roles=[RoleCode.TOWNSHIP], username="nowhere")
    for place in (township, tree["county"], tree["province"]):
        user = UserFactory(jurisdiction=place, roles=[RoleCode.OFFICE])
        assert not User.objects.visible_to(user).filter(username="nowhere").exists()


# --- ScopedStatement: compiled once per scope, the same rows as visible_to ------------------------


def test_a_scoped_statement_gives_what_visible_to_gives(tree, township, monkeypatch):
    import datetime

    from django.utils import timezone

    from core.models import BreakGlassGrant
    from core.scoping import Scope, ScopedStatement
    from core.services import do_break_glass

    monkeypatch.setattr(Jurisdiction, "break_glass", True, raising=False)
    built = []

    def build(queryset, pk):
        built.append(pk)
        return queryset.filter(pk=pk)

    by_key = ScopedStatement(Jurisdiction, build, with_grants=True)
    users = [UserFactory(jurisdiction=township, roles=[RoleCode.TOWNSHIP]),
             UserFactory(jurisdiction=tree["county"], roles=[RoleCode.OFFICE]),
             UserFactory(jurisdiction=tree["other_county"], roles=[RoleCode.OFFICE]),
             UserFactory(jurisdiction=tree["province"], roles=[RoleCode.OFFICE]),
             UserFactory(jurisdiction=township, roles=[RoleCode.AUDIT_ADMIN]),
             UserFactory(jurisdiction=township, roles=[RoleCode.TOWNSHIP], is_active=False), AnonymousUser()]
    nodes = Jurisdiction.objects.all()
    for user in users:
        for node in nodes:
            expected = list(Jurisdiction.objects.visible_to(user, with_grants=True).filter(pk=node.pk)
                            .values_list("pk", flat=True))
            assert [o.pk for o in by_key(user, node.pk)] == expected, (user, node.code)
    assert len(built) == 2 * 5  # two markers for each user with a scope: compiled once each
    monkeypatch.setattr(Jurisdiction, "scope_roles", frozenset({RoleCode.OFFICE}))
    assert by_key(users[0], township.pk) == []  # the model's declaration changed: compiled again
    assert by_key(users[1], township.pk)[0].pk == township.pk
    monkeypatch.undo()
    monkeypatch.setattr(Jurisdiction, "break_glass", True, raising=False)

    # The scope is read on every call: a grant made since (and its expiry), a role taken away.
    user, other = users[0], tree["townships"][1]
    assert by_key(user, other.pk) == []
    grant = do_break_glass(Jurisdiction, other.pk, "走访对象临时住在邻镇，需要核对", acting_user=user)
    assert [o.pk for o in by_key(user, other.pk)] == [other.pk]
    assert ScopedStatement(Jurisdiction, build)(user, other.pk) == []  # without grants: the writable scope
    BreakGlassGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert by_key(user, other.pk) == []
    user.role_grants.all().delete()
    del user.role_codes
    assert Scope.of(user) is None and by_key(user, township.pk) == []


def test_a_related_area_is_found_by_its_path_prefix(tree, township):
    """The area alternative of a model one key away from its path is a prefix of that path."""
    from persons.models import Person

    sql = str(Person.objects.visible_to(UserFactory(jurisdiction=township, roles=[RoleCode.TOWNSHIP]))
              .values("pk").query)
    assert "LIKE" in sql
