"""A province for scale work: `jindu generate --persons 100000 --years 5 [--seed N]`.

A province-shaped tree (a dozen cities, about a hundred counties, 10–15 townships per county,
about 8 villages per township) under the test province code 98 (no real province has it),
filled with plausible registered persons and their history: statuses, measures with their
legal clocks, check-in plans, some 50 check-ins per person, flags, risk assessments, support
records, and the staff who keep them (office, township, police, leadership, member-unit and
social-worker accounts, each social worker assigned about 30 persons).

How it is made
* Each person's life is simulated in memory exactly as for the demo county
  (``demo.persons.People``/``Life``: found, decided, reported in, tested, relapsed, sent to
  compulsory treatment, released …); the check-ins of each community measure come from
  ``demo.persons.plan_check_ins`` over the plan ``rules.plan_due_dates`` gives, closing plan
  items by ``rules.plan_item_to_close``. Persons under social control are visited monthly and
  tested quarterly (negative), as townships do.
* The clocks come from persons.rules (``term_end``, ``term_months_for``, ``plan_due_dates``);
  flags from ``rules.evaluate`` replayed on the day each finding arose and once more today,
  stored the way ``services.evaluate_flags`` stores them; risk from ``rules.risk_factors`` and
  ``rules.risk_score``.
* Nothing goes through the per-row services: rows are written by ``demo.bulk`` (COPY on
  PostgreSQL, executemany on SQLite), ID numbers and phones encrypted and blind-indexed by
  their fields. Generating is an operator's bulk action: ONE audit entry records what was
  generated (counts, seed, date), not one per row.
* Deterministic for a seed and a day.
"""

import datetime
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.choices import UnitKind
from accounts.models import MemberUnit, User, UserRole
from core import audit
from core.models import AuditEntry
from core.roles import Role
from demo import persons as demo
from demo.bulk import BulkWriter, Table
from jurisdictions.choices import LEVEL_ORDER, Level
from jurisdictions.models import Jurisdiction
from jurisdictions.rules import county_code_of
from persons import rules
from persons.choices import (
    ACTIVE_STATUSES,
    CheckInKind,
    ControlStatus,
    DrugTestResult,
    FlagState,
    FoundHow,
    LivingSituation,
    MeasureKind,
    MeasureState,
    SampleMethod,
    SupportKind,
)
from persons.models import (
    CheckIn,
    Flag,
    Measure,
    Person,
    PersonSubstance,
    PlannedCheckIn,
    RiskAssessment,
    StatusChange,
    Support,
)
from persons.services import MEASURE_STATUS, pinyin_initials

PROVINCE_CODE = "980000"
PROVINCE_NAME = "模拟省"
SEED = 980000
DEFAULT_PERSONS = 100_000
PERSONS_PER_WORKER = 30  # a social worker's caseload (seed 003: 按30:1配备专职社工)

CITY_NAMES = ("东川市", "南岭市", "西陵市", "北原市", "青州市", "云阳市", "安平市", "临江市", "河源市", "梅山市",
              "石城市", "泉州府市")
PLACE_STEMS = ("长宁", "永和", "新安", "太平", "福兴", "清河", "平乐", "东兴", "西华", "南丰", "北宁", "金山", "银川",
               "玉泉", "龙溪", "凤鸣", "白石", "黄龙", "青松", "红岩", "桃花", "梨园", "柳塘", "杨柳", "松柏", "竹林",
               "梅岭", "兰溪", "荷塘", "菊园", "高坪", "大石", "小河", "双桥", "三江", "四方", "五里", "六合", "七星",
               "八角", "九龙", "十里", "万安", "千秋", "百花", "利民", "富民", "兴隆", "昌盛", "和平", "团结", "胜利",
               "光明", "向阳", "红星", "前进", "新华", "文昌", "武陵", "安乐")
SUPPORT_TEXTS = {
    SupportKind.EMPLOYMENT: "推荐到本地企业务工", SupportKind.TRAINING: "参加县人社局组织的职业技能培训",
    SupportKind.INSURANCE: "协助办理城乡居民基本医疗保险", SupportKind.RELIEF: "按规定纳入最低生活保障",
    SupportKind.MEDICAL: "协调定点医院诊治", SupportKind.SCHOOLING: "协调返校复学",
}
VISIT_NOTES = demo.HOME_VISIT_NOTES + ("社会面管控走访，本人在家，表现正常。",)
PHONE_NOTES = ("电话联系本人，近期在外务工，情况稳定。", "电话联系家属，了解本人近况。", "电话提醒本人按时接受检测。")


