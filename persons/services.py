"""Every change to a person file goes through these functions; each writes its own audit
entry and re-evaluates the rules the change may affect (SPEC §3.1; STYLE: Zulip actions)."""

import datetime
import functools
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pypinyin import Style, lazy_pinyin

from core import audit, bulk
from core.fields import blind_lookup
from core.masking import mask_id_number, mask_name, mask_numbers_in, mask_phone
from core.models import AuditEntry
from core.roles import Role, has_any_role
from core.services import save_versioned
from jurisdictions.choices import Level
from persons import rules
from persons.choices import (
    ACTIVE_STATUSES,
    COMMUNITY_MEASURES,
    CheckInKind,
    ControlStatus,
    DrugTestResult,
    FlagState,
    MeasureKind,
    MeasureState,
    RiskLevel,
    TransferState,
)
from persons.models import (
    CheckIn,
    CheckInPolicy,
    Flag,
    LedgerImport,
    Measure,
    Person,
    PersonRecord,
    PersonSubstance,
    PlannedCheckIn,
    RiskAssessment,
    RiskModel,
    StatusChange,
    Transfer,
)
from persons.signals import persons_changed

# Roles that keep person files (the member unit records support only).
WRITER_ROLES = frozenset({Role.OFFICE, Role.TOWNSHIP, Role.SOCIAL_WORKER, Role.POLICE})
def _hidden(value):
    return "***" if value else value


# How a file's values show in its audit entries' diffs: the audit administrator, who reads
# them, reads no personal data. What changed is said; names are masked, numbers, addresses and
# free text hidden, and a health flag's value not even implied.
AUDIT_MASKS = {"id_number": mask_id_number, "phone": mask_phone, "name": mask_name, "family_contacts": _hidden,
               "registered_residence": _hidden, "current_address": _hidden, "notes": _hidden,
               **dict.fromkeys(("is_pregnant", "nursing_child_born_on", "hiv_positive", "serious_illness",
                                "mental_disorder"), lambda _value: "***")}
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
    """First letters of the name's pinyin, character by character (names are not phrases: a
    character's usual reading is what people type), each character looked up once."""
    return "".join(_initial(ch) for ch in name)


@functools.lru_cache(maxsize=20_000)
def _initial(character: str) -> str:
    return "".join(lazy_pinyin(character, style=Style.FIRST_LETTER, errors="ignore")).lower()


def _snapshot(person: Person) -> dict:
    values = {name: getattr(person, name) for name in sorted(EDITABLE_FIELDS)}
    for key in ("jurisdiction", "grid", "assigned_worker"):
        related = values[key]
        values[key] = str(related.pk) if related is not None else None
    return values


def _changed(person_ids, jurisdiction_ids=(), villages=None) -> None:
    """Tell other apps (monitoring's rollups) in this transaction which files changed, and the
    places they left; ``villages``: the files' current villages, when known (persons.signals)."""
    persons_changed.send(sender=Person, person_ids=list(person_ids), jurisdiction_ids=list(jurisdiction_ids),
                         villages=None if villages is None else list(villages))


def _set_substances(person: Person, substances) -> None:
    """The file's substances become ``substances``, under the file's county."""
    person.substances.exclude(substance__in=substances).delete()
    held = set(person.substances.values_list("substance", flat=True))
    PersonSubstance.objects.bulk_create([PersonSubstance(person=person, county_code=person.county_code, substance=s)
                                         for s in sorted(set(substances) - held)])


def _follow_county(person: Person) -> None:
    """A file moved to another county takes its substances and records along: everything about
    the person carries the file's county code (the distribution column of docs/scaling.md)."""
    for model in (PersonSubstance, *PersonRecord.__subclasses__()):
        model.objects.filter(person=person).exclude(county_code=person.county_code).update(
            county_code=person.county_code)


def find_by_id_number(id_number: str) -> Person | None:
    """Exact look-up through the blind index (no decryption of the table)."""
    return Person.objects.filter(**blind_lookup(Person, "id_number", id_number)).first()


def _check_place(jurisdiction, grid):
    if jurisdiction.level not in (Level.VILLAGE, Level.TOWNSHIP):
        raise ValidationError({"jurisdiction": _("Choose the village (or the township if the village is unknown).")})
    if grid is not None and (grid.level != Level.GRID or not grid.is_within(jurisdiction)):
        raise ValidationError({"grid": _("The grid must lie in the chosen village.")})


def _refuse_dates(born: datetime.date, **dates) -> None:
    """Dates that cannot be (rules.date_problems) refused, each on its field."""
    problems = rules.date_problems(dates, born=born, today=timezone.localdate())
    if problems:
        raise ValidationError(problems)


PERSON_DATES = ("first_found_on", "nursing_child_born_on", "control_status_since")


def _check_person_values(person: Person, names: set[str]) -> None:
    """The values ``names`` of a file as the rules take them (issue 20): dates that cannot be,
    a phone that is not one (stored as rules.normalise_phone keeps it), pregnancy or nursing
    on a man's ID number. Only the fields being set are checked: an old file's other values
    do not block an edit."""
    problems = rules.date_problems({name: getattr(person, name) for name in PERSON_DATES if name in names},
                                   born=person.birth_date, today=timezone.localdate())
    if "phone" in names and person.phone:
        try:
            person.phone = rules.normalise_phone(person.phone)
        except rules.PhoneError as error:
            problems["phone"] = str(error)
    if names & {"is_pregnant", "nursing_child_born_on"}:
        message = rules.pregnancy_problem(person.sex, person.is_pregnant, person.nursing_child_born_on)
        if message:
            problems["is_pregnant" if person.is_pregnant else "nursing_child_born_on"] = message
    if problems:
        raise ValidationError(problems)


def do_create_person(*, acting_user, name: str, id_number: str, jurisdiction, control_status: str,
                     control_status_since: datetime.date, substances=(), grid=None, document_number: str = "",
                     measure: dict | None = None, **fields) -> Person:
    """Open a person file: one per ID number (the blind index is unique). ``measure``: the
    community measure opened with it (``do_record_missing_measure``'s arguments), or none.

    A number already on file is refused, and the refusal is audited as a search by that number:
    the form tells whether a number is registered, so unaudited it would confirm the guesses at
    a masked number one by one (issue 19)."""
    try:
        with transaction.atomic():  # the file and its measure, or neither (the refusal's audit stays)
            person = _create_person(acting_user=acting_user, name=name, id_number=id_number,
                                    jurisdiction=jurisdiction, control_status=control_status,
                                    control_status_since=control_status_since, substances=substances, grid=grid,
                                    document_number=document_number, **fields)
            if measure:
                do_record_missing_measure(person, acting_user=acting_user, **measure)
            return person
    except _NumberOnFile as refused:
        audit.record(AuditEntry.Action.SEARCH, actor=acting_user, object_repr=str(Person._meta.verbose_name_plural),
                     changes={"criteria": {"id_number": mask_id_number(refused.number)}, "results": 1,
                              "refused": "create"})
        raise ValidationError({"id_number": _("A file with this ID number exists already.")}) from None


class _NumberOnFile(Exception):
    def __init__(self, number: str):
        super().__init__(number)
        self.number = number


@transaction.atomic
def _create_person(*, acting_user, name: str, id_number: str, jurisdiction, control_status: str,
                   control_status_since: datetime.date, substances, grid, document_number: str, **fields) -> Person:
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
        raise _NumberOnFile(id_number)
    person = Person(
        name=name.strip(), name_initials=pinyin_initials(name), id_number=id_number,
        sex=rules.sex_of(id_number), birth_date=rules.birth_date_of(id_number), jurisdiction=jurisdiction, grid=grid,
        county_code=jurisdiction.county_code, control_status=control_status,
        control_status_since=control_status_since, **fields,
    )
    _check_person_values(person, set(fields) | {"control_status_since"})
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:
        raise _NumberOnFile(id_number) from None
    _set_substances(person, substances)
    StatusChange.objects.create(person=person, county_code=person.county_code, status=control_status,
                                changed_on=control_status_since, document_number=document_number,
                                recorded_by=acting_user)
    audit.record(AuditEntry.Action.CREATE, actor=acting_user, obj=person, changes=audit.diff(
        {}, _snapshot(person) | {"id_number": id_number, "control_status": control_status,
                                 "substances": sorted(set(substances))}, masks=AUDIT_MASKS))
    _reassess_risk(person, acting_user)
    _changed([person.pk])
    return person


@transaction.atomic
def do_update_person(person: Person, *, expected_version: int, acting_user, substances=None, **fields) -> Person:
    _require_writer(acting_user, person)
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    before = _snapshot(person) | {"substances": sorted(person.substances.values_list("substance", flat=True))}
    previous_place, previous_county = person.jurisdiction_id, person.county_code
    changing = {name for name, value in fields.items() if getattr(person, name) != value}
    for name, value in fields.items():
        setattr(person, name, value)
    _check_person_values(person, changing)
    if "jurisdiction" in fields or "grid" in fields:
        _require_area(acting_user, person.jurisdiction)
        _check_place(person.jurisdiction, person.grid)
        person.county_code = person.jurisdiction.county_code
    if "name" in fields:
        person.name_initials = pinyin_initials(person.name)
    save_versioned(person, expected_version, sorted(set(fields) | {"name_initials", "county_code"}))
    after = _snapshot(person)
    if substances is not None:
        _set_substances(person, substances)
        after["substances"] = sorted(set(substances))
    else:
        after["substances"] = before["substances"]
    if person.county_code != previous_county:
        _follow_county(person)
    changes = audit.diff(before, after, masks=AUDIT_MASKS)
    if changes:
        audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=person, changes=changes)
    evaluate_flags(person, reassess=False)
    if RISK_FIELDS & set(changes):
        _reassess_risk(person, acting_user)
    _changed([person.pk], [previous_place])
    return person


