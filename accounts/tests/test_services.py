"""Account services: 三员分立, scope of the acting user, password policy, optimistic locking, audit."""

import json

import pytest
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import MemberUnit, User
from accounts.tests.factories import PASSWORD, MemberUnitFactory, UserFactory
from core.models import AuditEntry
from core.roles import ADMIN_ROLES, ALL_ROLES
from core.roles import Role as RoleCode
from core.services import ConflictError

BUSINESS_ROLES = ALL_ROLES - ADMIN_ROLES
NEW_PASSWORD = "Qz7!wlmk"


@pytest.fixture
def county(tree):
    return tree["county"]


@pytest.fixture
def sysadmin(county):
    return UserFactory(username="sysadmin", jurisdiction=county, roles=[RoleCode.SYSTEM_ADMIN])


@pytest.fixture
def secadmin(county):
    return UserFactory(username="secadmin", jurisdiction=county, roles=[RoleCode.SECURITY_ADMIN])


@pytest.fixture
def worker(township):
    return UserFactory(username="worker", jurisdiction=township, roles=[RoleCode.SOCIAL_WORKER])


@pytest.fixture
def audit_log(db):
    """``audit_log()`` gives the entries written since the fixture was set up, oldest first."""
    last = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    return lambda: list(AuditEntry.objects.filter(seq__gt=last).order_by("seq"))


def _create(acting_user, jurisdiction, **kwargs):
    kwargs.setdefault("username", "newuser")
    return services.do_create_user(jurisdiction=jurisdiction, acting_user=acting_user, **kwargs)


# --- 三员分立 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "roles",
    [
        {RoleCode.SYSTEM_ADMIN, RoleCode.SECURITY_ADMIN},
        {RoleCode.SYSTEM_ADMIN, RoleCode.AUDIT_ADMIN},
        {RoleCode.SECURITY_ADMIN, RoleCode.AUDIT_ADMIN},
        set(ADMIN_ROLES),
        {RoleCode.SYSTEM_ADMIN, RoleCode.OFFICE},
        {RoleCode.AUDIT_ADMIN, RoleCode.LEADERSHIP},
        {RoleCode.SECURITY_ADMIN, RoleCode.POLICE},
    ],
)
def test_separation_of_duties_is_enforced_on_create_and_on_grant(county, secadmin, worker, roles):
    with pytest.raises(ValidationError) as raised:
        _create(None, county, roles=roles)
    assert "roles" in raised.value.error_dict
    assert not User.objects.filter(username="newuser").exists()
    with pytest.raises(ValidationError) as raised:
        services.do_set_roles(worker, roles, expected_version=worker.version, acting_user=secadmin)
    assert "roles" in raised.value.error_dict
    assert User.objects.get(pk=worker.pk).role_codes == {RoleCode.SOCIAL_WORKER}


@pytest.mark.parametrize("roles", [{RoleCode.OFFICE, RoleCode.POLICE}, {RoleCode.TOWNSHIP, RoleCode.SOCIAL_WORKER},
                                   {RoleCode.AUDIT_ADMIN}, {RoleCode.LEADERSHIP}])
def test_allowed_combinations(county, roles):
    user = _create(None, county, roles=roles)
    assert user.role_codes == roles


def test_a_grant_needs_at_least_one_role(secadmin, worker):
    with pytest.raises(ValidationError):
        services.do_set_roles(worker, [], expected_version=worker.version, acting_user=secadmin)
    assert User.objects.get(pk=worker.pk).role_codes == {RoleCode.SOCIAL_WORKER}


def test_member_unit_role_needs_a_unit(county, township, secadmin, worker):
    with pytest.raises(ValidationError) as raised:
        _create(None, township, roles=[RoleCode.MEMBER_UNIT])
    assert "member_unit" in raised.value.error_dict
    with pytest.raises(ValidationError) as raised:
        services.do_set_roles(worker, [RoleCode.MEMBER_UNIT], expected_version=worker.version, acting_user=secadmin)
    assert "member_unit" in raised.value.error_dict
    unit = MemberUnitFactory(jurisdiction=county)  # a county unit may have staff in its townships
    user = _create(None, township, roles=[RoleCode.MEMBER_UNIT], member_unit=unit)
    assert (user.member_unit, user.role_codes) == (unit, {RoleCode.MEMBER_UNIT})


def test_member_unit_of_another_area_is_refused(tree, township):
    sibling_unit = MemberUnitFactory(jurisdiction=tree["townships"][1])
    with pytest.raises(ValidationError) as raised:
        _create(None, township, roles=[RoleCode.MEMBER_UNIT], member_unit=sibling_unit)
    assert "member_unit" in raised.value.error_dict