# --- the tree -------------------------------------------------------------------------------


@dataclass
class Node:
    code: str
    name: str
    level: str
    parent: "Node | None" = None
    children: list["Node"] = field(default_factory=list)
    pk: int | None = None

    @property
    def path(self) -> str:
        return f"{self.parent.path if self.parent else ''}{self.code}/"


def build_tree(rng: random.Random, counties: int, cities: int | None = None) -> Node:
    """Province → cities → ``counties`` counties → 10–15 townships → 6–10 villages each, with
    codes of the shapes jurisdictions.rules checks (6, 6, 6, 9 and 12 digits)."""
    cities = cities or min(12, max(1, counties))
    province = Node(PROVINCE_CODE, PROVINCE_NAME, Level.PROVINCE)
    stems = list(PLACE_STEMS)
    for c in range(cities):
        city = Node(f"{PROVINCE_CODE[:2]}{c + 1:02d}00", CITY_NAMES[c % len(CITY_NAMES)], Level.CITY, province)
        province.children.append(city)
    for n in range(counties):
        city = province.children[n % cities]
        index = len(city.children) + 1
        stem = stems[(n * 7) % len(stems)]
        name = f"{stem}{'区' if index == 1 else '县'}"
        county = Node(f"{city.code[:4]}{index:02d}", name, Level.COUNTY, city)
        city.children.append(county)
        for t in range(rng.randint(10, 15)):
            street = t < 2
            t_name = f"{stems[(n + t * 3) % len(stems)]}{'街道' if street else rng.choice(('镇', '镇', '乡'))}"
            township = Node(f"{county.code}{t + 1:03d}", t_name, Level.TOWNSHIP, county)
            county.children.append(township)
            for v in range(rng.randint(6, 10)):
                v_name = f"{stems[(n * 3 + t * 5 + v * 11) % len(stems)]}{'社区' if street or v == 0 else '村'}"
                township.children.append(Node(f"{township.code}{v + 1:03d}", v_name, Level.VILLAGE, township))
    return province


def walk(node: Node):
    yield node
    for child in node.children:
        yield from walk(child)


# --- people ----------------------------------------------------------------------------------


class CountyDocuments(demo.DocumentNumbers):
    """Decision numbers of one county: 长公(禁)社戒决字〔2024〕37号."""

    def __init__(self, abbreviation: str):
        super().__init__()
        self.FORMS = {kind: form.replace("示", abbreviation) for kind, form in demo.DocumentNumbers.FORMS.items()}


