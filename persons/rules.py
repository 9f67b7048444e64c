"""Legal clocks and rules for registered persons, as pure functions citing their source.

Laws: 中华人民共和国禁毒法 (2008) and 戒毒条例 (国务院令第597号, 2011). Seeds: 003 (三个凡是),
004 (四个一律), 000 (risk classification). Nothing here touches the database: services pass
plain values in and store what comes out, so each rule is tested with a table of cases.
"""

import datetime
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext_lazy as _

from persons.choices import MeasureKind

# --- ID numbers (GB 11643) ----------------------------------------------------------------


class IdNumberError(ValueError):
    pass


def normalise_id_number(raw: str) -> str:
    """Clean an ID number and upgrade a 15-digit first-generation number to 18 digits.

    Full-width digits, spaces and a lower-case x are accepted. The check digit and the birth
    date are verified; the area code is not (a number keeps the code in force where it was
    first issued, which may be younger than its holder — SPEC §3.1)."""
    from stdnum.cn import ric

    text = (raw or "").translate(_FULL_WIDTH).replace(" ", "").replace("-", "").strip().upper()
    if len(text) == 15 and text.isdigit():
        body = text[:6] + "19" + text[6:]
        text = body + ric.calc_check_digit(body + "0")
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise IdNumberError(_("An ID number has 18 characters: 17 digits and a digit or X."))
    if ric.calc_check_digit(text) != text[17]:
        raise IdNumberError(_("The check digit is wrong: the number was mistyped."))
    try:
        ric.get_birth_date(text)
    except Exception:
        raise IdNumberError(_("The birth date inside the number does not exist.")) from None
    return text


_FULL_WIDTH = str.maketrans("０１２３４５６７８９ｘＸ　", "0123456789XX ")


def birth_date_of(id_number: str) -> datetime.date:
    return datetime.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def sex_of(id_number: str) -> str:
    """GB 11643: the 17th digit is odd for men, even for women."""
    return "M" if int(id_number[16]) % 2 else "F"


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


# --- measures and their clocks ---------------------------------------------------------------

REPORT_IN_DAYS = 15
TERMINATION_NOTICE_DAYS = 7
TERM_MONTHS = {
    MeasureKind.COMMUNITY_TREATMENT: 36,  # 禁毒法 第三十三条: 社区戒毒的期限为三年
    MeasureKind.COMMUNITY_REHABILITATION: 36,  # 禁毒法 第四十八条: 不超过三年
    MeasureKind.COMPULSORY_TREATMENT: 24,  # 禁毒法 第四十七条: 二年
}
COMPULSORY_EXTENSION_MAX_MONTHS = 12  # 禁毒法 第四十七条: 延长最长不得超过一年
EARLY_RELEASE_AFTER_MONTHS = 12  # 禁毒法 第四十七条: 执行一年后经诊断评估可提前解除


def report_in_deadline(decided_on: datetime.date) -> datetime.date:
    """戒毒条例 第十四条: report within 15 days of receiving the decision (the 15th day is the
    last one allowed)."""
    return decided_on + datetime.timedelta(days=REPORT_IN_DAYS)


def report_in_overdue(decided_on: datetime.date, reported_on: datetime.date | None, today: datetime.date) -> bool:
    """戒毒条例 第十四条: not reported by the deadline → 视为拒绝接受社区戒毒."""
    deadline = report_in_deadline(decided_on)
    if reported_on is not None:
        return reported_on > deadline
    return today > deadline


def term_end(kind: str, starts_on: datetime.date, term_months: int | None = None,
             extension_months: int = 0) -> datetime.date:
    """The last day of a measure's term: 社区戒毒 3 years from report-in (戒毒条例 第十四条),
    社区康复 up to 3 years (禁毒法 第四十八条), 强制隔离戒毒 2 years plus an extension of at
    most 1 year (禁毒法 第四十七条)."""
    months = term_months if term_months is not None else TERM_MONTHS[kind]
    if kind == MeasureKind.COMPULSORY_TREATMENT:
        extension_months = min(extension_months, COMPULSORY_EXTENSION_MAX_MONTHS)
    else:
        extension_months = 0
        months = min(months, TERM_MONTHS[kind])
    return starts_on + relativedelta(months=months + extension_months) - datetime.timedelta(days=1)


