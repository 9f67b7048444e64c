"""The demo county's data is valid by the same rules as any imported file."""

from collections import Counter

from core.roles import ADMIN_ROLES, separation_of_duties_error
from demo import builders
from jurisdictions.choices import Level
from jurisdictions.importers import read_csv
from jurisdictions.services import validate_rows


def test_rows_pass_the_import_rules(db):
    rows = builders.jurisdiction_rows()
    assert validate_rows(rows) == []
    assert len({r.code for r in rows}) == len(rows)
    counts = Counter(r.level for r in rows)
    assert counts == {Level.PROVINCE: 1, Level.CITY: 1, Level.COUNTY: 1, Level.TOWNSHIP: 15, Level.VILLAGE: 150,
                      Level.GRID: 300}


def test_village_names_are_unique_per_township():
    rows = builders.jurisdiction_rows()
    for township in (r for r in rows if r.level == Level.TOWNSHIP):
        names = [r.name for r in rows if r.parent_code == township.code]
        assert len(names) == len(set(names)) == builders.VILLAGES_PER_TOWNSHIP, township.name


def test_the_sample_file_is_part_of_the_demo(sample_csv):
    demo = {r.code: (r.name, r.level, r.parent_code) for r in builders.jurisdiction_rows()}
    for row in read_csv(sample_csv):
        assert demo[row.code] == (row.name, row.level, row.parent_code), row.code


def test_accounts_respect_the_separation_of_duties():
    codes = {r.code for r in builders.jurisdiction_rows()}
    units = {name for name, _ in builders.MEMBER_UNITS}
    admins = [a for a in builders.ACCOUNTS if set(a.roles) & ADMIN_ROLES]
    assert {a.roles[0] for a in admins} == ADMIN_ROLES  # three separate people
    for account in builders.ACCOUNTS:
        assert separation_of_duties_error(account.roles) is None, account.username
        assert account.jurisdiction_code in codes, account.username
        assert account.member_unit is None or account.member_unit in units, account.username


def test_the_monitoring_figures_say_where_they_come_from_in_chinese(tree):
    """Issue 20: the population pages read "统计年鉴 (demo)" and the targets "(seed 003)"."""
    import re

    from monitoring.models import PopulationFigure, Target

    builders.build_monitoring(tree["county"])
    texts = list(PopulationFigure.objects.values_list("source", flat=True)) + list(
        Target.objects.values_list("note", flat=True))
    assert texts and [text for text in texts if re.search(r"[A-Za-z]", text)] == []


def test_imported_files_wait_for_their_measures(db):
    """jindu demo imports a few files from an old ledger with no measure dates (issue 20): they
    have no status date and wait on the office's today list under 待补录措施."""
    from accounts.tests.factories import UserFactory
    from core.roles import Role
    from jurisdictions.models import Jurisdiction
    from jurisdictions.services import do_import_jurisdictions
    from persons import queries
    from persons.models import Measure, Person

    do_import_jurisdictions(builders.jurisdiction_rows(), acting_user=None, source="demo")
    county = Jurisdiction.objects.get(code=builders.COUNTY_CODE)
    assert builders.build_waiting_measures(county) == len(builders.WAITING_MEASURES)
    assert builders.build_waiting_measures(county) == 0  # built twice, the same files
    files = Person.objects.filter(name__in=[w[0] for w in builders.WAITING_MEASURES])
    assert files.count() == len(builders.WAITING_MEASURES)
    assert not files.filter(control_status_since__isnull=False).exists()
    assert not Measure.objects.filter(person__in=files).exists()
    office = UserFactory(jurisdiction=county, roles=[Role.OFFICE])
    section = next(s for s in queries.today_list(office).sections if s.key == "missing_measures")
    assert {item.person_id for item in section.items} == set(files.values_list("pk", flat=True))
