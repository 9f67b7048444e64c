"""Registered persons of the demo county 示范县: about 2,300 people with five years of history.

Shaped on seed 001's county (2,327 registered; five townships hold about 70%; about 500 newly
found last year) and seeds 003/004 (community measures executed for about 80%; synthetic drugs
replacing heroin; most newly found under 35, a few minors).

How it is made
* Deterministic: one random generator with a fixed seed; dates count back from the build day.
* Each person's life is first simulated in memory (``Life``): found, decided, reported in,
  tested, relapsed, sent to compulsory treatment, released, abstinent for three years … up to
  today, as a list of dated actions.
* Then it is written through the domain services as the command-line operator: the file by
  ``do_create_person`` (ID number encrypted and blind-indexed; one audit entry per person), and
  every status change, measure decision, report-in (which generates the check-in plan),
  extension and end by its own service, each audited.
* Check-ins are not one service call each: they are inserted with ``CheckIn.objects.bulk_create``
  (with ``county_code``) and close ``PlannedCheckIn.done`` by ``rules.plan_item_to_close``, the
  rule ``do_record_check_in`` follows (a refused test and a departure close nothing). They are
  written in date order up to each step of the history, so on each day the rules see what was
  on file that day. One summary audit entry covers this bulk part.
* Flags come from ``evaluate_flags`` only. The services re-evaluate flags (and re-assess the
  risk) after every change with today's date, which, replaying five years, would raise and
  then resolve a report-in flag for every past measure; while a person's history is written
  that is held back (``_replaying``) and the builder calls ``evaluate_flags`` itself on the day
  each finding arose, records the decision or dismissal the history says was taken
  (``do_decide_flag``, ``do_dismiss_flag``), and evaluates everybody once more for today.
  Persons managed in the community are then scored for risk by ``do_assess_risk``.
* Measures decided before the five-year window are carried over as status changes only, as a
  paper ledger would be; from the window on they are real measures with plans and check-ins.
"""

import datetime
import random
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from unittest import mock

from dateutil.relativedelta import relativedelta
from django.db import connection, transaction
from django.utils import timezone
from stdnum.cn import ric

from core import audit
from core.models import AuditEntry
from jurisdictions.choices import Level
from jurisdictions.models import Jurisdiction
from persons import rules, services
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
    MissedReason,
    SampleMethod,
    Substance,
)
from persons.models import CheckIn, Flag, Person, PlannedCheckIn

SEED = 990101
DEFAULT_PERSONS = 2300
HISTORY_YEARS = 5  # measures, plans and check-ins; older history is status changes only
FOUND_YEARS = 15

# --- who they are ---------------------------------------------------------------------------

# Share of the registered persons per township, in builders.TOWNSHIPS order: the first five
# hold 70% (seed 001: 思唐街道, 邵家桥镇, 许家坝镇, 塘头镇, 孙家坝镇 "约占全县吸毒人员的70%").
TOWNSHIP_WEIGHTS = [20, 15, 13, 12, 10, 4.5, 3.5, 3.3, 3, 3.2, 2.6, 2.5, 2.3, 2.2, 2.2]
# Within a township the first villages (the seat, the market town) hold more.
VILLAGE_WEIGHTS = [3.0, 2.4, 2.0, 1.6, 1.3, 1.1, 1.0, 0.9, 0.8, 0.7]
# Persons first found N years ago (index 0: the last 365 days): about 500 last year, and each
# year more than the one before (seed 001: 2,327 registered, 503 new, up 20.1%).
FOUND_YEAR_WEIGHTS = [500, 330, 270, 220, 180, 150, 130, 110, 95, 80, 70, 60, 50, 40, 35]

# Surnames with their share of the population (per cent, national figures, rounded).
SURNAMES = (
    ("王", 7.1), ("李", 7.0), ("张", 6.7), ("刘", 5.1), ("陈", 4.6), ("杨", 3.2), ("赵", 2.3), ("黄", 2.2),
    ("周", 1.9), ("吴", 1.9), ("徐", 1.5), ("孙", 1.5), ("胡", 1.3), ("朱", 1.3), ("高", 1.3), ("林", 1.2),
    ("何", 1.2), ("郭", 1.2), ("马", 1.1), ("罗", 0.9), ("梁", 0.8), ("宋", 0.8), ("郑", 0.8), ("谢", 0.7),
    ("韩", 0.7), ("唐", 0.7), ("冯", 0.6), ("于", 0.6), ("董", 0.6), ("肖", 0.6), ("程", 0.6), ("曹", 0.6),
    ("袁", 0.6), ("邓", 0.5), ("许", 0.5), ("付", 0.5), ("沈", 0.5), ("曾", 0.5), ("彭", 0.5), ("吕", 0.5),
    ("苏", 0.5), ("卢", 0.5), ("蒋", 0.5), ("蔡", 0.4), ("贾", 0.4), ("丁", 0.4), ("魏", 0.4), ("薛", 0.4),
    ("叶", 0.4), ("阎", 0.4), ("余", 0.4), ("潘", 0.4), ("杜", 0.4), ("戴", 0.3), ("夏", 0.3), ("钟", 0.3),
    ("汪", 0.3), ("田", 0.3), ("任", 0.3), ("姜", 0.3), ("范", 0.3), ("方", 0.3), ("石", 0.3), ("姚", 0.3),
    ("谭", 0.3), ("廖", 0.3), ("邹", 0.3), ("熊", 0.3), ("金", 0.3), ("陆", 0.3), ("郝", 0.3), ("孔", 0.3),
    ("白", 0.3), ("崔", 0.2), ("康", 0.2), ("毛", 0.2), ("邱", 0.2), ("秦", 0.2), ("江", 0.2), ("史", 0.2),
    ("顾", 0.2), ("侯", 0.2), ("邵", 0.2), ("孟", 0.2), ("龙", 0.2), ("万", 0.2), ("段", 0.2), ("雷", 0.2),
    ("冉", 0.2), ("安", 0.2), ("向", 0.2), ("覃", 0.1), ("黎", 0.2), ("易", 0.2), ("文", 0.2), ("龚", 0.2),
)
MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳建国峰亮成志文海东兵金春德永家兴福贵祥胜发庆云山江川荣昌松毅"
FEMALE_CHARS = "芳娜敏静丽艳娟霞燕玲桂英秀兰萍红琴云莉婷雪琳晶慧倩颖洁佳梅凤珍玉翠"
OLD_STYLE_CHARS = "国建华明德福贵祥胜发庆荣昌秀兰英桂珍凤"

# ID numbers keep the area code of where they were issued: mostly this county, some from
# real places people move here from (codes in force today).
OTHER_AREAS = (
    ("522225", "贵州省思南县"), ("522601", "贵州省凯里市"), ("500241", "重庆市秀山土家族苗族自治县"),
    ("510104", "四川省成都市锦江区"), ("530102", "云南省昆明市五华区"), ("532502", "云南省开远市"),
    ("431202", "湖南省怀化市鹤城区"), ("440304", "广东省深圳市福田区"), ("422801", "湖北省恩施市"),
)
PHONE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "157",
                  "158", "159", "166", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189", "199")
STREETS = ("人民路", "解放路", "建设路", "新街", "河滨路", "学府路", "东风路", "和平巷", "中山路", "文化街")

# --- what they are told, and what they say ----------------------------------------------------

