"""do_import_persons against the database: villages however offices name them, new files with
what the ledger says, re-imports as updates (history, audit, version), files of other areas,
dry runs and all-or-nothing."""

import datetime
import os

import pytest

from accounts.tests.factories import UserFactory
from core.masking import mask_phone
from core.models import AuditEntry
from core.roles import Role
from jindu.testing import clock
from jurisdictions.choices import Level
from jurisdictions.tests.factories import JurisdictionFactory
from persons import rules, services
from persons.choices import ControlStatus, LivingSituation, Substance
from persons.importers import read_ledger
from persons.models import Person, StatusChange
from persons.tests.ledger_files import CHENGGUAN, COUNTY, HEADER, QINGSHAN, csv_bytes, row, titled, xlsx
from persons.tests.people import id_number
from persons.tests.people import person as make_person

TODAY = clock.TODAY
pytestmark = pytest.mark.time_machine(clock.NOW)  # one day for the whole test (jindu.testing.clock)


@pytest.fixture
def places(sample_tree):
    """The sample tree, with a 团结村 in each township (the same name twice in the county)."""
    chengguan, qingshan = sample_tree[CHENGGUAN], sample_tree[QINGSHAN]
    for town, code in ((chengguan, f"{CHENGGUAN}006"), (qingshan, f"{QINGSHAN}004")):
        sample_tree[code] = JurisdictionFactory(code=code, name="团结村", level=Level.VILLAGE, parent=town)
    return sample_tree


@pytest.fixture
def mark(places):
    """The last audit entry before the test imports anything."""
    return AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def entries(mark, action=None):
    found = AuditEntry.objects.filter(seq__gt=mark)
    return found.filter(action=action) if action else found


def do_import(rows, area, *, kind="xlsx", acting_user=None, **options):
    data = xlsx(rows) if kind == "xlsx" else csv_bytes(rows, kind)
    ledger = read_ledger(data, f"台账.{'xlsx' if kind == 'xlsx' else 'csv'}")
    return services.do_import_persons(ledger, acting_user=acting_user, jurisdiction=area, source="台账", **options)


def rejected(result) -> list[tuple[int, str]]:
    return [(e.row, e.field) for e in result.rejected]


# --- villages -------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [
    "东门社区", "城关镇东门社区", "示范县城关镇东门社区", "演示市示范县城关镇东门社区", " 东门 社区 ", "东门社区居委会",
    "东门社区居民委员会", "城关镇 东门社区居委会", "东门",
])
def test_a_village_typed_with_or_without_the_township_in_front(places, typed):
    result = do_import([HEADER, row(1, "王五", village=typed)], places[COUNTY])
    assert (result.imported, result.rejected) == (1, [])
    assert Person.objects.get().jurisdiction.code == f"{CHENGGUAN}001"


@pytest.mark.parametrize("typed", ["北岭村", "北岭村委会", "北岭村村委会", "北岭村民委员会", "北岭", "青山镇石桥村"])
def test_village_committee_suffixes(places, typed):
    expected = f"{QINGSHAN}002" if "石桥" in typed else f"{CHENGGUAN}004"
    result = do_import([HEADER, row(1, "王五", village=typed)], places[COUNTY])
    assert (result.imported, result.rejected) == (1, [])
    assert Person.objects.get().jurisdiction.code == expected


def test_the_county_prefix_is_found_whatever_the_order_of_the_prefixes(places):
    # 示范县, 城关镇 and 青山镇 are all three characters long: each must be taken off in turn.
    typed = ["示范县城关镇东门社区", "示范县青山镇石桥村", "演示省演示市示范县城关镇南街社区", "演示市示范县青山镇团结村",
             "示范县城关镇"]
    result = do_import([HEADER, *[row(i, f"人{i}", village=v, number=id_number("19800101", serial=900 + i))
                                  for i, v in enumerate(typed, 1)]], places[COUNTY], skip_invalid=True)
    assert result.rejected == []
    assert sorted(Person.objects.values_list("jurisdiction__code", flat=True)) == [
        CHENGGUAN, f"{CHENGGUAN}001", f"{CHENGGUAN}003", f"{QINGSHAN}002", f"{QINGSHAN}004"]


