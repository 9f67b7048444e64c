"""The demo county 示范县 (990101): a fictional place (province code 99) shaped like seed 001's
county. Everything is created through the same services users go through, as the
command-line operator, so the demo exercises the real paths and leaves a real audit trail.
"""

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from accounts import services as account_services
from accounts.choices import UnitKind
from accounts.models import MemberUnit, User
from core.roles import Role
from jurisdictions import services as jurisdiction_services
from jurisdictions.importers import JurisdictionRow
from jurisdictions.models import Jurisdiction

COUNTY_CODE = "990101"

# (name, is a street office). The first two and their first villages match
# shared/samples/sample_jurisdictions.csv.
TOWNSHIPS = [
    ("城关镇", False), ("青山镇", False), ("河口镇", False), ("新华街道", True), ("龙泉镇", False),
    ("马场乡", False), ("白沙乡", False), ("松林镇", False), ("柳溪乡", False), ("金桥街道", True),
    ("双河镇", False), ("凤凰乡", False), ("清水镇", False), ("石门乡", False), ("桃源镇", False),
]
SAMPLE_VILLAGES = {
    "城关镇": ["东门社区", "西门社区", "南街社区", "北岭村", "河坝村"],
    "青山镇": ["青山社区", "石桥村", "茶园村"],
}
VILLAGE_STEMS = ["东风", "红星", "向阳", "团结", "和平", "新民", "光明", "丰收", "长岭", "杨柳", "大坪", "龙井",
                 "梨花", "太平", "永安", "富民", "双龙", "高桥", "黄泥", "沙坝"]
GRIDS_PER_VILLAGE = 2
VILLAGES_PER_TOWNSHIP = 10