@transaction.atomic
def do_change_status(person: Person, status: str, changed_on: datetime.date, *, acting_user,
                     document_number: str = "", note: str = "") -> StatusChange:
    _require_writer(acting_user, person)
    if status not in ControlStatus.values:
        raise ValidationError({"status": _("Unknown control status.")})
    _refuse_dates(person.birth_date, changed_on=changed_on)
    before = person.control_status
    change = StatusChange.objects.create(person=person, status=status, changed_on=changed_on,
                                         document_number=document_number, note=note, recorded_by=acting_user)
    if person.control_status_since is None or changed_on >= person.control_status_since:
        Person.objects.filter(pk=person.pk).update(control_status=status, control_status_since=changed_on)
        person.control_status, person.control_status_since = status, changed_on
    audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=person, changes={
        "control_status": [before, status], "changed_on": [None, changed_on], "document_number": [None,
                                                                                                  document_number]})
    evaluate_flags(person, reassess=False)
    if person.control_status != before:
        _reassess_risk(person, acting_user)
    _changed([person.pk])
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
    """Record a decision. Community measures wait for the report-in (戒毒条例 第十四条, 第三十八条);
    compulsory treatment runs from the decision date (戒毒条例 第二十七条). Only community
    rehabilitation has a term of the decision's choosing, at most three years (rules.term_months_for)."""
    _require_writer(acting_user, person)
    if kind not in MeasureKind.values:
        raise ValidationError({"kind": _("Unknown measure.")})
    _refuse_dates(person.birth_date, decided_on=decided_on)
    months = rules.term_months_for(kind, term_months)
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
    _changed([person.pk])
    return measure


def _township_of(jurisdiction):
    if jurisdiction.level == Level.TOWNSHIP:
        return jurisdiction
    return jurisdiction.ancestors().filter(level=Level.TOWNSHIP).first() or jurisdiction


@transaction.atomic
def do_report_in(measure: Measure, reported_on: datetime.date, *, acting_user) -> Measure:
    """The person reported in: the term runs from that day (戒毒条例 第十四条第二款), the check-in
    plan is generated and the control status changes."""
    _require_writer(acting_user, measure.person)
    if measure.state != MeasureState.AWAITING_REPORT:
        raise ValidationError(_("This measure is not waiting for a report-in."))
    _refuse_dates(measure.person.birth_date, reported_on=reported_on)
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
    _refuse_dates(measure.person.birth_date, ended_on=ended_on, termination_notice_on=termination_notice_on)
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
    _changed([measure.person_id])
    return measure


@transaction.atomic
def do_extend_measure(measure: Measure, months: int, *, acting_user, decision_number: str = "") -> Measure:
    """禁毒法 第四十七条第三款: compulsory treatment may be extended by at most one year."""
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
    _changed([measure.person_id])
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
    """Record a test, interview, visit, summary, evaluation or departure. It closes the planned
    item of that kind whose period it falls in, if open (rules.plan_item_to_close: a missed
    period is explained, persons.missed, not made up); a refused test closes nothing. The rules are re-evaluated, and
    the risk when the check-in bears on it."""
    _require_writer(acting_user, person)
    if kind not in CheckInKind.values:
        raise ValidationError({"kind": _("Unknown kind of check-in.")})
    _refuse_dates(person.birth_date, occurred_on=occurred_on, returned_on=returned_on)
    if message := rules.notes_problem(kind, notes):
        raise ValidationError({"notes": message})
    if kind == CheckInKind.DRUG_TEST:
        if result not in DrugTestResult.values:
            raise ValidationError({"result": _("Choose the test result.")})
        if result == DrugTestResult.POSITIVE and not substance:
            raise ValidationError({"substance": _("A positive test needs the substance found.")})
        if result != DrugTestResult.REFUSED and not method:
            raise ValidationError({"method": _("Choose how the sample was taken.")})
    check_in = CheckIn.objects.create(
        person=person, kind=kind, occurred_on=occurred_on, measure=_current_measure(person, occurred_on),
        method=method, result=result if kind == CheckInKind.DRUG_TEST else "",
        substance=substance if result == DrugTestResult.POSITIVE else "", returned_on=returned_on, notes=notes,
        recorded_by=acting_user,
    )
    if kind != CheckInKind.DEPARTURE and result != DrugTestResult.REFUSED and check_in.measure is not None:
        items = list(check_in.measure.planned.filter(kind=kind).order_by("due_on", "id")
                     .values_list("pk", "due_on", "done"))
        pk = rules.plan_item_to_close([(p, due, done is not None) for p, due, done in items],
                                      check_in.measure.starts_on, occurred_on)
        if pk is not None:
            PlannedCheckIn.objects.filter(pk=pk, done__isnull=True).update(done=check_in)
    audit.record(AuditEntry.Action.CREATE, actor=acting_user, obj=check_in, changes={
        "person": [None, person.pk], "kind": [None, kind], "occurred_on": [None, occurred_on],
        "result": [None, result], "returned_on": [None, returned_on]})
    evaluate_flags(person, reassess=False)
    if kind == CheckInKind.DEPARTURE or result in (DrugTestResult.REFUSED, DrugTestResult.POSITIVE):
        _reassess_risk(person, acting_user)
    _changed([person.pk])
    return check_in


# --- flags ---------------------------------------------------------------------------------------


FACT_KINDS = (CheckInKind.DRUG_TEST, CheckInKind.DEPARTURE)
BATCH = 1000  # persons per batch in the sweeps: a few queries each, whatever the number of persons


def facts_for(person_ids) -> dict[int, tuple[list, list, list]]:
    """(measures, tests, departures) of many persons in two queries, as plain values, in the
    order the person's pages list them (newest first)."""
    facts = {pk: ([], [], []) for pk in person_ids}
    for pk, person_id, kind, decided_on, reported_on, starts_on, ends_on, ended_on, state in (
            Measure.objects.filter(person_id__in=facts).order_by("person_id", "-decided_on", "-id").values_list(
                "pk", "person_id", "kind", "decided_on", "reported_on", "starts_on", "ends_on", "ended_on", "state")):
        facts[person_id][0].append(rules.MeasureFacts(pk, kind, decided_on, reported_on, starts_on, ends_on, ended_on,
                                                      state == MeasureState.REFUSED))
    rows = (CheckIn.objects.filter(person_id__in=facts, kind__in=FACT_KINDS)
            .order_by("person_id", "-occurred_on", "-id")
            .values_list("pk", "person_id", "kind", "occurred_on", "result", "returned_on", "measure_id"))
    for pk, person_id, kind, occurred_on, result, returned_on, measure_id in rows:
        if kind == CheckInKind.DRUG_TEST:
            facts[person_id][1].append(rules.TestFacts(pk, occurred_on, result, measure_id))
        else:
            facts[person_id][2].append(rules.DepartureFacts(pk, occurred_on, returned_on, measure_id))
    _missed_refusals(facts)
    return facts


def _missed_refusals(facts: dict) -> None:
    """Missed tests explained as refused or evaded are refusals (戒毒条例 第二十条,
    rules.REFUSAL_REASONS), dated on their period's last day; not when a refused test of the
    same period is recorded already (one refusal, not two)."""
    previous_due = (PlannedCheckIn.objects.filter(measure=OuterRef("measure"), kind=OuterRef("kind"),
                                                  due_on__lt=OuterRef("due_on"))
                    .order_by("-due_on").values("due_on")[:1])
    rows = (PlannedCheckIn.objects.filter(person_id__in=facts, kind=CheckInKind.DRUG_TEST, done__isnull=True,
                                          missed_reason__in=rules.REFUSAL_REASONS)
            .annotate(previous_due=Subquery(previous_due)).order_by()
            .values_list("pk", "person_id", "due_on", "measure_id", "previous_due"))
    changed = set()
    for pk, person_id, due_on, measure_id, since in rows:
        tests = facts[person_id][1]
        if any(t.result == DrugTestResult.REFUSED and t.measure_pk == measure_id and t.on <= due_on
               and (since is None or t.on > since) for t in tests):
            continue
        tests.append(rules.TestFacts(pk, due_on, DrugTestResult.REFUSED, measure_id, "persons.PlannedCheckIn"))
        changed.add(person_id)
    for person_id in changed:
        facts[person_id][1].sort(key=lambda t: t.on, reverse=True)


def facts_of(person: Person):
    return facts_for([person.pk])[person.pk]


def transfer_facts_for(person_ids) -> dict[int, list[rules.TransferFacts]]:
    transfers = {pk: [] for pk in person_ids}
    for pk, person_id, handed_over_on in (Transfer.objects.filter(person_id__in=transfers,
                                                                   state=TransferState.HANDED_OVER)
                                          .order_by("handed_over_on", "pk")
                                          .values_list("pk", "person_id", "handed_over_on")):
        transfers[person_id].append(rules.TransferFacts(pk, handed_over_on, True))
    return transfers


def transfer_facts(person: Person) -> list[rules.TransferFacts]:
    return transfer_facts_for([person.pk])[person.pk]


@dataclass
class FlagChanges:
    """What evaluating one or many persons changes: flags to raise, open flags whose evidence
    changed, open flags no longer found."""

    create: list = field(default_factory=list)
    update: list = field(default_factory=list)
    resolve: list = field(default_factory=list)


