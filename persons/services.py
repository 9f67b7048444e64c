"""Every change to a person file goes through these functions; each writes its own audit
entry and re-evaluates the rules the change may affect (SPEC §3.1; STYLE: Zulip actions)."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin

from core import audit
from core.fields import blind_lookup
from core.masking import mask_id_number, mask_phone
from core.models import AuditEntry
from core.roles import Role, has_any_role
from core.services import save_versioned
from jurisdictions.choices import Level
from persons import rules
from persons.choices import (
    CheckInKind,
    ControlStatus,
    DrugTestResult,
    FlagState,
    MeasureKind,
    MeasureState,
)
from persons.models import (
    CheckIn,
    CheckInPolicy,
    Flag,
    Measure,
    Person,
    PersonSubstance,
    PlannedCheckIn,
    StatusChange,
)

# Roles that keep person files (the member unit records support only).
WRITER_ROLES = frozenset({Role.OFFICE, Role.TOWNSHIP, Role.SOCIAL_WORKER, Role.POLICE})
AUDIT_MASKS = {"id_number": mask_id_number, "phone": mask_phone, "family_contacts": lambda v: "***" if v else v}
EDITABLE_FIELDS = {
    "name", "registered_residence", "current_address", "phone", "jurisdiction", "grid", "first_found_on",
    "first_found_approximate", "found_how", "living_situation", "is_pregnant", "nursing_child_born_on",
    "hiv_positive", "serious_illness", "mental_disorder", "violence_history", "drug_driving_history",
    "family_support", "family_contacts", "assigned_worker", "notes",
}


class NotAllowed(PermissionError):
    pass


def _require_writer(acting_user, person: Person | None = None):
    if acting_user is None:
        return  # the command-line operator (imports, demo)
    if not has_any_role(acting_user, WRITER_ROLES):
        raise NotAllowed(_("Your role does not keep person files."))
    if person is not None and not Person.objects.visible_to(acting_user).filter(pk=person.pk).exists():
        raise NotAllowed(_("This person is outside your area."))


def _require_area(acting_user, jurisdiction):
    if acting_user is None:
        return
    from jurisdictions.models import Jurisdiction

    if not Jurisdiction.objects.visible_to(acting_user).filter(pk=jurisdiction.pk).exists():
        raise NotAllowed(_("%(name)s is outside your area.") % {"name": jurisdiction.name})


def pinyin_initials(name: str) -> str:
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()


def _snapshot(person: Person) -> dict:
    values = {name: getattr(person, name) for name in sorted(EDITABLE_FIELDS)}
    for key in ("jurisdiction", "grid", "assigned_worker"):
        related = values[key]
        values[key] = str(related.pk) if related is not None else None
    return values


def find_by_id_number(id_number: str) -> Person | None:
    """Exact look-up through the blind index (no decryption of the table)."""
    return Person.objects.filter(**blind_lookup(Person, "id_number", id_number)).first()


def _check_place(jurisdiction, grid):
    if jurisdiction.level not in (Level.VILLAGE, Level.TOWNSHIP):
        raise ValidationError({"jurisdiction": _("Choose the village (or the township if the village is unknown).")})
    if grid is not None and (grid.level != Level.GRID or not grid.is_within(jurisdiction)):
        raise ValidationError({"grid": _("The grid must lie in the chosen village.")})


@transaction.atomic
def do_create_person(*, acting_user, name: str, id_number: str, jurisdiction, control_status: str,
                     control_status_since: datetime.date, substances=(), grid=None, document_number: str = "",
                     **fields) -> Person:
    """Open a person file: one per ID number (the blind index is unique)."""
    _require_writer(acting_user)
    _require_area(acting_user, jurisdiction)
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    try:
        id_number = rules.normalise_id_number(id_number)
    except rules.IdNumberError as error:
        raise ValidationError({"id_number": str(error)}) from None
    if not name.strip():
        raise ValidationError({"name": _("The name is empty.")})
    _check_place(jurisdiction, grid)
    if find_by_id_number(id_number) is not None:
        raise ValidationError({"id_number": _("A file with this ID number exists already.")})
    person = Person(
        name=name.strip(), name_initials=pinyin_initials(name), id_number=id_number,
        sex=rules.sex_of(id_number), birth_date=rules.birth_date_of(id_number), jurisdiction=jurisdiction, grid=grid,
        county_code=jurisdiction.county_code, control_status=control_status,
        control_status_since=control_status_since, **fields,
    )
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:
        raise ValidationError({"id_number": _("A file with this ID number exists already.")}) from None
    PersonSubstance.objects.bulk_create([PersonSubstance(person=person, substance=s) for s in sorted(set(substances))])
    StatusChange.objects.create(person=person, county_code=person.county_code, status=control_status,
                                changed_on=control_status_since, document_number=document_number,
                                recorded_by=acting_user)
    audit.record(AuditEntry.Action.CREATE, actor=acting_user, obj=person, changes=audit.diff(
        {}, _snapshot(person) | {"id_number": id_number, "control_status": control_status,
                                 "substances": sorted(set(substances))}, masks=AUDIT_MASKS))
    return person


@transaction.atomic
def do_update_person(person: Person, *, expected_version: int, acting_user, substances=None, **fields) -> Person:
    _require_writer(acting_user, person)
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    before = _snapshot(person) | {"substances": sorted(person.substances.values_list("substance", flat=True))}
    for name, value in fields.items():
        setattr(person, name, value)
    if "jurisdiction" in fields or "grid" in fields:
        _require_area(acting_user, person.jurisdiction)
        _check_place(person.jurisdiction, person.grid)
        person.county_code = person.jurisdiction.county_code
    if "name" in fields:
        person.name_initials = pinyin_initials(person.name)
    save_versioned(person, expected_version, sorted(set(fields) | {"name_initials", "county_code"}))
    after = _snapshot(person)
    if substances is not None:
        person.substances.exclude(substance__in=substances).delete()
        held = set(person.substances.values_list("substance", flat=True))
        PersonSubstance.objects.bulk_create([PersonSubstance(person=person, substance=s)
                                             for s in sorted(set(substances) - held)])
        after["substances"] = sorted(set(substances))
    else:
        after["substances"] = before["substances"]
    changes = audit.diff(before, after, masks=AUDIT_MASKS)
    if changes:
        audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=person, changes=changes)
    evaluate_flags(person)
    return person


@transaction.atomic
def do_change_status(person: Person, status: str, changed_on: datetime.date, *, acting_user,
                     document_number: str = "", note: str = "") -> StatusChange:
    _require_writer(acting_user, person)
    if status not in ControlStatus.values:
        raise ValidationError({"status": _("Unknown control status.")})
    before = person.control_status
    change = StatusChange.objects.create(person=person, status=status, changed_on=changed_on,
                                         document_number=document_number, note=note, recorded_by=acting_user)
    if changed_on >= person.control_status_since:
        Person.objects.filter(pk=person.pk).update(control_status=status, control_status_since=changed_on)
        person.control_status, person.control_status_since = status, changed_on
    audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=person, changes={
        "control_status": [before, status], "changed_on": [None, changed_on], "document_number": [None,
                                                                                                  document_number]})
    evaluate_flags(person)
    return change


# --- measures ----------------------------------------------------------------------------------

MEASURE_STATUS = {
    MeasureKind.COMMUNITY_TREATMENT: ControlStatus.COMMUNITY_TREATMENT,
    MeasureKind.COMMUNITY_REHABILITATION: ControlStatus.COMMUNITY_REHABILITATION,
    MeasureKind.COMPULSORY_TREATMENT: ControlStatus.COMPULSORY_TREATMENT,
}


@transaction.atomic
def do_decide_measure(person: Person, kind: str, decided_on: datetime.date, *, acting_user,
                      decision_number: str = "", deciding_authority: str = "", executing_jurisdiction=None,
                      term_months: int | None = None) -> Measure:
    """Record a decision. Community measures wait for the report-in (戒毒条例 第十四条);
    compulsory treatment starts on the decision date (禁毒法 第四十七条)."""
    _require_writer(acting_user, person)
    if kind not in MeasureKind.values:
        raise ValidationError({"kind": _("Unknown measure.")})
    months = min(term_months or rules.TERM_MONTHS[kind], rules.TERM_MONTHS[kind])
    executing = executing_jurisdiction or _township_of(person.jurisdiction)
    measure = Measure(person=person, kind=kind, decided_on=decided_on, decision_number=decision_number,
                      deciding_authority=deciding_authority, executing_jurisdiction=executing, term_months=months,
                      recorded_by=acting_user, state=MeasureState.AWAITING_REPORT)
    if kind == MeasureKind.COMPULSORY_TREATMENT:
        measure.state = MeasureState.IN_EFFECT
        measure.starts_on = decided_on
        measure.ends_on = rules.term_end(kind, decided_on, months)
    measure.save()
    audit.record(AuditEntry.Action.CREATE, actor=acting_user, obj=measure, changes={
        "person": [None, person.pk], "kind": [None, kind], "decided_on": [None, decided_on],
        "decision_number": [None, decision_number]})
    if kind == MeasureKind.COMPULSORY_TREATMENT:
        do_change_status(person, MEASURE_STATUS[kind], decided_on, acting_user=acting_user,
                         document_number=decision_number)
    else:
        evaluate_flags(person)
    return measure


def _township_of(jurisdiction):
    if jurisdiction.level == Level.TOWNSHIP:
        return jurisdiction
    return jurisdiction.ancestors().filter(level=Level.TOWNSHIP).first() or jurisdiction


@transaction.atomic
def do_report_in(measure: Measure, reported_on: datetime.date, *, acting_user) -> Measure:
    """The person reported in: the term runs from today (戒毒条例 第十四条), the check-in plan
    is generated and the control status changes."""
    _require_writer(acting_user, measure.person)
    if measure.state != MeasureState.AWAITING_REPORT:
        raise ValidationError(_("This measure is not waiting for a report-in."))
    if reported_on < measure.decided_on:
        raise ValidationError({"reported_on": _("The report-in cannot be before the decision.")})
    measure.reported_on = reported_on
    measure.starts_on = reported_on
    measure.ends_on = rules.term_end(measure.kind, reported_on, measure.term_months)
    measure.state = MeasureState.IN_EFFECT
    measure.save(update_fields=["reported_on", "starts_on", "ends_on", "state"])
    generate_plan(measure)
    audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=measure, changes={
        "reported_on": [None, reported_on], "ends_on": [None, measure.ends_on]})
    do_change_status(measure.person, MEASURE_STATUS[measure.kind], reported_on, acting_user=acting_user,
                     document_number=measure.decision_number)
    return measure


@transaction.atomic
def do_end_measure(measure: Measure, ended_on: datetime.date, *, acting_user, reason: str = "",
                   completed: bool = True, termination_notice_on: datetime.date | None = None,
                   next_status: str | None = None) -> Measure:
    _require_writer(acting_user, measure.person)
    if measure.ended_on is not None:
        raise ValidationError(_("This measure has ended already."))
    measure.ended_on = ended_on
    measure.end_reason = reason
    measure.termination_notice_on = termination_notice_on
    measure.state = MeasureState.COMPLETED if completed else MeasureState.TERMINATED
    measure.save(update_fields=["ended_on", "end_reason", "termination_notice_on", "state"])
    # Check-ins planned after the end are no longer due.
    measure.planned.filter(done__isnull=True, due_on__gt=ended_on).delete()
    audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=measure, changes={
        "ended_on": [None, ended_on], "reason": [None, reason], "state": [None, measure.state]})
    if next_status:
        do_change_status(measure.person, next_status, ended_on, acting_user=acting_user)
    else:
        evaluate_flags(measure.person)
    return measure


@transaction.atomic
def do_extend_measure(measure: Measure, months: int, *, acting_user, decision_number: str = "") -> Measure:
    """禁毒法 第四十七条: compulsory treatment may be extended by at most one year."""
    _require_writer(acting_user, measure.person)
    if measure.kind != MeasureKind.COMPULSORY_TREATMENT:
        raise ValidationError(_("Only compulsory treatment can be extended."))
    if measure.extension_months + months > rules.COMPULSORY_EXTENSION_MAX_MONTHS:
        raise ValidationError({"months": _("The extension may not exceed one year in total (禁毒法 第四十七条).")})
    before = measure.ends_on
    measure.extension_months += months
    measure.ends_on = rules.term_end(measure.kind, measure.starts_on, measure.term_months, measure.extension_months)
    measure.save(update_fields=["extension_months", "ends_on"])
    audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=measure, changes={
        "ends_on": [before, measure.ends_on], "decision_number": [None, decision_number]})
    return measure


# --- check-in plan and check-ins -------------------------------------------------------------


def policy_for(jurisdiction) -> rules.PlanPolicy:
    """The nearest policy up the tree, or SPEC §3.1's defaults."""
    codes = [*jurisdiction.ancestor_codes, jurisdiction.code]
    policies = {p.jurisdiction.code: p for p in CheckInPolicy.objects.filter(jurisdiction__code__in=codes)
                .select_related("jurisdiction")}
    for code in reversed(codes):
        policy = policies.get(code)
        if policy is not None:
            return rules.PlanPolicy(
                test_every_months=(policy.test_every_months_year1, policy.test_every_months_year2,
                                   policy.test_every_months_year3),
                interview_every_months=policy.interview_every_months,
                home_visit_every_months=policy.home_visit_every_months,
                half_year_summary=policy.half_year_summary, yearly_evaluation=policy.yearly_evaluation)
    return rules.PlanPolicy()


