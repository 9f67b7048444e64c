"""Read-only queries for the person pages: the lists behind the filters, the today list, the
timeline of a person file. Nothing here writes; everything starts from ``visible_to(user)``.
Each function runs a fixed number of queries, however many rows it returns."""

import datetime
from dataclasses import dataclass
from functools import partial

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, ExtractYear
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.navigation import url_by_key
from core.roles import Role
from core.scoping import ScopedStatement
from core.statements import Statement
from jurisdictions.choices import Level
from jurisdictions.models import Jurisdiction, place_label
from persons import rules
from persons.choices import (
    COMMUNITY_MEASURES,
    CheckInKind,
    ControlStatus,
    DrugTestResult,
    FlagState,
    MeasureKind,
    MeasureState,
    SampleMethod,
    Substance,
    TransferState,
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
    SupportTask,
    Transfer,
)

DUE_SOON_DAYS = 7
RECENT_DAYS = 30  # flags raised, and report-ins missed, this recently are listed; older ones counted
SECTION_LIMIT = 50  # lines per section of the today list; the rest is counted, with a link
TODAY_ROWS = 1000  # rows read per kind at most (an office at province level has many)


# --- building blocks -------------------------------------------------------------------------


def open_planned():
    """Planned check-ins not yet done, of measures still running."""
    return PlannedCheckIn.objects.filter(done__isnull=True, measure__ended_on__isnull=True,
                                         measure__state=MeasureState.IN_EFFECT)


def overdue_exists(today: datetime.date | None = None):
    """For one person's row: an open planned check-in is due before today."""
    today = today or timezone.localdate()
    return Exists(open_planned().filter(person=OuterRef("pk"), due_on__lt=today, missed_reason=""))


def overdue_person_ids(today: datetime.date | None = None):
    """For filtering many persons (``pk__in``): those with an open planned check-in due before
    today. A subquery run once over the open-items index, not once per person (SQLite would
    otherwise walk every open item for every person)."""
    today = today or timezone.localdate()
    return open_planned().filter(due_on__lt=today, missed_reason="").values("person_id")


def has_open_flag():
    """For ``Person`` querysets: the person has an open flag."""
    return Exists(Flag.objects.filter(person=OuterRef("pk"), state=FlagState.OPEN))