def _flag_changes(changes: FlagChanges, person_id: int, county_code: str, findings: dict, open_flags: dict,
                  handled: list, exemption_reasons: list[str], today: datetime.date, measures: list) -> None:
    """The rule of evaluate_flags for one person, without the database: one open flag per rule,
    its evidence kept current; a finding whose exact evidence was decided or dismissed is not
    raised again; an open flag whose rule finds nothing is resolved only if its present state
    has ended or the records show its past event did not happen (rules.flag_resolves): a
    finding on a past event stays open with its evidence until a person decides on it."""
    for rule, finding in findings.items():
        evidence = [{"model": e.model, "id": e.pk, "on": e.on.isoformat(), "label": e.label}
                    for e in finding.evidence]
        exemptions = exemption_reasons if finding.compulsory else []
        flag = open_flags.get(rule)
        if flag is not None:
            if flag.evidence != evidence or flag.exemptions != exemptions:
                flag.evidence, flag.exemptions = evidence, exemptions
                changes.update.append(flag)
            continue
        if (rule, evidence) in handled:
            continue  # somebody already decided on exactly this evidence
        changes.create.append(Flag(person_id=person_id, county_code=county_code, rule=rule, raised_on=today,
                                   title=finding.title, article=finding.article,
                                   recommendation=finding.recommendation, evidence=evidence, exemptions=exemptions))
    changes.resolve += [flag for rule, flag in open_flags.items()
                        if rule not in findings and rules.flag_resolves(rule, flag.evidence, measures)]


def _write_flag_changes(changes: FlagChanges) -> list[Flag]:
    """A few statements for any number of changes; returns the flags created."""
    created = Flag.objects.bulk_create(changes.create, batch_size=500)
    if changes.update:
        Flag.objects.bulk_update(changes.update, ["evidence", "exemptions"], batch_size=500)
    if changes.resolve:
        now = timezone.now()
        Flag.objects.filter(pk__in=[f.pk for f in changes.resolve]).update(state=FlagState.RESOLVED, resolved_at=now)
        for flag in changes.resolve:
            flag.state, flag.resolved_at = FlagState.RESOLVED, now
    return created


def evaluate_flags(person: Person, today: datetime.date | None = None, *, reassess: bool = True) -> tuple[int, int]:
    """Bring the person's open flags in line with what the rules find today: raise new ones,
    update the evidence of open ones, mark those of a present state no longer found as
    resolved (those of a past event stay for a person to decide: _flag_changes). Idempotent;
    decided or dismissed flags stay as they are (a new finding after a decision raises anew).
    A new flag re-assesses the person's risk unless the caller does it (``reassess=False``)."""
    today = today or timezone.localdate()
    measures, tests, departures = facts_of(person)
    findings = {f.rule: f for f in rules.evaluate(measures, tests, departures, today,
                                                  transfers=transfer_facts(person))}
    open_flags = {f.rule: f for f in person.flags.filter(state=FlagState.OPEN)}
    handled = list(person.flags.filter(state__in=[FlagState.DECIDED, FlagState.DISMISSED])
                   .values_list("rule", "evidence"))
    exemption_reasons = rules.exemptions(person.sex, person.birth_date, person.is_pregnant,
                                         person.nursing_child_born_on, today)
    changes = FlagChanges()
    _flag_changes(changes, person.pk, person.county_code, findings, open_flags, handled, exemption_reasons, today,
                  measures)
    _write_flag_changes(changes)
    if changes.create and reassess:
        _reassess_risk(person, None, today)
    return len(changes.create), len(changes.resolve)


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
    _changed([flag.person_id])
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
    """Daily: re-evaluate every person with a measure that has not ended (clocks move with the
    date). In batches of BATCH persons: their facts, open and handled flags are read in a few
    queries, the rules run in memory (the same rule as evaluate_flags), the changes are written
    in bulk and audited under one lock per batch (one entry per flag raised or resolved); the
    persons managed in the community who got a new flag are re-assessed (assess_risk_many)."""
    today = today or timezone.localdate()
    ids = list(Measure.objects.filter(ended_on__isnull=True).order_by("person_id").values_list("person_id", flat=True)
               .distinct())
    created = resolved = 0
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            c, r = _sweep_flags_batch(ids[start:start + BATCH], today)
        created += c
        resolved += r
    return {"raised": created, "resolved": resolved}


def _sweep_flags_batch(person_ids: list[int], today: datetime.date) -> tuple[int, int]:
    facts = facts_for(person_ids)
    transfers = transfer_facts_for(person_ids)
    open_flags: dict[int, dict[str, Flag]] = {pk: {} for pk in person_ids}
    for flag in Flag.objects.filter(person_id__in=person_ids, state=FlagState.OPEN).order_by("pk"):
        open_flags[flag.person_id][flag.rule] = flag
    handled: dict[int, list] = {pk: [] for pk in person_ids}
    for person_id, rule, evidence in (Flag.objects.filter(person_id__in=person_ids,
                                                          state__in=[FlagState.DECIDED, FlagState.DISMISSED])
                                      .values_list("person_id", "rule", "evidence")):
        handled[person_id].append((rule, evidence))
    changes = FlagChanges()
    active = set()
    for pk, county_code, sex, birth_date, pregnant, nursing, status in (
            Person.objects.filter(pk__in=person_ids).values_list(
                "pk", "county_code", "sex", "birth_date", "is_pregnant", "nursing_child_born_on", "control_status")):
        measures, tests, departures = facts[pk]
        findings = {f.rule: f for f in rules.evaluate(measures, tests, departures, today, transfers=transfers[pk])}
        if not findings and not open_flags[pk]:
            continue
        before = len(changes.create)
        _flag_changes(changes, pk, county_code, findings, open_flags[pk], handled[pk],
                      rules.exemptions(sex, birth_date, pregnant, nursing, today), today, measures)
        if len(changes.create) > before and status in ACTIVE_STATUSES:
            active.add(pk)
    created = _write_flag_changes(changes)
    entries = (
        [{"action": AuditEntry.Action.CREATE, "obj": flag,
          "changes": {"person": [None, flag.person_id], "rule": [None, flag.rule], "raised_on": [None, today]}}
         for flag in created]
        + [{"action": AuditEntry.Action.UPDATE, "obj": flag, "changes": {"state": [FlagState.OPEN,
                                                                                FlagState.RESOLVED]}}
           for flag in changes.resolve])
    if entries:
        audit.record_many(entries)
    if active:
        assess_risk_many(sorted(active), today)
    _changed({flag.person_id for flag in created} | {flag.person_id for flag in changes.resolve})
    return len(created), len(changes.resolve)


# --- risk assessment (风险分类评估, seed 000) -----------------------------------------------------

# Fields of the person file that are risk factors: changing one re-assesses the person.
RISK_FIELDS = frozenset({"living_situation", "family_support", "mental_disorder", "violence_history",
                         "drug_driving_history"})
MIN_OVERRIDE_REASON = 4


def _risk_model_from(codes: list[str], models_by_code: dict) -> tuple[dict[str, int], int, int]:
    for code in reversed(codes):
        model = models_by_code.get(code)
        if model is not None:
            weights = dict(rules.DEFAULT_RISK_WEIGHTS)
            weights.update({k: int(v) for k, v in (model.weights or {}).items()})
            return weights, model.high_threshold, model.medium_threshold
    return dict(rules.DEFAULT_RISK_WEIGHTS), rules.DEFAULT_RISK_HIGH, rules.DEFAULT_RISK_MEDIUM


def risk_model_for(jurisdiction) -> tuple[dict[str, int], int, int]:
    """(weights, high, medium) of the nearest risk model up the tree, over the defaults of
    rules.DEFAULT_RISK_WEIGHTS: a model names only the weights it changes (0 turns a factor off)."""
    codes = [*jurisdiction.ancestor_codes, jurisdiction.code]
    models_by_code = {m.jurisdiction.code: m for m in RiskModel.objects.filter(jurisdiction__code__in=codes)
                      .select_related("jurisdiction")}
    return _risk_model_from(codes, models_by_code)


def risk_models_for(paths: dict[int, str]) -> dict[int, tuple[dict[str, int], int, int]]:
    """risk_model_for of many places at once (``{jurisdiction pk: path}``), in one query."""
    codes = {pk: path.strip("/").split("/") for pk, path in paths.items()}
    wanted = set().union(*codes.values()) if codes else set()
    models_by_code = {m.jurisdiction.code: m for m in RiskModel.objects.filter(jurisdiction__code__in=wanted)
                      .select_related("jurisdiction")}
    return {pk: _risk_model_from(place_codes, models_by_code) for pk, place_codes in codes.items()}


def _risk_facts(living_situation, family_support, mental_disorder, violence_history, drug_driving_history,
                control_status) -> rules.PersonRiskFacts:
    return rules.PersonRiskFacts(
        living_situation=living_situation, family_support=family_support, mental_disorder=mental_disorder,
        violence_history=violence_history, drug_driving_history=drug_driving_history,
        whereabouts_unknown=control_status == ControlStatus.WHEREABOUTS_UNKNOWN)


def risk_factors(person: Person, today: datetime.date | None = None) -> dict[str, bool | int]:
    """The risk factors of a person today, from the file and its records."""
    today = today or timezone.localdate()
    measures, tests, departures = facts_of(person)
    facts = _risk_facts(person.living_situation, person.family_support, person.mental_disorder,
                        person.violence_history, person.drug_driving_history, person.control_status)
    return rules.risk_factors(facts, measures, tests, departures, today)


def _same_result(assessment: RiskAssessment, score: int, level: str, contributions: list[dict]) -> bool:
    def key(items):  # labels are in the language of the moment: compare the numbers
        return [(c.get("factor"), c.get("value"), c.get("weight"), c.get("points")) for c in items]

    return (assessment.score, assessment.computed_level, key(assessment.contributions)) == (
        score, level, key(contributions))