def generate_plan(measure: Measure) -> int:
    """(Re)generate the open due dates of a community measure; done items stay."""
    if measure.kind == MeasureKind.COMPULSORY_TREATMENT or measure.starts_on is None:
        return 0
    measure.planned.filter(done__isnull=True).delete()
    done = set(measure.planned.values_list("kind", "due_on"))
    items = [PlannedCheckIn(person=measure.person, county_code=measure.county_code, measure=measure, kind=kind,
                            due_on=due)
             for kind, due in rules.plan_due_dates(measure.starts_on, measure.ends_on, policy_for(
                 measure.executing_jurisdiction)) if (kind, due) not in done]
    PlannedCheckIn.objects.bulk_create(items, batch_size=1000)
    return len(items)


def _current_measure(person: Person, on: datetime.date) -> Measure | None:
    return (person.measures.filter(state=MeasureState.IN_EFFECT, starts_on__lte=on)
            .exclude(kind=MeasureKind.COMPULSORY_TREATMENT).order_by("-starts_on").first())


@transaction.atomic
def do_record_check_in(person: Person, kind: str, occurred_on: datetime.date, *, acting_user, method: str = "",
                       result: str = "", substance: str = "", returned_on: datetime.date | None = None,
                       notes: str = "") -> CheckIn:
    """Record a test, interview, visit, summary, evaluation or departure; it closes the
    earliest open planned item of that kind due within a month after it, and the rules
    are re-evaluated."""
    _require_writer(acting_user, person)
    today = timezone.localdate()
    if kind not in CheckInKind.values:
        raise ValidationError({"kind": _("Unknown kind of check-in.")})
    if occurred_on > today:
        raise ValidationError({"occurred_on": _("The date is in the future.")})
    if kind == CheckInKind.DRUG_TEST:
        if result not in DrugTestResult.values:
            raise ValidationError({"result": _("Choose the test result.")})
        if result == DrugTestResult.POSITIVE and not substance:
            raise ValidationError({"substance": _("A positive test needs the substance found.")})
        if result != DrugTestResult.REFUSED and not method:
            raise ValidationError({"method": _("Choose how the sample was taken.")})
    if kind == CheckInKind.DEPARTURE and returned_on is not None and returned_on < occurred_on:
        raise ValidationError({"returned_on": _("The return cannot be before the departure.")})
    check_in = CheckIn.objects.create(
        person=person, kind=kind, occurred_on=occurred_on, measure=_current_measure(person, occurred_on),
        method=method, result=result if kind == CheckInKind.DRUG_TEST else "",
        substance=substance if result == DrugTestResult.POSITIVE else "", returned_on=returned_on, notes=notes,
        recorded_by=acting_user,
    )
    if kind != CheckInKind.DEPARTURE and result != DrugTestResult.REFUSED:
        planned = (PlannedCheckIn.objects.filter(person=person, kind=kind, done__isnull=True,
                                                 due_on__lte=occurred_on + datetime.timedelta(days=31))
                   .order_by("due_on").first())
        if planned is not None:
            planned.done = check_in
            planned.save(update_fields=["done"])
    audit.record(AuditEntry.Action.CREATE, actor=acting_user, obj=check_in, changes={
        "person": [None, person.pk], "kind": [None, kind], "occurred_on": [None, occurred_on],
        "result": [None, result], "returned_on": [None, returned_on]})
    evaluate_flags(person)
    return check_in