INTERVIEW_NOTES = (
    "谈话了解近期生活和工作情况，情绪稳定。", "重申社区戒毒协议要求，本人表示遵守。", "了解家庭关系，家属支持戒治。",
    "本人反映找工作困难，已转介人社部门。", "提醒按时接受检测，未经批准不得离开本县。", "近期在县城务工，收入稳定。",
    "心理疏导，讲解复吸危害与法律后果。", "了解交往人员情况，提醒远离涉毒人员。",
)
HOME_VISIT_NOTES = (
    "入户走访，本人在家，居住环境整洁。", "入户走访，与家属交流，家属反映表现良好。",
    "入户未遇本人，向邻居了解情况，已电话联系。", "走访村（居）委会，了解其日常表现。",
)
SUMMARY_NOTES = ("半年小结：按时报到检测，未发现复吸。", "半年小结：基本遵守协议，个别检测延后。",
                 "半年小结：就业稳定，家庭支持良好。")
EVALUATION_NOTES = ("年度评估：戒治效果良好，建议继续执行。", "年度评估：情况稳定，按计划调整检测频次。",
                    "年度评估：仍需加强帮扶和检测。")
CRIMES = ("盗窃", "抢夺", "诈骗", "贩卖毒品", "容留他人吸毒", "故意伤害", "寻衅滋事")
DEATH_NOTES = ("因病死亡", "因病死亡（艾滋病相关疾病）", "意外死亡", "吸毒过量死亡")

AUTHORITY = "示范县公安局"


def _pick(rng: random.Random, weighted):
    items, weights = zip(*weighted, strict=True)
    return rng.choices(items, weights=weights)[0]


def _days(rng: random.Random, low: int, high: int) -> datetime.timedelta:
    return datetime.timedelta(days=rng.randint(low, high))


class DocumentNumbers:
    """Sequential decision numbers per kind and year, e.g. 示公(禁)社戒决字〔2024〕37号."""

    FORMS = {
        "penalty": "示公(禁)行罚决字〔{year}〕{n}号",
        MeasureKind.COMMUNITY_TREATMENT: "示公(禁)社戒决字〔{year}〕{n}号",
        MeasureKind.COMMUNITY_REHABILITATION: "示公(禁)社康决字〔{year}〕{n}号",
        MeasureKind.COMPULSORY_TREATMENT: "示公(禁)强戒决字〔{year}〕{n}号",
        "extension": "示公(禁)延戒决字〔{year}〕{n}号",
        "court": "(示)刑初字〔{year}〕{n}号",
        "assessment": "示戒评字〔{year}〕{n}号",
    }

    def __init__(self):
        self.counters = Counter()

    def next(self, kind: str, on: datetime.date) -> str:
        self.counters[kind, on.year] += 1
        return self.FORMS[kind].format(year=on.year, n=self.counters[kind, on.year])


# --- a person and a life --------------------------------------------------------------------


@dataclass
class Draft:
    """Who a person is (everything do_create_person needs), before the history."""

    name: str
    id_number: str
    sex: str
    birth_date: datetime.date
    township: int  # index in builders.TOWNSHIPS, from 0
    village: int  # index in the township, from 0
    grid: int  # 0 or 1
    found_on: datetime.date
    found_how: str
    substances: list[str]
    living: str
    registered_residence: str
    current_address: str
    phone: str
    family_contacts: str
    first_found_approximate: bool = False
    is_pregnant: bool = False
    nursing_child_born_on: datetime.date | None = None
    hiv_positive: bool = False
    serious_illness: bool = False
    mental_disorder: bool = False
    violence_history: bool = False
    drug_driving_history: bool = False
    family_support: bool = True
    worker: bool = False  # assigned to the demo social worker
    scripted: bool = False  # one of the cases the demo needs (no incidental refusals)
    notes: str = ""


@dataclass
class Conduct:
    """How a person behaved under one community measure; turned into check-ins."""

    refusals_by: datetime.date | None = None  # three tests refused up to this day (戒毒条例 第二十条)
    refusals: int = 3
    positives: list[datetime.date] = field(default_factory=list)
    departures: list[list] = field(default_factory=list)  # [left, returned or None]
    vanished_on: datetime.date | None = None
    lag_days: int = 0  # in effect today: items due in the last lag days are not done yet


@dataclass(eq=False)
class MeasurePlan:
    kind: str
    decided_on: datetime.date
    decision_number: str
    term_months: int
    materialised: bool
    reported_on: datetime.date | None = None
    ended_on: datetime.date | None = None
    end_reason: str = ""
    completed: bool = True
    notice_on: datetime.date | None = None
    conduct: Conduct = field(default_factory=Conduct)
    db: object = None


@dataclass
class Action:
    on: datetime.date
    what: str  # status | decide | report | extend | end | evaluate | decide_flag | dismiss_flag
    measure: MeasurePlan | None = None
    status: str = ""
    document: str = ""
    text: str = ""
    rule: str = ""
    months: int = 0