def test_an_ambiguous_village_name_is_rejected_naming_both_townships(places):
    result = do_import([HEADER, row(1, "王五", village="团结村")], places[COUNTY])
    assert rejected(result) == [(2, "所属村(社区)")]
    assert "城关镇" in result.rejected[0].message and "青山镇" in result.rejected[0].message
    assert Person.objects.count() == 0


def test_the_township_in_front_or_in_its_own_column_narrows_an_ambiguous_name(places):
    headers = ["姓名", "身份证号码", "乡镇(街道)", "所属村(社区)", "管控现状"]
    rows = [headers,
            ["王五", id_number("19800101", serial=911), "青山镇", "团结村", "社区戒毒"],
            ["赵六", id_number("19800101", serial=912), "城关镇", "团结村委会", "社区戒毒"],
            ["孙八", id_number("19800101", serial=913), "", "青山镇团结村", "社区戒毒"],
            ["钱七", id_number("19800101", serial=914), "青山镇", "东门社区", "社区戒毒"]]
    result = do_import(rows, places[COUNTY], skip_invalid=True)
    assert rejected(result) == [(5, "所属村(社区)")]  # 东门社区 is not in 青山镇
    assert dict(Person.objects.values_list("name", "jurisdiction__code")) == {
        "王五": f"{QINGSHAN}004", "赵六": f"{CHENGGUAN}006", "孙八": f"{QINGSHAN}004"}


def test_an_unknown_village_or_township_is_rejected(places):
    headers = ["姓名", "身份证号码", "乡镇(街道)", "所属村(社区)", "管控现状"]
    rows = [headers, ["王五", id_number("19800101", serial=921), "", "不存在村", "社区戒毒"],
            ["赵六", id_number("19800101", serial=922), "白云镇", "东门社区", "社区戒毒"]]
    result = do_import(rows, places[COUNTY])
    assert rejected(result) == [(2, "所属村(社区)"), (3, "所属村(社区)")]
    assert all(e.message for e in result.rejected)
    assert not result.written and Person.objects.count() == 0


def test_a_village_outside_the_chosen_area_is_unknown(places):
    result = do_import([HEADER, row(1, "王五", village="石桥村")], places[CHENGGUAN])
    assert rejected(result) == [(2, "所属村(社区)")]


def test_a_ledger_of_one_village_without_a_village_column(places):
    rows = [["姓名", "身份证号码", "性别", "管控现状"], ["王五", id_number("19800101", serial=931), "男", "社区戒毒"]]
    result = do_import(rows, places[f"{CHENGGUAN}002"])
    assert result.imported == 1
    assert Person.objects.get().jurisdiction == places[f"{CHENGGUAN}002"]


def test_a_ledger_without_a_village_column_leaves_known_files_in_their_village(places):
    number = id_number("19850101", serial=932)
    known = make_person(places[f"{CHENGGUAN}001"], "钱七", number=number, phone="13700000000")
    rows = [["姓名", "身份证号码", "联系电话", "管控现状"], ["钱七", number, "13911111111", "社会面管控"]]
    result = do_import(rows, places[CHENGGUAN])
    assert result.updated == 1
    known.refresh_from_db()
    assert known.phone == "13911111111"
    assert known.jurisdiction.code == f"{CHENGGUAN}001"  # not 城关镇 itself: no village was named


# --- what a new file holds ------------------------------------------------------------------


