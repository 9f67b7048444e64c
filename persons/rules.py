"""Legal clocks and rules for registered persons, as pure functions citing their source.

Laws (article numbers checked against the published texts): 中华人民共和国禁毒法 (2008, 主席令
第79号) and 戒毒条例 (国务院令第597号, 2011; the 2018 revision kept the numbering). Periods are
counted as 民法典 第二百零一条/第二百零二条 count them unless the text says otherwise. Local policy
from the seeds: 003 (三个凡是), 004 (四个一律), 000 (risk classification). Nothing here touches the
database: services pass plain values in and store what comes out, so each rule is tested with a
table of cases.
"""

import datetime
import operator
import re
from dataclasses import dataclass, field

import phonenumbers
from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext_lazy as _

from jurisdictions.choices import Level
from persons.choices import LivingSituation, MeasureKind, MissedReason, RiskLevel

# --- sources -------------------------------------------------------------------------------------
# Citations are proper names: the same in every language, so they are not translated.

REPORT_IN_TREATMENT = "戒毒条例 第十四条第一款"
TERM_TREATMENT = "禁毒法 第三十三条第一款; 戒毒条例 第十四条第二款"
RELEASE_TREATMENT = "戒毒条例 第二十三条"
REPORT_IN_REHABILITATION = "戒毒条例 第三十八条第一款"
TERM_REHABILITATION = "禁毒法 第四十八条第一款; 戒毒条例 第三十七条第一款"
RELEASE_REHABILITATION = "戒毒条例 第四十条"
REHABILITATION_AS_TREATMENT = "禁毒法 第四十八条第二款"
REHABILITATION_BREACH = "戒毒条例 第三十八条第二款"
TERM_COMPULSORY = "禁毒法 第四十七条第一款; 戒毒条例 第二十七条第一款"
EARLY_RELEASE = "禁毒法 第四十七条第二款"
EXTENSION = "禁毒法 第四十七条第三款"
SERIOUS_BREACH = "戒毒条例 第二十条"
REPORT_TO_POLICE = "戒毒条例 第二十一条"
CHANGE_OF_PLACE = "戒毒条例 第二十二条第二款"
GROUND_REFUSAL = "禁毒法 第三十八条第一款第（一）项"
GROUND_USE = "禁毒法 第三十八条第一款第（二）项"
GROUND_BREACH = "禁毒法 第三十八条第一款第（三）项"
GROUND_RELAPSE = "禁毒法 第三十八条第一款第（四）项"
EXEMPTIONS = "禁毒法 第三十九条第一款; 戒毒条例 第二十六条"
LOCAL_POLICY = "三个凡是、四个一律"

# --- ID numbers (GB 11643) ----------------------------------------------------------------


class IdNumberError(ValueError):
    pass


_FULL_WIDTH = str.maketrans("０１２３４５６７８９ｘＸ　．＋ｅＥ", "0123456789XX .+EE")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$")


def normalise_id_number(raw: str, today: datetime.date | None = None) -> str:
    """Clean an ID number and upgrade a 15-digit first-generation number to 18 digits.

    Full-width digits, spaces, hyphens and a lower-case x are accepted. The check digit and the
    birth date (a real day, not after today) are verified; the area code is not (a number keeps
    the code in force where it was first issued, which may be younger than its holder — SPEC
    §3.1). A number that Excel stored as a float (1.10101199003071e+17) has lost its last digits
    and is refused with that reason."""
    text = (raw or "").translate(_FULL_WIDTH).replace(" ", "").replace("-", "").strip().upper()
    if _SCIENTIFIC.match(text) or re.fullmatch(r"\d{15,18}\.0+", text):
        raise IdNumberError(_("The number was stored by a spreadsheet as a number and has lost digits: "
                              "format the column as text and type it again."))
    if len(text) == 15 and text.isdigit():
        body = text[:6] + "19" + text[6:]  # first-generation numbers: born in the 1900s
        text = body + check_digit(body)
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise IdNumberError(_("An ID number has 18 characters: 17 digits and a digit or X."))
    if check_digit(text) != text[17]:
        raise IdNumberError(_("The check digit is wrong: the number was mistyped."))
    try:
        born = birth_date_of(text)
    except ValueError:
        raise IdNumberError(_("The birth date inside the number does not exist.")) from None
    if born > (today or datetime.date.today()):
        raise IdNumberError(_("The birth date inside the number is in the future."))
    return text


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_digit(number: str) -> str:
    """GB 11643-1999 ISO 7064 MOD 11-2 check character of the first 17 digits. The same as
    python-stdnum's ``cn.ric.calc_check_digit`` (a test compares them), without its generic
    input cleaning, which costs more than the sum itself over a 100,000-row ledger."""
    if len(number) < 17:
        raise ValueError("the check digit needs the first 17 digits")
    return "10X98765432"[sum(map(operator.mul, map(int, number[:17]), _WEIGHTS)) % 11]