class Life:
    """A person's history from first finding to today, simulated with competing hazards
    (rates per year) in each control status."""

    def __init__(self, rng: random.Random, draft: Draft, today: datetime.date, docs: DocumentNumbers):
        self.rng, self.d, self.today, self.docs = rng, draft, today, docs
        self.window_start = today - relativedelta(years=HISTORY_YEARS)
        self.actions: list[Action] = []
        self.status = ControlStatus.SOCIAL_CONTROL
        self.measures: list[MeasurePlan] = []
        self.treated = False
        heroin = Substance.HEROIN in draft.substances
        self.heroin = heroin
        self.mortality = (0.02 if heroin else 0.004) + (0.03 if draft.hiv_positive else 0)

    # helpers

    def add(self, on, what, **values) -> Action:
        action = Action(on, what, **values)
        self.actions.append(action)
        return action

    def set_status(self, on, status, document="", text=""):
        if status == self.status:
            return
        self.status = status
        self.add(on, "status", status=status, document=document, text=text)

    def race(self, start: datetime.date, rates: dict, fixed: dict | None = None):
        """The first of competing events after ``start``: (name, date)."""
        best = (None, datetime.date.max)
        for name, rate in rates.items():
            if rate > 0:
                on = start + datetime.timedelta(days=1 + int(min(self.rng.expovariate(rate), 100) * 365.25))
                if on < best[1]:
                    best = (name, on)
        for name, on in (fixed or {}).items():
            if on < best[1]:
                best = (name, on)
        return best

    def run(self) -> "Life":
        step = lambda: self.found(self.d.found_on, first=True)  # noqa: E731
        while step is not None:
            step = step()
        return self

    # statuses

    def found(self, on, first=False):
        """Found using (first time or again): a decision within days."""
        decided = on + _days(self.rng, 0, 12)
        if decided > self.today:
            return None
        minor = rules.age_on(self.d.birth_date, on) < 18
        synthetic_only = not self.heroin
        p_social = (0.3 if first else 0.08) + (0.08 if synthetic_only and first else 0)
        p_compulsory = (0.07 if first else 0.4) + (0.07 if self.heroin else 0) + (
            0.05 if self.d.living == LivingSituation.UNSTABLE else 0)
        if minor:
            p_compulsory = 0
        r = self.rng.random()
        if r < p_social:
            self.set_status(on, ControlStatus.SOCIAL_CONTROL, text="查获吸毒，未成瘾，纳入社会面管控")
            return lambda: self.social(on)
        if r < p_social + p_compulsory:
            return lambda: self.compulsory(decided)
        return lambda: self.community(MeasureKind.COMMUNITY_TREATMENT, decided)

    def social(self, since):
        rates = {"relapse": 0.07 if self.treated else 0.08, "death": self.mortality, "custody": 0.035,
                 "moved": 0.006, "abroad": 0.0015, "vanish": 0.02, "methadone": 0.05 if self.heroin else 0}
        name, on = self.race(since, rates, {"abstinent": since + relativedelta(years=3)})
        return self.leave_free_status(name, on)

    def abstinent(self, since):
        rates = {"relapse": 0.03, "death": self.mortality * 0.7, "custody": 0.01, "moved": 0.004, "abroad": 0.001}
        name, on = self.race(since, rates)
        return self.leave_free_status(name, on)

    def leave_free_status(self, name, on):
        if on > self.today:
            return None
        if name == "abstinent":
            self.set_status(on, ControlStatus.THREE_YEAR_ABSTINENCE, text="戒断三年未复吸，经评估认定")
            return lambda: self.abstinent(on)
        if name == "relapse":
            return lambda: self.found(on)
        if name == "death":
            self.set_status(on, ControlStatus.DECEASED, text=self.rng.choice(DEATH_NOTES[:3]))
            return None
        if name == "custody":
            return lambda: self.custody(on)
        if name == "moved":
            self.set_status(on, ControlStatus.MOVED_OUT, text="户籍迁出本县，已通报迁入地")
            return None
        if name == "abroad":
            self.set_status(on, ControlStatus.ABROAD, text="经批准出境")
            return None
        if name == "vanish":
            return lambda: self.unknown(on)
        if name == "methadone":
            self.set_status(on, ControlStatus.MAINTENANCE_THERAPY, text="在县美沙酮维持治疗门诊入组")
            return lambda: self.methadone(on)
        raise AssertionError(name)

    def methadone(self, since):
        name, on = self.race(since, {"drop": 0.08, "death": self.mortality})
        if on > self.today:
            return None
        if name == "death":
            self.set_status(on, ControlStatus.DECEASED, text=self.rng.choice(DEATH_NOTES))
            return None
        self.set_status(on, ControlStatus.SOCIAL_CONTROL, text="退出维持治疗")
        return lambda: self.social(on)

    def custody(self, since, crime=None):
        crime = crime or self.rng.choice(CRIMES)
        self.set_status(since, ControlStatus.IN_CUSTODY, document=self.docs.next("court", since),
                        text=f"因{crime}被羁押，判处有期徒刑")
        released = since + relativedelta(months=self.rng.choice((12, 18, 24, 30, 36, 48, 60, 72, 96)))
        if released > self.today:
            return None
        self.set_status(released, ControlStatus.SOCIAL_CONTROL, text="刑满释放，纳入社会面管控")
        return lambda: self.social(released)

    def unknown(self, since):
        self.set_status(since, ControlStatus.WHEREABOUTS_UNKNOWN, text="失去联系，家属称不知去向，已通报公安机关查找")
        name, on = self.race(since, {"found": 0.35, "death": self.mortality})
        if on > self.today:
            return None
        if name == "death":
            self.set_status(on, ControlStatus.DECEASED, text="外地死亡，经核实销档")
            return None
        return lambda: self.found(on)

    # measures

    def measure(self, kind, decided_on, term_months) -> MeasurePlan:
        plan = MeasurePlan(kind, decided_on, self.docs.next(kind, decided_on), term_months,
                           materialised=decided_on >= self.window_start)
        self.measures.append(plan)
        self.treated = True
        if plan.materialised:
            self.add(decided_on, "decide", measure=plan)
            if kind == MeasureKind.COMPULSORY_TREATMENT:
                self.status = ControlStatus.COMPULSORY_TREATMENT  # do_decide_measure changes it
        elif kind == MeasureKind.COMPULSORY_TREATMENT:
            self.set_status(decided_on, ControlStatus.COMPULSORY_TREATMENT, document=plan.decision_number,
                            text="历史台账补录")
        return plan

    def end(self, plan: MeasurePlan, on, reason, completed=False, next_status=None, text=""):
        plan.ended_on, plan.end_reason, plan.completed = on, reason, completed
        if completed and plan.kind != MeasureKind.COMPULSORY_TREATMENT:
            notice = on + _days(self.rng, 0, 6)
            plan.notice_on = notice if notice <= self.today else None
        if plan.materialised:
            self.add(on, "end", measure=plan)
        if next_status:
            self.set_status(on, next_status, text=text or reason)

    def flag(self, plan: MeasurePlan, on, rule=""):
        """The day a finding arises (the builder evaluates the rules then)."""
        if plan.materialised and on <= self.today:
            self.add(on, "evaluate", measure=plan, rule=rule)

    def resolve(self, plan: MeasurePlan, on, rule, text, document="", dismiss=False):
        if plan.materialised:
            self.add(on, "dismiss_flag" if dismiss else "decide_flag", measure=plan, rule=rule, text=text,
                     document=document)

    def community(self, kind, decided_on, reported_within=(1, 15)):
        rng = self.rng
        rehabilitation = kind == MeasureKind.COMMUNITY_REHABILITATION
        term = 36 if not rehabilitation or rng.random() < 0.8 else 24
        plan = self.measure(kind, decided_on, term)
        status = services.MEASURE_STATUS[kind]
        r = rng.random()
        on_time = 0.92 if rehabilitation else 0.72
        if r < on_time:
            reported = decided_on + _days(rng, *reported_within)
        elif r < on_time + 0.05:
            reported = decided_on + _days(rng, 16, 40)
        else:
            reported = None
        if reported is None or reported > self.today:
            return self.never_reported(plan)
        plan.reported_on = reported
        if plan.materialised:
            self.add(reported, "report", measure=plan)
            self.status = status
        else:
            self.set_status(reported, status, document=plan.decision_number, text="历史台账补录")
        term_end = rules.term_end(kind, reported, term)
        conduct = plan.conduct
        rates = {"relapse": 0.11 if rehabilitation else 0.12, "refuse": 0.05, "wander": 0.035, "vanish": 0.11,
                 "custody": 0.035, "death": self.mortality, "moved": 0.008}
        since = reported
        while True:
            name, on = self.race(since, rates, {"complete": term_end})
            if on > self.today:
                conduct.lag_days = rng.choice((0,) * 11 + (1, 2, 3, 4, 5, 6, 7) + (10, 14, 21))
                return None
            if name == "complete":
                self.end(plan, on, "期满解除", completed=True, next_status=ControlStatus.SOCIAL_CONTROL,
                         text="社区戒毒期满解除" if not rehabilitation else "社区康复期满解除")
                return lambda: self.social(on)
            if name == "relapse":
                conduct.positives.append(on)
                self.flag(plan, on, "use_during_measure")
                decided = min(on + _days(rng, 7, 45), term_end)
                if rng.random() < (0.55 if rehabilitation else 0.45):
                    if decided > self.today:
                        return None
                    return self.to_compulsory(plan, decided, "use_during_measure", "社区戒毒期间复吸")
                if decided <= self.today and rng.random() < 0.75:  # or not dealt with (yet)
                    self.resolve(plan, decided, "use_during_measure", "批评教育，增加检测频次")
                    on = decided  # a later finding is a new one
                since = on
                continue
            if name == "refuse":
                rates["refuse"] = 0
                on = max(on, reported + datetime.timedelta(days=90))  # three tests take a while
                if on > min(term_end, self.today):
                    continue
                conduct.refusals_by = on
                self.flag(plan, on, "serious_breach")
                decided = min(on + _days(rng, 15, 120), term_end)
                if decided > self.today or rng.random() < 0.25:  # not dealt with (yet)
                    since = on
                    continue
                if rng.random() < 0.75:
                    return self.to_compulsory(plan, decided, "serious_breach", "拒绝、逃避检测三次以上，严重违反社区戒毒协议")
                self.resolve(plan, decided, "serious_breach", "本人住院治疗期间未能检测，已补检，情况属实", dismiss=True)
                since = decided
                continue
            if name == "wander":
                rates["wander"] = 0
                on = max(on, reported + datetime.timedelta(days=90))
                if on > min(term_end, self.today):
                    continue
                self.wander(plan, reported, on)
                self.flag(plan, on, "serious_breach")
                decided = min(on + _days(rng, 10, 90), term_end)
                if decided > self.today or rng.random() < 0.25:  # not dealt with (yet)
                    since = on
                    continue
                if rng.random() < 0.5:
                    return self.to_compulsory(plan, decided, "serious_breach", "擅自离开执行地，严重违反社区戒毒协议")
                self.resolve(plan, decided, "serious_breach", "外出务工，已补办请假手续，按时返回", dismiss=True)
                since = decided
                continue
            if name == "vanish":
                if on + datetime.timedelta(days=rules.SERIOUS_BREACH_DAYS_AWAY + 1) >= term_end:
                    rates["vanish"] = 0  # gone at the very end of the term: not told apart here
                    continue
                return self.vanish(plan, on, term_end, status)
            if name == "custody":
                self.end(plan, on, "因涉嫌违法犯罪被羁押，终止执行")
                return lambda: self.custody(on)
            if name == "death":
                self.end(plan, on, "死亡，终止执行", next_status=ControlStatus.DECEASED,
                         text=self.rng.choice(DEATH_NOTES))
                return None
            if name == "moved":
                self.end(plan, on, "户籍迁出，移交迁入地执行", next_status=ControlStatus.MOVED_OUT,
                         text="户籍迁出本县，已移交迁入地执行")
                return None
            raise AssertionError(name)

    def wander(self, plan, reported, on):
        """Unauthorised departures ending on ``on``: three short trips, or one of over 30 days."""
        rng = self.rng
        if rng.random() < 0.5 and (on - reported).days > 60:
            back = on
            trips = []
            for _ in range(3):
                days = rng.randint(2, 8)
                left = back - datetime.timedelta(days=days)
                trips.append([max(left, reported), back])
                back = left - _days(rng, 6, 20)
            plan.conduct.departures += sorted(trips)
        else:
            left = max(reported, on - _days(rng, 31, 50))
            plan.conduct.departures.append([left, on])

    def never_reported(self, plan: MeasurePlan):
        """戒毒条例 第十四条: not reported within 15 days → deemed to refuse."""
        rng = self.rng
        rule = "report_in_overdue" if plan.kind == MeasureKind.COMMUNITY_TREATMENT else ""
        if rule:
            self.flag(plan, plan.decided_on + datetime.timedelta(days=rules.REPORT_IN_DAYS + 1), rule)
        handled = plan.decided_on + _days(rng, 30, 150) if rng.random() < 0.3 else plan.decided_on + _days(rng, 150, 1000)
        if handled > self.today:
            return None
        if rng.random() < 0.6:
            return self.to_compulsory(plan, handled, rule, "逾期未报到，视为拒绝接受社区戒毒")
        if rule:
            self.resolve(plan, handled, rule, "下落不明，已通报公安机关查找")
        self.end(plan, handled, "逾期未报到，下落不明")
        return lambda: self.unknown(handled)

    def vanish(self, plan: MeasurePlan, on, term_end, status):
        rng = self.rng
        conduct = plan.conduct
        conduct.vanished_on = on
        departure = [on, None]
        conduct.departures.append(departure)
        missing = on + _days(rng, 7, 25)
        if missing <= self.today:
            self.set_status(missing, ControlStatus.WHEREABOUTS_UNKNOWN, text="擅自离开执行地，失去联系")
        breach = on + datetime.timedelta(days=rules.SERIOUS_BREACH_DAYS_AWAY + 1)
        self.flag(plan, breach, "serious_breach")
        _, found = self.race(on, {"found": 0.35})
        decided = breach + _days(rng, 30, 300)
        if found <= self.today and found <= decided:
            departure[1] = found
            if found < breach:
                conduct.vanished_on = None
                self.set_status(found, status, text="已找回，继续执行")
                return self.community_after_return(plan, found, term_end)
            return self.to_compulsory(plan, found, "serious_breach", "擅自离开执行地失联，严重违反社区戒毒协议")
        if decided <= self.today:
            self.resolve(plan, decided, "serious_breach", "决定强制隔离戒毒，通报公安机关查找",
                         self.docs.next(MeasureKind.COMPULSORY_TREATMENT, decided))
            self.end(plan, decided, "失联，严重违反社区戒毒协议，终止执行")
            if found <= self.today:
                departure[1] = found
                return lambda: self.compulsory(found)
            return None
        return None

    def community_after_return(self, plan, back, term_end):
        if term_end > self.today:
            return None
        self.end(plan, term_end, "期满解除", completed=True, next_status=ControlStatus.SOCIAL_CONTROL,
                 text="期满解除")
        return lambda: self.social(term_end)

    def to_compulsory(self, plan: MeasurePlan, on, rule, reason):
        document = self.docs.next(MeasureKind.COMPULSORY_TREATMENT, on)
        if rule:
            self.resolve(plan, on, rule, "决定强制隔离戒毒", document)
        self.end(plan, on, reason)
        return lambda: self.compulsory(on, document)

    def compulsory(self, decided_on, document=None):
        rng = self.rng
        plan = self.measure(MeasureKind.COMPULSORY_TREATMENT, decided_on, 24)
        if document:
            plan.decision_number = document
        ends = rules.term_end(MeasureKind.COMPULSORY_TREATMENT, decided_on, 24)
        assessment = decided_on + relativedelta(months=rules.EARLY_RELEASE_AFTER_MONTHS)
        early = rng.random() < 0.25
        _, died = self.race(decided_on, {"death": self.mortality * 0.4})
        last = min(died, self.today)  # nothing happens after this day
        if assessment <= last:
            self.flag(plan, assessment, "early_release_assessment")
        assessed = assessment + _days(rng, 10, 40)
        released = ends
        if assessed <= last:
            if early:
                released = assessed + _days(rng, 0, 150)
                self.resolve(plan, assessed, "early_release_assessment", "经诊断评估，同意提前解除强制隔离戒毒",
                             self.docs.next("assessment", assessed))
            else:
                self.resolve(plan, assessed, "early_release_assessment", "经诊断评估，暂不符合提前解除条件，继续执行",
                             self.docs.next("assessment", assessed))
                if rng.random() < 0.06:
                    months = rng.choice((3, 6, 12))
                    extended = decided_on + relativedelta(months=20)
                    if extended <= last:
                        if plan.materialised:
                            self.add(extended, "extend", measure=plan, months=months,
                                     document=self.docs.next("extension", extended))
                        released = rules.term_end(MeasureKind.COMPULSORY_TREATMENT, decided_on, 24, months)
        if died <= min(released, self.today):
            self.end(plan, died, "所内死亡", next_status=ControlStatus.DECEASED, text="所内因病死亡")
            return None
        if released > self.today:
            return None
        self.end(plan, released, "提前解除" if released < ends else "期满解除", completed=True)
        if rng.random() < 0.85:
            # 四个一律 (seed 004): released from compulsory treatment → community rehabilitation
            return lambda: self.community(MeasureKind.COMMUNITY_REHABILITATION, released, reported_within=(0, 5))
        self.set_status(released, ControlStatus.SOCIAL_CONTROL, text="解除强制隔离戒毒")
        return lambda: self.social(released)