MEMBER_UNITS = [
    ("示范县公安局", UnitKind.PUBLIC_SECURITY),
    ("示范县教育局", UnitKind.EDUCATION),
    ("示范县人力资源和社会保障局", UnitKind.HUMAN_RESOURCES),
    ("示范县民政局", UnitKind.CIVIL_AFFAIRS),
    ("示范县卫生健康局", UnitKind.HEALTH),
    ("示范县司法局", UnitKind.JUSTICE),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    jurisdiction_code: str
    roles: tuple[str, ...]
    member_unit: str | None = None


ACCOUNTS = [
    DemoAccount("office", "王禁毒", COUNTY_CODE, (Role.OFFICE,)),
    DemoAccount("township", "李专干", "990101001", (Role.TOWNSHIP,)),
    DemoAccount("township2", "赵专干", "990101002", (Role.TOWNSHIP,)),
    DemoAccount("worker", "陈社工", "990101001", (Role.SOCIAL_WORKER,)),
    DemoAccount("police", "刘民警", COUNTY_CODE, (Role.POLICE,), "示范县公安局"),
    DemoAccount("leader", "周领导", COUNTY_CODE, (Role.LEADERSHIP,)),
    DemoAccount("unit_edu", "吴老师", COUNTY_CODE, (Role.MEMBER_UNIT,), "示范县教育局"),
    DemoAccount("sysadmin", "系统管理员", COUNTY_CODE, (Role.SYSTEM_ADMIN,)),
    DemoAccount("secadmin", "安全管理员", COUNTY_CODE, (Role.SECURITY_ADMIN,)),
    DemoAccount("auditor", "审计管理员", COUNTY_CODE, (Role.AUDIT_ADMIN,)),
]


def jurisdiction_rows() -> list[JurisdictionRow]:
    rows = [
        JurisdictionRow(0, "990000", "演示省", "province", ""),
        JurisdictionRow(0, "990100", "演示市", "city", "990000"),
        JurisdictionRow(0, COUNTY_CODE, "示范县", "county", "990100"),
    ]
    stems = iter(VILLAGE_STEMS * 20)
    for t_index, (township, street) in enumerate(TOWNSHIPS, start=1):
        t_code = f"{COUNTY_CODE}{t_index:03d}"
        rows.append(JurisdictionRow(0, t_code, township, "township", COUNTY_CODE))
        names = list(SAMPLE_VILLAGES.get(township, []))
        while len(names) < VILLAGES_PER_TOWNSHIP:
            stem = next(stems)
            suffix = "社区" if street or len(names) == 0 else "村"
            name = f"{stem}{suffix}"
            if name not in names:
                names.append(name)
        for v_index, village in enumerate(names, start=1):
            v_code = f"{t_code}{v_index:03d}"
            rows.append(JurisdictionRow(0, v_code, village, "village", t_code))
            for g_index in range(1, GRIDS_PER_VILLAGE + 1):
                rows.append(JurisdictionRow(0, f"{v_code}{g_index:03d}", f"{village}第{g_index}网格", "grid", v_code))
    return rows


def demo_password() -> str:
    """JINDU_DEMO_PASSWORD, or one generated once into data/ (so a re-run prints the same)."""
    import os

    if password := os.environ.get("JINDU_DEMO_PASSWORD"):
        return password
    path = Path(settings.DATA_DIR) / "demo_password"
    if path.exists():
        return path.read_text().strip()
    password = f"Jindu-{secrets.token_hex(3)}-{secrets.randbelow(90) + 10}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password)
    path.chmod(0o600)
    return password


def is_loaded() -> bool:
    from persons.models import Person

    return (Jurisdiction.objects.filter(code=COUNTY_CODE).exists() and User.objects.filter(username="office").exists()
            and Person.objects.filter(county_code=COUNTY_CODE).exists())


def persons_default() -> int:
    """How many registered persons `jindu demo` makes: JINDU_DEMO_PERSONS, or about 2,300 as in
    seed 001's county (the test suite sets a small number)."""
    import os

    from demo.persons import DEFAULT_PERSONS

    return int(os.environ.get("JINDU_DEMO_PERSONS") or DEFAULT_PERSONS)


def build(password: str, persons: int | None = None, *, today=None, progress=None):
    """The county, its member units and demo accounts, and ``persons`` registered persons with
    their history (persons_default() if None). Each part is skipped if it is there already.
    Returns what was written (demo.persons.build_persons)."""
    rows = jurisdiction_rows()
    if Jurisdiction.objects.filter(code__in=[r.code for r in rows]).count() < len(rows):
        jurisdiction_services.do_import_jurisdictions(rows, acting_user=None, source="demo")
    county = Jurisdiction.objects.get(code=COUNTY_CODE)
    units = {}
    for name, kind in MEMBER_UNITS:
        units[name] = MemberUnit.objects.filter(name=name).first() or account_services.do_create_member_unit(
            name=name, kind=kind, jurisdiction=county, acting_user=None)
    for account in ACCOUNTS:
        if User.objects.filter(username=account.username).exists():
            continue
        user = account_services.do_create_user(
            username=account.username, full_name=account.full_name,
            jurisdiction=Jurisdiction.objects.get(code=account.jurisdiction_code), roles=account.roles,
            member_unit=units.get(account.member_unit), password=password, acting_user=None,
        )
        # The demo password is printed for everyone to use, so the demo does not force a change
        # at first login (a real account created by the operator does). Administrators still
        # set up their second factor at first login, as everywhere.
        User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now())
    from demo.persons import build_persons

    built = build_persons(persons_default() if persons is None else persons, today=today, progress=progress)
    build_monitoring(county, today=today)
    build_support_tasks(county, units["示范县教育局"], today=today)
    build_waiting_measures(county)
    from monitoring import rollups

    rollups.rebuild(county, today=today)  # history written in bulk: roll it up once, as `jindu generate` does
    return built


# Files imported from a township's old ledger that named the status but not the measure's dates:
# they wait on the today list under 待补录措施 (issue 20). (name, birth date, sex, status, village index)
WAITING_MEASURES = [("韦立新", "19860412", "M", "社区戒毒", 0), ("覃春梅", "19910927", "F", "社区康复", 1),
                    ("蒙振华", "19790305", "M", "社区戒毒", 12), ("陆晓东", "19950118", "M", "社区康复", 23)]
WAITING_AREA = "990199"  # born elsewhere: their numbers cannot be those drawn for the demo county


def build_waiting_measures(county) -> int:
    """Imports WAITING_MEASURES the way an office's ledger comes in (persons.importers and
    do_import_persons): files with no status date and no measure. Once imported, not again (a
    second `jindu demo` adds nothing, not even an import entry). Returns the files created."""
    import csv
    import io

    from persons.models import Person

    if Person.objects.filter(county_code=county.code, control_status_since__isnull=True).exists():
        return 0

    from persons.importers import read_ledger
    from persons.rules import check_digit
    from persons.services import do_import_persons

    villages = list(Jurisdiction.objects.filter(path__startswith=county.path, level="village")
                    .select_related("parent").order_by("code"))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["姓名", "身份证号码", "乡镇(街道)", "所属村(社区)", "管控现状", "决定日期", "报到日期"])
    for serial, (name, birth, sex, status, village) in enumerate(WAITING_MEASURES, start=1):
        place = villages[village % len(villages)]
        body = f"{WAITING_AREA}{birth}{900 + serial * 2 + (sex == 'M'):03d}"
        writer.writerow([name, body + check_digit(body), place.parent.name, place.name, status, "", ""])
    ledger = read_ledger(out.getvalue().encode("utf-8"), "原台账.csv")
    return do_import_persons(ledger, acting_user=None, jurisdiction=county, source="demo: 原台账.csv").imported