# --- flags ---------------------------------------------------------------------------------------


def facts_of(person: Person):
    measures = [rules.MeasureFacts(m.pk, m.kind, m.decided_on, m.reported_on, m.starts_on, m.ends_on, m.ended_on,
                                   m.state == MeasureState.REFUSED) for m in person.measures.all()]
    tests, departures = [], []
    for c in person.check_ins.filter(kind__in=[CheckInKind.DRUG_TEST, CheckInKind.DEPARTURE]):
        if c.kind == CheckInKind.DRUG_TEST:
            tests.append(rules.TestFacts(c.pk, c.occurred_on, c.result, c.measure_id))
        else:
            departures.append(rules.DepartureFacts(c.pk, c.occurred_on, c.returned_on, c.measure_id))
    return measures, tests, departures


def evaluate_flags(person: Person, today: datetime.date | None = None) -> tuple[int, int]:
    """Bring the person's open flags in line with what the rules find today: raise new ones,
    update the evidence of open ones, mark those no longer found as resolved. Idempotent;
    decided or dismissed flags stay as they are (a new finding after a decision raises anew)."""
    today = today or timezone.localdate()
    measures, tests, departures = facts_of(person)
    findings = {f.rule: f for f in rules.evaluate(measures, tests, departures, today)}
    open_flags = {f.rule: f for f in person.flags.filter(state=FlagState.OPEN)}
    handled = list(person.flags.filter(state__in=[FlagState.DECIDED, FlagState.DISMISSED])
                   .values_list("rule", "evidence"))
    created = resolved = 0
    exemption_reasons = rules.exemptions(person.sex, person.birth_date, person.is_pregnant,
                                         person.nursing_child_born_on, today)
    for rule, finding in findings.items():
        evidence = [{"model": e.model, "id": e.pk, "on": e.on.isoformat(), "label": e.label}
                    for e in finding.evidence]
        exemptions = exemption_reasons if finding.compulsory else []
        flag = open_flags.get(rule)
        if flag is not None:
            if flag.evidence != evidence or flag.exemptions != exemptions:
                Flag.objects.filter(pk=flag.pk).update(evidence=evidence, exemptions=exemptions)
            continue
        if (rule, evidence) in handled:
            continue  # somebody already decided on exactly this evidence
        Flag.objects.create(person=person, rule=rule, raised_on=today, title=finding.title, article=finding.article,
                            recommendation=finding.recommendation, evidence=evidence, exemptions=exemptions)
        created += 1
    for rule, flag in open_flags.items():
        if rule not in findings:
            Flag.objects.filter(pk=flag.pk).update(state=FlagState.RESOLVED, resolved_at=timezone.now())
            resolved += 1
    return created, resolved