def early_release_assessment_due(starts_on: datetime.date) -> datetime.date:
    """禁毒法 第四十七条: after one year of compulsory treatment an assessment may propose early release."""
    return starts_on + relativedelta(months=EARLY_RELEASE_AFTER_MONTHS)


def termination_notice_due(ended_on: datetime.date) -> datetime.date:
    """The notice of the end of community treatment/rehabilitation is due within 7 days (戒毒条例)."""
    return ended_on + datetime.timedelta(days=TERMINATION_NOTICE_DAYS)


# --- check-in plan ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanPolicy:
    """SPEC §3.1 defaults: tests monthly in year 1, every 2 months in year 2, quarterly in year 3;
    interviews monthly; home visits quarterly; a half-year summary and a yearly evaluation."""

    test_every_months: tuple[int, int, int] = (1, 2, 3)
    interview_every_months: int = 1
    home_visit_every_months: int = 3
    half_year_summary: bool = True
    yearly_evaluation: bool = True


def plan_due_dates(starts_on: datetime.date, ends_on: datetime.date, policy: PlanPolicy) -> list[tuple[str, datetime.date]]:
    """Every (kind, due date) of a term from ``starts_on`` to ``ends_on``, in date order."""
    items: list[tuple[str, datetime.date]] = []

    def every(kind: str, months: int, first_after: int | None = None):
        if months <= 0:
            return
        step = first_after or months
        while True:
            due = starts_on + relativedelta(months=step)
            if due > ends_on:
                return
            items.append((kind, due))
            step += months

    for year, months in enumerate(policy.test_every_months):
        if months <= 0:
            continue
        step = year * 12 + months
        while step <= (year + 1) * 12:
            due = starts_on + relativedelta(months=step)
            if due > ends_on:
                break
            items.append(("drug_test", due))
            step += months
    every("interview", policy.interview_every_months)
    every("home_visit", policy.home_visit_every_months)
    if policy.half_year_summary:
        every("half_year_summary", 6)
    if policy.yearly_evaluation:
        every("yearly_evaluation", 12)
    return sorted(items, key=lambda item: (item[1], item[0]))


# --- the rule engine ---------------------------------------------------------------------------

SERIOUS_BREACH_REFUSALS = 3
SERIOUS_BREACH_DEPARTURES = 3
SERIOUS_BREACH_DAYS_AWAY = 30


def serious_breach(refusals: int, departures: int, days_away: int) -> bool:
    """戒毒条例 第二十条: evading or refusing tests 3 or more times, leaving the county without
    leave 3 or more times, or for more than 30 days in total → 严重违反社区戒毒协议."""
    return (refusals >= SERIOUS_BREACH_REFUSALS or departures >= SERIOUS_BREACH_DEPARTURES
            or days_away > SERIOUS_BREACH_DAYS_AWAY)


def days_away(departures: list[tuple[datetime.date, datetime.date | None]], today: datetime.date) -> int:
    """Total days away over unauthorised departures (left, returned); an open one counts to today."""
    total = 0
    for left, returned in departures:
        total += max(0, ((returned or today) - left).days)
    return total


def exemptions(sex: str, birth_date: datetime.date, is_pregnant: bool, nursing_child_born_on: datetime.date | None,
               today: datetime.date) -> list[str]:
    """禁毒法 第三十九条: not for pregnant women or women nursing their own child under one;
    may be waived for minors under 16. Returns the reasons that apply (shown beside any
    recommendation of compulsory treatment)."""
    reasons = []
    if sex == "F" and is_pregnant:
        reasons.append(str(_("Pregnant: compulsory treatment does not apply (禁毒法 第三十九条).")))
    if sex == "F" and nursing_child_born_on is not None and today < nursing_child_born_on + relativedelta(years=1):
        reasons.append(str(_("Nursing her own child under one: compulsory treatment does not apply "
                             "(禁毒法 第三十九条).")))
    if age_on(birth_date, today) < 16:
        reasons.append(str(_("Under 16: compulsory treatment may be waived (禁毒法 第三十九条).")))
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


@dataclass(frozen=True)
class DepartureFacts:
    pk: int
    left_on: datetime.date
    returned_on: datetime.date | None
    measure_pk: int | None


