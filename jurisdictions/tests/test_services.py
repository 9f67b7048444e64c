"""do_import_jurisdictions and do_rename_jurisdiction: all or nothing, idempotent, audited, scoped."""

import pytest

from accounts.tests.factories import UserFactory
from core.models import AuditEntry
from core.roles import ALL_ROLES, Role
from core.services import ConflictError
from jurisdictions.choices import Level
from jurisdictions.importers import FileRejected, JurisdictionRow, read_csv
from jurisdictions.models import Jurisdiction
from jurisdictions.services import NotAllowed, do_import_jurisdictions, do_rename_jurisdiction
from jurisdictions.tests.factories import JurisdictionFactory

HEADER = "code,name,level,parent_code\n"


def _import(text: str, acting_user=None):
    return do_import_jurisdictions(read_csv((HEADER + text).encode()), acting_user=acting_user, source="test.csv")


def _rejected(text: str, acting_user=None) -> set[tuple[int, str]]:
    with pytest.raises(FileRejected) as raised:
        _import(text, acting_user)
    assert all(e.message for e in raised.value.errors)
    return {(e.row, e.field) for e in raised.value.errors}


# --- a good file ------------------------------------------------------------------------------


def test_sample_creates_the_tree(db, sample_csv):
    result = do_import_jurisdictions(read_csv(sample_csv), acting_user=None, source="sample_jurisdictions.csv")
    assert (result.rows_read, result.created, result.updated, result.unchanged) == (13, 13, 0, 0)
    assert result.errors == []
    assert Jurisdiction.objects.count() == 13
    nodes = {j.code: j for j in Jurisdiction.objects.select_related("parent")}
    expected = {
        # code: (path, depth, county_code, parent)
        "990000": ("990000/", 0, "", None),
        "990100": ("990000/990100/", 1, "", "990000"),
        "990101": ("990000/990100/990101/", 2, "990101", "990100"),
        "990101001": ("990000/990100/990101/990101001/", 3, "990101", "990101"),
        "990101002003": ("990000/990100/990101/990101002/990101002003/", 4, "990101", "990101002"),
    }
    for code, (path, depth, county_code, parent) in expected.items():
        node = nodes[code]
        assert (node.path, node.depth, node.county_code) == (path, depth, county_code), code
        assert (node.parent.code if node.parent else None) == parent, code
    assert nodes["990101001004"].name == "北岭村"
    assert nodes["990101001004"].level == Level.VILLAGE
    assert {n.county_code for n in nodes.values() if n.depth >= 2} == {"990101"}
    for node in nodes.values():  # every path is the parent's path plus the own code
        assert node.path == (node.parent.path if node.parent else "") + node.code + "/"
        assert node.version == 1


def test_reimport_is_idempotent(sample_tree, sample_csv, jurisdiction_table):
    before = jurisdiction_table()
    result = do_import_jurisdictions(read_csv(sample_csv), acting_user=None)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 13)
    assert jurisdiction_table() == before


def test_changed_name_renames_and_bumps_the_version(sample_tree, sample_csv):
    old = Jurisdiction.objects.get(code="990101001004")
    data = sample_csv.decode().replace("北岭村", "北岭社区").encode()
    result = do_import_jurisdictions(read_csv(data), acting_user=None)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 12)
    node = Jurisdiction.objects.get(code="990101001004")
    assert node.name == "北岭社区"
    assert node.version == old.version + 1
    assert node.updated_at > old.updated_at
    assert (node.path, node.parent_id) == (old.path, old.parent_id)
    assert Jurisdiction.objects.filter(version=1).count() == 12


def test_a_file_may_add_below_existing_nodes(sample_tree):
    result = _import("990101002004,新村,village,990101002\n990101002004001,新村第1网格,grid,990101002004\n")
    assert (result.created, result.unchanged) == (2, 0)
    grid = Jurisdiction.objects.get(code="990101002004001")
    assert grid.path == "990000/990100/990101/990101002/990101002004/990101002004001/"
    assert grid.county_code == "990101"


def test_rows_may_come_in_any_order(db):
    result = _import("990101,示范县,county,990100\n990100,演示市,city,990000\n990000,演示省,province,\n")
    assert result.created == 3
    assert Jurisdiction.objects.get(code="990101").path == "990000/990100/990101/"


def test_county_directly_under_a_province(db):
    _import("420000,湖北省,province,\n429004,仙桃市,county,420000\n429004001,沙嘴街道,township,429004\n")
    town = Jurisdiction.objects.get(code="429004001")
    assert (town.path, town.county_code) == ("420000/429004/429004001/", "429004")