def open_flag_count():
    """For ``Person`` querysets: the number of open flags, as a subquery (no join, so other
    filters cannot multiply it)."""
    counts = (Flag.objects.filter(person=OuterRef("pk"), state=FlagState.OPEN).order_by()
              .values("person").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def age_in_years(day: datetime.date):
    """A person's whole years of age on ``day`` (rules.age_on) as a database expression: what
    the person list sorts by, so that its order says no more of a birth date than the age."""
    before_birthday = (Q(birth_date__month__gt=day.month)
                       | Q(birth_date__month=day.month, birth_date__day__gt=day.day))
    return (Value(day.year) - ExtractYear("birth_date")
            - Case(When(before_birthday, then=Value(1)), default=Value(0), output_field=IntegerField()))


def person_rows(queryset):
    """What a person list shows: the place, the open flags; not the other encrypted fields."""
    return (queryset.select_related("jurisdiction", "jurisdiction__parent")
            .defer("family_contacts", "notes")
            .annotate(open_flags=open_flag_count()))


# What the person table shows (persons.tables.PersonTable.body_rows): a whole Person row with
# its two places costs twice as much to build, and a list page shows fifty.
PERSON_TABLE_FIELDS = ("name", "id_number", "sex", "birth_date", "control_status", "risk_level",
                       "jurisdiction__name", "jurisdiction__level", "jurisdiction__parent__name")


def person_table_rows(queryset):
    """``person_rows`` reduced to the columns of the person table."""
    return queryset.only(*PERSON_TABLE_FIELDS)


def area_choices(user) -> list:
    """Townships and villages of the user's area for a filter or a picker, grouped by township:
    ``[(township name, [(code, name), ...]), ...]``. One query."""
    nodes = (Jurisdiction.objects.visible_to(user).filter(level__in=[Level.TOWNSHIP, Level.VILLAGE])
             .only("code", "name", "level", "path", "parent_id").order_by("path"))
    return _grouped(nodes, whole_township=True)


def village_choices(user) -> list:
    """Villages of the user's area grouped by township, for the person form (a township itself
    when the village is unknown). Values are primary keys."""
    nodes = (Jurisdiction.objects.visible_to(user).filter(level__in=[Level.TOWNSHIP, Level.VILLAGE])
             .only("pk", "code", "name", "level", "path", "parent_id").order_by("path"))
    return _grouped(nodes, whole_township=False)


def _grouped(nodes, whole_township: bool) -> list:
    groups: list = []
    township_path = None
    for node in nodes:
        value = node.code if whole_township else node.pk
        if node.level == Level.TOWNSHIP:
            township_path = node.path
            label = (_("%(name)s (all)") if whole_township else _("%(name)s (village unknown)")) % {"name": node.name}
            groups.append((node.name, [(value, label)]))
        elif township_path and node.path.startswith(township_path):
            groups[-1][1].append((value, place_label(node.name, groups[-1][0])))
        else:  # the user sits at a village: its township is outside the area
            groups.append((node.name, [(value, node.name)]))
    return groups


def _parent_path(node) -> str:
    return node.path[: node.path.rstrip("/").rfind("/") + 1]


def hand_over_choices(person) -> list:
    """The places a person can be handed over to (rules.hand_over_error): the township-level
    places of this installation's tree other than the person's own township, each shown under
    its parent ("示范县 / 青山镇"); values are primary keys. Names of places are not personal data."""
    own = person.jurisdiction
    township_path = own.path if own.level == Level.TOWNSHIP else _parent_path(own)
    nodes = (Jurisdiction.objects.filter(level=Level.TOWNSHIP).exclude(path=township_path)
             .select_related("parent").only("pk", "name", "path", "parent__name").order_by("path"))
    return [(node.pk, node.picker_label) for node in nodes]


def grid_choices(user) -> list:
    """Grids of the user's area grouped by village."""
    nodes = (Jurisdiction.objects.visible_to(user).filter(level__in=[Level.VILLAGE, Level.GRID])
             .only("pk", "name", "level", "path").order_by("path"))
    groups: list = []
    names = {}
    for node in nodes:
        if node.level == Level.VILLAGE:
            names[node.path] = node.name
            continue
        village = names.get(_parent_path(node), "")
        if not groups or groups[-1][0] != village:
            groups.append((village, []))
        groups[-1][1].append((node.pk, node.name))
    return groups


def social_workers_for(user):
    """Social workers whose area lies inside the user's: those a file can be assigned to."""
    from accounts.models import User

    jurisdiction = getattr(user, "jurisdiction", None)
    if jurisdiction is None:
        return User.objects.none()
    return (User.objects.filter(is_active=True, role_grants__role=Role.SOCIAL_WORKER,
                                jurisdiction__path__startswith=jurisdiction.path)
            .order_by("full_name", "username").distinct())


# --- the today list --------------------------------------------------------------------------


@dataclass(frozen=True)
class TodayAction:
    label: str
    url: str
    count: int = 1  # due dates of this kind missed


@dataclass(frozen=True)
class TodayItem:
    kind: str  # check_in, report_in, flag, transfer
    overdue: bool
    on: datetime.date  # the due date, the deadline, the day a flag was raised or a transfer handed over
    person_id: int
    person_name: str
    place: str
    title: str
    detail: str
    action_url: str
    action_label: str
    actions: tuple[TodayAction, ...] = ()  # check-ins: one per kind, each to its pre-filled form


@dataclass
class TodaySection:
    key: str  # overdue, flags, due, transfers
    label: str
    items: list[TodayItem]
    hidden: int = 0  # more of the same, not listed: see more_url
    more_url: str = ""
    more_label: str = ""


@dataclass
class TodayList:
    sections: list[TodaySection]

    @property
    def items(self) -> list[TodayItem]:
        return [item for section in self.sections for item in section.items]

    def count(self, key: str) -> int:
        return sum(len(s.items) + s.hidden for s in self.sections if s.key == key)

    @property
    def overdue_count(self) -> int:
        return self.count("overdue")

    @property
    def flag_count(self) -> int:
        return self.count("flags")

    @property
    def due_count(self) -> int:
        return self.count("due")

    @property
    def transfer_count(self) -> int:
        return self.count("transfers")


def place_of(person) -> str:
    """``城关镇 东门社区``: the village with its township (the township alone if the village is unknown)."""
    j = person.jurisdiction
    return _place_name(j.name, j.level, j.parent.name if j.parent_id is not None else None)


def _place_name(name: str, level: str, parent_name: str | None) -> str:
    return f"{parent_name} {name}" if level == Level.VILLAGE and parent_name else name


PLACE_FIELDS = ("person__jurisdiction__name", "person__jurisdiction__level", "person__jurisdiction__parent__name")


def _row_place(row: dict) -> str:
    return _place_name(*(row[f] for f in PLACE_FIELDS))


def today_list(user, today: datetime.date | None = None) -> TodayList:
    """What the user's people need, most urgent first (SPEC §3.1): overdue check-ins and missed
    report-ins, flags raised in the last month, what falls due this week, transfers waiting.
    Older open flags and long-missed report-ins are counted, with a link to the filtered list,
    rather than listed every day. Five queries, however many people."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    recent = today - datetime.timedelta(days=RECENT_DAYS)
    overdue, flags, due, transfers = [], [], [], []
    detail_url, check_in_url, report_in_url = (url_by_key(name) for name in (
        "persons:detail", "persons:check_in", "persons:report_in"))

    # Grouped in the database per person and kind, then per person: one line of what can still
    # be done ("drug test, interview — due on …", each with its Record action) and one line of
    # the missed check-ins not yet explained, with one action explaining them all (persons.missed).
    # A missed period is not made up by a later check-in (rules.plan_item_to_close).
    planned = _today_planned(user, horizon, today)
    due_rows: dict = {}
    missed_rows: dict = {}
    for row in planned:
        if row["next_due"] is not None:
            due_rows.setdefault(row["person_id"], []).append(row)
        if row["missed"]:
            missed_rows.setdefault(row["person_id"], []).append(row)
    kinds = dict(CheckInKind.choices)
    explain_url = url_by_key("persons:explain_missed")

    # A section lists its first fifty lines (a county office has hundreds): each line is built
    # only once it is known to be shown; the others are counted. Lines are (sort key, maker).
    def check_in_item(person_id, rows) -> TodayItem:
        rows = sorted(rows, key=lambda r: (r["next_due"], r["kind"]))
        first = rows[0]
        due_on = first["next_due"]
        detail = _("Due today") if due_on == today else _("Due on %(date)s") % {"date": due_on}
        actions = tuple(TodayAction(str(kinds.get(r["kind"], r["kind"])),
                                    check_in_url(person_id) + f"?kind={r['kind']}", 1) for r in rows)
        return TodayItem(
            kind="check_in", overdue=False, on=due_on, person_id=person_id, person_name=first["person__name"],
            place=_row_place(first), title="、".join(a.label for a in actions), detail=detail,
            action_url=actions[0].url, action_label=_("Record"), actions=actions)

    def missed_item(person_id, rows) -> TodayItem:
        first = rows[0]  # rows come in date order of their first date
        since, count = first["first_due"], sum(r["missed"] for r in rows)
        detail = _("%(n)s check-ins missed since %(date)s (%(days)s days), not yet explained") % {
            "n": count, "date": since, "days": (today - since).days}
        title = _("Missed: %(kinds)s") % {"kinds": "、".join(str(kinds.get(r["kind"], r["kind"])) for r in rows)}
        return TodayItem(
            kind="missed", overdue=True, on=since, person_id=person_id, person_name=first["person__name"],
            place=_row_place(first), title=title, detail=detail, action_url=explain_url(person_id) + "?back=today",
            action_label=_("Explain the missed check-ins"))

    for person_id, rows in missed_rows.items():
        key = (rows[0]["first_due"], rows[0]["person__name"], "missed")
        overdue.append((key, partial(missed_item, person_id, rows)))
    for person_id, rows in due_rows.items():
        key = (min(r["next_due"] for r in rows), rows[0]["person__name"], "check_in")
        due.append((key, partial(check_in_item, person_id, rows)))

    # Report-ins still to come, or missed within the last month; a report-in missed long ago
    # is an open flag (视为拒绝接受社区戒毒) that waits for a decision.
    measures = _today_report_ins(user, recent - datetime.timedelta(days=rules.REPORT_IN_DAYS))
    measure_kinds = dict(MeasureKind.choices)

    def report_in_item(row, deadline, late) -> TodayItem:
        if late:
            detail = _("Report-in deadline %(date)s passed %(days)s days ago") % {
                "date": deadline, "days": (today - deadline).days}
        else:
            detail = _("Report in by %(date)s (%(days)s days left)") % {"date": deadline, "days": (deadline - today).days}
        return TodayItem(
            kind="report_in", overdue=late, on=deadline, person_id=row["person_id"], person_name=row["person__name"],
            place=_row_place(row), title=_("Report-in: %(measure)s") % {"measure": measure_kinds.get(row["kind"])},
            detail=detail, action_url=report_in_url(row["pk"]),
            action_label=_("Record report-in"))

    for row in measures:
        deadline = rules.report_in_deadline(row["decided_on"])
        late = today > deadline
        (overdue if late else due).append(((deadline, row["person__name"], "report_in"),
                                           partial(report_in_item, row, deadline, late)))

    def flag_item(row) -> TodayItem:
        return TodayItem(
            kind="flag", overdue=False, on=row["raised_on"], person_id=row["person_id"],
            person_name=row["person__name"], place=_row_place(row), title=row["title"],
            detail=_("%(article)s · raised on %(date)s") % {"article": row["article"], "date": row["raised_on"]},
            action_url=detail_url(row["person_id"]) + f"#flag-{row['pk']}",
            action_label=_("Decide"))

    older_flags = sum(_today_older_flags(user, recent))
    for row in _today_new_flags(user, recent):
        flags.append(((row["raised_on"], row["person__name"], "flag"), partial(flag_item, row)))

    pending = _pending_transfers(user)
    for transfer in pending:
        incoming = getattr(transfer, "incoming", True)
        transfers.append((not incoming, TodayItem(
            kind="transfer", overdue=False, on=transfer.handed_over_on, person_id=transfer.person_id,
            person_name=transfer.person.name, place=place_of(transfer.person),
            title=_("Transfer to your area: waiting for your receipt") if incoming
            else _("Handed over: waiting for the receiving area"),
            detail=_("%(from)s → %(to)s, handed over on %(date)s") % {
                "from": transfer.from_jurisdiction.name, "to": transfer.to_jurisdiction.name,
                "date": transfer.handed_over_on},
            action_url=(reverse("persons:transfer_acknowledge", args=[transfer.pk]) if incoming
                        else detail_url(transfer.person_id) + "#transfers"),
            action_label=_("Receive") if incoming else _("Open"))))

    list_url = reverse("persons:list")
    return TodayList(sections=[
        _section("overdue", _("Overdue"), overdue, f"{list_url}?overdue=true", _("All persons with overdue check-ins")),
        _section("flags", _("New flags (last 30 days)"), flags, f"{list_url}?flagged=true",
                 _("All persons with open flags"), hidden=older_flags),
        _section("due", _("Due this week"), due),
        # Those the user must receive first.
        _section("transfers", _("Transfers waiting"),
                 [(None, partial(_same, item)) for _o, item in sorted(transfers, key=lambda t: (t[0], t[1].on))]),
        _missing_measure_section(user, today),
    ])


def _same(item):
    return item


# --- 待补录措施: files with a community status and no measure (issue 20) ------------------------



def _missing_measures_in(persons):
    """Files in 社区戒毒/社区康复 with no community measure on file: no clock runs for them until
    the measure is recorded (an imported ledger without dates, a file opened by the form). A
    file whose measure ended keeps its own flags and status; it is not missing one."""
    measure = Measure.objects.filter(person=OuterRef("pk"), kind__in=list(COMMUNITY_MEASURES.values()))
    return (persons.filter(control_status__in=list(COMMUNITY_MEASURES)).filter(~Exists(measure))
            .values("pk", "name", "control_status", "control_status_since", "jurisdiction__name",
                    "jurisdiction__level", "jurisdiction__parent__name")
            .order_by("name", "pk")[:TODAY_ROWS])


_today_missing_measures = ScopedStatement(Person, _missing_measures_in, name="today_missing_measures")


def _missing_measure_section(user, today) -> TodaySection:
    statuses, url = dict(ControlStatus.choices), url_by_key("persons:measure_missing")

    def item(row) -> TodayItem:
        since = row["control_status_since"]
        return TodayItem(
            kind="missing_measure", overdue=False, on=since or today, person_id=row["pk"], person_name=row["name"],
            place=_place_name(row["jurisdiction__name"], row["jurisdiction__level"], row["jurisdiction__parent__name"]),
            title=_("%(status)s without a measure: no check-in plan, no report-in deadline") % {
                "status": statuses.get(row["control_status"], row["control_status"])},
            detail=_("Status since %(date)s") % {"date": since} if since else _("Status since: unknown"),
            action_url=url(row["pk"]), action_label=_("Record the measure"))

    return _section("missing_measures", _("Measures to record"),
                    [(None, partial(item, row)) for row in _today_missing_measures(user)])


# The today list's queries, compiled once per scope (core.scoping.ScopedStatement) and run with
# the day's dates: built and compiled anew they were most of a social worker's today list (about
# 17 of 24 ms of Python, for a few dozen rows).

def _planned_in(persons, horizon, today):
    """Per person and kind: the first date due from today to ``horizon`` (what can still be done),
    and the missed check-ins not yet explained (their first date and number)."""
    due = Q(due_on__gte=today)
    missed = Q(due_on__lt=today)
    return (open_planned().filter(due_on__lte=horizon, person__in=persons.values("pk"))
            .filter(due | Q(missed, missed_reason=""))
            .values("person_id", "kind", "person__name", *PLACE_FIELDS)
            .annotate(first_due=Min("due_on"), next_due=Min("due_on", filter=due),
                      missed=Count("pk", filter=missed))
            .order_by("first_due", "person_id", "kind")[:TODAY_ROWS])


def _report_ins_in(measures, since):
    return (measures.filter(state=MeasureState.AWAITING_REPORT, ended_on__isnull=True, decided_on__gte=since)
            .values("pk", "kind", "decided_on", "person_id", "person__name", *PLACE_FIELDS)
            .order_by("decided_on", "pk")[:TODAY_ROWS])


def _older_flags_in(flags, recent):
    """The number of open flags raised before ``recent``: one row, the count (or none)."""
    return (flags.filter(state=FlagState.OPEN, raised_on__lt=recent).order_by().values("state")
            .annotate(n=Count("pk")).values_list("n", flat=True))


def _new_flags_in(flags, recent):
    return (flags.filter(state=FlagState.OPEN, raised_on__gte=recent)
            .values("pk", "title", "article", "raised_on", "person_id", "person__name", *PLACE_FIELDS)
            .order_by("-raised_on", "-pk")[:TODAY_ROWS])


_today_planned = ScopedStatement(Person, _planned_in, name="today_planned")
_today_report_ins = ScopedStatement(Measure, _report_ins_in, name="today_report_ins")
_today_older_flags = ScopedStatement(Flag, _older_flags_in, name="today_older_flags")
_today_new_flags = ScopedStatement(Flag, _new_flags_in, name="today_new_flags")


def _section(key, label, lines, more_url="", more_label="", hidden=0) -> TodaySection:
    """``lines``: (sort key, maker) pairs, sorted here by their key (None: in the given order);
    the first ``SECTION_LIMIT`` are made and shown, the others counted."""
    if lines and lines[0][0] is not None:
        lines = sorted(lines, key=lambda line: line[0])
    shown = [make() for _key, make in lines[:SECTION_LIMIT]]
    return TodaySection(key, label, shown, hidden + len(lines) - len(shown), more_url, more_label)


def _pending_transfers_in(queryset, scope):
    from persons import services

    return services.pending_transfers_in(queryset, scope.area_path).select_related(
        "person", "person__jurisdiction", "person__jurisdiction__parent", "from_jurisdiction", "to_jurisdiction",
    ).order_by("handed_over_on", "id")[:TODAY_ROWS]


# Transfers waiting for receipt (services.pending_transfers_for), on every today list: compiled
# once per scope (built and compiled anew it took 5.6 ms of Python for an empty answer).
_pending_transfers = ScopedStatement(Transfer, _pending_transfers_in, name="pending_transfers", with_scope=True)


# --- the person page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEvent:
    on: datetime.date
    kind: str  # the model, for the icon colour and the anchor
    anchor: str
    title: str
    detail: str = ""
    tone: str = "secondary"  # a Tabler colour


def _is_current(measure: Measure) -> bool:
    """Running or waiting for its report-in."""
    return measure.ended_on is None and measure.state not in (
        MeasureState.REFUSED, MeasureState.COMPLETED, MeasureState.TERMINATED)


@dataclass(frozen=True)
class Clock:
    label: str
    on: datetime.date | None
    overdue: bool = False
    note: str = ""


def measure_clocks(measure: Measure, today: datetime.date | None = None) -> list[Clock]:
    """The legal clocks of a measure as the page shows them (persons.rules computes them)."""
    today = today or timezone.localdate()
    clocks = []
    if measure.state == MeasureState.AWAITING_REPORT:
        deadline = rules.report_in_deadline(measure.decided_on)
        clocks.append(Clock(_("Report-in deadline"), deadline, today > deadline,
                            _("戒毒条例 第十四条: within 15 days of the decision")))
    if measure.starts_on:
        clocks.append(Clock(_("Term starts"), measure.starts_on))
    if measure.ends_on:
        note = ""
        if measure.extension_months:
            note = _("extended by %(n)s months") % {"n": measure.extension_months}
        clocks.append(Clock(_("Term ends"), measure.ends_on, False, note))
        if measure.ended_on is None and measure.kind != MeasureKind.COMPULSORY_TREATMENT:
            clocks.append(Clock(_("Termination notice due by"), rules.termination_notice_due(measure.ends_on), False,
                                _("within 7 days of the end")))
    if measure.kind == MeasureKind.COMPULSORY_TREATMENT and measure.starts_on:
        due = rules.early_release_assessment_due(measure.starts_on)
        clocks.append(Clock(_("Early-release assessment possible from"), due, False, _("禁毒法 第四十七条")))
    return clocks


PLAN_OVERDUE_SHOWN = 50


EVIDENCE_ANCHORS = {"persons.CheckIn": "checkin", "persons.Measure": "measure", "persons.Transfer": "transfer",
                    "persons.PlannedCheckIn": "plan"}


def evidence_of(flag) -> list[dict]:
    """A flag's evidence, each with the anchor of its record on the person's timeline."""
    items = []
    for entry in flag.evidence or []:
        prefix = EVIDENCE_ANCHORS.get(entry.get("model"))
        items.append({"on": entry.get("on"), "label": entry.get("label", ""),
                      "anchor": f"{prefix}-{entry.get('id')}" if prefix else "timeline"})
    return items


# A person's records by the person's key, each kind in one statement compiled once per
# connection (core.statements): the person page runs them all on every request.
@Statement
def _substances(person_id):
    return PersonSubstance.objects.filter(person_id=person_id)


@Statement
def _open_plan(person_id):
    return (open_planned().filter(person_id=person_id)
            .only("id", "measure_id", "kind", "due_on", "missed_reason", "missed_note").order_by("due_on", "id"))


@Statement
def _status_changes(person_id):
    return StatusChange.objects.filter(person_id=person_id).order_by()


@Statement
def _measures(person_id):
    return (Measure.objects.filter(person_id=person_id).select_related("executing_jurisdiction")
            .order_by("-decided_on", "-id"))


@Statement
def _check_ins(person_id):
    return CheckIn.objects.filter(person_id=person_id).order_by().values_list(*CHECK_IN_FIELDS)


@Statement
def _flags(person_id):
    return Flag.objects.filter(person_id=person_id).order_by("-raised_on", "-id")


@Statement
def _risk_assessments(person_id):
    return RiskAssessment.objects.filter(person_id=person_id).order_by("-assessed_on", "-id")


@Statement
def _supports(person_id):
    return Support.objects.filter(person_id=person_id).select_related("member_unit").order_by()


@Statement
def _support_tasks(person_id):
    return SupportTask.objects.filter(person_id=person_id).select_related("member_unit").order_by("-state", "due_on",
                                                                                                 "id")


@Statement
def _transfers(person_id):
    return (Transfer.objects.filter(person_id=person_id).select_related("from_jurisdiction", "to_jurisdiction")
            .order_by("-handed_over_on", "-id"))


class PersonFile:
    """The records of one person the person page shows, each kind read once (at most ten queries,
    however many records): the timeline and the cards — the current measure and its check-in
    plan, the open flags, the latest risk assessment, the transfer waiting for receipt, the
    support tasks — come from the same rows."""

    # Kinds of records most files have none of: a person read with ``with_presence`` tells
    # which are there, and the page does not ask for the others.
    SPARSE = {"flags": Flag, "supports": Support, "transfers": Transfer, "tasks": SupportTask}

    @classmethod
    def with_presence(cls, queryset):
        """``queryset`` (of persons, not nested in another query) annotated with whether each
        sparse kind has a record. Written as SQL: Django took ~0.6 ms of the person page to
        build and compile the same three ``Exists(… OuterRef("pk"))`` on every request."""
        quote = connection.ops.quote_name
        person = f"{quote(Person._meta.db_table)}.{quote(Person._meta.pk.column)}"
        return queryset.annotate(**{
            f"has_{name}": RawSQL(f"EXISTS (SELECT 1 FROM {quote(model._meta.db_table)} WHERE "
                                  f"{quote(model._meta.get_field('person').column)} = {person})", (),
                                  output_field=BooleanField())
            for name, model in cls.SPARSE.items()})

    def __init__(self, person):
        self.person = person
        present = {name: getattr(person, f"has_{name}", True) for name in self.SPARSE}
        self._read(person, present)

    def _read(self, person, present):
        pk = person.pk
        self.substances = _substances(pk)
        # The open due dates of the measures in effect (a plan is a few years long: at most a
        # hundred or so): the measure card and whether anything is overdue.
        self.open_plan = _open_plan(pk)
        self.status_changes = _status_changes(pk)
        self.measures = _measures(pk)
        # Check-ins are most of a file (one a month or more for years): plain rows, not models.
        self.check_ins = _check_ins(pk)
        self.flags = _flags(pk) if present["flags"] else []
        self.risk_assessments = _risk_assessments(pk)
        self.supports = _supports(pk) if present["supports"] else []
        self.transfers = _transfers(pk) if present["transfers"] else []
        self.support_tasks = _support_tasks(pk) if present["tasks"] else []

    @property
    def current_measure(self) -> Measure | None:
        """The measure running or waiting for its report-in, newest first."""
        return next((m for m in self.measures if _is_current(m)), None)

    def is_overdue(self, today: datetime.date) -> bool:
        """As ``overdue_exists``: a missed check-in of a measure in effect not yet explained."""
        return any(item.due_on < today and not item.missed_reason for item in self.open_plan)

    def plan(self, today: datetime.date, upcoming: int = 5) -> dict | None:
        """The current measure's overdue check-ins (the first 50) and the next few due, if it is
        in effect."""
        measure = self.current_measure
        if measure is None or measure.state != MeasureState.IN_EFFECT:
            return None
        items = [item for item in self.open_plan if item.measure_id == measure.pk]
        missed = [item for item in items if rules.is_missed(item.due_on, False, today)]
        return {"overdue": [item for item in missed if not item.missed_reason][:PLAN_OVERDUE_SHOWN],
                "explained": [item for item in missed if item.missed_reason][::-1][:PLAN_OVERDUE_SHOWN],
                "next": [item for item in items if item.due_on >= today][:upcoming]}

    @property
    def open_flags(self) -> list:
        return [flag for flag in self.flags if flag.state == FlagState.OPEN]

    @property
    def latest_risk(self) -> RiskAssessment | None:
        return self.risk_assessments[0] if self.risk_assessments else None

    @property
    def pending_transfer(self) -> Transfer | None:
        return next((t for t in self.transfers if t.state == TransferState.HANDED_OVER), None)

    def timeline(self) -> list[TimelineEvent]:
        """Every status change, measure, check-in, flag, risk assessment, support record and
        transfer, newest first."""
        events: list[TimelineEvent] = []
        for change in self.status_changes:
            detail = " · ".join(filter(None, [change.document_number, change.note]))
            events.append(TimelineEvent(change.changed_on, "status", f"status-{change.pk}",
                                        _("Control status: %(status)s") % {"status": change.get_status_display()},
                                        detail, "blue"))
        for measure in self.measures:
            name = measure.get_kind_display()
            detail = " · ".join(filter(None, [measure.decision_number, measure.deciding_authority,
                                              measure.executing_jurisdiction.name]))
            events.append(TimelineEvent(measure.decided_on, "measure", f"measure-{measure.pk}",
                                        _("Measure decided: %(measure)s") % {"measure": name}, detail, "purple"))
            if measure.reported_on:
                events.append(TimelineEvent(measure.reported_on, "measure", f"measure-{measure.pk}-report",
                                            _("Reported in: %(measure)s") % {"measure": name},
                                            _("term until %(date)s") % {"date": measure.ends_on} if measure.ends_on
                                            else "", "purple"))
            if measure.ended_on:
                events.append(TimelineEvent(measure.ended_on, "measure", f"measure-{measure.pk}-end",
                                            _("Measure ended: %(measure)s (%(state)s)") % {
                                                "measure": name, "state": measure.get_state_display()},
                                            measure.end_reason, "purple"))
        check_in_event = _CheckInEvents()
        events.extend(check_in_event(row) for row in self.check_ins)
        for item in self.open_plan:  # missed check-ins explained (persons.missed)
            if item.missed_reason:
                events.append(TimelineEvent(item.due_on, "plan", f"plan-{item.pk}",
                                            _("Missed check-in: %(kind)s") % {"kind": item.get_kind_display()},
                                            " · ".join(filter(None, [item.get_missed_reason_display(),
                                                                     item.missed_note])), "red"))
        for flag in self.flags:
            events.append(TimelineEvent(flag.raised_on, "flag", f"flag-event-{flag.pk}",
                                        _("Flag: %(title)s") % {"title": flag.title}, flag.article, "red"))
            if flag.resolved_at and flag.state in (FlagState.DECIDED, FlagState.DISMISSED, FlagState.RESOLVED):
                detail = {FlagState.DECIDED: " · ".join(filter(None, [flag.decision, flag.document_number])),
                          FlagState.DISMISSED: flag.reason}.get(flag.state, "")
                events.append(TimelineEvent(timezone.localdate(flag.resolved_at), "flag", f"flag-event-{flag.pk}-end",
                                            _("Flag %(state)s: %(title)s") % {
                                                "state": flag.get_state_display(), "title": flag.title}, detail,
                                            "red"))
        for assessment in self.risk_assessments:
            detail = _("score %(score)s") % {"score": assessment.score}
            if assessment.override_reason:
                detail += " · " + _("overridden: %(reason)s") % {"reason": assessment.override_reason}
            events.append(TimelineEvent(assessment.assessed_on, "risk", f"risk-{assessment.pk}",
                                        _("Risk assessment: %(level)s") % {"level": assessment.get_level_display()},
                                        detail, "orange"))
        for support in self.supports:
            detail = " · ".join(filter(None, [support.description, support.member_unit.name if support.member_unit
                                              else ""]))
            events.append(TimelineEvent(support.provided_on, "support", f"support-{support.pk}",
                                        _("Support: %(kind)s") % {"kind": support.get_kind_display()}, detail,
                                        "green"))
        for transfer in self.transfers:
            events.append(TimelineEvent(transfer.handed_over_on, "transfer", f"transfer-{transfer.pk}",
                                        _("Transfer: %(from)s → %(to)s") % {"from": transfer.from_jurisdiction.name,
                                                                            "to": transfer.to_jurisdiction.name},
                                        " · ".join(filter(None, [transfer.get_state_display(), transfer.reason,
                                                                 transfer.refusal_reason])),
                                        "cyan"))
            if transfer.acknowledged_on:
                events.append(TimelineEvent(transfer.acknowledged_on, "transfer", f"transfer-{transfer.pk}-received",
                                            _("Transfer received by %(to)s") % {"to": transfer.to_jurisdiction.name},
                                            "", "cyan"))
        events.sort(key=lambda e: (e.on, e.anchor), reverse=True)
        return events


CHECK_IN_FIELDS = ("pk", "kind", "occurred_on", "result", "method", "substance", "returned_on", "notes")
RESULT_TONES = {"negative": "green", "positive": "red", "refused": "red"}


class _CheckInEvents:
    """A check-in row (``CHECK_IN_FIELDS``) as a timeline event; the labels of the choices are
    translated once per page rather than once per row."""

    def __init__(self):
        self.kinds, self.results, self.methods, self.substances = (
            {key: str(label) for key, label in choices}
            for choices in (CheckInKind.choices, DrugTestResult.choices, SampleMethod.choices, Substance.choices))
        self.result_text = _(": %(result)s")
        self.returned_text = _("returned on %(date)s")
        self.not_back_text = _("not back yet")

    def __call__(self, row) -> TimelineEvent:
        pk, kind, occurred_on, result, method, substance, returned_on, notes = row
        title = self.kinds.get(kind, kind)
        parts = []
        tone = "secondary"
        if result:
            title += self.result_text % {"result": self.results.get(result, result)}
            tone = RESULT_TONES.get(result, tone)
        if method:
            parts.append(self.methods.get(method, method))
        if substance:
            parts.append(self.substances.get(substance, substance))
        if kind == "departure":
            tone = "red"
            parts.append(self.returned_text % {"date": returned_on} if returned_on else self.not_back_text)
        if notes:
            parts.append(notes)
        return TimelineEvent(occurred_on, "check_in", f"checkin-{pk}", title, " · ".join(parts), tone)