def _resolve_flag(flag: Flag, state: str, acting_user, **values) -> Flag:
    _require_writer(acting_user, flag.person)
    if flag.state != FlagState.OPEN:
        raise ValidationError(_("This flag has been dealt with already."))
    for name, value in values.items():
        setattr(flag, name, value)
    flag.state = state
    flag.resolved_by = acting_user
    flag.resolved_at = timezone.now()
    flag.save(update_fields=[*values, "state", "resolved_by", "resolved_at"])
    audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=flag, changes={"state": ["open", state]} | {
        k: [None, v] for k, v in values.items()})
    return flag


@transaction.atomic
def do_decide_flag(flag: Flag, decision: str, *, document_number: str = "", acting_user) -> Flag:
    if not decision.strip():
        raise ValidationError({"decision": _("Say what was decided.")})
    return _resolve_flag(flag, FlagState.DECIDED, acting_user, decision=decision.strip(),
                         document_number=document_number.strip())


@transaction.atomic
def do_dismiss_flag(flag: Flag, reason: str, *, acting_user) -> Flag:
    if len(reason.strip()) < 4:
        raise ValidationError({"reason": _("Give the reason for dismissing the flag.")})
    return _resolve_flag(flag, FlagState.DISMISSED, acting_user, reason=reason.strip())


def sweep_flags(today: datetime.date | None = None) -> dict:
    """Daily: re-evaluate every person with a measure that has not ended (clocks move with the date)."""
    created = resolved = 0
    persons = Person.objects.filter(measures__ended_on__isnull=True).distinct().prefetch_related("measures")
    for person in persons.iterator(chunk_size=500):
        c, r = evaluate_flags(person, today)
        created += c
        resolved += r
    return {"raised": created, "resolved": resolved}