def test_a_new_file_holds_what_the_ledger_says(places):
    number = id_number("19850214", sex="F", serial=941)
    headers = [*HEADER, "户籍地址", "现住址", "就业居住情况", "家属联系方式", "备注", "状态起始日期"]
    line = [*row(1, "王芳", number=number, village="西门社区", substances="海洛因、冰毒、K粉", first_found="2010年5月",
                 status="社区康复", phone="138 1234 5678", sex="女"),
            "贵州省示范县西门社区", "示范县城关镇西门社区", "两有", "母亲 13900000000", "曾多次复吸", "2024-03-01"]
    result = do_import(titled([headers, line]), places[COUNTY])
    assert (result.imported, result.rejected, result.warnings) == (1, [], [])
    person = Person.objects.get()
    assert (person.name, person.id_number, person.sex, person.birth_date) == (
        "王芳", number, "F", datetime.date(1985, 2, 14))
    assert person.jurisdiction.code == f"{CHENGGUAN}002" and person.county_code == COUNTY
    assert (person.control_status, person.control_status_since) == (
        ControlStatus.COMMUNITY_REHABILITATION, datetime.date(2024, 3, 1))
    assert (person.first_found_on, person.first_found_approximate) == (datetime.date(2010, 5, 1), True)
    assert sorted(person.substances.values_list("substance", flat=True)) == sorted(
        [Substance.HEROIN, Substance.METHAMPHETAMINE, Substance.KETAMINE])
    assert person.phone == "13812345678"
    assert (person.registered_residence, person.current_address) == ("贵州省示范县西门社区", "示范县城关镇西门社区")
    assert person.living_situation == LivingSituation.STABLE
    assert person.family_contacts == "母亲 13900000000"
    assert person.notes == "曾多次复吸"
    assert person.name_initials == "wf"
    change = StatusChange.objects.get(person=person)
    assert (change.status, change.changed_on) == (ControlStatus.COMMUNITY_REHABILITATION, datetime.date(2024, 3, 1))
    # Found by its ID number through the blind index, as every search does.
    assert Person.objects.filter(id_number_index=Person._meta.get_field("id_number_index").index_for(number)).exists()


@pytest.mark.parametrize("typed", [110101750307123, "110101750307123"])
def test_a_15_digit_number_is_stored_upgraded_with_its_birth_date(places, typed):
    result = do_import([HEADER, row(1, "王五", number=typed)], places[COUNTY])
    assert result.imported == 1
    person = Person.objects.get()
    assert len(person.id_number) == 18 and person.id_number.startswith("11010119750307123")
    assert person.id_number == rules.normalise_id_number("110101750307123")
    assert (person.birth_date, person.sex) == (datetime.date(1975, 3, 7), "M")


def test_an_area_code_younger_than_the_holder_is_stored_without_warning(places):
    number = id_number("19500101", area="500101", serial=951)
    result = do_import([HEADER, row(1, "王五", number=number)], places[COUNTY])
    assert (result.imported, result.rejected, result.warnings) == (1, [], [])
    assert Person.objects.get().birth_date == datetime.date(1950, 1, 1)


def test_an_unknown_substance_is_kept_in_the_notes(places):
    result = do_import([HEADER, row(1, "王五", substances="冰毒、神仙水")], places[COUNTY])
    assert [(w.row, w.field) for w in result.warnings] == [(2, "吸食毒品种类")]
    person = Person.objects.get()
    assert list(person.substances.values_list("substance", flat=True)) == [Substance.METHAMPHETAMINE]
    assert "神仙水" in person.notes


def test_the_sex_column_never_overrides_the_id_number(places):
    man = id_number("19900307", sex="M", serial=961)
    result = do_import([HEADER, row(1, "王五", number=man, sex="女")], places[COUNTY])
    assert [(w.row, w.field) for w in result.warnings] == [(2, "性别")]
    assert Person.objects.get().sex == "M"


def test_a_new_file_needs_a_status(places):
    rows = [["姓名", "身份证号码", "所属村(社区)"], ["王五", id_number("19800101", serial=971), "东门社区"]]
    result = do_import(rows, places[COUNTY])
    assert [e.row for e in result.rejected] == [2]
    assert Person.objects.count() == 0


def test_every_created_file_and_the_import_are_audited_with_masked_numbers(places, mark):
    numbers = [id_number("19800101", serial=981), id_number("19800101", serial=982)]
    do_import([HEADER, row(1, "王五", number=numbers[0]), row(2, "赵六", number=numbers[1])], places[COUNTY])
    creates = entries(mark, AuditEntry.Action.CREATE)
    assert creates.count() == 2
    for entry in creates:
        text = str(entry.changes)
        assert not any(n in text for n in numbers)
        assert "13812345678" not in text
    entry = entries(mark, AuditEntry.Action.IMPORT).get()
    assert (entry.changes["imported"], entry.changes["rows_read"], entry.changes["kind"]) == (2, 2, "persons")
    assert entry.object_id == str(places[COUNTY].pk)