def draft_person(rng: random.Random, people: demo.People, county: Node, township: Node, village: Node,
                 t_index: int, v_index: int, area_codes: list[str]) -> demo.Draft:
    """Who a person is: the demo's distributions (age, sex, substances, circumstances), placed
    in a village of this county; the ID number mostly issued here."""
    found_on, years_ago = people.found_on()
    if years_ago <= 2 and rng.random() < 0.025:
        age_found = rng.randint(14, 17)
    else:
        low, high = demo._pick(rng, (((18, 24), 22), ((25, 34), 40), ((35, 44), 24), ((45, 52), 14)))
        age_found = min(rng.randint(low, high), 58 - years_ago)
    born = found_on - relativedelta(years=age_found) - datetime.timedelta(days=rng.randint(0, 364))
    sex = "M" if rng.random() < 0.85 else "F"
    place = f"{county.parent.name}{county.name}{township.name}{village.name}"
    address = (f"{place}{rng.choice(demo.STREETS)}{rng.randint(1, 180)}号" if village.name.endswith("社区")
               else f"{place}{rng.randint(1, 12)}组{rng.randint(1, 60)}号")
    area = county.code if rng.random() < 0.86 else rng.choice(area_codes)
    substances = people.substances(found_on, rules.age_on(born, found_on))
    heroin = "heroin" in substances
    living = demo._pick(rng, ((LivingSituation.STABLE, 35), (LivingSituation.HOUSED, 45),
                              (LivingSituation.UNSTABLE, 20)))
    relation = rng.choice(("父亲", "母亲", "妻子" if sex == "M" else "丈夫", "哥哥", "姐姐", "弟弟"))
    contact = f"{relation} {people.name('F' if relation in ('母亲', '妻子', '姐姐') else 'M', born)} {people.phone()}"
    return demo.Draft(
        name=people.name(sex, born), id_number=people.id_number(area, born, sex), sex=sex, birth_date=born,
        township=t_index, village=v_index, grid=0, found_on=found_on,
        found_how=demo._pick(rng, ((FoundHow.CASE, 30), (FoundHow.CHECK, 35), (FoundHow.TIP_OFF, 10),
                                   (FoundHow.SELF_REPORT, 5), (FoundHow.TRANSFER, 12), (FoundHow.OTHER, 8))),
        substances=substances, living=living, registered_residence=address, current_address=address,
        phone=people.phone() if rng.random() < 0.9 else "", family_contacts=contact if rng.random() < 0.85 else "",
        first_found_approximate=years_ago >= 10 and rng.random() < 0.2,
        hiv_positive=rng.random() < (0.08 if heroin else 0.01), serious_illness=rng.random() < 0.04,
        mental_disorder=rng.random() < (0.02 if heroin else 0.04), violence_history=rng.random() < 0.05,
        drug_driving_history=rng.random() < (0.01 if heroin else 0.04),
        family_support=rng.random() < (0.55 if living == LivingSituation.UNSTABLE else 0.85),
    )


def _weights(rng: random.Random, n: int, skew: float = 0.6) -> list[float]:
    return [rng.lognormvariate(0, skew) for _ in range(n)]


def _split(total: int, weights: list[float]) -> list[int]:
    """``total`` spread over ``weights``, summing exactly to ``total``."""
    scale = sum(weights)
    shares = [total * w / scale for w in weights]
    counts = [int(s) for s in shares]
    for i in sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])[: total - sum(counts)]:
        counts[i] += 1
    return counts


# --- the generator -----------------------------------------------------------------------------


PERSON_RECORD_FIELDS = ["id", "person", "county_code", "recorded_by", "created_at"]
CHECK_IN_FIELDS = [*PERSON_RECORD_FIELDS, "kind", "occurred_on", "measure", "method", "result", "substance",
                   "returned_on", "notes"]
PLAN_FIELDS = [*PERSON_RECORD_FIELDS, "measure", "kind", "due_on", "done", "missed_reason", "missed_note",
               "explained_on"]