def test_member_unit_user_cannot_lose_the_unit(county, sysadmin):
    user = _create(None, county, roles=[RoleCode.MEMBER_UNIT], member_unit=MemberUnitFactory(jurisdiction=county))
    with pytest.raises(ValidationError) as raised:
        services.do_update_user(user, member_unit=None, expected_version=user.version, acting_user=sysadmin)
    assert "member_unit" in raised.value.error_dict
    assert User.objects.get(pk=user.pk).member_unit_id is not None


# --- who does what ----------------------------------------------------------------------------


def test_system_admin_creates_accounts_without_roles(county, sysadmin, audit_log):
    user = _create(sysadmin, county, full_name="新用户", password=NEW_PASSWORD)
    assert user.role_codes == frozenset()
    assert user.check_password(NEW_PASSWORD)
    (entry,) = audit_log()
    assert (entry.action, entry.actor, entry.object_id) == (AuditEntry.Action.CREATE, sysadmin, str(user.pk))
    assert entry.changes["username"] == [None, "newuser"]
    assert entry.changes["full_name"] == [None, "新用户"]
    assert entry.changes["jurisdiction"] == [None, county.code]
    assert entry.changes["roles"] == [[], []]
    _assert_no_password(entry, NEW_PASSWORD, user)


def test_system_admin_cannot_grant_roles(county, sysadmin, worker):
    with pytest.raises(services.NotAllowed):
        _create(sysadmin, county, roles=[RoleCode.OFFICE])
    assert not User.objects.filter(username="newuser").exists()
    with pytest.raises(services.NotAllowed):
        services.do_set_roles(worker, [RoleCode.OFFICE], expected_version=worker.version, acting_user=sysadmin)
    assert User.objects.get(pk=worker.pk).role_codes == {RoleCode.SOCIAL_WORKER}


def test_security_admin_grants_roles(secadmin, worker, audit_log):
    user = services.do_set_roles(worker, [RoleCode.TOWNSHIP, RoleCode.SOCIAL_WORKER], expected_version=1,
                                 acting_user=secadmin)
    assert user.role_codes == {RoleCode.TOWNSHIP, RoleCode.SOCIAL_WORKER}
    stored = User.objects.get(pk=worker.pk)
    assert stored.role_codes == {RoleCode.TOWNSHIP, RoleCode.SOCIAL_WORKER}
    assert stored.version == 2
    (entry,) = audit_log()
    assert (entry.action, entry.actor) == (AuditEntry.Action.PERMISSION, secadmin)
    assert entry.changes == {"roles": [["social_worker"], ["social_worker", "township"]]}


@pytest.mark.parametrize("role", sorted(ALL_ROLES - {RoleCode.SYSTEM_ADMIN}))
def test_only_the_system_admin_creates_and_edits_accounts(county, worker, role):
    acting = UserFactory(jurisdiction=county, roles=[role])
    with pytest.raises(services.NotAllowed):
        _create(acting, county)
    with pytest.raises(services.NotAllowed):
        services.do_update_user(worker, full_name="X", expected_version=worker.version, acting_user=acting)
    with pytest.raises(services.NotAllowed):
        services.do_set_password(worker, NEW_PASSWORD, acting_user=acting)
    with pytest.raises(services.NotAllowed):
        services.do_create_member_unit(name="X", kind="education", jurisdiction=county, acting_user=acting)
    worker.refresh_from_db()
    assert worker.full_name != "X"
    assert worker.check_password(PASSWORD)


@pytest.mark.parametrize("role", sorted(ALL_ROLES - {RoleCode.SECURITY_ADMIN}))
def test_only_the_security_admin_changes_roles(county, worker, role):
    acting = UserFactory(jurisdiction=county, roles=[role])
    with pytest.raises(services.NotAllowed):
        services.do_set_roles(worker, [RoleCode.OFFICE], expected_version=worker.version, acting_user=acting)
    assert User.objects.get(pk=worker.pk).role_codes == {RoleCode.SOCIAL_WORKER}


def test_inactive_admins_can_do_nothing(county, worker):
    sysadmin = UserFactory(jurisdiction=county, roles=[RoleCode.SYSTEM_ADMIN], is_active=False)
    secadmin = UserFactory(jurisdiction=county, roles=[RoleCode.SECURITY_ADMIN], is_active=False)
    with pytest.raises(services.NotAllowed):
        _create(sysadmin, county)
    with pytest.raises(services.NotAllowed):
        services.do_set_roles(worker, [RoleCode.OFFICE], expected_version=worker.version, acting_user=secadmin)