# --- drafting people ------------------------------------------------------------------------


class People:
    """Draws who the persons are: names, ID numbers, places, substances, circumstances."""

    def __init__(self, rng: random.Random, today: datetime.date, townships: list[tuple[str, list[str]]]):
        self.rng, self.today, self.townships = rng, today, townships
        self.id_numbers: set[str] = set()
        self.surnames = [s for s, _ in SURNAMES]
        self.surname_weights = [w for _, w in SURNAMES]

    def name(self, sex: str, born: datetime.date) -> str:
        rng = self.rng
        surname = rng.choices(self.surnames, weights=self.surname_weights)[0]
        chars = MALE_CHARS if sex == "M" else FEMALE_CHARS
        if rng.random() < (0.45 if born.year < 1975 else 0.2):
            return surname + rng.choice(chars)
        first = rng.choice(OLD_STYLE_CHARS if born.year < 1975 and rng.random() < 0.5 else chars)
        second = first if rng.random() < 0.03 else rng.choice(chars)
        return surname + first + second

    def id_number(self, area: str, born: datetime.date, sex: str) -> str:
        while True:
            sequence = f"{self.rng.randint(0, 99):02d}{self.rng.choice('13579' if sex == 'M' else '02468')}"
            body = f"{area}{born:%Y%m%d}{sequence}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number

    def phone(self) -> str:
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randint(0, 99999999):08d}"

    def found_on(self) -> tuple[datetime.date, int]:
        years_ago = self.rng.choices(range(FOUND_YEARS), weights=FOUND_YEAR_WEIGHTS)[0]
        return self.today - datetime.timedelta(days=years_ago * 365 + self.rng.randint(0, 364)), years_ago

    def substances(self, found_on: datetime.date, age: int) -> list[str]:
        """Heroin for the older cohorts, synthetic drugs for the younger ones, and the
        synthetic share rising year by year (seed 004: 由传统的海洛因转向新型毒品为主)."""
        rng = self.rng
        years_ago = (self.today - found_on).days / 365.25
        p_heroin = 0.65 if years_ago >= 10 else 0.45 if years_ago >= 6 else 0.25 if years_ago >= 3 else 0.1
        p_heroin = max(0.02, p_heroin + (0.15 if age >= 40 else 0) - (0.05 if age < 25 else 0))
        nps = 0.03 + 0.12 * max(0.0, 1 - years_ago / 8)
        synthetic = ((Substance.METHAMPHETAMINE, 0.62), (Substance.KETAMINE, 0.17), (Substance.NPS, nps),
                     (Substance.CANNABIS, 0.05), (Substance.MDMA, 0.03), (Substance.METHCATHINONE, 0.02))
        primary = Substance.HEROIN if rng.random() < p_heroin else _pick(rng, synthetic)
        held = [primary]
        if rng.random() < 0.15:
            second = Substance.METHAMPHETAMINE if primary != Substance.METHAMPHETAMINE else _pick(rng, (
                (Substance.KETAMINE, 3), (Substance.HEROIN, 2), (Substance.MDMA, 1)))
            held.append(second)
        return held

    def draft(self, *, sex=None, age=None, township=None, village=None, found_on=None) -> Draft:
        rng, today = self.rng, self.today
        if found_on is None:
            found_on, years_ago = self.found_on()
        else:
            years_ago = (today - found_on).days // 365
        if age is not None:
            born = today - relativedelta(years=age) - datetime.timedelta(days=rng.randint(30, 330))
        else:
            if years_ago <= 2 and rng.random() < 0.025:
                age_found = rng.randint(14, 17)  # seed 004: 未成年吸毒人员占比3.3%
            else:
                low, high = _pick(rng, (((18, 24), 22), ((25, 34), 40), ((35, 44), 24), ((45, 52), 14)))
                age_found = min(rng.randint(low, high), 58 - years_ago)  # nobody over 60 today
            born = found_on - relativedelta(years=age_found) - datetime.timedelta(days=rng.randint(0, 364))
        age_found = rules.age_on(born, found_on)
        sex = sex or ("M" if rng.random() < 0.85 else "F")
        if township is None:
            township = rng.choices(range(len(TOWNSHIP_WEIGHTS)), weights=TOWNSHIP_WEIGHTS)[0]
        if village is None:
            village = rng.choices(range(len(VILLAGE_WEIGHTS)), weights=VILLAGE_WEIGHTS)[0]
        township_name, villages = self.townships[township]
        village_name = villages[village]
        if village_name.endswith("社区"):
            address = f"示范县{township_name}{village_name}{rng.choice(STREETS)}{rng.randint(1, 180)}号"
        else:
            address = f"示范县{township_name}{village_name}{rng.randint(1, 12)}组{rng.randint(1, 60)}号"
        if rng.random() < 0.86:
            area, residence = "990101", address
        else:
            area, place = rng.choice(OTHER_AREAS)
            residence = f"{place}{rng.choice(('城关镇', '新村', '河西村', '中心社区'))}"
        substances = self.substances(found_on, age_found)
        heroin = Substance.HEROIN in substances
        living = _pick(rng, ((LivingSituation.STABLE, 35), (LivingSituation.HOUSED, 45),
                             (LivingSituation.UNSTABLE, 20)))
        relation = rng.choice(("父亲", "母亲", "妻子" if sex == "M" else "丈夫", "哥哥", "姐姐", "弟弟"))
        contact_sex = "F" if relation in ("母亲", "妻子", "姐姐") else "M"
        contact = f"{relation} {self.name(contact_sex, born)} {self.phone()}"
        return Draft(
            name=self.name(sex, born), id_number=self.id_number(area, born, sex), sex=sex, birth_date=born,
            township=township, village=village, grid=rng.randint(0, 1), found_on=found_on,
            found_how=_pick(rng, ((FoundHow.CASE, 30), (FoundHow.CHECK, 35), (FoundHow.TIP_OFF, 10),
                                  (FoundHow.SELF_REPORT, 5), (FoundHow.TRANSFER, 12), (FoundHow.OTHER, 8))),
            substances=substances, living=living, registered_residence=residence, current_address=address,
            phone=self.phone() if rng.random() < 0.9 else "", family_contacts=contact if rng.random() < 0.85 else "",
            first_found_approximate=years_ago >= 10 and rng.random() < 0.2,
            hiv_positive=rng.random() < (0.08 if heroin else 0.01), serious_illness=rng.random() < 0.04,
            mental_disorder=rng.random() < (0.02 if heroin else 0.04), violence_history=rng.random() < 0.05,
            drug_driving_history=rng.random() < (0.01 if heroin else 0.04),
            family_support=rng.random() < (0.55 if living == LivingSituation.UNSTABLE else 0.85),
        )