def _risk_decision(latest: RiskAssessment | None, score: int, computed: str, contributions: list[dict],
                   today: datetime.date) -> tuple[str, str, str]:
    """What a new result does to the history: ("keep", …) when a later assessment exists or
    nothing changed this month; ("replace", level, override reason) for today's automatic
    assessment; ("new", level, override reason) otherwise. A human override holds as long as
    the computed level stays what it was when the override was made."""
    if latest is not None and latest.assessed_on > today:
        return "keep", "", ""  # a later assessment exists (a sweep run for a past day): history stays as it is
    if (latest is not None and (latest.assessed_on.year, latest.assessed_on.month) == (today.year, today.month)
            and _same_result(latest, score, computed, contributions)):
        return "keep", "", ""
    level, override_reason = computed, ""
    if latest is not None and latest.override_reason and latest.computed_level == computed:
        level, override_reason = latest.level, latest.override_reason
    if latest is not None and latest.assessed_on == today and not latest.override_reason:
        return "replace", level, override_reason
    return "new", level, override_reason


@transaction.atomic
def do_assess_risk(person: Person, *, acting_user=None, today: datetime.date | None = None,
                   risk_model: tuple[dict[str, int], int, int] | None = None) -> RiskAssessment:
    """Score the person's risk today and keep it in the history; ``Person.risk_level`` follows.

    Idempotent: when nothing changed since the latest assessment of the same month, nothing is
    written and that assessment is returned. A changed result on the same day replaces that
    day's automatic assessment; otherwise a new one is added (_risk_decision). ``risk_model``
    saves the look-up when the caller already has ``risk_model_for`` of the person's place."""
    if acting_user is not None:
        _require_writer(acting_user, person)
    today = today or timezone.localdate()
    weights, high, medium = risk_model or risk_model_for(person.jurisdiction)
    score, computed, contributions = rules.risk_score(risk_factors(person, today), weights, high, medium)
    latest = person.risk_assessments.order_by("-assessed_on", "-id").first()
    what, level, override_reason = _risk_decision(latest, score, computed, contributions, today)
    if what == "keep":
        return latest
    if what == "replace":
        before = {"score": latest.score, "level": latest.level}
        latest.score, latest.computed_level, latest.level = score, computed, level
        latest.contributions, latest.override_reason = contributions, override_reason
        latest.save(update_fields=["score", "computed_level", "level", "contributions", "override_reason"])
        assessment = latest
        audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=assessment, changes=audit.diff(
            before, {"score": score, "level": level}))
    else:
        assessment = RiskAssessment.objects.create(
            person=person, assessed_on=today, score=score, computed_level=computed, level=level,
            contributions=contributions, override_reason=override_reason, recorded_by=acting_user)
        audit.record(AuditEntry.Action.CREATE, actor=acting_user, obj=assessment, changes={
            "person": [None, person.pk], "score": [None, score], "level": [None, level]})
    if person.risk_level != level:
        Person.objects.filter(pk=person.pk).update(risk_level=level)
        person.risk_level = level
    _changed([person.pk])
    return assessment


def assess_risk_many(person_ids: list[int], today: datetime.date | None = None) -> int:
    """do_assess_risk for many persons as the system (the sweeps): per BATCH persons their
    files, latest assessments, risk models and facts are read in a few queries, scored in
    memory by the same rule, written in bulk and audited under one lock (one entry per
    assessment written, as do_assess_risk writes). Returns the number of assessments written."""
    today = today or timezone.localdate()
    written = 0
    for start in range(0, len(person_ids), BATCH):
        with transaction.atomic():
            written += _assess_risk_batch(person_ids[start:start + BATCH], today)
    return written


def _assess_risk_batch(person_ids: list[int], today: datetime.date) -> int:
    latest_pk = Subquery(RiskAssessment.objects.filter(person=OuterRef("pk")).order_by("-assessed_on", "-id")
                         .values("pk")[:1])
    rows = list(Person.objects.filter(pk__in=person_ids).annotate(latest_pk=latest_pk).values_list(
        "pk", "county_code", "jurisdiction_id", "jurisdiction__path", "living_situation", "family_support",
        "mental_disorder", "violence_history", "drug_driving_history", "control_status", "risk_level", "latest_pk"))
    latest = RiskAssessment.objects.in_bulk([row[-1] for row in rows if row[-1]])
    models = risk_models_for({row[2]: row[3] for row in rows})
    facts = facts_for([row[0] for row in rows])
    new, replaced, audits, levels = [], [], [], {}
    for pk, county_code, place, _path, *person_facts, risk_level, latest_id in rows:
        weights, high, medium = models[place]
        factors = rules.risk_factors(_risk_facts(*person_facts), *facts[pk], today)
        score, computed, contributions = rules.risk_score(factors, weights, high, medium)
        last = latest.get(latest_id)
        what, level, override_reason = _risk_decision(last, score, computed, contributions, today)
        if what == "keep":
            continue
        if what == "replace":
            audits.append({"action": AuditEntry.Action.UPDATE, "obj": last, "changes": audit.diff(
                {"score": last.score, "level": last.level}, {"score": score, "level": level})})
            last.score, last.computed_level, last.level = score, computed, level
            last.contributions, last.override_reason = contributions, override_reason
            replaced.append(last)
        else:
            new.append(RiskAssessment(person_id=pk, county_code=county_code, assessed_on=today, score=score,
                                      computed_level=computed, level=level, contributions=contributions,
                                      override_reason=override_reason))
        if risk_level != level:
            levels.setdefault(level, []).append(pk)
    if replaced:
        RiskAssessment.objects.bulk_update(replaced, ["score", "computed_level", "level", "contributions",
                                                      "override_reason"], batch_size=500)
    for assessment in RiskAssessment.objects.bulk_create(new, batch_size=500):
        audits.append({"action": AuditEntry.Action.CREATE, "obj": assessment, "changes": {
            "person": [None, assessment.person_id], "score": [None, assessment.score],
            "level": [None, assessment.level]}})
    for level, pks in levels.items():
        Person.objects.filter(pk__in=pks).update(risk_level=level)
    if audits:
        audit.record_many(audits)
    _changed([pk for pks in levels.values() for pk in pks])  # the rollups count levels, not assessments
    return len(new) + len(replaced)


def _reassess_risk(person: Person, acting_user=None, today: datetime.date | None = None):
    """After an event that bears on the risk: re-assess a person managed in the community
    (the classification is of 社会面 persons, seed 000)."""
    if person.control_status in ACTIVE_STATUSES:
        do_assess_risk(person, acting_user=acting_user, today=today)


@transaction.atomic
def do_override_risk(assessment: RiskAssessment, level: str, reason: str, *, acting_user) -> RiskAssessment:
    """A person who knows better sets the level, with the reason (audited)."""
    _require_writer(acting_user, assessment.person)
    if level not in RiskLevel.values:
        raise ValidationError({"level": _("Unknown risk level.")})
    reason = (reason or "").strip()
    if len(reason) < MIN_OVERRIDE_REASON:
        raise ValidationError({"reason": _("Give the reason for changing the level.")})
    before = assessment.level
    assessment.level, assessment.override_reason = level, reason
    assessment.save(update_fields=["level", "override_reason"])
    person = assessment.person
    latest = person.risk_assessments.order_by("-assessed_on", "-id").values_list("pk", flat=True).first()
    if latest == assessment.pk:
        Person.objects.filter(pk=person.pk).update(risk_level=level)
        person.risk_level = level
    audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=assessment, changes={
        "level": [before, level], "computed_level": [assessment.computed_level, assessment.computed_level],
        "override_reason": [None, reason]})
    _changed([person.pk])
    return assessment


def sweep_risk(today: datetime.date | None = None) -> dict:
    """Monthly: assess every person managed in the community not yet assessed this month
    (assess_risk_many: a few queries per batch of persons)."""
    today = today or timezone.localdate()
    month_start = today.replace(day=1)
    ids = list(Person.objects.filter(control_status__in=ACTIVE_STATUSES)
               .exclude(risk_assessments__assessed_on__gte=month_start).order_by("pk").values_list("pk", flat=True))
    assess_risk_many(ids, today)
    return {"assessed": len(ids)}


# --- support (帮扶) and support tasks: persons.support --------------------------------------------


# --- transfers (异地执行, 衔接) ---------------------------------------------------------------------


def _in_area(acting_user, jurisdiction) -> bool:
    area = getattr(acting_user, "jurisdiction", None)
    return area is not None and bool(area.path) and jurisdiction.path.startswith(area.path)