# --- re-imports -------------------------------------------------------------------------------


@pytest.fixture
def imported(places):
    """One file imported from a ledger: 王五 at 东门社区 under community treatment."""
    number = id_number("19900307", serial=991)
    line = row(1, "王五", number=number, village="东门社区", status="社区戒毒", phone="13812345678",
               substances="海洛因", first_found="2019-03-05")
    do_import([HEADER, line], places[COUNTY])
    return Person.objects.get(), line


def test_reimporting_the_same_ledger_creates_and_changes_nothing(places, imported):
    person, line = imported
    before = (Person.objects.count(), StatusChange.objects.count(), AuditEntry.objects.count())
    result = do_import([HEADER, line], places[COUNTY])
    assert (result.imported, result.updated, result.unchanged) == (0, 0, 1)
    assert (Person.objects.count(), StatusChange.objects.count(), AuditEntry.objects.count()) == (
        before[0], before[1], before[2] + 1)  # the import's own entry only
    person.refresh_from_db()
    assert person.version == 1


def test_reimporting_the_same_ledger_as_gbk_csv_with_other_spellings_changes_nothing(places, imported):
    person, line = imported
    other = list(line)
    other[3] = " ".join([line[3][:6], line[3][6:14], line[3][14:]])
    other[4], other[5], other[6], other[7] = "城关镇东门社区居委会", "白粉", "2019年3月5日", "社戒"
    result = do_import([HEADER, other], places[COUNTY], kind="gbk")
    assert (result.imported, result.updated, result.unchanged, result.rejected) == (0, 0, 1, [])


def test_reimport_with_a_changed_phone_village_and_status(places, imported, mark):
    person, line = imported
    changed = list(line)
    changed[4], changed[7], changed[8] = "北岭村", "强制隔离戒毒", "13999998888"
    result = do_import([HEADER, changed], places[COUNTY])
    assert (result.imported, result.updated, result.unchanged) == (0, 1, 0)
    person.refresh_from_db()
    assert person.version == 2
    assert person.phone == "13999998888"
    assert person.jurisdiction.code == f"{CHENGGUAN}004"
    # The ledger gives no date for the new status: unknown, not the day of the import (issue 20).
    assert (person.control_status, person.control_status_since) == (ControlStatus.COMPULSORY_TREATMENT, None)
    assert list(person.status_changes.values_list("status", flat=True)) == [
        ControlStatus.COMPULSORY_TREATMENT, ControlStatus.COMMUNITY_TREATMENT]
    update = entries(mark, AuditEntry.Action.UPDATE).get()
    assert update.object_id == str(person.pk)
    assert update.changes["phone"] == [mask_phone("13812345678"), mask_phone("13999998888")]
    assert "13999998888" not in str(update.changes) and "13812345678" not in str(update.changes)
    assert update.changes["control_status"] == [ControlStatus.COMMUNITY_TREATMENT, ControlStatus.COMPULSORY_TREATMENT]
    assert "jurisdiction" in update.changes
    assert entries(mark, AuditEntry.Action.IMPORT).get().changes["updated"] == 1


def test_reimporting_an_older_status_is_recorded_once(places):
    number = id_number("19850101", serial=1995)
    known = make_person(places[f"{CHENGGUAN}001"], "钱七", number=number, since_days=30)
    rows = [["姓名", "身份证号码", "所属村(社区)", "管控现状", "状态起始日期"],
            ["钱七", number, "东门社区", "社区戒毒", "2023-01-01"]]
    do_import(rows, places[COUNTY])
    again = do_import(rows, places[COUNTY])
    assert (again.updated, again.unchanged) == (0, 1)
    known.refresh_from_db()
    assert known.control_status == ControlStatus.SOCIAL_CONTROL  # the file's status is the newer one
    assert known.status_changes.filter(status=ControlStatus.COMMUNITY_TREATMENT).count() == 1