def simulate(count: int, today: datetime.date, townships, seed: int = SEED) -> list[tuple[Draft, Life]]:
    """Every person and their history, in memory (no database): the scripted cases the demo
    users need, then ``count`` minus those drawn at random."""
    rng = random.Random(seed)
    people = People(rng, today, townships)
    docs = DocumentNumbers()
    result = scripted(rng, people, docs, today)[:count]
    drawn = []
    for _ in range(max(0, count - len(result))):
        draft = people.draft()
        drawn.append((draft, Life(rng, draft, today, docs)))
    # Decision numbers count up per kind and year in the order the lives are run: by the day
    # people were found, so that earlier cases tend to have the smaller numbers.
    for _, life in sorted(drawn, key=lambda pair: pair[0].found_on):
        life.run()
    for draft, life in drawn:
        _circumstances_today(rng, draft, life, today)
    return result + drawn


def _circumstances_today(rng, draft: Draft, life: Life, today):
    """What is true today and depends on the history: a few pregnant or nursing women under
    measures, and the social worker's caseload in 城关镇 (about 30 per worker)."""
    active = life.status in (ControlStatus.COMMUNITY_TREATMENT, ControlStatus.COMMUNITY_REHABILITATION)
    age = rules.age_on(draft.birth_date, today)
    if draft.sex == "F" and 20 <= age <= 38 and life.status in ACTIVE_STATUSES:
        r = rng.random()
        if r < 0.05:
            draft.is_pregnant = True
        elif r < 0.09:
            draft.nursing_child_born_on = today - _days(rng, 20, 330)
    if draft.township == 0 and active and rng.random() < 0.25:
        draft.worker = True