@transaction.atomic
def do_hand_over(person: Person, to_jurisdiction, reason: str, handed_over_on: datetime.date, *,
                 acting_user) -> Transfer:
    """The sending township hands the person over to another township (异地执行). Until the
    receiving one acknowledges, both see the person (Person.scope_path includes the receiving
    area); the person should report there within 15 days (戒毒条例 第二十二条第二款)."""
    from jurisdictions.models import Jurisdiction

    _require_writer(acting_user, person)
    pk = getattr(to_jurisdiction, "pk", None)
    stored = Jurisdiction.objects.filter(pk=pk).first() if pk else None
    error = rules.hand_over_error(stored.level if stored else None, stored.path if stored else "",
                                  _township_of(person.jurisdiction).path)
    if error:
        raise ValidationError({"to_jurisdiction": error})
    to_jurisdiction = stored
    if person.transfers.filter(state=TransferState.HANDED_OVER).exists():
        raise ValidationError(_("A transfer of this person is already waiting for receipt."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the transfer.")})
    _refuse_dates(person.birth_date, handed_over_on=handed_over_on)
    transfer = Transfer.objects.create(person=person, from_jurisdiction=person.jurisdiction,
                                       to_jurisdiction=to_jurisdiction, reason=reason,
                                       handed_over_on=handed_over_on, recorded_by=acting_user)
    person.refresh_from_db(fields=["version"])
    person.receiving_jurisdiction = to_jurisdiction
    save_versioned(person, None, ["receiving_jurisdiction"])
    audit.record(AuditEntry.Action.CREATE, actor=acting_user, obj=transfer, changes={
        "person": [None, person.pk], "from_jurisdiction": [None, transfer.from_jurisdiction.code],
        "to_jurisdiction": [None, to_jurisdiction.code], "reason": [None, reason],
        "handed_over_on": [None, handed_over_on]})
    return transfer


def _open_transfer(transfer: Transfer) -> Transfer:
    locked = Transfer.objects.select_for_update().select_related(
        "person", "from_jurisdiction", "to_jurisdiction").get(pk=transfer.pk)
    if locked.state != TransferState.HANDED_OVER:
        raise ValidationError(_("This transfer is not waiting for receipt."))
    return locked


@transaction.atomic
def do_acknowledge_transfer(transfer: Transfer, *, acting_user,
                            acknowledged_on: datetime.date | None = None) -> Transfer:
    """A user of the receiving area confirms receipt: the person moves to the receiving village
    (or township), leaves the sending area's lists, and the running community measure is
    executed by the receiving township from now on, its term running on (戒毒条例 第二十二条)."""
    if acting_user is not None:
        if not has_any_role(acting_user, WRITER_ROLES):
            raise NotAllowed(_("Your role does not keep person files."))
        if not _in_area(acting_user, transfer.to_jurisdiction):
            raise NotAllowed(_("Only the receiving area acknowledges a transfer."))
    transfer = _open_transfer(transfer)
    acknowledged_on = acknowledged_on or timezone.localdate()
    _refuse_dates(transfer.person.birth_date, acknowledged_on=acknowledged_on)
    if acknowledged_on < transfer.handed_over_on:
        raise ValidationError({"acknowledged_on": _("The receipt cannot be before the hand-over.")})
    target = transfer.to_jurisdiction
    person = transfer.person
    person.refresh_from_db()
    moved_county = person.county_code != target.county_code
    person.jurisdiction, person.grid, person.assigned_worker = target, None, None
    person.county_code, person.receiving_jurisdiction = target.county_code, None
    save_versioned(person, None, ["jurisdiction", "grid", "assigned_worker", "county_code", "receiving_jurisdiction"])
    if moved_county:
        _follow_county(person)
    transfer.state = TransferState.ACKNOWLEDGED
    transfer.acknowledged_on, transfer.acknowledged_by = acknowledged_on, acting_user
    transfer.save(update_fields=["state", "acknowledged_on", "acknowledged_by"])
    township = _township_of(target)
    for measure in person.measures.filter(ended_on__isnull=True).exclude(kind=MeasureKind.COMPULSORY_TREATMENT):
        measure.executing_jurisdiction = township
        measure.save(update_fields=["executing_jurisdiction"])
        generate_plan(measure)  # the receiving township's policy for the items still open
    audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=transfer, changes={
        "state": [TransferState.HANDED_OVER, TransferState.ACKNOWLEDGED],
        "jurisdiction": [transfer.from_jurisdiction.code, target.code], "acknowledged_on": [None, acknowledged_on]})
    evaluate_flags(person)
    _changed([person.pk], [transfer.from_jurisdiction_id])
    return transfer


def sends_transfer(user, transfer: Transfer) -> bool:
    """The user's area holds the place the person was handed over from: that side alone may
    withdraw the hand-over (a county holding both places is both sides)."""
    return _in_area(user, transfer.from_jurisdiction)


def receives_transfer(user, transfer: Transfer) -> bool:
    """The user's area holds the receiving place: that side accepts or refuses the transfer."""
    return _in_area(user, transfer.to_jurisdiction)


def _close_transfer(transfer: Transfer, state: str, acting_user, reason: str, stored: tuple = ()) -> Transfer:
    """A transfer that ends without the person moving: withdrawn by the sender or refused by the
    receiver. The person stays where they were and leaves the receiving area's lists. ``stored``:
    the fields of the transfer that keep the reason (the audit entry has it in any case)."""
    transfer = _open_transfer(transfer)
    transfer.state = state
    for name in stored:
        setattr(transfer, name, reason)
    transfer.save(update_fields=["state", *stored])
    person = transfer.person
    person.refresh_from_db(fields=["version", "receiving_jurisdiction"])
    person.receiving_jurisdiction = None
    save_versioned(person, None, ["receiving_jurisdiction"])
    audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=transfer, changes={
        "state": [TransferState.HANDED_OVER, state], "reason": [None, reason]})
    evaluate_flags(person)
    _changed([person.pk])
    return transfer


@transaction.atomic
def do_cancel_transfer(transfer: Transfer, *, acting_user, reason: str = "") -> Transfer:
    """The sending area withdraws a hand-over that has not been received; the person stays
    where they were. The receiving area cannot withdraw it: it accepts or refuses."""
    if acting_user is not None:
        if not has_any_role(acting_user, WRITER_ROLES):
            raise NotAllowed(_("Your role does not keep person files."))
        if not sends_transfer(acting_user, transfer):
            raise NotAllowed(_("Only the sending area can withdraw a hand-over: the receiving area accepts "
                               "or refuses it."))
    return _close_transfer(transfer, TransferState.CANCELLED, acting_user, (reason or "").strip())