def test_reimport_with_only_a_changed_phone_adds_no_status_change(places, imported):
    person, line = imported
    changed = list(line)
    changed[8] = "13999998888"
    result = do_import([HEADER, changed], places[COUNTY])
    assert result.updated == 1
    assert person.status_changes.count() == 1
    person.refresh_from_db()
    assert (person.version, person.phone, person.control_status) == (
        2, "13999998888", ControlStatus.COMMUNITY_TREATMENT)


def test_reimport_with_changed_substances(places, imported):
    person, line = imported
    changed = list(line)
    changed[5] = "冰毒、K粉"
    assert do_import([HEADER, changed], places[COUNTY]).updated == 1
    assert sorted(person.substances.values_list("substance", flat=True)) == [Substance.KETAMINE,
                                                                             Substance.METHAMPHETAMINE]


def test_blank_cells_never_erase_stored_values(places, imported):
    person, line = imported
    blank = list(line)
    blank[5] = blank[6] = blank[8] = None  # substances, first found, phone
    result = do_import([HEADER, blank], places[COUNTY])
    assert (result.updated, result.unchanged) == (0, 1)
    shorter = [["姓名", "身份证号码", "所属村(社区)", "管控现状"], [line[1], line[3], line[4], line[7]]]
    assert do_import(shorter, places[COUNTY]).unchanged == 1
    person.refresh_from_db()
    assert (person.phone, person.first_found_on, person.version) == ("13812345678", datetime.date(2019, 3, 5), 1)
    assert list(person.substances.values_list("substance", flat=True)) == [Substance.HEROIN]


def test_a_file_kept_by_another_area_is_refused_and_untouched(places, mark):
    number = id_number("19850101", serial=995)
    theirs = make_person(places[f"{QINGSHAN}001"], "钱七", number=number, phone="13700000000")
    user = UserFactory(jurisdiction=places[CHENGGUAN], roles=[Role.TOWNSHIP])
    line = row(1, "钱七", number=number, village="东门社区", phone="13911111111", status="强戒")
    result = do_import([HEADER, line, row(2, "赵六")], places[CHENGGUAN], acting_user=user, skip_invalid=True)
    assert rejected(result) == [(2, "身份证号码")]
    assert result.rejected[0].message
    assert result.imported == 1
    theirs.refresh_from_db()
    assert (theirs.phone, theirs.jurisdiction.code, theirs.version, theirs.control_status) == (
        "13700000000", f"{QINGSHAN}001", 1, ControlStatus.SOCIAL_CONTROL)
    assert theirs.status_changes.count() == 1
    assert not entries(mark, AuditEntry.Action.UPDATE).exists()


def test_the_county_office_updates_a_file_of_any_of_its_townships(places):
    number = id_number("19850101", serial=996)
    theirs = make_person(places[f"{QINGSHAN}001"], "钱七", number=number, phone="13700000000")
    office = UserFactory(jurisdiction=places[COUNTY], roles=[Role.OFFICE])
    line = row(1, "钱七", number=number, village="青山社区", phone="13911111111", status="社会面管控")
    result = do_import([HEADER, line], places[COUNTY], acting_user=office)
    assert (result.updated, result.rejected) == (1, [])
    theirs.refresh_from_db()
    assert theirs.phone == "13911111111"


def test_an_area_outside_the_users_is_refused(places):
    user = UserFactory(jurisdiction=places[QINGSHAN], roles=[Role.TOWNSHIP])
    with pytest.raises(services.NotAllowed):
        do_import([HEADER, row()], places[CHENGGUAN], acting_user=user)
    assert Person.objects.count() == 0


def test_roles_that_keep_no_files_are_refused(places):
    for role in (Role.LEADERSHIP, Role.MEMBER_UNIT):
        user = UserFactory(jurisdiction=places[COUNTY], roles=[role])
        with pytest.raises(services.NotAllowed):
            do_import([HEADER, row()], places[COUNTY], acting_user=user)
    assert Person.objects.count() == 0