# --- the cases the demo users need every time ---------------------------------------------------


def scripted(rng, people: People, docs: DocumentNumbers, today) -> list[tuple[Draft, Life]]:
    """The social worker's caseload in 城关镇 with items due today, this week and overdue; and
    the cases that show the 第三十九条 exemptions beside a recommendation of compulsory
    treatment (pregnant, nursing, under 16). Each a few months of history."""
    month = relativedelta(months=1)
    day = datetime.timedelta(days=1)
    cases = []

    def reported_for(months_back: int, due_on: datetime.date, kind: str = CheckInKind.INTERVIEW,
                     measure: str = MeasureKind.COMMUNITY_TREATMENT) -> datetime.date:
        """A report-in day about ``months_back`` months ago whose plan has ``kind`` due on ``due_on``."""
        for offset in sorted(range(-12, 13), key=abs):
            reported = today - relativedelta(months=months_back) + datetime.timedelta(days=offset)
            plan = rules.plan_due_dates(reported, rules.term_end(measure, reported, 36), rules.PlanPolicy())
            if (kind, due_on) in plan:
                return reported
        raise AssertionError(f"no report-in day gives a {kind} due on {due_on}")

    def case(*, kind=MeasureKind.COMMUNITY_TREATMENT, decided, reported=None, township=0, worker=False, sex=None,
             age=None, conduct=None, flag_on=(), **draft_values):
        rehabilitation = kind == MeasureKind.COMMUNITY_REHABILITATION
        # 社区康复 follows two years of compulsory treatment, released the day it is decided.
        compulsory_on = decided - relativedelta(months=24) + day if rehabilitation else None
        draft = people.draft(sex=sex, age=age, township=township, village=rng.randint(0, 4),
                             found_on=(compulsory_on or decided) - _days(rng, 3, 10))
        for name, value in draft_values.items():
            setattr(draft, name, value)
        draft.worker, draft.scripted = worker, True
        life = Life(rng, draft, today, docs)
        if rehabilitation:
            compulsory = life.measure(MeasureKind.COMPULSORY_TREATMENT, compulsory_on, 24)
            assessment = compulsory_on + relativedelta(months=rules.EARLY_RELEASE_AFTER_MONTHS)
            life.flag(compulsory, assessment, "early_release_assessment")
            life.resolve(compulsory, assessment + 20 * day, "early_release_assessment",
                         "经诊断评估，暂不符合提前解除条件，继续执行", docs.next("assessment", assessment))
            life.end(compulsory, decided, "期满解除", completed=True)
        plan = life.measure(kind, decided, 36)
        plan.conduct = conduct or Conduct()
        if reported is not None:
            plan.reported_on = reported
            life.add(reported, "report", measure=plan)
            life.status = services.MEASURE_STATUS[kind]
        for on, rule in flag_on:
            life.flag(plan, on, rule)
        cases.append((draft, life))

    # 陈社工's people: items due today, in a few days, overdue; one with two refusals (a third
    # makes the serious breach), one with the breach already, one waiting to report in.
    reported = reported_for(5, today, CheckInKind.DRUG_TEST)
    case(decided=reported - 8 * day, reported=reported, worker=True)
    reported = reported_for(14, today + 3 * day, measure=MeasureKind.COMMUNITY_REHABILITATION)
    case(kind=MeasureKind.COMMUNITY_REHABILITATION, decided=reported - 2 * day, reported=reported, worker=True)
    reported = reported_for(8, today - 4 * day)
    case(decided=reported - 8 * day, reported=reported, worker=True, conduct=Conduct(lag_days=6))
    reported = reported_for(7, today + 2 * day, CheckInKind.DRUG_TEST)
    case(decided=reported - 4 * day, reported=reported, worker=True,
         conduct=Conduct(refusals_by=today - 5 * day, refusals=2))
    reported = today - 10 * month
    case(decided=reported - 9 * day, reported=reported, worker=True,
         conduct=Conduct(refusals_by=today - 10 * day), flag_on=[(today - 10 * day, "serious_breach")])
    case(decided=today - 4 * day, worker=True)
    reported = reported_for(3, today + day, CheckInKind.HOME_VISIT)
    case(decided=reported - 6 * day, reported=reported, worker=True)
    # 第三十九条: pregnant and not reported in; nursing and tested positive; 15 and away 37 days.
    case(decided=today - 40 * day, sex="F", age=27, is_pregnant=True,
         flag_on=[(today - 40 * day + (rules.REPORT_IN_DAYS + 1) * day, "report_in_overdue")])
    case(decided=today - 9 * month - 6 * day, reported=today - 9 * month, sex="F", age=31,
         nursing_child_born_on=today - 5 * month, conduct=Conduct(positives=[today - 20 * day]),
         flag_on=[(today - 20 * day, "use_during_measure")])
    case(decided=today - 6 * month - 5 * day, reported=today - 6 * month, sex="M", age=15,
         substances=[Substance.KETAMINE], living=LivingSituation.HOUSED,
         conduct=Conduct(departures=[[today - 45 * day, today - 8 * day]]),
         flag_on=[(today - 8 * day, "serious_breach")])
    # 青山镇 (赵专干): refusals and overdue items.
    case(township=1, decided=today - 11 * month - 10 * day, reported=today - 11 * month,
         conduct=Conduct(refusals_by=today - 15 * day, lag_days=9), flag_on=[(today - 15 * day, "serious_breach")])
    return cases


# --- check-ins ----------------------------------------------------------------------------------