def test_import_writes_one_audit_entry_with_the_counts(sample_tree, sample_csv):
    admin = UserFactory(jurisdiction=sample_tree["990101"], roles=[Role.SYSTEM_ADMIN])
    data = sample_csv.decode().replace("茶园村", "茶园社区").encode()
    do_import_jurisdictions(read_csv(data), acting_user=admin, source="upload.csv")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT, actor=admin)
    assert entry.action == AuditEntry.Action.IMPORT
    assert entry.actor == admin
    assert entry.actor_jurisdiction == "990101"
    assert "upload.csv" in entry.object_repr
    assert entry.changes == {"rows_read": 13, "created": 0, "updated": 1, "unchanged": 12}


def test_command_line_import_is_audited_as_the_system(db, sample_csv):
    do_import_jurisdictions(read_csv(sample_csv), acting_user=None, source="sample.csv")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert entry.actor is None
    assert entry.changes["created"] == 13


# --- a bad file -------------------------------------------------------------------------------


def test_bad_file_reports_every_row_and_changes_nothing(sample_tree, jurisdiction_table):
    # A node stored with a code that does not fit its level (entered before the rules existed):
    # the file gives the same code another level.
    JurisdictionFactory(code="990101099", name="旧数据", level=Level.VILLAGE, parent=sample_tree["990101"])
    before = jurisdiction_table()
    audit_before = AuditEntry.objects.count()
    rows = _rejected(
        "99010100X,坏代码镇,township,990101\n"  # 2: bad code
        "990101003,未知级别,district,990101\n"  # 3: unknown level
        "990101004001,无上级村,village,990101004\n"  # 4: parent neither in file nor in system
        "990101005,新镇,township,990101\n"  # 5: fine
        "990101005,重复镇,township,990101\n"  # 6: duplicate code
        "990101006,,township,990101\n"  # 7: empty name
        "990102001,错前缀镇,township,990101\n"  # 8: code does not begin with the parent's
        "990101099,旧数据,township,990101\n"  # 9: existing code with another level
        "990101001,城关镇,township,990100\n"  # 10: existing code under another parent
        "990101007,没有上级,township,\n"  # 11: no parent code
        "990101002003001,网格,grid,990101002003\n"  # 12: fine
    )
    assert rows == {(2, "code"), (3, "level"), (4, "parent_code"), (6, "code"), (7, "name"),
                    (8, "parent_code"), (9, "level"), (10, "parent_code"), (11, "parent_code")}
    assert jurisdiction_table() == before
    assert AuditEntry.objects.count() == audit_before


def test_errors_come_sorted_by_row(db):
    with pytest.raises(FileRejected) as raised:
        _import("990000,,province,\nX,P,province,\n990100,,city,990000\n")
    assert [e.row for e in raised.value.errors] == sorted(e.row for e in raised.value.errors)


def test_too_long_name_is_a_row_error_not_a_database_error(db, jurisdiction_table):
    assert _rejected("990000," + "长" * 101 + ",province,\n") == {(2, "name")}
    assert jurisdiction_table() == []
    assert _import("990000," + "长" * 100 + ",province,\n").created == 1


def test_rename_to_an_empty_name_is_refused(sample_tree, sample_csv, jurisdiction_table):
    before = jurisdiction_table()
    data = sample_csv.decode().replace("北岭村", "").encode()
    with pytest.raises(FileRejected) as raised:
        do_import_jurisdictions(read_csv(data), acting_user=None)
    assert [(e.row, e.field) for e in raised.value.errors] == [(9, "name")]
    assert jurisdiction_table() == before


# --- who may import ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(ALL_ROLES - {Role.SYSTEM_ADMIN}))
def test_only_the_system_admin_may_import(sample_tree, jurisdiction_table, role):
    user = UserFactory(jurisdiction=sample_tree["990000"], roles=[role])
    before = jurisdiction_table()
    with pytest.raises(NotAllowed):
        _import("990101002004,新村,village,990101002\n", acting_user=user)
    assert jurisdiction_table() == before


def test_inactive_system_admin_may_not_import(sample_tree):
    user = UserFactory(jurisdiction=sample_tree["990000"], roles=[Role.SYSTEM_ADMIN], is_active=False)
    with pytest.raises(NotAllowed):
        _import("990101002004,新村,village,990101002\n", acting_user=user)