def _community(measure: MeasureFacts) -> bool:
    return measure.kind in (MeasureKind.COMMUNITY_TREATMENT, MeasureKind.COMMUNITY_REHABILITATION)


def evaluate(measures: list[MeasureFacts], tests: list[TestFacts], departures: list[DepartureFacts],
             today: datetime.date, relapsed_after_treatment: bool = False) -> list[Finding]:
    """Everything the rules find for one person today. The caller stores one flag per rule
    and resolves flags whose rule no longer finds anything (idempotent)."""
    findings: list[Finding] = []
    current = [m for m in measures if _community(m) and m.ended_on is None and not m.refused]
    for measure in measures:
        if measure.kind == MeasureKind.COMMUNITY_TREATMENT and measure.ended_on is None and report_in_overdue(
                measure.decided_on, measure.reported_on, today) and measure.reported_on is None:
            findings.append(Finding(
                rule="report_in_overdue",
                title=str(_("Did not report in within 15 days: deemed to refuse community treatment")),
                article=str(_("戒毒条例 第十四条; 禁毒法 第三十八条第一款第（一）项")),
                recommendation=str(_("Consider compulsory treatment (三个凡是, seed 003; 四个一律, seed 004).")),
                evidence=(Evidence("persons.Measure", measure.pk, measure.decided_on,
                                   str(_("Decision of %(date)s, report-in deadline %(deadline)s")) % {
                                       "date": measure.decided_on, "deadline": report_in_deadline(measure.decided_on)}),),
                compulsory=True,
            ))
    for measure in current:
        if measure.starts_on is None:
            continue
        window_end = measure.ends_on or today
        in_term = [t for t in tests if measure.starts_on <= t.on <= window_end]
        refusals = [t for t in in_term if t.result == "refused"]
        positives = [t for t in in_term if t.result == "positive"]
        gone = [d for d in departures if measure.starts_on <= d.left_on <= window_end]
        away = days_away([(d.left_on, d.returned_on) for d in gone], today)
        if serious_breach(len(refusals), len(gone), away):
            evidence = tuple(Evidence("persons.CheckIn", t.pk, t.on, str(_("Test refused or evaded"))) for t in refusals)
            evidence += tuple(Evidence("persons.CheckIn", d.pk, d.left_on, str(_("Left without leave")))
                              for d in gone)
            findings.append(Finding(
                rule="serious_breach",
                title=str(_("Serious breach of the community treatment agreement")),
                article=str(_("戒毒条例 第二十条; 禁毒法 第三十八条第一款第（三）项")),
                recommendation=str(_("Consider compulsory treatment (三个凡是, seed 003; 四个一律, seed 004).")),
                evidence=evidence, compulsory=True,
            ))
        if positives:
            findings.append(Finding(
                rule="use_during_measure",
                title=str(_("Drug use during community measures (positive test)")),
                article=str(_("禁毒法 第三十八条第一款第（二）项")),
                recommendation=str(_("Consider compulsory treatment.")),
                evidence=tuple(Evidence("persons.CheckIn", t.pk, t.on, str(_("Positive test"))) for t in positives),
                compulsory=True,
            ))
    if relapsed_after_treatment:
        findings.append(Finding(
            rule="relapse_after_treatment",
            title=str(_("Relapse after community or compulsory treatment")),
            article=str(_("禁毒法 第三十八条第一款第（四）项")),
            recommendation=str(_("Consider compulsory treatment.")),
            compulsory=True,
        ))
    for measure in measures:
        if measure.kind == MeasureKind.COMPULSORY_TREATMENT and measure.starts_on and measure.ended_on is None:
            due = early_release_assessment_due(measure.starts_on)
            if today >= due:
                findings.append(Finding(
                    rule="early_release_assessment",
                    title=str(_("Early-release assessment due (one year of compulsory treatment)")),
                    article=str(_("禁毒法 第四十七条")),
                    recommendation=str(_("Assess; if released, order community rehabilitation "
                                         "(三个凡是, seed 003; 四个一律, seed 004; 禁毒法 第四十八条).")),
                    evidence=(Evidence("persons.Measure", measure.pk, measure.starts_on,
                                       str(_("Compulsory treatment since %(date)s")) % {"date": measure.starts_on}),),
                ))
    return findings