def plan_check_ins(rng: random.Random, plan: MeasurePlan, items: list[tuple[int, str, datetime.date]],
                   today: datetime.date, substance: str, incidental: bool = True) -> list[tuple[CheckIn, int | None]]:
    """The check-ins of one community measure from its report-in to its end (or today), from
    its planned items and the person's conduct: (unsaved check-in, the planned item it closes).
    A positive test finds ``substance``; ``incidental`` adds the odd refusal (re-tested later).

    A check-in closes the planned item ``do_record_check_in`` would close
    (rules.plan_item_to_close); a refused test and a departure close nothing."""
    conduct = plan.conduct
    start = plan.reported_on
    last_day = min(plan.ended_on or today, today)
    # Items due after this day are not done yet (in effect only): today's, those due soon, and
    # the overdue ones of a worker who is behind.
    done_until = last_day if plan.ended_on else today - datetime.timedelta(days=conduct.lag_days + 1)
    away = [(left, returned or datetime.date.max) for left, returned in conduct.departures]

    def back_from(on):
        for left, returned in away:
            if left <= on < returned:
                return returned
        return None

    events: list[CheckIn] = []

    def add(kind, on, **values):
        if start <= on <= last_day:
            events.append(CheckIn(kind=kind, occurred_on=on, **values))

    def method():
        return _pick(rng, ((SampleMethod.URINE, 93), (SampleMethod.HAIR, 5), (SampleMethod.SALIVA, 2)))

    tests = [(pk, due) for pk, kind, due in items if kind == CheckInKind.DRUG_TEST and due <= last_day]
    refused: set[int] = set()
    if conduct.refusals_by:
        candidates = [pk for pk, due in tests if due <= conduct.refusals_by and back_from(due) is None]
        refused = set(candidates[-conduct.refusals:])
        missing = conduct.refusals - len(refused)  # more than the plan had by then: spot checks
        gap = max(1, (conduct.refusals_by - start).days // (missing + 1))
        for n in range(missing):
            add(CheckInKind.DRUG_TEST, conduct.refusals_by - datetime.timedelta(days=gap * n),
                result=DrugTestResult.REFUSED, notes="通知检测未到")
    positive_on: dict[int, datetime.date] = {}
    for on in conduct.positives:
        match = next((pk for pk, due in tests if on <= due <= on + datetime.timedelta(days=31)
                      and pk not in refused and pk not in positive_on), None)
        if match is None:
            add(CheckInKind.DRUG_TEST, on, method=SampleMethod.URINE, result=DrugTestResult.POSITIVE,
                substance=substance, notes="突击检测")
        else:
            positive_on[match] = on
    for pk, kind, due in items:
        if due > last_day:
            continue
        if pk in refused:
            add(kind, max(start, due - _days(rng, 0, 2)), result=DrugTestResult.REFUSED, notes="通知检测未到")
            continue
        if pk in positive_on:
            add(kind, positive_on[pk], method=method(), result=DrugTestResult.POSITIVE, substance=substance)
            continue
        if due > done_until:
            continue
        on = max(start, due - _days(rng, 0, 5))
        back = back_from(on)
        if back is not None:  # away: made up after the return, or missed
            if back >= done_until:
                continue
            on = back + _days(rng, 1, 5)
            if on > done_until:
                continue
        if kind == CheckInKind.DRUG_TEST:
            if incidental and rng.random() < 0.015:
                add(kind, on, result=DrugTestResult.REFUSED, notes="借故推脱，未接受检测")
                retest = on + _days(rng, 3, 10)
                if retest <= done_until:
                    add(kind, retest, method=SampleMethod.URINE, result=DrugTestResult.NEGATIVE, notes="补检")
            else:
                add(kind, on, method=method(), result=DrugTestResult.NEGATIVE)
        elif kind == CheckInKind.INTERVIEW:
            add(kind, on, notes=rng.choice(INTERVIEW_NOTES))
        elif kind == CheckInKind.HOME_VISIT:
            add(kind, on, notes=rng.choice(HOME_VISIT_NOTES))
        elif kind == CheckInKind.HALF_YEAR_SUMMARY:
            add(kind, on, notes=rng.choice(SUMMARY_NOTES))
        else:
            add(kind, on, notes=rng.choice(EVALUATION_NOTES))
    for left, returned in conduct.departures:
        add(CheckInKind.DEPARTURE, left, returned_on=returned,
            notes="未经批准离开本县" if returned else "未经批准离开本县，失去联系")
    events.sort(key=lambda c: c.occurred_on)
    # Close planned items the way do_record_check_in does (rules.plan_item_to_close).
    by_kind: dict[str, list[list]] = {}
    for pk, kind, due in items:
        by_kind.setdefault(kind, []).append([pk, due, False])
    result = []
    for check_in in events:
        closes = None
        if check_in.kind != CheckInKind.DEPARTURE and check_in.result != DrugTestResult.REFUSED:
            of_kind = by_kind.get(check_in.kind, [])
            closes = rules.plan_item_to_close([tuple(item) for item in of_kind], start, check_in.occurred_on)
            for item in of_kind:
                if item[0] == closes:
                    item[2] = True
        result.append((check_in, closes))
    return result


# --- writing it through the domain services -----------------------------------------------------


@contextmanager
def _replaying():
    """Hold back what the services do after each change with today's date — re-evaluate the
    flags and re-assess the risk — while a history is replayed; yields the real
    ``evaluate_flags`` for the builder to call on the dates the findings arose."""
    evaluate = services.evaluate_flags
    with (mock.patch.object(services, "evaluate_flags", lambda *args, **kwargs: (0, 0)),
          mock.patch.object(services, "_reassess_risk", lambda *args, **kwargs: None)):
        yield evaluate


class Writer:
    def __init__(self, today: datetime.date, county: Jurisdiction, users: dict, rng: random.Random):
        self.today, self.rng, self.users = today, rng, users
        townships = list(county.children.filter(level=Level.TOWNSHIP).order_by("code"))
        places = Jurisdiction.objects.filter(path__startswith=county.path, level__in=[Level.VILLAGE, Level.GRID])
        by_parent: dict[int, list[Jurisdiction]] = {}
        for place in places.order_by("code"):
            by_parent.setdefault(place.parent_id, []).append(place)
        self.townships = townships
        self.villages = [by_parent[t.pk] for t in townships]
        self.grids = {v.pk: by_parent[v.pk] for vs in self.villages for v in vs}
        self.stats = Counter()
        self.missing: list[tuple[int, str, datetime.date]] = []
        self.last_month = today.replace(day=1) - relativedelta(months=1)

    def recorder(self, draft: Draft):
        if draft.worker:
            return self.users.get("worker")
        return {0: self.users.get("township"), 1: self.users.get("township2")}.get(draft.township)

    def write(self, draft: Draft, life: Life, evaluate) -> Person:
        village = self.villages[draft.township][draft.village]
        grid = self.grids[village.pk][draft.grid]
        person = services.do_create_person(
            acting_user=None, name=draft.name, id_number=draft.id_number, jurisdiction=village, grid=grid,
            control_status=ControlStatus.SOCIAL_CONTROL, control_status_since=draft.found_on,
            substances=draft.substances, document_number=life.docs.next("penalty", draft.found_on),
            registered_residence=draft.registered_residence, current_address=draft.current_address,
            phone=draft.phone, first_found_on=draft.found_on, first_found_approximate=draft.first_found_approximate,
            found_how=draft.found_how, living_situation=draft.living, is_pregnant=draft.is_pregnant,
            nursing_child_born_on=draft.nursing_child_born_on, hiv_positive=draft.hiv_positive,
            serious_illness=draft.serious_illness, mental_disorder=draft.mental_disorder,
            violence_history=draft.violence_history, drug_driving_history=draft.drug_driving_history,
            family_support=draft.family_support, family_contacts=draft.family_contacts,
            assigned_worker=self.users.get("worker") if draft.worker else None, notes=draft.notes,
        )
        township = self.townships[draft.township]
        recorder = self.recorder(draft)
        pending: list[tuple[CheckIn, int | None]] = []  # check-ins not yet written, by date
        for action in sorted(life.actions, key=lambda a: a.on):
            # What happened up to this day is on file before the rules look at it, and nothing later.
            pending = self.write_check_ins(pending, action.on)
            plan = action.measure
            if action.what == "status":
                services.do_change_status(person, action.status, action.on, acting_user=None,
                                          document_number=action.document, note=action.text)
            elif action.what == "decide":
                plan.db = services.do_decide_measure(
                    person, plan.kind, action.on, acting_user=None, decision_number=plan.decision_number,
                    deciding_authority=AUTHORITY, executing_jurisdiction=township, term_months=plan.term_months)
            elif action.what == "report":
                services.do_report_in(plan.db, action.on, acting_user=None)
                pending = sorted(pending + self.check_ins(person, plan, recorder, draft),
                                 key=lambda pair: pair[0].occurred_on)
            elif action.what == "extend":
                services.do_extend_measure(plan.db, action.months, acting_user=None, decision_number=action.document)
            elif action.what == "end":
                services.do_end_measure(plan.db, action.on, acting_user=None, reason=plan.end_reason,
                                        completed=plan.completed, termination_notice_on=plan.notice_on)
            elif action.what == "evaluate":
                evaluate(person, action.on)
            else:
                self.resolve(person, action)
        self.write_check_ins(pending, self.today)
        evaluate(person, self.today)
        if person.control_status in ACTIVE_STATUSES:
            # 风险分类评估 (seed 000): today's scoring; the social worker's people have last
            # month's too (a history to show, without doubling the time for everybody).
            days = [self.last_month, self.today] if draft.worker else [self.today]
            for on in days:
                if on >= person.control_status_since:
                    services.do_assess_risk(person, today=on)
                    self.stats["risk assessments"] += 1
        self.stats["persons"] += 1
        return person

    def resolve(self, person: Person, action: Action):
        flag = person.flags.filter(rule=action.rule, state=FlagState.OPEN).first()
        if flag is None:  # the history and the rules disagree: counted, and tested to be zero
            self.stats["flags missing"] += 1
            self.missing.append((person.pk, action.rule, action.on))
            return
        if action.what == "decide_flag":
            services.do_decide_flag(flag, action.text, document_number=action.document, acting_user=None)
        else:
            services.do_dismiss_flag(flag, action.text, acting_user=None)
        # The decision was taken on that day (the audit entry says when it was written).
        moment = timezone.make_aware(datetime.datetime.combine(action.on, datetime.time(10)))
        Flag.objects.filter(pk=flag.pk).update(resolved_at=moment)

    def check_ins(self, person: Person, plan: MeasurePlan, recorder, draft: Draft):
        """The check-ins of a measure that has just been reported in to (its plan exists now).
        A scripted case has only the incidents its script says."""
        items = list(PlannedCheckIn.objects.filter(measure=plan.db).values_list("id", "kind", "due_on"))
        pairs = plan_check_ins(self.rng, plan, items, self.today, draft.substances[0], incidental=not draft.scripted)
        for check_in, _ in pairs:
            check_in.person, check_in.county_code, check_in.measure = person, person.county_code, plan.db
            check_in.recorded_by = recorder
        return pairs

    def write_check_ins(self, pending: list[tuple[CheckIn, int | None]], until: datetime.date):
        """Bulk-insert the pending check-ins up to ``until`` and close their planned items;
        returns the rest."""
        cut = next((n for n, (check_in, _) in enumerate(pending) if check_in.occurred_on > until), len(pending))
        pairs, rest = pending[:cut], pending[cut:]
        if not pairs:
            return rest
        created = CheckIn.objects.bulk_create([c for c, _ in pairs], batch_size=500)
        links = [(check_in.pk, closes) for check_in, (_, closes) in zip(created, pairs, strict=True) if closes]
        if links:
            table = PlannedCheckIn._meta.db_table
            with connection.cursor() as cursor:
                cursor.executemany(f"UPDATE {table} SET done_id = %s WHERE id = %s", links)
        self.stats["check-ins"] += len(created)
        self.stats["plan items closed"] += len(links)
        return rest


# Why workers said a check-in was missed (persons.missed), and how often. Refusals and evasions
# only for interviews and visits: a missed test explained so is a refusal (戒毒条例 第二十条) and
# would need the flags the history has already evaluated.
MISSED_REASONS = [(MissedReason.NOT_FOUND, 30), (MissedReason.AWAY_REPORTED, 30), (MissedReason.IN_HOSPITAL, 15),
                  (MissedReason.OTHER, 10)]
MISSED_REFUSALS = [(MissedReason.REFUSED, 10), (MissedReason.EVADED, 5)]
MISSED_NOTES = {MissedReason.AWAY_REPORTED: ["在外省务工，已向社区报备", "随家人外出务工，已电话报备"],
                MissedReason.IN_HOSPITAL: ["在县人民医院住院治疗", "骨折住院，出院后补做"],
                MissedReason.NOT_FOUND: ["三次上门未见本人，家属称外出", ""],
                MissedReason.OTHER: ["家中有丧事，本人请假", "疫病隔离期间无法上门"],
                MissedReason.REFUSED: ["本人拒绝谈话", ""], MissedReason.EVADED: ["约定时间不在家，电话不接", ""]}
EXPLAINED_BEFORE_DAYS = 45  # workers have explained what was missed before this; the recent months wait


WAITING_SHARE = 0.2  # persons whose missed check-ins nobody has explained yet


def missed_explanation(rng: random.Random, kind: str, due_on: datetime.date,
                       today: datetime.date) -> tuple[str, str, datetime.date]:
    """What a worker said about one missed check-in, and when: (reason, note, explained on)."""
    reason = _pick(rng, MISSED_REASONS + ([] if kind == CheckInKind.DRUG_TEST else MISSED_REFUSALS))
    return reason, rng.choice(MISSED_NOTES[reason]), min(today, due_on + datetime.timedelta(days=rng.randint(3, 20)))


def explain_missed(rng: random.Random, today: datetime.date) -> int:
    """The explanations workers gave for missed check-ins (漏检) of measures in effect: those
    missed more than EXPLAINED_BEFORE_DAYS ago, for four persons in five; the rest wait on the
    today lists. Written in bulk (one audit entry for the history, as the check-ins)."""
    items = list(PlannedCheckIn.objects.filter(done__isnull=True, measure__ended_on__isnull=True,
                                               measure__state=MeasureState.IN_EFFECT,
                                               due_on__lt=today - datetime.timedelta(days=EXPLAINED_BEFORE_DAYS))
                 .order_by("person_id", "due_on", "id"))
    waiting = {pk for pk in {item.person_id for item in items} if rng.random() < WAITING_SHARE}
    changed = []
    for item in items:
        if item.person_id in waiting:
            continue
        item.missed_reason, item.missed_note, item.explained_on = missed_explanation(rng, item.kind, item.due_on,
                                                                                     today)
        changed.append(item)
    PlannedCheckIn.objects.bulk_update(changed, ["missed_reason", "missed_note", "explained_on"], batch_size=500)
    return len(changed)


def build_persons(count: int = DEFAULT_PERSONS, *, today: datetime.date | None = None, seed: int = SEED,
                  progress=None) -> Counter:
    """Fill 示范县 with ``count`` registered persons (nothing if it has persons already)."""
    from accounts.models import User
    from demo import builders

    county = Jurisdiction.objects.get(code=builders.COUNTY_CODE)
    if Person.objects.filter(county_code=county.code).exists():
        return Counter()
    today = today or timezone.localdate()
    started = time.monotonic()
    lives = simulate(count, today, township_names(), seed)
    users = {u.username: u for u in User.objects.filter(username__in=["worker", "township", "township2"])}
    writer = Writer(today, county, users, random.Random(seed + 1))
    with transaction.atomic(), _replaying() as evaluate:
        for n, (draft, life) in enumerate(lives, start=1):
            writer.write(draft, life, evaluate)
            if progress and (n % 100 == 0 or n == len(lives)):
                progress(n, len(lives), time.monotonic() - started)
        explained = explain_missed(random.Random(seed + 2), today)
        writer.stats["missed check-ins explained"] = explained
        # One entry for the bulk part; each person, status change, measure and flag decision
        # has its own entry from its service.
        audit.record(AuditEntry.Action.IMPORT, actor=None, object_repr="示范县演示数据：历史检查记录（批量写入）",
                     changes={"persons": writer.stats["persons"], "check_ins": writer.stats["check-ins"],
                              "plan_items_closed": writer.stats["plan items closed"],
                              "missed_explained": explained, "seed": seed,
                              "as_of": today.isoformat()})
    return writer.stats


def township_names() -> list[tuple[str, list[str]]]:
    from demo import builders

    rows = builders.jurisdiction_rows()
    townships = [(r.code, r.name) for r in rows if r.level == Level.TOWNSHIP]
    return [(name, [r.name for r in rows if r.parent_code == code]) for code, name in townships]