class Generator:
    def __init__(self, persons: int, years: int, seed: int, today: datetime.date, counties: int | None = None,
                 password: str | None = None, progress=None):
        self.total, self.years, self.seed, self.today = persons, years, seed, today
        self.counties = counties or max(2, min(100, round(persons / 1000)))
        self.password = password
        self.progress = progress or (lambda message: None)
        self.rng = random.Random(seed)
        self.explaining = random.Random(seed + 2)  # the workers' explanations of missed check-ins
        self.window_start = today - relativedelta(years=years)
        self.stats = Counter()
        self.last_month = today.replace(day=1) - relativedelta(months=1)
        self.policy = rules.PlanPolicy()
        self.id_numbers: set[str] = set()

    # -- accounts ----------------------------------------------------------------------------

    def user(self, username, full_name, node: Node, roles, member_unit=None) -> User:
        user = User(username=username, full_name=full_name, jurisdiction_id=node.pk, password=self.password_hash,
                    password_changed_at=self.now, member_unit_id=member_unit, is_active=True,
                    date_joined=self.now)
        self.writer.add(user)
        for role in roles:
            self.writer.add(UserRole(user_id=user.pk, role=role))
        self.stats["accounts"] += 1
        return user

    # -- run ---------------------------------------------------------------------------------

    def run(self) -> Counter:
        started = time.monotonic()
        self.now = timezone.now()
        self.password_hash = make_password(self.password) if self.password else make_password(None)
        tree = build_tree(self.rng, self.counties)
        self.writer = BulkWriter([
            Table(Jurisdiction), Table(MemberUnit), Table(User), Table(UserRole), Table(Person),
            Table(PersonSubstance), Table(StatusChange), Table(Measure), Table(CheckIn, CHECK_IN_FIELDS),
            Table(PlannedCheckIn, PLAN_FIELDS), Table(Flag), Table(RiskAssessment), Table(Support),
        ])
        for node in sorted(walk(tree), key=lambda n: LEVEL_ORDER[n.level]):
            obj = self.writer.add(Jurisdiction(
                code=node.code, name=node.name, level=node.level, parent_id=node.parent.pk if node.parent else None,
                path=node.path, depth=LEVEL_ORDER[node.level], county_code=county_code_of(node.code, node.level)))
            node.pk = obj.pk
            self.stats["jurisdictions"] += 1
        self.user(f"office{tree.code}", "省禁毒办", tree, [Role.OFFICE])
        self.user(f"leader{tree.code}", "省领导", tree, [Role.LEADERSHIP])
        counties = [c for city in tree.children for c in city.children]
        for city in tree.children:
            self.user(f"office{city.code}", f"{city.name}禁毒办", city, [Role.OFFICE])
        self.progress(f"{len(counties)} counties, {self.stats['jurisdictions']} jurisdictions")
        per_county = _split(self.total, _weights(self.rng, len(counties)))
        area_codes = [c.code for c in counties]
        written = 0
        for n, (county, count) in enumerate(zip(counties, per_county, strict=True), start=1):
            self.county(county, count, area_codes)
            written += count
            self.progress(f"county {n}/{len(counties)} {county.code} {county.name}: {count} persons; "
                          f"{written}/{self.total} persons, {self.stats['check-ins']} check-ins "
                          f"({time.monotonic() - started:.0f} s)")
        self.writer.close()
        self.stats["seconds"] = round(time.monotonic() - started)
        return self.stats

    def county(self, county: Node, count: int, area_codes: list[str]):
        rng = self.rng
        writer = self.writer
        units = {}
        for name, kind in (("公安局", UnitKind.PUBLIC_SECURITY), ("民政局", UnitKind.CIVIL_AFFAIRS),
                           ("人力资源和社会保障局", UnitKind.HUMAN_RESOURCES)):
            units[kind] = writer.add(MemberUnit(name=f"{county.name}{name}", kind=kind,
                                                jurisdiction_id=county.pk)).pk
        self.user(f"office{county.code}", f"{county.name}禁毒办", county, [Role.OFFICE])
        self.user(f"police{county.code}", f"{county.name}民警", county, [Role.POLICE], units[UnitKind.PUBLIC_SECURITY])
        self.user(f"leader{county.code}", f"{county.name}领导", county, [Role.LEADERSHIP])
        self.user(f"unit{county.code}", f"{county.name}民政干部", county, [Role.MEMBER_UNIT],
                  units[UnitKind.CIVIL_AFFAIRS])
        townships = county.children
        township_users = [self.user(f"township{t.code}", f"{t.name}专干", t, [Role.TOWNSHIP]).pk for t in townships]
        people = demo.People(rng, self.today, [])
        people.id_numbers = self.id_numbers
        docs = CountyDocuments(county.name[0])
        t_weights = [w * (2.5 if i < 3 else 1) for i, w in enumerate(_weights(rng, len(townships)))]
        lives = []
        for _ in range(count):
            t_index = rng.choices(range(len(townships)), weights=t_weights)[0]
            township = townships[t_index]
            v_index = rng.choices(range(len(township.children)),
                                  weights=[3.0 if i == 0 else 1.0 for i in range(len(township.children))])[0]
            draft = draft_person(rng, people, county, township, township.children[v_index], t_index, v_index,
                                 area_codes)
            life = demo.Life(rng, draft, self.today, docs)
            life.window_start = self.window_start
            lives.append((draft, life))
        for _draft, life in sorted(lives, key=lambda pair: pair[0].found_on):
            life.run()
        # Social workers: one per PERSONS_PER_WORKER persons under a community measure, per township.
        managed: dict[int, list] = {}
        for draft, life in lives:
            if life.status in (ControlStatus.COMMUNITY_TREATMENT, ControlStatus.COMMUNITY_REHABILITATION):
                managed.setdefault(draft.township, []).append(draft)
        workers: dict[int, int] = {}
        for t_index, drafts in managed.items():
            township = townships[t_index]
            ids = [self.user(f"worker{township.code}{k + 1:02d}", f"{township.name}社工{k + 1}", township,
                             [Role.SOCIAL_WORKER]).pk
                   for k in range(math.ceil(len(drafts) / PERSONS_PER_WORKER))]
            for k, draft in enumerate(drafts):
                workers[id(draft)] = ids[k % len(ids)]
        for draft, life in lives:
            township = townships[draft.township]
            recorder = workers.get(id(draft)) or township_users[draft.township]
            self.person(county, township, township.children[draft.village], draft, life, recorder,
                        workers.get(id(draft)), units)

    def person(self, county: Node, township: Node, village: Node, draft: demo.Draft, life: demo.Life,
               recorder: int, worker: int | None, units: dict):
        rng, writer, today = self.rng, self.writer, self.today
        pid = writer.new_id(Person)
        cc = county.code
        now = self.now
        # Status history: the first finding, each change of the life, and the changes the
        # services make on a compulsory decision and on a report-in.
        changes = [(draft.found_on, ControlStatus.SOCIAL_CONTROL, life.docs.next("penalty", draft.found_on), "")]
        measures: dict[int, Measure] = {}
        extensions: Counter = Counter()
        for action in sorted(life.actions, key=lambda a: a.on):
            plan = action.measure
            if action.what == "status":
                changes.append((action.on, action.status, action.document, action.text))
            elif action.what == "report" or (action.what == "decide"
                                             and plan.kind == MeasureKind.COMPULSORY_TREATMENT):
                # The services change the status on a compulsory decision and on a report-in.
                changes.append((action.on, MEASURE_STATUS[plan.kind], plan.decision_number, ""))
            elif action.what == "extend":
                extensions[id(plan)] += action.months
        changes.sort(key=lambda c: c[0])
        status, since = changes[-1][1], changes[-1][0]
        for on, st, document, note in changes:
            writer.add(StatusChange(person_id=pid, county_code=cc, status=st, changed_on=on,
                                    document_number=document, note=note, created_at=now))
        self.stats["status changes"] += len(changes)

        # Measures, their plans and check-ins.
        check_ins: list[tuple] = []  # (pk, kind, occurred_on, result, returned_on, measure_pk)
        for plan in life.measures:
            if not plan.materialised:
                continue
            months = rules.term_months_for(plan.kind, plan.term_months)
            measure = Measure(person_id=pid, county_code=cc, kind=plan.kind, decided_on=plan.decided_on,
                              decision_number=plan.decision_number, deciding_authority=f"{county.name}公安局",
                              executing_jurisdiction_id=township.pk, term_months=months,
                              extension_months=extensions[id(plan)], state=MeasureState.AWAITING_REPORT,
                              created_at=now)
            if plan.kind == MeasureKind.COMPULSORY_TREATMENT:
                measure.state, measure.starts_on = MeasureState.IN_EFFECT, plan.decided_on
            elif plan.reported_on is not None:
                measure.state, measure.reported_on, measure.starts_on = (MeasureState.IN_EFFECT, plan.reported_on,
                                                                         plan.reported_on)
            if measure.starts_on is not None:
                measure.ends_on = rules.term_end(plan.kind, measure.starts_on, months, measure.extension_months)
            if plan.ended_on is not None:
                measure.ended_on, measure.end_reason = plan.ended_on, plan.end_reason
                measure.termination_notice_on = plan.notice_on
                measure.state = MeasureState.COMPLETED if plan.completed else MeasureState.TERMINATED
            writer.add(measure)
            measures[id(plan)] = measure
            self.stats["measures"] += 1
            if measure.kind != MeasureKind.COMPULSORY_TREATMENT and measure.starts_on is not None:
                check_ins += self.plan_and_check_ins(pid, cc, recorder, plan, measure, draft.substances[0])
        check_ins += self.social_check_ins(pid, cc, recorder, changes, today)

        # Flags, replayed on the days the findings arose, then today.
        book = FlagBook(self, pid, cc, draft, measures, check_ins)
        for action in sorted(life.actions, key=lambda a: a.on):
            if action.what == "evaluate":
                book.evaluate(action.on)
            elif action.what in ("decide_flag", "dismiss_flag"):
                book.resolve(action)
        book.evaluate(today)
        book.write()

        # Risk: today, and last month too, for persons managed in the community (seed 000).
        risk_level = ""
        if status in ACTIVE_STATUSES:
            for on in (self.last_month, today):
                if on < since:
                    continue
                facts = book.facts(on)
                person_facts = rules.PersonRiskFacts(
                    living_situation=draft.living, family_support=draft.family_support,
                    mental_disorder=draft.mental_disorder, violence_history=draft.violence_history,
                    drug_driving_history=draft.drug_driving_history,
                    whereabouts_unknown=_status_on(changes, on) == ControlStatus.WHEREABOUTS_UNKNOWN)
                score, level, contributions = rules.risk_score(
                    rules.risk_factors(person_facts, *facts, on), rules.DEFAULT_RISK_WEIGHTS)
                writer.add(RiskAssessment(person_id=pid, county_code=cc, assessed_on=on, score=score,
                                          computed_level=level, level=level, contributions=contributions,
                                          created_at=now))
                risk_level = level
                self.stats["risk assessments"] += 1

        # Support from member units for some of those managed in the community.
        if status in ACTIVE_STATUSES and rng.random() < 0.35:
            for _ in range(rng.randint(1, 3)):
                kind = rng.choice(list(SUPPORT_TEXTS))
                unit = units[UnitKind.HUMAN_RESOURCES if kind in (SupportKind.EMPLOYMENT, SupportKind.TRAINING)
                             else UnitKind.CIVIL_AFFAIRS]
                on = max(since, today - datetime.timedelta(days=rng.randint(0, 700)))
                writer.add(Support(person_id=pid, county_code=cc, kind=kind, provided_on=on, member_unit_id=unit,
                                   description=SUPPORT_TEXTS[kind], recorded_by_id=recorder, created_at=now))
                self.stats["support records"] += 1

        person = Person(
            pk=pid, name=draft.name, name_initials=pinyin_initials(draft.name), id_number=draft.id_number,
            sex=draft.sex, birth_date=draft.birth_date, registered_residence=draft.registered_residence,
            current_address=draft.current_address, phone=draft.phone, jurisdiction_id=village.pk,
            county_code=cc, first_found_on=draft.found_on, first_found_approximate=draft.first_found_approximate,
            found_how=draft.found_how, living_situation=draft.living, is_pregnant=draft.is_pregnant,
            nursing_child_born_on=draft.nursing_child_born_on, hiv_positive=draft.hiv_positive,
            serious_illness=draft.serious_illness, mental_disorder=draft.mental_disorder,
            violence_history=draft.violence_history, drug_driving_history=draft.drug_driving_history,
            family_support=draft.family_support, family_contacts=draft.family_contacts, control_status=status,
            control_status_since=since, risk_level=risk_level, assigned_worker_id=worker, notes=draft.notes)
        writer.add(person)
        for substance in sorted(set(draft.substances)):
            writer.add(PersonSubstance(person_id=pid, county_code=cc, substance=substance))
        self.stats["persons"] += 1

    def plan_and_check_ins(self, pid, cc, recorder, plan, measure: Measure, substance) -> list[tuple]:
        """The plan of a community measure (rules.plan_due_dates) and its check-ins
        (demo.persons.plan_check_ins), items closed as do_record_check_in closes them. Open
        items due after the measure ended are not kept (do_end_measure deletes them)."""
        writer = self.writer
        items = [(writer.new_id(PlannedCheckIn), kind, due)
                 for kind, due in rules.plan_due_dates(measure.starts_on, measure.ends_on, self.policy)]
        pairs = demo.plan_check_ins(self.rng, plan, items, self.today, substance)
        done = {}
        facts = []
        for check_in, closes in pairs:
            pk = writer.new_id(CheckIn)
            writer.add_row(CheckIn, (pk, pid, cc, recorder, self.now, check_in.kind, check_in.occurred_on,
                                     measure.pk, check_in.method, check_in.result, check_in.substance,
                                     check_in.returned_on, check_in.notes))
            if closes is not None:
                done[closes] = pk
            facts.append((pk, check_in.kind, check_in.occurred_on, check_in.result, check_in.returned_on, measure.pk))
        # Missed check-ins of a measure in effect, older than the demo's EXPLAINED_BEFORE_DAYS,
        # explained by the workers of four persons in five (demo.persons.explain_missed).
        explained_before = self.today - datetime.timedelta(days=demo.EXPLAINED_BEFORE_DAYS)
        explains = (measure.state == MeasureState.IN_EFFECT and measure.ended_on is None
                    and self.explaining.random() >= demo.WAITING_SHARE)
        for pk, kind, due in items:
            closed_by = done.get(pk)
            if closed_by is None and measure.ended_on is not None and due > measure.ended_on:
                continue
            explanation = ("", "", None)
            if closed_by is None and explains and due < explained_before:
                explanation = demo.missed_explanation(self.explaining, kind, due, self.today)
                self.stats["missed check-ins explained"] += 1
            writer.add_row(PlannedCheckIn, (pk, pid, cc, None, self.now, measure.pk, kind, due, closed_by,
                                            *explanation))
            self.stats["plan items"] += 1
        self.stats["check-ins"] += len(pairs)
        return facts

    def social_check_ins(self, pid, cc, recorder, changes, today) -> list[tuple]:
        """Persons under social control (社会面管控) in the window: each month a visit and two
        talks (one of them by phone), a drug test every other month; in maintenance therapy a
        monthly test at the clinic. Tests are negative: a positive one starts a new finding,
        which the life would have said."""
        rng, writer = self.rng, self.writer
        facts = []
        bounds = [(on, st) for on, st, _d, _n in changes] + [(today + datetime.timedelta(days=1), "")]
        for (start, st), (end, _next) in zip(bounds, bounds[1:], strict=False):
            if st not in (ControlStatus.SOCIAL_CONTROL, ControlStatus.MAINTENANCE_THERAPY):
                continue
            month_start = max(start, self.window_start)
            month = 0
            while month_start < end and month_start <= today:
                if st == ControlStatus.SOCIAL_CONTROL:
                    plan = [(CheckInKind.HOME_VISIT, rng.randint(0, 27)), (CheckInKind.INTERVIEW, rng.randint(0, 13)),
                            (CheckInKind.INTERVIEW, rng.randint(14, 27))]
                    if month % 2:
                        plan.append((CheckInKind.DRUG_TEST, rng.randint(0, 27)))
                else:
                    plan = [(CheckInKind.DRUG_TEST, rng.randint(0, 27))]
                for kind, offset in sorted(plan, key=lambda p: p[1]):
                    day = month_start + datetime.timedelta(days=offset)
                    if day >= end or day > today:
                        continue
                    method = result = ""
                    if kind == CheckInKind.DRUG_TEST:
                        method, result = SampleMethod.URINE, DrugTestResult.NEGATIVE
                        notes = "社会面管控抽检" if st == ControlStatus.SOCIAL_CONTROL else "美沙酮门诊尿检"
                    elif kind == CheckInKind.HOME_VISIT:
                        notes = rng.choice(VISIT_NOTES)
                    else:
                        notes = rng.choice(demo.INTERVIEW_NOTES if offset < 14 else PHONE_NOTES)
                    pk = writer.new_id(CheckIn)
                    writer.add_row(CheckIn, (pk, pid, cc, recorder, self.now, kind, day, None, method, result, "",
                                             None, notes))
                    facts.append((pk, kind, day, result, None, None))
                month += 1
                month_start += datetime.timedelta(days=28 + rng.randint(0, 4))
        self.stats["check-ins"] += len(facts)
        self.stats["check-ins under social control"] += len(facts)
        return facts