def birth_date_of(id_number: str) -> datetime.date:
    return datetime.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def sex_of(id_number: str) -> str:
    """GB 11643: the 17th digit is odd for men, even for women."""
    return "M" if int(id_number[16]) % 2 else "F"


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    """Whole years of age on ``day`` (周岁); the birthday itself completes the year."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


# --- what a form may take: dates and values that cannot be (issue 20) --------------------------
# 个人信息保护法 第八条: personal information is kept accurate and complete. Every form, the
# services behind them and the ledger import's row check call these same functions.

# Date fields that may lie ahead (a support task's due date); every other date on a person's
# forms is something that happened: not after today, and not before the person was born.
FUTURE_DATES = frozenset({"due_on"})
MIN_NOTES = 10  # characters an interview or a home visit record says at least
NOTES_REQUIRED = frozenset({"interview", "home_visit"})  # CheckInKind: 谈话, 走访


def date_problem(field: str, value: datetime.date | None, *, born: datetime.date | None = None,
                 today: datetime.date) -> str | None:
    """Why ``value`` cannot be the date ``field`` of a person born on ``born``, or None. A date
    in the future is refused unless the field is one of FUTURE_DATES; a date before the birth
    always (a child nursed, ``nursing_child_born_on``, cannot be born before its mother)."""
    if value is None:
        return None
    if value > today and field not in FUTURE_DATES:
        if field == "returned_on":
            return str(_("The return date is in the future: leave it empty while the person is away."))
        if field == "nursing_child_born_on":
            return str(_("The child's birth date is in the future."))
        return str(_("The date is in the future."))
    if born is not None and value < born:
        if field == "nursing_child_born_on":
            return str(_("The child cannot be born before the mother."))
        # No birth date in the message: a member unit closing its task reads none (SPEC §2).
        return str(_("The date is before the person's birth."))
    return None


def date_problems(dates: dict, *, born: datetime.date | None = None, today: datetime.date) -> dict[str, str]:
    """{field: message} for every date of ``dates`` that cannot be, and a return before the
    departure (``returned_on`` before ``occurred_on``)."""
    problems = {name: message for name, value in dates.items()
                if isinstance(value, datetime.date) and (message := date_problem(name, value, born=born, today=today))}
    left, back = dates.get("occurred_on"), dates.get("returned_on")
    if left and back and back < left and "returned_on" not in problems:
        problems["returned_on"] = str(_("The return cannot be before the departure."))
    return problems


class PhoneError(ValueError):
    pass


_PHONE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE,
                          phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})
_CN = phonenumbers.PhoneMetadata.metadata_for_region("CN")
# libphonenumber's own pattern of a Chinese mobile number: most phones of a ledger are typed as
# its 11 digits, checked without the full parse (which costs ~70 µs a number: 7 s per 100,000 rows).
_CN_MOBILE = re.compile(_CN.mobile.national_number_pattern)


def normalise_phone(raw: str) -> str:
    """A Chinese mobile or landline number as it is stored: its digits as dialled within China
    (13812345678, 051988881234), checked by libphonenumber (region CN). Spaces, hyphens,
    brackets, full-width digits and a +86 prefix are accepted; empty stays empty."""
    text = (raw or "").translate(_FULL_WIDTH).strip()
    if not text:
        return ""
    if len(text) == 11 and text.isascii() and text.isdigit() and _CN_MOBILE.fullmatch(text):
        return text
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        number = None
    kind = phonenumbers.number_type(number) if number is not None and number.country_code == 86 else None
    if kind not in _PHONE_TYPES or not phonenumbers.is_valid_number_for_region(number, "CN"):
        raise PhoneError(_("This is not a mobile or landline number in China: check the digits (a landline "
                           "with its area code, e.g. 0519-88881234)."))
    digits = phonenumbers.national_significant_number(number)
    # A landline is dialled with the national prefix 0 in front of its area code; a mobile without.
    return digits if kind == phonenumbers.PhoneNumberType.MOBILE else _CN.national_prefix + digits


def pregnancy_problem(sex: str, is_pregnant: bool, nursing_child_born_on: datetime.date | None) -> str | None:
    """怀孕/哺乳 on a man's file (sex from the ID number, ``sex_of``) is a mistake in the number or
    the flag; it would also grant the 禁毒法 第三十九条 exemption, which applies to women only."""
    if sex == "M" and (is_pregnant or nursing_child_born_on is not None):
        return str(_("The ID number is a man's: pregnancy and nursing apply to women only (%(source)s).")
                   % {"source": EXEMPTIONS})
    return None


def notes_problem(kind: str, notes: str) -> str | None:
    """An interview (谈话) or a home visit (走访) is recorded with what was said and seen: at least
    MIN_NOTES characters. Other check-ins may have no notes."""
    if kind in NOTES_REQUIRED and len((notes or "").strip()) < MIN_NOTES:
        return str(_("Write what was said or seen, at least %(n)s characters.") % {"n": MIN_NOTES})
    return None


# --- measures and their clocks ---------------------------------------------------------------

REPORT_IN_DAYS = 15  # 戒毒条例 第十四条第一款 (treatment), 第三十八条第一款 (rehabilitation)
TERMINATION_NOTICE_DAYS = 7  # 戒毒条例 第二十三条 (treatment), 第四十条 (rehabilitation)
TERM_MONTHS = {
    MeasureKind.COMMUNITY_TREATMENT: 36,  # 禁毒法 第三十三条: 社区戒毒的期限为三年
    MeasureKind.COMMUNITY_REHABILITATION: 36,  # 禁毒法 第四十八条, 戒毒条例 第三十七条: 不超过三年
    MeasureKind.COMPULSORY_TREATMENT: 24,  # 禁毒法 第四十七条第一款: 二年
}
COMPULSORY_EXTENSION_MAX_MONTHS = 12  # 禁毒法 第四十七条第三款: 最长可以延长一年
EARLY_RELEASE_AFTER_MONTHS = 12  # 禁毒法 第四十七条第二款: 执行一年后 (seed 003 asks 一年半 locally)
REPORT_IN_SOURCE = {MeasureKind.COMMUNITY_TREATMENT: REPORT_IN_TREATMENT,
                    MeasureKind.COMMUNITY_REHABILITATION: REPORT_IN_REHABILITATION}
RELEASE_SOURCE = {MeasureKind.COMMUNITY_TREATMENT: RELEASE_TREATMENT,
                  MeasureKind.COMMUNITY_REHABILITATION: RELEASE_REHABILITATION}


def period_end(first_day: datetime.date, months: int) -> datetime.date:
    """The last day of a period of ``months`` months whose first day is ``first_day``: the day
    before the corresponding day, or the month's last day when that month has no such day
    (民法典 第二百零二条). 2024-01-10 + 36 → 2027-01-09; 2024-02-29 + 36 → 2027-02-28."""
    end = first_day + relativedelta(months=months)
    return end - datetime.timedelta(days=1) if end.day == first_day.day else end


def report_in_deadline(decided_on: datetime.date) -> datetime.date:
    """The last day to report in: within 15 days of receiving the decision (戒毒条例 第十四条
    第一款 for community treatment, 第三十八条第一款 for community rehabilitation). The day of
    receipt is not counted (民法典 第二百零一条), so day 15 after it is the last one allowed.
    The decision date stands for the day of receipt; a deadline falling on a public holiday is
    not moved (民法典 第二百零三条 would move it: the worker decides)."""
    return decided_on + datetime.timedelta(days=REPORT_IN_DAYS)


def report_in_overdue(decided_on: datetime.date, reported_on: datetime.date | None, today: datetime.date) -> bool:
    """戒毒条例 第十四条第一款: not reported by the deadline → 视为拒绝接受社区戒毒 (for community
    rehabilitation the same deadline, 第三十八条第一款)."""
    deadline = report_in_deadline(decided_on)
    if reported_on is not None:
        return reported_on > deadline
    return today > deadline


def measure_date_problems(decided_on: datetime.date | None, reported_on: datetime.date | None,
                          starts_on: datetime.date | None, today: datetime.date) -> dict[str, str]:
    """What is wrong with a community measure's dates, by field (decided_on, reported_on,
    starts_on). The person reports in after receiving the decision and the term runs from the
    report-in (戒毒条例 第十四条第一款、第二款; 第三十八条 for community rehabilitation): a
    report-in before the decision, or a start before the report-in, cannot be; no date may be
    in the future. Without a decision date there is no measure to open."""
    problems = {}
    for key, day in (("decided_on", decided_on), ("reported_on", reported_on), ("starts_on", starts_on)):
        if day is not None and day > today:
            problems[key] = str(_("The date cannot be later than today."))
    if decided_on is None and (reported_on or starts_on):
        problems.setdefault("decided_on", str(_("The decision date is missing: the measure runs from its "
                                                "decision (戒毒条例 第十四条).")))
    if decided_on and reported_on and reported_on < decided_on:
        problems.setdefault("reported_on", str(_("The report-in cannot be before the decision.")))
    if starts_on and (reported_on or decided_on) and starts_on < (reported_on or decided_on):
        problems.setdefault("starts_on", str(_("The measure cannot start before the report-in "
                                               "(戒毒条例 第十四条第二款).")))
    return problems


def term_months_for(kind: str, requested: int | None = None) -> int:
    """The length of a measure's term. Community treatment is three years and compulsory
    treatment two (fixed by 禁毒法 第三十三条, 第四十七条); community rehabilitation is what the
    decision says, at most three years (禁毒法 第四十八条, 戒毒条例 第三十七条)."""
    if kind == MeasureKind.COMMUNITY_REHABILITATION and requested:
        return max(1, min(requested, TERM_MONTHS[kind]))
    return TERM_MONTHS[kind]


def term_end(kind: str, starts_on: datetime.date, term_months: int | None = None,
             extension_months: int = 0) -> datetime.date:
    """The last day of a measure's term, the first day counted (自…之日起计算).

    社区戒毒: 3 years from the report-in (禁毒法 第三十三条; 戒毒条例 第十四条第二款).
    社区康复: the decided term, at most 3 years (禁毒法 第四十八条; 戒毒条例 第三十七条); from the
    report-in too — the regulation does not say from when, and 禁毒法 第四十八条第二款 applies the
    rules of community treatment to it.
    强制隔离戒毒: 2 years from the decision (禁毒法 第四十七条第一款; 戒毒条例 第二十七条第一款),
    plus an extension of at most one year (禁毒法 第四十七条第三款)."""
    months = term_months_for(kind, term_months)
    if kind == MeasureKind.COMPULSORY_TREATMENT:
        months += max(0, min(extension_months, COMPULSORY_EXTENSION_MAX_MONTHS))
    return period_end(starts_on, months)


def early_release_assessment_due(starts_on: datetime.date) -> datetime.date:
    """禁毒法 第四十七条第二款: after one year of compulsory treatment an assessment may propose
    early release (the deciding authority answers within 7 days, 戒毒条例 第三十三条)."""
    return starts_on + relativedelta(months=EARLY_RELEASE_AFTER_MONTHS)


def termination_notice_due(ended_on: datetime.date) -> datetime.date:
    """A community measure is released when its term runs out; the police serve the release
    notice on the person and tell the township within 7 days (戒毒条例 第二十三条 for community
    treatment, 第四十条 for community rehabilitation). Returns the last day for that notice."""
    return ended_on + datetime.timedelta(days=TERMINATION_NOTICE_DAYS)


def hand_over_error(target_level: str | None, target_path: str, own_township_path: str) -> str | None:
    """Why a hand-over may not go to a place, or None. 戒毒条例 第二十二条第二款: a person who
    changes residence is handed over to the township (乡镇人民政府、城市街道办事处) of the new
    residence. So the receiving area is a township-level place of this installation's tree
    (``target_level`` None: the code is not in the tree; a move to another installation
    waits for the exchange of data between installations), and not the person's own township
    (a move inside it is a change of village on the file)."""
    if target_level is None:
        return str(_("This place is not in this system's list of areas: choose the receiving township "
                     "from the list."))
    if target_level != Level.TOWNSHIP:
        return str(_("Choose a township or street: the township that receives the person records the village."))
    if own_township_path and target_path.startswith(own_township_path):
        return str(_("That is the person's own township: change the village on the person file instead."))
    return None


def transfer_report_in_deadline(handed_over_on: datetime.date) -> datetime.date:
    """戒毒条例 第二十二条第二款: after the place of execution changes, the person reports to the new
    township within 15 days; the term runs on (连续计算)."""
    return handed_over_on + datetime.timedelta(days=REPORT_IN_DAYS)


# --- check-in plan ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanPolicy:
    """SPEC §3.1 defaults: tests monthly in year 1, every 2 months in year 2, quarterly in year 3
    (and after); interviews monthly; home visits quarterly; a half-year summary and a yearly
    evaluation. An interval of 0 means none of that kind."""

    test_every_months: tuple[int, int, int] = (1, 2, 3)
    interview_every_months: int = 1
    home_visit_every_months: int = 3
    half_year_summary: bool = True
    yearly_evaluation: bool = True


def _span_months(starts_on: datetime.date, ends_on: datetime.date) -> int:
    """Whole months from ``starts_on`` that cover the term up to ``ends_on``."""
    return (ends_on.year - starts_on.year) * 12 + ends_on.month - starts_on.month + 1


def plan_due_dates(starts_on: datetime.date, ends_on: datetime.date,
                   policy: PlanPolicy) -> list[tuple[str, datetime.date]]:
    """Every (kind, due date) of a term from ``starts_on`` to ``ends_on``, in date order.

    The term is cut into periods of the policy's interval; each period has one item, due on its
    last day (a test "every month" is due by the end of each month of the term). Drug-test
    intervals change with the year of the term; a period cut short by the end of a year or of
    the term is due on that day."""
    span = _span_months(starts_on, ends_on)
    items: list[tuple[str, datetime.date]] = []

    def add(kind: str, boundaries: list[int]):
        last = starts_on - datetime.timedelta(days=1)
        for months in boundaries:
            if last >= ends_on:
                return
            due = min(period_end(starts_on, months), ends_on)
            if due > last:
                items.append((kind, due))
                last = due

    def every(months: int) -> list[int]:
        return list(range(months, span + months, months)) if months > 0 else []

    tests: list[int] = []
    for year in range((span + 11) // 12):
        months = policy.test_every_months[min(year, len(policy.test_every_months) - 1)]
        if months <= 0:
            continue
        tests.extend(range(year * 12 + months, (year + 1) * 12, months))
        tests.append((year + 1) * 12)
    add("drug_test", sorted(set(tests)))
    add("interview", every(policy.interview_every_months))
    add("home_visit", every(policy.home_visit_every_months))
    if policy.half_year_summary:
        add("half_year_summary", every(6))
    if policy.yearly_evaluation:
        add("yearly_evaluation", every(12))
    return sorted(items, key=lambda item: (item[1], item[0]))


def plan_item_to_close(items: list[tuple[int, datetime.date, bool]], starts_on: datetime.date,
                       occurred_on: datetime.date) -> int | None:
    """Which planned item a check-in on ``occurred_on`` closes, given the (pk, due date, done)
    items of one kind of one measure in date order: the item of the period the check-in falls
    in, if it is still open; else none. A period that ended without its check-in is a missed
    check-in (``is_missed``), a fact a later check-in does not undo: it is explained, not made
    up. A check-in never closes an item of another period, before or after its own."""
    previous_due = starts_on - datetime.timedelta(days=1)
    for pk, due_on, done in items:
        if occurred_on <= previous_due:
            return None  # before the term's first period
        if occurred_on <= due_on:
            return None if done else pk
        previous_due = due_on
    return None


def is_missed(due_on: datetime.date, done: bool, today: datetime.date) -> bool:
    """漏检: the period of a planned check-in ended (its due date, the period's last day, is
    past) without the check-in. 戒毒条例 第十九条 obliges the person to take the tests and
    interviews of the plan; a period missed stays missed."""
    return not done and due_on < today


# 戒毒条例 第二十条: 逃避或者拒绝接受检测. A missed test explained as refused or evaded is a
# refusal as a refused test is.
REFUSAL_REASONS = frozenset({MissedReason.REFUSED, MissedReason.EVADED})


def missed_reason_problem(reason: str, note: str) -> dict[str, str]:
    """{field: message} for an explanation of missed check-ins that cannot be taken."""
    if reason not in MissedReason.values:
        return {"reason": str(_("Choose why the check-in was missed."))}
    if reason == MissedReason.OTHER and not (note or "").strip():
        return {"note": str(_("Say what the other reason is."))}
    return {}


# --- the rule engine ---------------------------------------------------------------------------

SERIOUS_BREACH_REFUSALS = 3
SERIOUS_BREACH_DEPARTURES = 3
SERIOUS_BREACH_DAYS_AWAY = 30


def serious_breach(refusals: int, departures: int, days_away: int) -> bool:
    """戒毒条例 第二十条: evading or refusing tests 3 or more times (以上 includes the number),
    leaving the county without leave 3 or more times, or for more than 30 days in total →
    严重违反社区戒毒协议."""
    return (refusals >= SERIOUS_BREACH_REFUSALS or departures >= SERIOUS_BREACH_DEPARTURES
            or days_away > SERIOUS_BREACH_DAYS_AWAY)


def days_away(departures: list[tuple[datetime.date, datetime.date | None]], today: datetime.date) -> int:
    """Total days away over unauthorised departures (left, returned); an open one counts to today.
    The day of leaving is not counted (民法典 第二百零一条): left on the 1st, back on the 31st is 30."""
    total = 0
    for left, returned in departures:
        total += max(0, ((returned or today) - left).days)
    return total


def exemptions(sex: str, birth_date: datetime.date, is_pregnant: bool, nursing_child_born_on: datetime.date | None,
               today: datetime.date) -> list[str]:
    """禁毒法 第三十九条第一款: compulsory treatment does not apply to a pregnant woman or a woman
    nursing her own baby under one year old, and may be waived for a minor under 16; such a
    person gets community treatment instead (第三十九条第二款; 戒毒条例 第二十六条). Returns the
    reasons that apply today, shown beside any recommendation of compulsory treatment."""
    reasons = []
    if sex == "F" and is_pregnant:
        reasons.append(str(_("Pregnant: compulsory treatment does not apply (%(source)s).")
                           % {"source": EXEMPTIONS}))
    if sex == "F" and nursing_child_born_on is not None and today < nursing_child_born_on + relativedelta(years=1):
        reasons.append(str(_("Nursing her own child under one: compulsory treatment does not apply (%(source)s).")
                           % {"source": EXEMPTIONS}))
    if age_on(birth_date, today) < 16:
        reasons.append(str(_("Under 16: compulsory treatment may be waived (%(source)s).") % {"source": EXEMPTIONS}))
    return reasons


@dataclass(frozen=True)
class Evidence:
    model: str
    pk: int
    on: datetime.date
    label: str


@dataclass(frozen=True)
class Finding:
    rule: str
    title: str
    article: str
    recommendation: str
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    compulsory: bool = False  # recommends compulsory treatment: show the 第三十九条 exemptions


@dataclass(frozen=True)
class MeasureFacts:
    pk: int
    kind: str
    decided_on: datetime.date
    reported_on: datetime.date | None
    starts_on: datetime.date | None
    ends_on: datetime.date | None
    ended_on: datetime.date | None
    refused: bool = False


@dataclass(frozen=True)
class TestFacts:
    pk: int
    on: datetime.date
    result: str
    measure_pk: int | None
    # A test refused is a refused check-in, or a missed test explained as refused or evaded
    # (persons.PlannedCheckIn, dated on its period's last day).
    model: str = "persons.CheckIn"


@dataclass(frozen=True)
class DepartureFacts:
    pk: int
    left_on: datetime.date
    returned_on: datetime.date | None
    measure_pk: int | None


@dataclass(frozen=True)
class TransferFacts:
    pk: int
    handed_over_on: datetime.date
    pending: bool


def _community(measure: MeasureFacts) -> bool:
    return measure.kind in (MeasureKind.COMMUNITY_TREATMENT, MeasureKind.COMMUNITY_REHABILITATION)


def relapse_tests(measures: list[MeasureFacts], tests: list[TestFacts]) -> list[TestFacts]:
    """Positive tests after a measure ended (禁毒法 第三十八条第一款第（四）项: 经社区戒毒、强制隔离
    戒毒后再次吸食、注射毒品), leaving out those during a running community measure, which
    ``evaluate`` reports as use during that measure."""
    ended = [m.ended_on for m in measures if m.ended_on is not None and not m.refused]
    if not ended:
        return []
    running = [(m.starts_on, m.ends_on) for m in measures
               if _community(m) and m.starts_on is not None and m.ended_on is None and not m.refused]
    first_end = min(ended)
    return [t for t in tests if t.result == "positive" and t.on > first_end
            and not any(start <= t.on <= (end or t.on) for start, end in running)]


def _reported_in_time(evidence: list[dict], measures: list[MeasureFacts]) -> bool:
    """The report-in entered after the flag was raised was made by the deadline: the finding
    rested on a record not yet entered, not on a late report-in."""
    named = {e.get("id") for e in evidence if e.get("model") == "persons.Measure"}
    on_time = {m.pk for m in measures if m.reported_on is not None and m.reported_on <= report_in_deadline(m.decided_on)}
    return bool(named) and named <= on_time


@dataclass(frozen=True)
class FlagRule:
    """What a rule's finding rests on, which decides how its flag ends.

    A finding on a past event (a deadline let pass, a test refused or positive, a departure
    without leave) is a fact from the day it happened: what happens later does not undo it, so
    its flag stays open with its evidence until a person decides on it or dismisses it
    (services.do_decide_flag, do_dismiss_flag) — unless the records entered since show that the
    event did not happen (``disproved_by``: a report-in made in time, entered late). A finding
    on a present state (a term run out and the release not yet recorded, a transfer still
    waiting for receipt) is true only while the state lasts: its flag resolves by itself when
    the state ends."""

    name: str
    resolves_when_state_ends: bool
    basis: str  # the article, and why the finding is of that kind
    disproved_by: object = None  # (evidence, measures) -> bool, for a past event


FLAG_RULES: dict[str, FlagRule] = {rule.name: rule for rule in (
    # 逾期未报到的，视为拒绝接受社区戒毒: the refusal is a fact from the 16th day; a later report-in
    # does not erase it (the same deadline for rehabilitation, 第三十八条第一款).
    FlagRule("report_in_overdue", False, REPORT_IN_TREATMENT, disproved_by=_reported_in_time),
    # 拒绝接受检测三次以上, 擅自离开三次以上或者累计超过30日: the refusals and departures happened.
    FlagRule("serious_breach", False, SERIOUS_BREACH),
    # 在社区戒毒期间吸食、注射毒品: the positive test happened, whatever follows.
    FlagRule("use_during_measure", False, GROUND_USE),
    # 经社区戒毒、强制隔离戒毒后再次吸食、注射毒品: the positive test happened.
    FlagRule("relapse_after_treatment", False, GROUND_RELAPSE),
    # 社区戒毒期满: the release is to be recorded; once recorded (or the measure ended otherwise)
    # nothing is left to do.
    FlagRule("term_ended", True, f"{RELEASE_TREATMENT}; {RELEASE_REHABILITATION}"),
    # 执行一年后…可以提出提前解除的意见: possible while the compulsory treatment runs.
    FlagRule("early_release_assessment", True, EARLY_RELEASE),
    # The receiving township has not confirmed receipt: true while the transfer waits; received,
    # withdrawn or refused, the state has ended (the person's own report-in is not recorded here).
    FlagRule("transfer_not_received", True, CHANGE_OF_PLACE),
)}


def resolves_when_state_ends(rule: str) -> bool:
    """Whether ``rule`` is about a present state (FLAG_RULES). A rule not listed (one since
    removed) is treated as a past event: a person closes its flags."""
    known = FLAG_RULES.get(rule)
    return known is not None and known.resolves_when_state_ends


def flag_resolves(rule: str, evidence: list[dict], measures: list[MeasureFacts]) -> bool:
    """Whether an open flag that ``evaluate`` no longer finds resolves by itself: its present
    state has ended, or the records show its past event did not happen. Otherwise it stays
    open with its evidence for a person to decide."""
    known = FLAG_RULES.get(rule)
    if known is None:
        return False
    if known.resolves_when_state_ends:
        return True
    return known.disproved_by is not None and known.disproved_by(evidence, measures)


def evaluate(measures: list[MeasureFacts], tests: list[TestFacts], departures: list[DepartureFacts],
             today: datetime.date, relapsed_after_treatment: bool = False,
             transfers: list[TransferFacts] = ()) -> list[Finding]:
    """Everything the rules find for one person today. The caller stores one flag per rule;
    a flag its rule no longer finds resolves only as ``flag_resolves`` says (FLAG_RULES), and
    stays for a person to decide otherwise."""
    findings: list[Finding] = []
    compulsory_advice = str(_("Consider compulsory treatment (local policy: %(policy)s).") % {"policy": LOCAL_POLICY})
    for measure in measures:
        if not _community(measure) or measure.ended_on is not None or measure.refused:
            continue
        # Reported after the deadline is the same fact as not reported by it (第十四条第一款).
        if not report_in_overdue(measure.decided_on, measure.reported_on, today):
            continue
        deadline = report_in_deadline(measure.decided_on)
        evidence = (Evidence("persons.Measure", measure.pk, measure.decided_on,
                             str(_("Decision of %(date)s, report-in deadline %(deadline)s")) % {
                                 "date": measure.decided_on, "deadline": deadline}),)
        if measure.kind == MeasureKind.COMMUNITY_TREATMENT:
            findings.append(Finding(
                rule="report_in_overdue",
                title=str(_("Did not report in within 15 days: deemed to refuse community treatment")),
                article=f"{REPORT_IN_TREATMENT}; {GROUND_REFUSAL}", recommendation=compulsory_advice,
                evidence=evidence, compulsory=True,
            ))
        else:
            findings.append(Finding(
                rule="report_in_overdue",
                title=str(_("Did not report in within 15 days for community rehabilitation")),
                article=f"{REPORT_IN_REHABILITATION}; {REHABILITATION_BREACH}",
                recommendation=str(_("Report to the police. If the person is sent to compulsory treatment for "
                                     "using again, it may not end early.")),
                evidence=evidence,
            ))
    current = [m for m in measures if _community(m) and m.ended_on is None and not m.refused]
    for measure in current:
        if measure.starts_on is None:
            continue
        treatment = measure.kind == MeasureKind.COMMUNITY_TREATMENT
        window_end = min(measure.ends_on or today, today)
        in_term = [t for t in tests if measure.starts_on <= t.on <= window_end]
        refusals = [t for t in in_term if t.result == "refused"]
        positives = [t for t in in_term if t.result == "positive"]
        gone = [d for d in departures if measure.starts_on <= d.left_on <= window_end]
        away = days_away([(d.left_on, min(d.returned_on or window_end, window_end)) for d in gone], today)
        if serious_breach(len(refusals), len(gone), away):
            evidence = tuple(Evidence(t.model, t.pk, t.on, str(_("Test refused or evaded"))) for t in refusals)
            evidence += tuple(Evidence("persons.CheckIn", d.pk, d.left_on, str(_("Left without leave")))
                              for d in gone)
            if treatment:
                findings.append(Finding(
                    rule="serious_breach",
                    title=str(_("Serious breach of the community treatment agreement")),
                    article=f"{SERIOUS_BREACH}; {GROUND_BREACH}", recommendation=compulsory_advice,
                    evidence=evidence, compulsory=True,
                ))
            else:
                findings.append(Finding(
                    rule="serious_breach",
                    title=str(_("Serious breach of the community rehabilitation agreement")),
                    article=f"{SERIOUS_BREACH}; {REHABILITATION_AS_TREATMENT}; {REHABILITATION_BREACH}",
                    recommendation=str(_("Report to the police. If the person is sent to compulsory treatment for "
                                         "using again, it may not end early.")),
                    evidence=evidence,
                ))
        if positives:
            findings.append(Finding(
                rule="use_during_measure",
                title=str(_("Drug use during community measures (positive test)")),
                # Using during rehabilitation is using again after compulsory treatment.
                article=(f"{GROUND_USE}; {REPORT_TO_POLICE}" if treatment
                         else f"{GROUND_RELAPSE}; {REHABILITATION_BREACH}"),
                recommendation=compulsory_advice,
                evidence=tuple(Evidence("persons.CheckIn", t.pk, t.on, str(_("Positive test"))) for t in positives),
                compulsory=True,
            ))
        if measure.ends_on is not None and today > measure.ends_on:
            source = RELEASE_SOURCE[measure.kind]
            findings.append(Finding(
                rule="term_ended",
                title=str(_("The term ended on %(date)s: record the release")) % {"date": measure.ends_on},
                article=source,
                recommendation=str(_("The police serve the release notice and tell the township by %(date)s.")) % {
                    "date": termination_notice_due(measure.ends_on)},
                evidence=(Evidence("persons.Measure", measure.pk, measure.starts_on,
                                   str(_("Term %(start)s – %(end)s")) % {"start": measure.starts_on,
                                                                         "end": measure.ends_on}),),
            ))
    relapses = relapse_tests(measures, tests)
    if relapses or relapsed_after_treatment:
        findings.append(Finding(
            rule="relapse_after_treatment",
            title=str(_("Relapse after community or compulsory treatment")),
            article=GROUND_RELAPSE,
            recommendation=compulsory_advice,
            evidence=tuple(Evidence("persons.CheckIn", t.pk, t.on, str(_("Positive test"))) for t in relapses),
            compulsory=True,
        ))
    for measure in measures:
        if measure.kind == MeasureKind.COMPULSORY_TREATMENT and measure.starts_on and measure.ended_on is None:
            due = early_release_assessment_due(measure.starts_on)
            if today >= due:
                findings.append(Finding(
                    rule="early_release_assessment",
                    title=str(_("Early-release assessment possible (one year of compulsory treatment)")),
                    article=EARLY_RELEASE,
                    recommendation=str(_("Assess; a person released early is ordered community rehabilitation "
                                         "(%(source)s; local policy: %(policy)s).")) % {
                        "source": TERM_REHABILITATION, "policy": LOCAL_POLICY},
                    evidence=(Evidence("persons.Measure", measure.pk, measure.starts_on,
                                       str(_("Compulsory treatment since %(date)s")) % {"date": measure.starts_on}),),
                ))
    late = [t for t in transfers if t.pending and today > transfer_report_in_deadline(t.handed_over_on)]
    if late and current:
        findings.append(Finding(
            rule="transfer_not_received",
            title=str(_("Not received by the new township within 15 days of the hand-over")),
            article=CHANGE_OF_PLACE,
            recommendation=str(_("Check that the person reported in at the new township; if not, report to "
                                 "the police.")),
            evidence=tuple(Evidence("persons.Transfer", t.pk, t.handed_over_on, str(_("Handed over")))
                           for t in late),
        ))
    return findings


# --- risk assessment (风险分类评估, seed 000) ---------------------------------------------------

# Points per factor: a flag adds its weight once; a count adds it per occurrence, up to
# RISK_COUNT_CAP. The office changes them per jurisdiction (persons.models.RiskModel).
DEFAULT_RISK_WEIGHTS: dict[str, int] = {
    "relapse": 25,  # used again after a measure ended (禁毒法 第三十八条第一款第（四）项)
    "recent_positive": 25,  # a positive test in the last 6 months
    "refusals": 10,  # refused or evaded tests in the last 12 months, each
    "departures": 5,  # unauthorised departures in the last 12 months, each
    "not_reported_in": 20,  # a community measure not reported in within 15 days (戒毒条例 第十四条)
    "whereabouts_unknown": 30,  # 失控
    "unstable_living": 15,  # 两无: neither job nor home (seed 003)
    "unemployed": 10,  # no job (一有 or 两无)
    "no_family_support": 10,
    # Not known (nothing entered, a ledger without the column): not counted as support, scored as
    # its lack by default and named as what it is; the office may weigh it otherwise (issue 20).
    "family_support_unknown": 10,
    "mental_disorder": 20,
    "violence_history": 20,
    "drug_driving_history": 15,
}
DEFAULT_RISK_HIGH = 60
DEFAULT_RISK_MEDIUM = 30
RISK_COUNT_CAP = 3
RECENT_POSITIVE_MONTHS = 6
RECENT_BREACH_MONTHS = 12
RELAPSE_YEARS = 3  # 戒毒条例 第七条: after 3 years without relapse, no more dynamic control

RISK_FACTOR_LABELS = {
    "relapse": _("Used drugs again after a measure"),
    "recent_positive": _("Positive test in the last 6 months"),
    "refusals": _("Refused or evaded tests in the last 12 months"),
    "departures": _("Unauthorised departures in the last 12 months"),
    "not_reported_in": _("Did not report in for a community measure"),
    "whereabouts_unknown": _("Whereabouts unknown"),
    "unstable_living": _("Neither job nor home"),
    "unemployed": _("No job"),
    "no_family_support": _("No family support"),
    "family_support_unknown": _("Family support not known"),
    "mental_disorder": _("Mental disorder"),
    "violence_history": _("History of violence"),
    "drug_driving_history": _("History of drug driving"),
}


@dataclass(frozen=True)
class PersonRiskFacts:
    """What ``risk_factors`` needs to know about a person, as plain values."""

    living_situation: str
    family_support: bool | None  # None: not known
    mental_disorder: bool
    violence_history: bool
    drug_driving_history: bool
    whereabouts_unknown: bool


def risk_factors(person: PersonRiskFacts, measures: list[MeasureFacts], tests: list[TestFacts],
                 departures: list[DepartureFacts], today: datetime.date) -> dict[str, bool | int]:
    """The default factors of SPEC §3.1 from a person's facts and records."""
    recent = today - relativedelta(months=RECENT_POSITIVE_MONTHS)
    year_ago = today - relativedelta(months=RECENT_BREACH_MONTHS)
    relapse_since = today - relativedelta(years=RELAPSE_YEARS)
    return {
        "relapse": any(t.on > relapse_since for t in relapse_tests(measures, tests)),
        "recent_positive": any(t.result == "positive" and recent < t.on <= today for t in tests),
        "refusals": sum(1 for t in tests if t.result == "refused" and year_ago < t.on <= today),
        "departures": sum(1 for d in departures if year_ago < d.left_on <= today),
        "not_reported_in": any(_community(m) and m.ended_on is None and m.reported_on is None and not m.refused
                               and report_in_overdue(m.decided_on, None, today) for m in measures),
        "whereabouts_unknown": person.whereabouts_unknown,
        "unstable_living": person.living_situation == LivingSituation.UNSTABLE,
        "unemployed": person.living_situation in (LivingSituation.HOUSED, LivingSituation.UNSTABLE),
        # An unknown family support is not a support: its own factor, not a "no" (issue 20).
        "no_family_support": person.family_support is False,
        "family_support_unknown": person.family_support is None,
        "mental_disorder": person.mental_disorder,
        "violence_history": person.violence_history,
        "drug_driving_history": person.drug_driving_history,
    }