# The support tasks the office gives 示范县教育局 in the demo (SPEC §2: a member unit sees the
# persons of its tasks, and nothing else): (what is asked, days ago given, days to do it, support
# recorded against it, closed with).
DEMO_TASKS = [
    ("协助其子女办理转学入学手续", 20, 40, "已联系城关镇中心小学，安排入学", ""),
    ("为本人联系县职业中学技能培训班", 12, 60, "", ""),
    ("协助其子女申请教育资助", 45, 30, "已提交困难学生资助申请", "资助已发放"),
]


def build_support_tasks(county, unit, today=None) -> None:
    """A few support tasks for 示范县教育局 (unit_edu): given by the office to persons under
    community measures, one with support recorded, one closed (skipped if the unit has tasks)."""
    import datetime

    from persons import support
    from persons.choices import ACTIVE_STATUSES, SupportKind
    from persons.models import Person, SupportTask

    if SupportTask.objects.filter(member_unit=unit).exists():
        return
    today = today or timezone.localdate()
    # Parents of school-age children (born 25 to 45 years ago), under community measures.
    persons = (Person.objects.filter(county_code=county.code, control_status__in=ACTIVE_STATUSES,
                                     birth_date__range=(today.replace(year=today.year - 45, day=1),
                                                        today.replace(year=today.year - 25, day=1)))
               .select_related("jurisdiction").order_by("pk")[:len(DEMO_TASKS)])
    for person, (request, ago, days, given, outcome) in zip(persons, DEMO_TASKS, strict=False):
        assigned_on = today - datetime.timedelta(days=ago)
        kind = SupportKind.TRAINING if "培训" in request else SupportKind.SCHOOLING
        task = support.do_assign_support_task(person, unit, kind, request, assigned_on + datetime.timedelta(days=days),
                                              acting_user=None, assigned_on=assigned_on)
        if given:
            support.do_record_support(person, kind, assigned_on + datetime.timedelta(days=ago // 2), given,
                                      acting_user=None, task=task)
        if outcome:
            support.do_close_support_task(task, outcome, acting_user=None, closed_on=today - datetime.timedelta(days=3))


# Seed 003 (三年行动计划): execution rate and grid-management rate 80% → 90% → 100% over three
# years; the demo places the plan's three years so that it ends this year.
PLAN_TARGETS = {"execution_rate": (80, 90, 100), "grid_rate": (80, 90, 100)}
# 示范县 and its townships: resident population (常住人口), the base of the per-mille figures.
DEMO_POPULATION = 352_000


def build_monitoring(county, today=None) -> None:
    """Targets of the three-year plan, population figures and an alert threshold for the demo
    county, through the monitoring services (skipped where they exist already)."""
    from monitoring.choices import Comparison
    from monitoring.models import PopulationFigure, Target, Threshold
    from monitoring.services import do_set_population, do_set_target, do_set_threshold

    year = (today or timezone.localdate()).year
    for code, values in PLAN_TARGETS.items():
        for offset, value in enumerate(values):
            plan_year = year - 2 + offset
            if not Target.objects.filter(indicator=code, jurisdiction=county, year=plan_year).exists():
                do_set_target(code, county, plan_year, value, acting_user=None,
                              note="禁毒人民战争三年行动方案年度目标（演示数据）")
    townships = list(county.children.order_by("code"))
    shares = [len(townships) - i for i in range(len(townships))]  # the seat of the county is the largest
    for plan_year in (year - 1, year):
        if not PopulationFigure.objects.filter(jurisdiction=county, year=plan_year).exists():
            do_set_population(county, plan_year, DEMO_POPULATION, acting_user=None, source="统计年鉴（演示数据）")
        for township, share in zip(townships, shares, strict=True):
            if not PopulationFigure.objects.filter(jurisdiction=township, year=plan_year).exists():
                do_set_population(township, plan_year, DEMO_POPULATION * share // sum(shares), acting_user=None,
                                  source="统计年鉴（演示数据）")
    if not Threshold.objects.filter(indicator="newly_found", jurisdiction=county).exists():
        do_set_threshold("newly_found", county, Comparison.YOY_ABOVE, 20, acting_user=None,
                         note="新发现吸毒人员同比上升超过20%")