# --- dry run and all-or-nothing -----------------------------------------------------------------


def test_a_dry_run_counts_and_writes_nothing(places, imported, mark):
    person, line = imported
    changed = list(line)
    changed[8] = "13999998888"
    rows = [HEADER, changed, row(2, "赵六"), row(3, "孙八", village="不存在村", number=id_number("19800101", serial=997))]
    result = do_import(rows, places[COUNTY], dry_run=True, skip_invalid=True)
    assert (result.rows_read, result.imported, result.updated, result.unchanged) == (3, 1, 1, 0)
    assert rejected(result) == [(4, "所属村(社区)")]
    assert (result.dry_run, result.written) == (True, False)
    assert Person.objects.count() == 1
    assert not entries(mark).exists()
    person.refresh_from_db()
    assert (person.phone, person.version) == ("13812345678", 1)


def test_one_rejected_row_means_nothing_is_written(places, imported, mark):
    person, line = imported
    changed = list(line)
    changed[8] = "13999998888"
    rows = [HEADER, row(1, "赵六"), changed, row(3, "孙八", number=id_number("19800101", serial=998)),
            row(4, "", number=id_number("19800101", serial=999))]
    result = do_import(rows, places[COUNTY])
    assert rejected(result) == [(5, "姓名")]
    assert (result.imported, result.updated, result.unchanged, result.written) == (0, 0, 0, False)
    assert Person.objects.count() == 1
    assert StatusChange.objects.count() == 1
    assert not entries(mark).exists()
    person.refresh_from_db()
    assert (person.phone, person.version) == ("13812345678", 1)
    # The same file with skip_invalid: the valid rows go in, the rejected one is reported.
    result = do_import(rows, places[COUNTY], skip_invalid=True)
    assert (result.imported, result.updated, rejected(result), result.written) == (2, 1, [(5, "姓名")], True)
    assert Person.objects.count() == 3


def test_a_failure_while_writing_leaves_no_half_import(places, imported, mark):
    """An error after the new files are written (here a value the database cannot take, in the
    update of a known file) takes the whole import back: the new file, its history and its
    audit entries are gone with it."""
    from django.core.exceptions import ValidationError

    person, line = imported
    changed = list(line)
    changed[8] = "13999998888"
    ledger = read_ledger(xlsx([HEADER, row(1, "赵六"), changed]), "台账.xlsx")
    ledger.rows[1].values["first_found_on"] = "2019-02-30"  # no such day: refused when it is written
    with pytest.raises(ValidationError):
        services.do_import_persons(ledger, acting_user=None, jurisdiction=places[COUNTY], source="台账")
    assert list(Person.objects.values_list("name", flat=True)) == ["王五"]
    assert StatusChange.objects.count() == 1
    assert not entries(mark).exists()
    person.refresh_from_db()
    assert (person.phone, person.version) == ("13812345678", 1)


# --- what offices' files also do (noted by the test writer, built by the lead) ---------------


def test_a_workbook_that_opens_with_instructions_is_read_from_its_ledger_sheet(places):
    import io

    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet("填表说明").write_column(0, 0, ["填表说明", "1. 身份证号码请设置为文本格式", "2. 日期写作2019-03-05"])
    sheet = book.add_worksheet("在册人员")
    for r, values in enumerate([HEADER, row(1, "赵六", number=id_number("19880808", serial=3301))]):
        sheet.write_row(r, 0, values)
    book.close()
    ledger = read_ledger(buffer.getvalue(), "台账.xlsx")
    assert (ledger.sheet_index, ledger.header_row) == (1, 1)
    result = services.do_import_persons(ledger, acting_user=None, jurisdiction=places[COUNTY], source="台账")
    assert (result.imported, result.rejected) == (1, [])


@pytest.mark.parametrize("typed", ["社区戒毒人员", "社区戒毒", " 社区戒毒 "])
def test_status_typed_with_the_persons_ending(places, typed):
    number = id_number("19880808", serial=3302)
    result = do_import([HEADER, row(1, "赵六", number=number, status=typed)], places[COUNTY])
    assert (result.imported, result.rejected) == (1, [])
    assert Person.objects.get().control_status == ControlStatus.COMMUNITY_TREATMENT