def _status_on(changes, on: datetime.date) -> str:
    status = changes[0][1]
    for changed_on, st, _d, _n in changes:
        if changed_on > on:
            break
        status = st
    return status


class FlagBook:
    """One person's flags, kept the way services.evaluate_flags keeps them: one open flag per
    rule with its evidence updated, resolved when no longer found; a decided or dismissed
    flag stands for its evidence."""

    def __init__(self, generator: Generator, pid: int, county_code: str, draft, measures: dict, check_ins):
        self.g, self.pid, self.cc, self.draft = generator, pid, county_code, draft
        self.measures = list(measures.values())
        self.check_ins = sorted(check_ins, key=lambda c: c[2])
        self.open: dict[str, Flag] = {}
        self.handled: list[tuple[str, list]] = []
        self.flags: list[Flag] = []

    def facts(self, day: datetime.date):
        """The measures, tests and departures on file on ``day``."""
        measures = []
        for m in self.measures:
            if m.decided_on > day:
                continue
            started = m.starts_on if m.starts_on is not None and m.starts_on <= day else None
            measures.append(rules.MeasureFacts(
                m.pk, m.kind, m.decided_on, m.reported_on if started and m.reported_on else None, started,
                m.ends_on if started else None, m.ended_on if m.ended_on is not None and m.ended_on <= day else None))
        tests, departures = [], []
        for pk, kind, on, result, returned_on, measure_pk in self.check_ins:
            if on > day:
                break
            if kind == CheckInKind.DRUG_TEST:
                tests.append(rules.TestFacts(pk, on, result, measure_pk))
            elif kind == CheckInKind.DEPARTURE:
                departures.append(rules.DepartureFacts(pk, on, returned_on if returned_on and returned_on <= day
                                                       else None, measure_pk))
        return measures, tests, departures

    def evaluate(self, day: datetime.date):
        facts = self.facts(day)
        findings = {f.rule: f for f in rules.evaluate(*facts, day)}
        d = self.draft
        exemption_reasons = rules.exemptions(d.sex, d.birth_date, d.is_pregnant, d.nursing_child_born_on, day)
        for rule, finding in findings.items():
            evidence = [{"model": e.model, "id": e.pk, "on": e.on.isoformat(), "label": e.label}
                        for e in finding.evidence]
            exemptions = exemption_reasons if finding.compulsory else []
            flag = self.open.get(rule)
            if flag is not None:
                flag.evidence, flag.exemptions = evidence, exemptions
                continue
            if (rule, evidence) in self.handled:
                continue
            flag = Flag(person_id=self.pid, county_code=self.cc, rule=rule, raised_on=day, title=finding.title,
                        article=finding.article, recommendation=finding.recommendation, evidence=evidence,
                        exemptions=exemptions, state=FlagState.OPEN, created_at=self.g.now)
            self.open[rule] = flag
            self.flags.append(flag)
        for rule in [r for r, flag in self.open.items()
                     if r not in findings and rules.flag_resolves(r, flag.evidence, facts[0])]:
            flag = self.open.pop(rule)
            flag.state, flag.resolved_at = FlagState.RESOLVED, _moment(day)

    def resolve(self, action):
        flag = self.open.pop(action.rule, None)
        if flag is None:
            self.g.stats["flags missing"] += 1
            return
        if action.what == "decide_flag":
            flag.state, flag.decision, flag.document_number = FlagState.DECIDED, action.text, action.document
        else:
            flag.state, flag.reason = FlagState.DISMISSED, action.text
        flag.resolved_at = _moment(action.on)
        self.handled.append((flag.rule, flag.evidence))

    def write(self):
        for flag in self.flags:
            self.g.writer.add(flag)
            self.g.stats[f"flags {flag.state}"] += 1


def _moment(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))


def generate(persons: int = DEFAULT_PERSONS, *, years: int = 5, seed: int = SEED, today: datetime.date | None = None,
             counties: int | None = None, password: str | None = None, progress=None) -> Counter:
    """Generate the province (refused if its code exists already), in one transaction, with one
    audit entry for the whole."""
    if Jurisdiction.objects.filter(code=PROVINCE_CODE).exists():
        raise ValueError(f"{PROVINCE_NAME} ({PROVINCE_CODE}) exists already")
    today = today or timezone.localdate()
    generator = Generator(persons, years, seed, today, counties, password, progress)
    with transaction.atomic():
        stats = generator.run()
        audit.record(AuditEntry.Action.IMPORT, actor=None, object_repr=f"{PROVINCE_NAME}：生成的规模测试数据（批量写入）",
                     changes={"generated": {k: v for k, v in stats.items() if k != "seconds"},
                              "rows": generator.writer.counts(), "seed": seed, "years": years,
                              "as_of": today.isoformat(), "province": PROVINCE_CODE})
    # The indicators' rollups of the new province, as the services keep them for changes.
    from monitoring import rollups

    rollups.rebuild(Jurisdiction.objects.get(code=PROVINCE_CODE), today=today)
    return stats