def test_system_admin_imports_inside_their_area(sample_tree, sample_csv):
    admin = UserFactory(jurisdiction=sample_tree["990101"], roles=[Role.SYSTEM_ADMIN])
    # The enclosing province and city appear unchanged: that is not a change outside the area.
    data = sample_csv + "990101003,河口镇,township,990101\n990101003001,河口社区,village,990101003\n".encode()
    result = do_import_jurisdictions(read_csv(data), acting_user=admin)
    assert (result.created, result.unchanged) == (2, 13)


def test_system_admin_cannot_create_or_rename_outside_their_area(sample_tree, jurisdiction_table):
    admin = UserFactory(jurisdiction=sample_tree["990101001"], roles=[Role.SYSTEM_ADMIN])
    before = jurisdiction_table()
    rows = _rejected(
        "990101001,城关镇,township,990101\n"  # 2: own node unchanged: fine
        "990101001006,新村,village,990101001\n"  # 3: inside: fine
        "990101002,青山乡,township,990101\n"  # 4: renames a sibling township
        "990101002004,新村,village,990101002\n"  # 5: creates under a sibling township
        "990101,示范区,county,990100\n"  # 6: renames the county above
        "990101003,河口镇,township,990101\n"  # 7: creates beside the own township
        "990101003001,河口社区,village,990101003\n"  # 8: ... and below that new node
        "980000,外省,province,\n",  # 9: a new root
        acting_user=admin,
    )
    assert rows == {(4, "code"), (5, "code"), (6, "code"), (7, "code"), (8, "code"), (9, "code")}
    assert jurisdiction_table() == before


def test_system_admin_without_jurisdiction_changes_nothing(sample_tree):
    admin = UserFactory(jurisdiction=None, roles=[Role.SYSTEM_ADMIN])
    assert _rejected("990101002004,新村,village,990101002\n", acting_user=admin) == {(2, "code")}


def test_rows_without_line_numbers_from_code(db):
    """The demo builds rows in code (row 0); they go through the same service."""
    rows = [JurisdictionRow(0, "990000", "演示省", "province", ""), JurisdictionRow(0, "990100", "演示市", "city", "990000")]
    assert do_import_jurisdictions(rows, acting_user=None).created == 2


# --- rename -----------------------------------------------------------------------------------


def test_rename_bumps_the_version_and_audits_before_and_after(sample_tree):
    admin = UserFactory(jurisdiction=sample_tree["990101"], roles=[Role.SYSTEM_ADMIN])
    node = sample_tree["990101001"]
    do_rename_jurisdiction(node, "城关街道", expected_version=1, acting_user=admin)
    node.refresh_from_db()
    assert (node.name, node.version) == ("城关街道", 2)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.UPDATE)
    assert entry.changes == {"name": ["城关镇", "城关街道"]}
    assert (entry.actor, entry.object_id) == (admin, str(node.pk))


def test_rename_with_a_stale_version_does_not_overwrite(sample_tree):
    admin = UserFactory(jurisdiction=sample_tree["990101"], roles=[Role.SYSTEM_ADMIN])
    first, second = (Jurisdiction.objects.get(code="990101001") for _ in range(2))
    do_rename_jurisdiction(first, "城关街道", expected_version=1, acting_user=admin)
    with pytest.raises(ConflictError):
        do_rename_jurisdiction(second, "城关乡", expected_version=1, acting_user=admin)
    node = Jurisdiction.objects.get(code="990101001")
    assert (node.name, node.version) == ("城关街道", 2)
    assert AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE).count() == 1


@pytest.mark.parametrize("role", sorted(ALL_ROLES - {Role.SYSTEM_ADMIN}))
def test_rename_needs_the_system_admin(sample_tree, role):
    user = UserFactory(jurisdiction=sample_tree["990101"], roles=[role])
    with pytest.raises(NotAllowed):
        do_rename_jurisdiction(sample_tree["990101001"], "X", expected_version=1, acting_user=user)
    assert Jurisdiction.objects.get(code="990101001").name == "城关镇"


def test_rename_outside_the_area_is_refused(sample_tree):
    admin = UserFactory(jurisdiction=sample_tree["990101001"], roles=[Role.SYSTEM_ADMIN])
    with pytest.raises(NotAllowed):
        do_rename_jurisdiction(sample_tree["990101002"], "X", expected_version=1, acting_user=admin)
    assert Jurisdiction.objects.get(code="990101002").name == "青山镇"