@pytest.mark.parametrize("town", ["城关镇", "城关", "城关镇人民政府"])
def test_the_township_column_matches_the_township_however_named(places, town):
    number = id_number("19880808", serial=3303)
    headers = [*HEADER, "乡镇(街道)"]
    result = do_import([headers, [*row(1, "赵六", number=number, village="团结村"), town]], places[COUNTY])
    assert (result.imported, result.rejected) == (1, [])
    assert Person.objects.get().jurisdiction.code == f"{CHENGGUAN}006"


def test_each_created_file_is_audited_with_what_the_ledger_filled_in_masked(places):
    number = id_number("19880808", serial=3304)
    do_import([HEADER, row(1, "赵六", number=number, phone="13812345678")], places[COUNTY])
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, object_type="persons.Person").get()
    assert entry.object_repr == "赵*"  # the masked name: the audit administrator reads no personal data
    assert entry.changes["id_number"][1] == number[:6] + "*" * 10 + number[-2:]
    assert entry.changes["phone"][1] == "138****5678"
    assert entry.changes["control_status"][1] == ControlStatus.COMMUNITY_TREATMENT
    assert number not in str(entry.changes) and "13812345678" not in str(entry.changes)
    assert "notes" not in entry.changes  # empty cells say nothing


# --- a large ledger on several processes ------------------------------------------------------


def _files_as_written(since_seq: int):
    """Every imported file, its substances, statuses and audit entries, by ID number (keys and
    times aside), to compare two imports of the same ledger."""
    people = {p.pk: p for p in Person.objects.prefetch_related("substances")}
    files = {p.id_number: (p.name, p.name_initials, p.sex, p.birth_date, p.jurisdiction_id, p.control_status,
                           p.control_status_since, p.phone, p.first_found_on,
                           sorted(s.substance for s in p.substances.all())) for p in people.values()}
    statuses = sorted((people[s.person_id].id_number, s.status, s.changed_on) for s in StatusChange.objects.all())
    audit = sorted((people[int(e.object_id)].id_number, e.action, str(e.changes)) for e in
                   AuditEntry.objects.filter(object_type="persons.Person", seq__gt=since_seq))
    return files, statuses, audit


def test_forked_workers_import_exactly_what_one_process_does(places, mark, monkeypatch):
    from django.db.models import F

    from core import audit, bulk
    from persons.models import PersonSubstance

    rows = [HEADER] + [row(n, name=f"张{'三四五六'[n % 4]}{n}", village=["东门社区", "石桥村", "城关镇团结村"][n % 3],
                           substances=["海洛因", "冰毒、K粉", ""][n % 3], status=["社区戒毒", "社区康复"][n % 2],
                           phone=f"138{n:08d}") for n in range(1, 31)]
    data = xlsx(rows)
    monkeypatch.setattr("os.cpu_count", lambda: 3)
    forks, real_fork = [], os.fork

    def fork():
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr("os.fork", fork)
    outcomes = []
    for parallel in (False, True):
        monkeypatch.setattr(bulk, "PARALLEL_MIN_ITEMS", 4 if parallel else 10**9)
        monkeypatch.setattr(services, "IMPORT_PART", 7)  # 5 parts, prepared by three forked workers
        monkeypatch.setattr("persons.importers.CHECK_PART", 7)  # and checked by three
        assert len(bulk.parts(30, size=7)) == (5 if parallel else 1)
        since = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        result = services.do_import_persons(read_ledger(data, "台账.xlsx"), acting_user=None,
                                            jurisdiction=places[COUNTY], source="台账")
        assert (result.imported, len(result.rejected), len(result.warnings)) == (30, 0, 0)
        outcomes.append(_files_as_written(since))
        assert len(outcomes[-1][0]) == 30 and audit.verify()[1] is None
        assert PersonSubstance.objects.exists()
        assert not PersonSubstance.objects.exclude(county_code=F("person__county_code")).exists()
        PersonSubstance.objects.all().delete()
        StatusChange.objects.all().delete()
        Person.objects.all().delete()
    assert outcomes[0] == outcomes[1]
    # Three workers to check the rows, three to prepare them, and the child that read the file
    # (core.importing.read_sheet) for each import.
    assert len(forks) == 6 + 2