def test_nobody_changes_their_own_roles(county, secadmin, audit_log):
    with pytest.raises(services.NotAllowed):
        services.do_set_roles(secadmin, [RoleCode.OFFICE], expected_version=secadmin.version, acting_user=secadmin)
    with pytest.raises(services.NotAllowed):
        services.do_set_roles(secadmin, [RoleCode.SECURITY_ADMIN], expected_version=secadmin.version,
                              acting_user=secadmin)
    stored = User.objects.get(pk=secadmin.pk)
    assert (stored.role_codes, stored.version) == ({RoleCode.SECURITY_ADMIN}, 1)
    assert audit_log() == []


def test_command_line_operator_may_create_with_roles(county, audit_log):
    user = _create(None, county, roles=[RoleCode.SYSTEM_ADMIN], password=NEW_PASSWORD)
    assert user.role_codes == {RoleCode.SYSTEM_ADMIN}
    (entry,) = audit_log()
    assert entry.actor is None
    assert entry.changes["roles"] == [[], ["system_admin"]]


def test_username_must_be_free(county, worker):
    with pytest.raises(ValidationError) as raised:
        _create(None, county, username="worker")
    assert "username" in raised.value.error_dict


# --- the acting user's subtree ----------------------------------------------------------------


@pytest.fixture
def township_admins(tree, township):
    return (UserFactory(jurisdiction=township, roles=[RoleCode.SYSTEM_ADMIN]),
            UserFactory(jurisdiction=township, roles=[RoleCode.SECURITY_ADMIN]))


def test_cannot_create_outside_the_subtree(tree, township, township_admins):
    sysadmin, _ = township_admins
    for place in (tree["townships"][1], tree["county"], tree["other_county"], tree["province"]):
        with pytest.raises(services.NotAllowed):
            _create(sysadmin, place)
    assert not User.objects.filter(username="newuser").exists()
    village = tree["villages"][0]
    assert _create(sysadmin, village).jurisdiction == village


def test_cannot_edit_outside_the_subtree(tree, township, township_admins):
    sysadmin, secadmin = township_admins
    outsider = UserFactory(jurisdiction=tree["townships"][1], roles=[RoleCode.SOCIAL_WORKER])
    with pytest.raises(services.NotAllowed):
        services.do_update_user(outsider, full_name="X", expected_version=1, acting_user=sysadmin)
    with pytest.raises(services.NotAllowed):
        services.do_set_roles(outsider, [RoleCode.TOWNSHIP], expected_version=1, acting_user=secadmin)
    with pytest.raises(services.NotAllowed):
        services.do_set_password(outsider, NEW_PASSWORD, acting_user=sysadmin)
    outsider = User.objects.get(pk=outsider.pk)
    assert outsider.full_name != "X"
    assert outsider.version == 1
    assert outsider.role_codes == {RoleCode.SOCIAL_WORKER}
    assert outsider.check_password(PASSWORD)


def test_cannot_move_a_user_out_of_the_subtree(tree, township, township_admins):
    sysadmin, _ = township_admins
    user = UserFactory(jurisdiction=tree["villages"][0], roles=[RoleCode.SOCIAL_WORKER])
    with pytest.raises(services.NotAllowed):
        services.do_update_user(user, jurisdiction=tree["townships"][1], expected_version=1, acting_user=sysadmin)
    assert User.objects.get(pk=user.pk).jurisdiction == tree["villages"][0]


def test_cannot_create_a_member_unit_outside_the_subtree(tree, township_admins):
    sysadmin, _ = township_admins
    with pytest.raises(services.NotAllowed):
        services.do_create_member_unit(name="邻镇单位", kind="education", jurisdiction=tree["townships"][1],
                                       acting_user=sysadmin)
    assert not MemberUnit.objects.filter(name="邻镇单位").exists()


# --- passwords --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Ab1!xyz", "password_too_short"),  # 7 characters, 4 classes
        ("abcdwxyz", "password_too_simple"),  # 1 class
        ("abcdwxy7", "password_too_simple"),  # 2 classes
        ("ABCDWXY!", "password_too_simple"),
        ("12345678", None),  # too simple, and common too
    ],
)
def test_password_policy_rejects(county, password, code):
    with pytest.raises(ValidationError) as raised:
        _create(None, county, password=password)
    if code:
        assert code in {e.code for e in raised.value.error_list}
    assert not User.objects.filter(username="newuser").exists()


@pytest.mark.parametrize("password", ["Abcdwxy7", "abcdwx7!", "ABCDWX7!", "Qz7!wlmk", "长城Ab12xy"])
def test_password_policy_accepts_three_classes_of_eight(county, password):
    assert _create(None, county, password=password).check_password(password)


def test_no_password_means_no_login(county):
    assert not _create(None, county).has_usable_password()