@transaction.atomic
def do_refuse_transfer(transfer: Transfer, reason: str, *, acting_user) -> Transfer:
    """The receiving area refuses a hand-over, saying why (the person does not live there, the
    papers are incomplete …); the person stays with the sending area, which sees the reason."""
    if acting_user is not None:
        if not has_any_role(acting_user, WRITER_ROLES):
            raise NotAllowed(_("Your role does not keep person files."))
        if not receives_transfer(acting_user, transfer):
            raise NotAllowed(_("Only the receiving area can refuse a transfer."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for refusing the transfer.")})
    return _close_transfer(transfer, TransferState.REFUSED, acting_user, reason, stored=("refusal_reason",))


def pending_transfers_for(user):
    """Transfers waiting for receipt that concern the user's area: those it must acknowledge
    (``incoming`` True) and those it handed over (``incoming`` False), for the today list."""
    area = getattr(user, "jurisdiction", None)
    if area is None or not area.path:
        return Transfer.objects.none()
    return pending_transfers_in(Transfer.objects.visible_to(user), area.path)


def pending_transfers_in(queryset, area_path: str):
    """``pending_transfers_for`` over a scoped queryset of transfers and the user's area path."""
    from django.db.models import BooleanField, ExpressionWrapper, Q

    return queryset.filter(state=TransferState.HANDED_OVER).annotate(
        incoming=ExpressionWrapper(Q(to_jurisdiction__path__startswith=area_path), output_field=BooleanField()))


# --- the office's settings: check-in policy and risk model ----------------------------------

POLICY_FIELDS = ("test_every_months_year1", "test_every_months_year2", "test_every_months_year3",
                 "interview_every_months", "home_visit_every_months", "half_year_summary", "yearly_evaluation")


def _require_office(acting_user, jurisdiction):
    if acting_user is not None and not has_any_role(acting_user, {Role.OFFICE}):
        raise NotAllowed(_("Only the drug-control office sets the check-in policy and the risk model."))
    _require_area(acting_user, jurisdiction)


@transaction.atomic
def do_set_check_in_policy(jurisdiction, *, acting_user, expected_version: int | None = None,
                           **values) -> CheckInPolicy:
    """The office sets how often check-ins are due in its area (SPEC §3.1: a policy a
    jurisdiction can change); open plan items of measures in effect there are regenerated."""
    _require_office(acting_user, jurisdiction)
    unknown = set(values) - set(POLICY_FIELDS)
    if unknown:
        raise ValueError(f"unknown policy fields {sorted(unknown)}")
    errors = {}
    for name in ("test_every_months_year1", "test_every_months_year2", "test_every_months_year3",
                 "interview_every_months"):
        if name in values and not 1 <= values[name] <= 12:
            errors[name] = _("Between 1 and 12 months.")
    if "home_visit_every_months" in values and not 0 <= values["home_visit_every_months"] <= 12:
        errors["home_visit_every_months"] = _("Between 0 (none) and 12 months.")
    if errors:
        raise ValidationError(errors)
    policy = CheckInPolicy.objects.select_for_update().filter(jurisdiction=jurisdiction).first()
    created = policy is None
    if created:
        current = policy_for(jurisdiction)
        policy = CheckInPolicy.objects.create(
            jurisdiction=jurisdiction, test_every_months_year1=current.test_every_months[0],
            test_every_months_year2=current.test_every_months[1], test_every_months_year3=current.test_every_months[2],
            interview_every_months=current.interview_every_months,
            home_visit_every_months=current.home_visit_every_months,
            half_year_summary=current.half_year_summary, yearly_evaluation=current.yearly_evaluation)
    before = {name: getattr(policy, name) for name in values}
    for name, value in values.items():
        setattr(policy, name, value)
    save_versioned(policy, policy.version if created else expected_version, sorted(values))
    changes = audit.diff(before, values)
    regenerated = 0
    if changes or created:
        measures = Measure.objects.filter(state=MeasureState.IN_EFFECT,
                                          executing_jurisdiction__path__startswith=jurisdiction.path)
        for measure in measures.exclude(kind=MeasureKind.COMPULSORY_TREATMENT).select_related(
                "person", "executing_jurisdiction"):
            generate_plan(measure)
            regenerated += 1
        _changed(measures.values_list("person_id", flat=True))
        audit.record(AuditEntry.Action.POLICY, actor=acting_user, obj=policy,
                     changes=changes | {"plans_regenerated": regenerated})
    return policy


@transaction.atomic
def do_set_risk_model(jurisdiction, *, acting_user, weights: dict, high: int, medium: int,
                      expected_version: int | None = None) -> RiskModel:
    """The office sets the risk factors' points and the level thresholds for its area; the
    monthly sweep and every relevant event score with them from now on."""
    _require_office(acting_user, jurisdiction)
    errors = {}
    unknown = set(weights) - set(rules.DEFAULT_RISK_WEIGHTS)
    if unknown:
        raise ValueError(f"unknown risk factors {sorted(unknown)}")
    for name, value in weights.items():
        if not 0 <= value <= 100:
            errors[name] = _("Between 0 and 100 points.")
    if not 0 < medium < high <= 1000:
        errors["medium"] = _("The medium threshold must be above 0 and below the high threshold.")
    if errors:
        raise ValidationError(errors)
    model = RiskModel.objects.select_for_update().filter(jurisdiction=jurisdiction).first()
    created = model is None
    if created:
        model = RiskModel.objects.create(jurisdiction=jurisdiction, weights=dict(rules.DEFAULT_RISK_WEIGHTS),
                                         high_threshold=rules.DEFAULT_RISK_HIGH,
                                         medium_threshold=rules.DEFAULT_RISK_MEDIUM)
    before = {"weights": dict(model.weights), "high": model.high_threshold, "medium": model.medium_threshold}
    model.weights = {name: int(value) for name, value in weights.items()}
    model.high_threshold, model.medium_threshold = high, medium
    save_versioned(model, model.version if created else expected_version,
                   ["weights", "high_threshold", "medium_threshold"])
    changes = audit.diff(before, {"weights": model.weights, "high": high, "medium": medium})
    if changes or created:
        audit.record(AuditEntry.Action.POLICY, actor=acting_user, obj=model, changes=changes)
    return model


# --- ledger import (台账导入, issue «Ledger import and export») ----------------------------------

IMPORT_FIELDS = ("name", "registered_residence", "current_address", "phone", "jurisdiction", "first_found_on",
                 "first_found_approximate", "living_situation", "family_support", "family_contacts", "notes")
IMPORT_BATCH = 2000
# Rows a forked worker prepares at a time (_create_imported): the first part is written sooner,
# and the last one, written after the workers are done, is shorter (parts of 10,000 took about
# 0.7 s longer over 100,000 rows, alternated).
IMPORT_PART = 5_000
CREATE_AUDIT_FIELDS = frozenset(IMPORT_FIELDS) | {"id_number", "control_status", "control_status_since", "substances"}


@dataclass
class ImportResult:
    rows_read: int = 0
    imported: int = 0  # files created
    updated: int = 0
    unchanged: int = 0
    rejected: list = field(default_factory=list)  # core.importing.RowError
    warnings: list = field(default_factory=list)
    skipped_rows: list = field(default_factory=list)
    dry_run: bool = False
    written: bool = False  # False when nothing was changed (dry run, or refused for rejected rows)
    person_ids: list = field(default_factory=list)  # created and updated files
    measures_opened: int = 0  # community measures opened from the ledger's dates
    waiting_for_measure: int = 0  # community files without dates (待补录措施)

    def as_dict(self) -> dict:
        return {"rows_read": self.rows_read, "imported": self.imported, "updated": self.updated,
                "unchanged": self.unchanged, "rejected": [e.as_dict() for e in self.rejected],
                "warnings": [e.as_dict() for e in self.warnings], "skipped_rows": self.skipped_rows,
                "dry_run": self.dry_run, "written": self.written, "measures_opened": self.measures_opened,
                "waiting_for_measure": self.waiting_for_measure}


# The one refusal of a row whose file is kept outside the ledger's area (or by no one the
# importer may see): it must read the same whatever the file, so it says only what to do.
NOT_IMPORTABLE_HERE = gettext_lazy(
    "This row cannot be imported here: please contact the county (city, district) drug-control office.")


def _township_path(place) -> str:
    """The path of the township ``place`` lies in (the place's own for a township or above)."""
    if place.level == Level.VILLAGE:
        return place.path[: place.path.rstrip("/").rfind("/") + 1]
    return place.path


def _import_places(jurisdiction):
    from jurisdictions.models import Jurisdiction
    from persons.importers import PlaceResolver

    nodes = list(Jurisdiction.objects.filter(path__startswith=jurisdiction.path,
                                             level__in=[Level.TOWNSHIP, Level.VILLAGE]).exclude(pk=jurisdiction.pk))
    return PlaceResolver(jurisdiction, nodes)


@dataclass
class _OnFile:
    """What an import compares a ledger row with: a file's importable fields, its substances
    and status history, read as plain values (no model instance per file)."""

    pk: int
    path: str
    fields: dict
    substances: list
    statuses: set


def _existing_files(index_of: dict[str, str], acting_user) -> tuple[dict[str, _OnFile], set[int]]:
    """The files on record for these ID numbers (``index_of``: number → its blind index), and
    which of them ``acting_user`` may see."""
    by_index = {index: number for number, index in index_of.items()}
    columns = ["pk", "id_number_index", "jurisdiction__path", "jurisdiction_id", "control_status",
               "control_status_since", *[f for f in IMPORT_FIELDS if f != "jurisdiction"]]
    found, by_pk = {}, {}
    with bulk.key_set(by_index) as keys:
        for values in Person.objects.filter(id_number_index__in=keys).values(*columns):
            by_pk[values["pk"]] = _OnFile(values["pk"], values["jurisdiction__path"], values, [], set())
            found[by_index[values["id_number_index"]]] = by_pk[values["pk"]]
        if not found:
            return found, set()
        for pk, substance in PersonSubstance.objects.filter(person__id_number_index__in=keys).values_list(
                "person_id", "substance"):
            by_pk[pk].substances.append(substance)
        for pk, status, day in StatusChange.objects.filter(person__id_number_index__in=keys).values_list(
                "person_id", "status", "changed_on"):
            by_pk[pk].statuses.add((status, day))
        scoped = Person.objects.all() if acting_user is None else Person.objects.visible_to(acting_user)
        visible = set(scoped.filter(id_number_index__in=keys).values_list("pk", flat=True))
    return found, visible


@bulk.gc_paused()
def do_import_persons(ledger, *, acting_user, jurisdiction, skip_invalid: bool = False, dry_run: bool = False,
                      source: str = "", today: datetime.date | None = None, progress=None) -> ImportResult:
    """Bring a read ledger (persons.importers.read_ledger) into the registry.

    All or nothing: with any rejected row nothing is written unless ``skip_invalid``, which
    writes the valid rows and reports the others. Files are matched by ID number: a new number
    opens a file; a known one updates the fields the ledger fills (a blank cell never erases
    what the file holds) and records a changed status in the status history; an unchanged row
    writes nothing, so importing the same ledger twice creates nothing. A file kept outside
    the ledger's area, or outside what the importer may see, is not touched and its row is
    refused (``NOT_IMPORTABLE_HERE``); nor is one whose township the ledger would change (a
    move between townships is a transfer). Each created or updated file gets
    its own audit entry, and the import one more with the counts."""
    from core.importing import RowError

    _require_writer(acting_user)
    _require_area(acting_user, jurisdiction)
    today = today or timezone.localdate()
    result = ImportResult(rows_read=ledger.rows_read, skipped_rows=list(ledger.skipped_rows), dry_run=dry_run,
                          warnings=list(ledger.warnings))
    places = _import_places(jurisdiction)
    id_column = ledger.header_of("id_number")
    village_column = ledger.header_of("village")
    rows = []
    for row in ledger.rows:
        if not row.errors:
            place, message = places.resolve(row.raw.get("village", ""), row.raw.get("township", ""))
            if message:
                row.errors.append(RowError(row.row, village_column, message))
            row.values["jurisdiction"] = place
        rows.append(row)
    index_of = {r.values["id_number"]: r.id_index for r in rows if not r.errors}  # computed with the check
    existing, visible = _existing_files(index_of, acting_user)
    creates, updates = [], []
    for row in rows:
        if row.errors:
            continue
        person = existing.get(row.values["id_number"])
        if person is None:
            if not row.values.get("control_status"):
                row.errors.append(RowError(row.row, ledger.header_of("control_status"),
                                           _("A new file needs the control status.")))
                continue
            creates.append(row)
        elif person.pk not in visible or not person.path.startswith(jurisdiction.path):
            # Kept outside the ledger's area (for the command-line operator too): refused in words
            # that neither confirm the file nor name its area (issue 19 §4).
            row.errors.append(RowError(row.row, id_column, str(NOT_IMPORTABLE_HERE)))
        elif not person.path.startswith(_township_path(row.values["jurisdiction"])):
            row.errors.append(RowError(row.row, village_column, _(
                "The file is kept by another township: a move between townships is a hand-over (移交), "
                "not an import.")))
        else:
            updates.append((row, person))
    for row in rows:
        if row.errors:
            result.rejected.extend(row.errors)
        else:
            result.warnings.extend(row.warnings)  # a refused row's warnings do not matter
    result.rejected.sort(key=lambda e: e.row)
    result.warnings.sort(key=lambda e: e.row)
    changes = [(row, person, _import_changes(person, row.values)) for row, person in updates]
    result.imported = len(creates)
    result.updated = sum(1 for _row, _person, diff in changes if diff)
    result.unchanged = len(changes) - result.updated
    if dry_run or (result.rejected and not skip_invalid):
        if not dry_run:
            result.imported = result.updated = result.unchanged = 0
        return result
    with transaction.atomic():
        previous_places = {person.fields.get("jurisdiction_id") for _row, person, diff in changes if diff}
        created = _create_imported(creates, acting_user, today, index_of, progress)
        updated = _update_imported([(row, person, diff) for row, person, diff in changes if diff], acting_user,
                                   today)
        result.person_ids = created + [p.pk for p in updated]
        opened = _open_imported_measures(
            [*zip(creates, created, strict=True), *[(row, person.pk) for row, person, _diff in changes]],
            acting_user)
        result.measures_opened, result.waiting_for_measure = opened
        villages = {row.values["jurisdiction"].pk for row in creates} | {p.jurisdiction_id for p in updated}
        _changed(result.person_ids, previous_places, villages)  # one recomputation per import
        shown_source = mask_numbers_in(source)  # a file may be named after a person's number
        audit.record(AuditEntry.Action.IMPORT, actor=acting_user, obj=jurisdiction,
                     object_repr=f"{jurisdiction.name}: {shown_source}"[:200], changes={
                         "kind": "persons", "source": shown_source, "rows_read": result.rows_read,
                         "imported": result.imported, "updated": result.updated, "unchanged": result.unchanged,
                         "rejected": len({e.row for e in result.rejected}), "skip_invalid": skip_invalid})
    result.written = True
    return result


def _import_changes(person: _OnFile, values: dict) -> dict:
    """{field: [old, new]} for what the ledger changes; blank cells are left out."""
    changed, held = {}, person.fields
    for name in IMPORT_FIELDS:
        if name not in values or values[name] in ("", None):
            continue
        if name == "first_found_approximate" and "first_found_on" not in changed:
            continue
        if name == "jurisdiction":
            # A place that contains the file's village (the township a ledger without a village
            # column is imported into) is less precise, not different: the file stays put.
            if not person.path.startswith(values[name].path):
                changed[name] = [held["jurisdiction_id"], values[name].pk]
            continue
        if held[name] != values[name]:
            changed[name] = [held[name], values[name]]
    status, since = values.get("control_status"), values.get("control_status_since")
    if status and status != held["control_status"]:
        # A dated status older than the file's current one is history: new only if not on file.
        recorded = since is not None and held["control_status_since"] is not None and \
            since < held["control_status_since"] and (status, since) in person.statuses
        if not recorded:
            changed["control_status"] = [held["control_status"], status]
    substances = values.get("substances")
    if substances and sorted(set(substances)) != sorted(person.substances):
        changed["substances"] = [sorted(person.substances), sorted(set(substances))]
    return changed


def _open_community_measures(person_ids) -> set[int]:
    """Those of ``person_ids`` with a community measure waiting for its report-in or in effect."""
    return set(Measure.objects.filter(
        person_id__in=list(person_ids), ended_on__isnull=True, kind__in=list(COMMUNITY_MEASURES.values()),
        state__in=[MeasureState.AWAITING_REPORT, MeasureState.IN_EFFECT]).values_list("person_id", flat=True))


def _open_community_measure(person: Person, kind: str, decided_on: datetime.date, reported_on, *, acting_user,
                            decision_number: str = "") -> Measure:
    """A community measure opened as a worker would: ``do_decide_measure``, then, with a
    report-in date, ``do_report_in`` with its check-in plan, so the 15-day report-in deadline
    and the term run from the real dates (戒毒条例 第十四条, 第三十八条)."""
    measure = do_decide_measure(person, kind, decided_on, acting_user=acting_user, decision_number=decision_number)
    if reported_on is not None:
        do_report_in(measure, reported_on, acting_user=acting_user)
    return measure


def _open_imported_measures(rows, acting_user) -> tuple[int, int]:
    """The community measures a ledger dates (rows: (ledger row, person pk)). A file that has
    an open community measure keeps it. (measures opened, community files left without one)."""
    community = [(row, pk) for row, pk in rows if row.values.get("control_status") in COMMUNITY_MEASURES]
    if not community:
        return 0, 0
    people = Person.objects.select_related("jurisdiction").in_bulk([pk for _row, pk in community])
    with_measure = _open_community_measures(people)
    opened = waiting = 0
    for row, pk in community:
        if pk in with_measure:
            continue
        values = row.values
        if values.get("measure_decided_on") is None:
            waiting += 1
            continue
        _open_community_measure(people[pk], COMMUNITY_MEASURES[values["control_status"]], values["measure_decided_on"],
                                values.get("measure_reported_on") or values.get("measure_starts_on"),
                                acting_user=acting_user, decision_number=values.get("measure_decision_number", ""))
        with_measure.add(pk)
        opened += 1
    return opened, waiting


@transaction.atomic
def do_record_missing_measure(person: Person, kind: str, decided_on: datetime.date, *, acting_user,
                              reported_on: datetime.date | None = None, starts_on: datetime.date | None = None,
                              decision_number: str = "", today: datetime.date | None = None) -> Measure:
    """待补录措施: the community measure of a file that has the status but no measure (an
    imported ledger without dates, a file opened by the form), opened like an imported one.
    The dates are checked by rules.measure_date_problems; a file that got its measure in the
    meantime (another user, another tab) is refused rather than given a second one."""
    _require_writer(acting_user, person)
    today = today or timezone.localdate()
    if kind not in COMMUNITY_MEASURES.values():
        raise ValidationError({"kind": _("Choose community treatment or community rehabilitation.")})
    problems = rules.measure_date_problems(decided_on, reported_on, starts_on, today)
    if problems:
        raise ValidationError(problems)
    person = Person.objects.select_for_update().select_related("jurisdiction").get(pk=person.pk)
    if person.measures.filter(kind__in=list(COMMUNITY_MEASURES.values())).exists():  # as the today list asks
        raise ValidationError(_("This file has its measure already (recorded in the meantime): open the file."))
    return _open_community_measure(person, kind, decided_on, reported_on or starts_on, acting_user=acting_user,
                                   decision_number=decision_number)


def _imported_notes(values: dict) -> str:
    notes = values.get("notes", "")
    if values.get("unknown_substances"):
        notes = (notes + "\n" if notes else "") + _("Substances as written in the ledger: %(value)s") % {
            "value": values["unknown_substances"]}
    return notes


def _create_imported(rows, acting_user, today, index_of: dict[str, str], progress=None) -> list[int]:
    """New files in bulk: plain rows through ``core.bulk.Rows`` (encrypted and indexed as the
    fields would), their substances and first status, and one audit entry each. A large
    ledger's rows are prepared by forked workers as well (``core.bulk.forked_stream``); the rows
    are written and the audit entries chained here, in the caller's transaction."""
    ids = bulk.reserve_ids_any(Person, len(rows))
    recorder = acting_user.pk if acting_user is not None else None
    if acting_user is not None:
        acting_user.jurisdiction  # noqa: B018 (loaded now: the forked workers must not query)
    note = str(_("Imported from a ledger"))

    def prepare(part: range):
        people, substances, statuses = bulk.Rows(Person, with_pk=True), bulk.Rows(PersonSubstance), \
            bulk.Rows(StatusChange)
        entries = []
        for n in part:
            pk, values = ids[n], rows[n].values
            number, place = values["id_number"], values["jurisdiction"]
            # No date in the ledger: the file's status date is unknown (the history row is dated
            # the day it was recorded).
            since = values.get("control_status_since")
            people.row(
                id=pk, name=values["name"], name_initials=pinyin_initials(values["name"]), id_number=number,
                id_number_index=index_of[number],
                sex=rules.sex_of(number), birth_date=rules.birth_date_of(number), jurisdiction_id=place.pk,
                county_code=place.county_code, control_status=values["control_status"], control_status_since=since,
                registered_residence=values.get("registered_residence", ""),
                current_address=values.get("current_address", ""), phone=values.get("phone", ""),
                family_contacts=values.get("family_contacts", ""), first_found_on=values.get("first_found_on"),
                first_found_approximate=values.get("first_found_approximate", False),
                living_situation=values.get("living_situation", ""), notes=_imported_notes(values),
                family_support=values.get("family_support"))  # unknown unless the ledger says
            held = sorted(set(values.get("substances") or []))
            for substance in held:
                substances.row(person_id=pk, county_code=place.county_code, substance=substance)
            statuses.row(person_id=pk, county_code=place.county_code, status=values["control_status"],
                         changed_on=since or today, recorded_by_id=recorder, note=note)
            # What the ledger filled in (a new file's empty fields say nothing), masked like any diff.
            filled = {k: v for k, v in (values | {"jurisdiction": str(place.pk), "control_status_since": since,
                                                  "substances": held}).items()
                      if (v not in ("", None, False, []) or (k == "family_support" and v is False))
                      and k in CREATE_AUDIT_FIELDS}
            entries.append({"action": AuditEntry.Action.CREATE, "object_type": Person._meta.label,
                            "object_id": str(pk), "object_repr": mask_name(values["name"]),
                            "changes": audit.diff({}, filled, masks=AUDIT_MASKS)})
        return people.export(), substances.export(), statuses.export(), audit.prepare_many(entries, actor=acting_user)

    # Forked workers (one per core) prepare part after part while this process writes the parts
    # it has: the database stores one part while the next ones are encrypted and formatted.
    writers = [bulk.Rows(Person, with_pk=True), bulk.Rows(PersonSubstance), bulk.Rows(StatusChange)]
    entries, done, parts = [], 0, bulk.parts(len(rows), size=IMPORT_PART)
    with bulk.checked_as_written():  # files before their substances and statuses, part by part
        for part, prepared in zip(parts, bulk.forked_stream(prepare, parts), strict=True):
            for writer, exported in zip(writers, prepared, strict=False):
                writer.write(exported=[exported])
            entries += prepared[3]
            done += len(part)
            if progress:
                progress(done, len(rows))
    audit.record_many(prepared=entries, actor=acting_user)
    return ids


def _update_imported(changes, acting_user, today) -> list[Person]:
    entries, statuses = [], []
    people = Person.objects.select_related("jurisdiction").in_bulk([known.pk for _row, known, _diff in changes])
    changes = [(row, people[known.pk], diff) for row, known, diff in changes]
    for row, person, diff in changes:
        fields = [name for name in diff if name in IMPORT_FIELDS]
        if "first_found_on" in fields and "first_found_approximate" not in fields:
            person.first_found_approximate = row.values.get("first_found_approximate", False)
            fields.append("first_found_approximate")
        for name in fields:
            setattr(person, name, row.values[name])
        if "name" in fields:
            person.name_initials = pinyin_initials(person.name)
            fields.append("name_initials")
        if "jurisdiction" in fields and person.county_code != person.jurisdiction.county_code:
            person.county_code = person.jurisdiction.county_code
            fields.append("county_code")
        if "control_status" in diff:
            since = row.values.get("control_status_since")
            statuses.append(StatusChange(person=person, county_code=person.county_code,
                                         status=row.values["control_status"], changed_on=since or today,
                                         recorded_by=acting_user, note=_("Imported from a ledger")))
            if since is None or person.control_status_since is None or since >= person.control_status_since:
                person.control_status, person.control_status_since = row.values["control_status"], since
                fields += ["control_status", "control_status_since"]
        person.version += 1
        Person.objects.filter(pk=person.pk).update(**{name: getattr(person, name) for name in fields},
                                                   version=person.version)
        if "substances" in diff:
            _set_substances(person, row.values["substances"])
        if "county_code" in fields:
            _follow_county(person)
        shown = {k: [str(v) if k == "jurisdiction" else v for v in pair] for k, pair in diff.items()}
        for key, mask in AUDIT_MASKS.items():
            if key in shown:
                shown[key] = [mask(v) for v in shown[key]]
        entries.append({"action": AuditEntry.Action.UPDATE, "obj": person, "changes": shown})
    StatusChange.objects.bulk_create(statuses, batch_size=IMPORT_BATCH)
    audit.record_many(entries, actor=acting_user)
    return [person for _row, person, _diff in changes]


# --- ledger import through the web (upload, mapping, check, import as a background task) ------

MAX_LEDGER_BYTES = 50 * 1024 * 1024
KEEP_LEDGER_FILES_DAYS = 7


def _ledger_problem(rejected) -> ValidationError:
    return ValidationError({"file": [_("Row %(row)s: %(message)s") % {"row": e.row, "message": e.message}
                                     if e.row else e.message for e in rejected.errors]})


@transaction.atomic
def do_upload_ledger(*, acting_user, jurisdiction, filename: str, data: bytes,
                     skip_invalid: bool = False) -> LedgerImport:
    """Keep an uploaded ledger (encrypted) with its detected header row and column mapping."""
    import base64

    from core.importing import TABLE_SUFFIXES, FileRejected
    from persons.importers import find_sheet, guess_mapping, text_of

    _require_writer(acting_user)
    _require_area(acting_user, jurisdiction)
    if len(data) > MAX_LEDGER_BYTES:
        raise ValidationError({"file": _("The file is larger than %(mb)s MB: split it.") % {
            "mb": MAX_LEDGER_BYTES // 1024 // 1024}})
    if not filename.lower().endswith(TABLE_SUFFIXES):
        raise ValidationError({"file": _("Upload an Excel file (xlsx, xls) or a CSV file.")})
    try:
        sheet_index, table, header_index = find_sheet(data, filename, head=True)
    except FileRejected as rejected:
        raise _ledger_problem(rejected) from None
    headers = [text_of(c) for c in table[header_index]]
    upload = LedgerImport.objects.create(
        created_by=acting_user, jurisdiction=jurisdiction, county_code=jurisdiction.county_code,
        filename=filename[:200], content=base64.b64encode(data).decode(), size=len(data), sheet_index=sheet_index,
        header_row=header_index + 1, mapping={str(i): key for i, key in guess_mapping(headers).items()},
        skip_invalid=skip_invalid)
    audit.record(AuditEntry.Action.CREATE, actor=acting_user, obj=upload, changes={
        "filename": [None, mask_numbers_in(upload.filename)], "size": [None, upload.size], "jurisdiction": [None, jurisdiction.code]})
    return upload


def ledger_head(upload: LedgerImport, rows: int) -> tuple[list[list], int]:
    """The kept file's first ``rows`` rows and how many it has (read in a child, within limits)."""
    from core.importing import read_head

    _count, table, total = read_head(upload.data(), upload.filename, upload.sheet_index, rows)
    return table, total


@transaction.atomic
def do_set_ledger_mapping(upload: LedgerImport, *, acting_user, header_row: int, mapping: dict[int, str],
                          skip_invalid: bool, expected_version: int) -> LedgerImport:
    """The user's header row and column mapping; a changed mapping needs a new check."""
    from persons.importers import COLUMNS, REQUIRED, column_label

    _require_writer(acting_user)
    if upload.running or upload.state == LedgerImport.State.DONE:
        raise ValidationError(_("This ledger is being processed or was imported already."))
    from core.importing import FileRejected

    try:
        _table, rows = ledger_head(upload, 0)
    except FileRejected as rejected:
        raise _ledger_problem(rejected) from None
    if not 1 <= header_row <= rows:
        raise ValidationError({"header_row": _("The file has no row %(row)s.") % {"row": header_row}})
    chosen = [key for key in mapping.values() if key]
    errors = [_("%(field)s is chosen for more than one column.") % {"field": column_label(key)}
              for key in sorted(set(chosen)) if chosen.count(key) > 1]
    errors += [_("Choose the column that holds %(field)s.") % {"field": column_label(key)}
               for key in REQUIRED if key not in chosen]
    errors += [_("Unknown field %(field)s.") % {"field": key} for key in set(chosen) - set(COLUMNS)]
    if errors:
        raise ValidationError(errors)
    before = {"header_row": upload.header_row, "mapping": upload.mapping, "skip_invalid": upload.skip_invalid}
    upload.header_row, upload.skip_invalid = header_row, skip_invalid
    upload.mapping = {str(i): key for i, key in sorted(mapping.items())}
    if before["header_row"] != header_row or before["mapping"] != upload.mapping:
        upload.state, upload.result, upload.progress = LedgerImport.State.UPLOADED, {}, 0
    save_versioned(upload, expected_version, ["header_row", "mapping", "skip_invalid", "state", "result", "progress"])
    changes = audit.diff(before, {"header_row": header_row, "mapping": upload.mapping, "skip_invalid": skip_invalid})
    if changes:
        audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=upload, changes=changes)
    return upload


def do_start_ledger_run(upload: LedgerImport, *, acting_user, dry_run: bool) -> LedgerImport:
    """Check (dry run) or import in the background; the page follows ``progress``."""
    from persons.tasks import run_ledger

    _require_writer(acting_user)
    if upload.running:
        raise ValidationError(_("This ledger is being processed already."))
    if upload.state == LedgerImport.State.DONE:
        raise ValidationError(_("This ledger was imported already; upload it again to import it again."))
    state = LedgerImport.State.CHECKING if dry_run else LedgerImport.State.IMPORTING
    claimed = LedgerImport.objects.filter(pk=upload.pk, state=upload.state).update(
        state=state, progress=0, phase="", error="", finished_at=None)
    if not claimed:
        raise ValidationError(_("This ledger is being processed already."))
    upload.state = state
    transaction.on_commit(lambda: run_ledger.enqueue(upload.pk, dry_run))
    return upload


def _ledger_progress(upload_pk: int, percent: int, phase: str) -> None:
    LedgerImport.objects.filter(pk=upload_pk).update(progress=max(0, min(100, percent)), phase=phase[:100])


def run_ledger(upload_pk: int, dry_run: bool) -> dict:
    """The background task's work: read with the confirmed mapping, then check or import."""
    import logging

    from core.importing import FileRejected
    from persons.importers import read_ledger

    upload = LedgerImport.objects.select_related("created_by", "jurisdiction").get(pk=upload_pk)
    _ledger_progress(upload.pk, 2, str(_("Reading the file")))
    try:
        ledger = read_ledger(
            upload.data(), upload.filename, header_row=upload.header_row, sheet_index=upload.sheet_index,
            mapping={int(i): key for i, key in upload.mapping.items()},
            progress=lambda done, total: _ledger_progress(upload.pk, 5 + 55 * done // max(total, 1),
                                                          str(_("Checking rows"))))
        _ledger_progress(upload.pk, 60, str(_("Matching villages and files on record")))
        result = do_import_persons(ledger, acting_user=upload.created_by, jurisdiction=upload.jurisdiction,
                                   skip_invalid=upload.skip_invalid, dry_run=dry_run, source=upload.filename,
                                   progress=lambda done, total: _ledger_progress(
                                       upload.pk, 70 + 25 * done // max(total, 1), str(_("Writing"))))
        outcome = result.as_dict() | {"header_row": ledger.header_row}
        state = LedgerImport.State.DONE if result.written else LedgerImport.State.CHECKED
        error = ""
    except FileRejected as rejected:
        outcome, state = {"rejected": [e.as_dict() for e in rejected.errors], "file_rejected": True}, \
            LedgerImport.State.FAILED
        error = "; ".join(e.message for e in rejected.errors)[:500]
    except Exception as failure:  # the page must not spin for ever: say it failed, keep the file
        logging.getLogger(__name__).exception("ledger import %s failed", upload_pk)
        outcome, state, error = {}, LedgerImport.State.FAILED, mask_numbers_in(failure)[:500]
    LedgerImport.objects.filter(pk=upload.pk).update(state=state, result=outcome, error=error, progress=100,
                                                     phase="", finished_at=timezone.now())
    return outcome


def purge_ledger_files(today: datetime.date | None = None) -> dict:
    """Daily: an uploaded ledger holds ID numbers in clear once decrypted; keep it a week after
    it was imported (for the error report), then drop the content and keep the record."""
    cutoff = timezone.now() - datetime.timedelta(days=KEEP_LEDGER_FILES_DAYS)
    old = LedgerImport.objects.filter(finished_at__lt=cutoff, content__isnull=False)
    count = old.update(content=None)
    if count:
        audit.record(AuditEntry.Action.SYSTEM, object_repr="ledger files purged", changes={"count": count})
    return {"purged": count}