def test_an_import_marks_the_villages_of_its_files_for_the_rollups_without_reading_them(places):
    """The rollups of the villages the new files went to are marked for recomputation in the
    import's transaction; the import names the villages (it resolved them), so the rollups do
    not read 100,000 files back to find them."""
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from monitoring.models import RollupState

    call_command("rollups", "rebuild", "--jurisdiction", COUNTY)
    assert not RollupState.objects.filter(dirty=True).exists()
    rows = [HEADER, row(1, "赵六", village="东门社区"), row(2, "钱七", village="石桥村", birth="19850101")]
    with CaptureQueriesContext(connection) as captured:
        assert do_import(rows, places[COUNTY]).imported == 2
    villages = set(Person.objects.values_list("jurisdiction_id", flat=True))
    assert len(villages) == 2
    assert set(RollupState.objects.filter(dirty=True).values_list("jurisdiction_id", flat=True)) == villages
    assert not [q for q in captured.captured_queries
                if 'SELECT DISTINCT "persons_person"."jurisdiction_id"' in q["sql"]]


def test_the_check_computes_each_numbers_blind_index_for_the_import(places):
    """The blind index of a checked number is computed with the check (by the forked workers of
    a large ledger), and the import looks the files up with it."""
    from core.fields import blind_lookup

    ledger = read_ledger(xlsx([HEADER, row(1, "赵六"), row(2, "钱七", number="110101199003071235")]), "台账.xlsx")
    good, bad = ledger.rows
    assert good.id_index == Person._meta.get_field("id_number_index").index_for(good.values["id_number"])
    assert bad.errors and bad.id_index == ""
    services.do_import_persons(ledger, acting_user=None, jurisdiction=places[COUNTY], source="台账", skip_invalid=True)
    assert Person.objects.filter(**blind_lookup(Person, "id_number", good.values["id_number"])).exists()


def test_a_large_ledgers_files_are_looked_up_through_a_key_table(places, monkeypatch):
    """From bulk.KEY_TABLE_MIN numbers the files on record are read by joining a temporary table
    of blind indexes (here from one number): the known file is updated with its substances and
    status history compared, another area's file is refused, a new number opens a file."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core import bulk

    monkeypatch.setattr(bulk, "KEY_TABLE_MIN", 1)
    mine = id_number("19900307", serial=991)
    do_import([HEADER, row(1, "王五", number=mine, village="东门社区", status="社区戒毒", substances="海洛因")],
              places[COUNTY])
    theirs = make_person(places[f"{QINGSHAN}001"], "钱七", number=id_number("19850101", serial=995))
    user = UserFactory(jurisdiction=places[CHENGGUAN], roles=[Role.TOWNSHIP])
    lines = [HEADER, row(1, "王五", number=mine, village="东门社区", status="社区戒毒", substances="冰毒"),
             row(2, "钱七", number=theirs.id_number, village="东门社区"), row(3, "赵六", village="北岭村")]
    with CaptureQueriesContext(connection) as captured:
        result = services.do_import_persons(read_ledger(xlsx(lines), "台账.xlsx"), acting_user=user,
                                            jurisdiction=places[CHENGGUAN], source="台账", skip_invalid=True)
    assert (result.imported, result.updated, result.unchanged, rejected(result)) == (1, 1, 0, [(3, "身份证号码")])
    assert sum("jindu_keys_" in q["sql"] for q in captured.captured_queries) >= 4
    person = Person.objects.get(name="王五")
    assert list(person.substances.values_list("substance", flat=True)) == [Substance.METHAMPHETAMINE]
    assert person.status_changes.count() == 1  # the same status: no new history
    theirs.refresh_from_db()
    assert theirs.version == 1