def test_set_password(sysadmin, worker, audit_log):
    services.do_set_password(worker, NEW_PASSWORD, acting_user=sysadmin)
    worker.refresh_from_db()
    assert worker.check_password(NEW_PASSWORD)
    (entry,) = audit_log()
    assert entry.action == AuditEntry.Action.UPDATE
    assert entry.changes == {"password": ["***", "***"]}
    _assert_no_password(entry, NEW_PASSWORD, worker)


def test_set_password_enforces_the_policy(sysadmin, worker, audit_log):
    with pytest.raises(ValidationError):
        services.do_set_password(worker, "short", acting_user=sysadmin)
    worker.refresh_from_db()
    assert worker.check_password(PASSWORD)
    assert audit_log() == []


# --- editing and optimistic locking -----------------------------------------------------------


def test_update_user_audits_before_and_after(township, sysadmin, worker, tree, audit_log):
    village = tree["villages"][0]
    services.do_update_user(worker, full_name="陈社工", phone="13800000000", jurisdiction=village,
                            expected_version=1, acting_user=sysadmin)
    stored = User.objects.get(pk=worker.pk)
    assert (stored.full_name, stored.phone, stored.jurisdiction, stored.version) == (
        "陈社工", "13800000000", village, 2)
    (entry,) = audit_log()
    assert entry.action == AuditEntry.Action.UPDATE
    assert entry.changes["full_name"][1] == "陈社工"
    assert entry.changes["jurisdiction"] == [township.code, village.code]
    assert entry.changes["phone"] == ["", "138****0000"]  # masked: the audit log holds no phone in clear
    assert "username" not in entry.changes  # only what changed


def test_update_user_with_a_stale_version_is_a_conflict(sysadmin, worker, audit_log):
    first, second = User.objects.get(pk=worker.pk), User.objects.get(pk=worker.pk)
    services.do_update_user(first, full_name="第一个", expected_version=1, acting_user=sysadmin)
    with pytest.raises(ConflictError):
        services.do_update_user(second, full_name="第二个", expected_version=1, acting_user=sysadmin)
    stored = User.objects.get(pk=worker.pk)
    assert (stored.full_name, stored.version) == ("第一个", 2)
    assert len(audit_log()) == 1


def test_set_roles_with_a_stale_version_is_a_conflict(sysadmin, secadmin, worker):
    services.do_update_user(User.objects.get(pk=worker.pk), full_name="改过", expected_version=1,
                            acting_user=sysadmin)
    with pytest.raises(ConflictError):
        services.do_set_roles(worker, [RoleCode.TOWNSHIP], expected_version=1, acting_user=secadmin)
    assert User.objects.get(pk=worker.pk).role_codes == {RoleCode.SOCIAL_WORKER}


def test_update_user_refuses_other_fields(sysadmin, worker):
    with pytest.raises(ValueError):
        services.do_update_user(worker, password="x", expected_version=1, acting_user=sysadmin)
    with pytest.raises(ValueError):
        services.do_update_user(worker, is_superuser=True, expected_version=1, acting_user=sysadmin)


def test_deactivate(sysadmin, worker, audit_log):
    services.do_update_user(worker, is_active=False, expected_version=1, acting_user=sysadmin)
    assert not User.objects.get(pk=worker.pk).is_active
    assert audit_log()[0].changes == {"is_active": [True, False]}


# --- member units -----------------------------------------------------------------------------


def test_create_member_unit(county, sysadmin, audit_log):
    unit = services.do_create_member_unit(name="示范县教育局", kind="education", jurisdiction=county,
                                          acting_user=sysadmin)
    (entry,) = audit_log()
    assert (entry.action, entry.object_id) == (AuditEntry.Action.CREATE, str(unit.pk))
    assert entry.changes == {"name": [None, "示范县教育局"], "kind": [None, "education"],
                             "jurisdiction": [None, county.code]}
    with pytest.raises(ValidationError):
        services.do_create_member_unit(name="示范县教育局", kind="education", jurisdiction=county,
                                       acting_user=sysadmin)
    assert MemberUnit.objects.filter(name="示范县教育局").count() == 1


# --- roles need no reference rows ------------------------------------------------------------


def test_roles_survive_a_flush_of_reference_data(county):
    """Roles are plain values on UserRole rows: nothing seeded by a migration can go missing
    when `jindu demo --reset` flushes the database."""
    user = _create(None, county, roles=[RoleCode.OFFICE])
    assert User.objects.get(pk=user.pk).role_codes == {RoleCode.OFFICE}


def _assert_no_password(entry: AuditEntry, password: str, user: User) -> None:
    text = json.dumps(entry.changes, ensure_ascii=False) + entry.object_repr
    assert password not in text
    assert User.objects.get(pk=user.pk).password not in text