def risk_level(score: int, high: int, medium: int) -> str:
    """高 from ``high`` points, 中 from ``medium``, otherwise 低."""
    if score >= high:
        return RiskLevel.HIGH
    if score >= medium:
        return RiskLevel.MEDIUM
    return RiskLevel.LOW


def risk_score(factors: dict[str, bool | int], weights: dict[str, int], high: int = DEFAULT_RISK_HIGH,
               medium: int = DEFAULT_RISK_MEDIUM) -> tuple[int, str, list[dict]]:
    """Score a person's risk (风险分类评估, seed 000): (score, level, contributions).

    Each factor present adds its weight — once for a yes/no factor, per occurrence for a count,
    up to RISK_COUNT_CAP occurrences. A factor without a weight adds nothing. The contributions
    explain the score: one entry per factor present, with its value, weight and points, largest
    first."""
    if medium > high:
        raise ValueError("the medium threshold must not be above the high one")
    contributions = []
    for name, value in factors.items():
        if isinstance(value, bool):
            units = 1 if value else 0
        else:
            units = min(max(int(value or 0), 0), RISK_COUNT_CAP)
        weight = int(weights.get(name, 0))
        if not units or not weight:
            continue
        contributions.append({"factor": name, "label": str(RISK_FACTOR_LABELS.get(name, name)),
                              "value": value if isinstance(value, bool) else int(value),
                              "weight": weight, "points": units * weight})
    contributions.sort(key=lambda c: (-c["points"], c["factor"]))
    score = max(0, sum(c["points"] for c in contributions))
    return score, risk_level(score, high, medium), contributions
