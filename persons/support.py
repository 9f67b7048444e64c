"""Support (帮扶, seeds 000/003) and the support tasks that ask a member unit for it.

The office or the township gives a member unit a task for one person (what is asked, by when);
the member unit sees that person while the task is open, and for ``JINDU_SUPPORT_TASK_ACCESS_DAYS``
after it is closed, and nobody else (SPEC §2: "of persons, only those it has a task for, and
only what the task needs"; core.scoping, ``Person.task_relation``). It records the help it gives
against its task. Every change here writes its own audit entry, as in persons.services.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.models import AuditEntry
from core.roles import Role, has_any_role, role_codes
from core.services import save_versioned
from persons import rules
from persons.choices import SupportKind, SupportTaskState
from persons.models import FILE_ROLES, TASK_ROLES, Person, Support, SupportTask
from persons.services import WRITER_ROLES, NotAllowed

SUPPORT_ROLES = WRITER_ROLES | TASK_ROLES
# Who gives a member unit a task: the office and the township (SPEC §2, §3.1).
TASK_ASSIGNER_ROLES = frozenset({Role.OFFICE, Role.TOWNSHIP})
TASK_LIST_ROLES = TASK_ASSIGNER_ROLES | TASK_ROLES
# Days a closed task still shows its person to the member unit (to record the last help given).
ACCESS_DAYS = 30


def access_days() -> int:
    return int(getattr(settings, "JINDU_SUPPORT_TASK_ACCESS_DAYS", ACCESS_DAYS))


def task_only(user) -> bool:
    """Whether ``user`` reaches persons through support tasks alone (a member unit): they see
    the task view of a person, never the file."""
    roles = role_codes(user) & Person.scope_roles
    return bool(roles) and roles <= TASK_ROLES


def sees_file(user, person: Person) -> bool:
    """Whether ``user`` reads the whole file of ``person`` (which they see): through a role that
    reads files, not only as a member unit with a task."""
    roles = role_codes(user)
    if not roles & FILE_ROLES:
        return False
    if not roles & TASK_ROLES or roles & (FILE_ROLES - Person.assignment_roles):
        return True  # a role that sees the whole area: every person the user sees
    return Person.objects.visible_to(user, roles=FILE_ROLES).filter(pk=person.pk).exists()


def units_for(person: Person):
    """The member units that may be given a task for ``person``: those of the person's village or
    one of its ancestors (a county's 教育局 serves every township of the county)."""
    from accounts.models import MemberUnit

    codes = person.jurisdiction.path.strip("/").split("/")
    return MemberUnit.objects.filter(jurisdiction__code__in=codes).select_related("jurisdiction").order_by("name")


def _require_assigner(acting_user, person: Person):
    if acting_user is None:
        return  # the command-line operator (demo)
    if not has_any_role(acting_user, TASK_ASSIGNER_ROLES):
        raise NotAllowed(_("Your role does not give support tasks."))
    if not Person.objects.visible_to(acting_user, roles=TASK_ASSIGNER_ROLES).filter(pk=person.pk).exists():
        raise NotAllowed(_("This person is outside your area."))


@transaction.atomic
def do_assign_support_task(person: Person, member_unit, kind: str, request: str, due_on: datetime.date, *,
                           acting_user, assigned_on: datetime.date | None = None) -> SupportTask:
    """Ask ``member_unit`` to help ``person``: from now on the unit sees the person (what the task
    needs), until a while after the task is closed."""
    _require_assigner(acting_user, person)
    assigned_on = assigned_on or timezone.localdate()
    if member_unit is None or not units_for(person).filter(pk=member_unit.pk).exists():
        raise ValidationError({"member_unit": _("Choose a member unit of the person's area.")})
    if kind not in SupportKind.values:
        raise ValidationError({"kind": _("Unknown kind of support.")})
    request = (request or "").strip()
    if not request:
        raise ValidationError({"request": _("Say what the member unit is asked to do.")})
    if due_on < assigned_on:
        raise ValidationError({"due_on": _("The due date is before the date of the task.")})
    task = SupportTask.objects.create(person=person, member_unit=member_unit, kind=kind, request=request,
                                      assigned_on=assigned_on, due_on=due_on, recorded_by=acting_user)
    audit.record(AuditEntry.Action.CREATE, actor=acting_user, obj=task, changes={
        "person": [None, person.pk], "member_unit": [None, member_unit.pk], "kind": [None, kind],
        "request": [None, request], "assigned_on": [None, assigned_on], "due_on": [None, due_on]})
    return task


@transaction.atomic
def do_close_support_task(task: SupportTask, outcome: str, *, acting_user, closed_on: datetime.date | None = None,
                          expected_version: int | None = None) -> SupportTask:
    """Close a task (the office, the township or the member unit itself, when the help is given
    or no longer needed). The member unit keeps seeing the person for ``access_days()`` more."""
    closers = TASK_ASSIGNER_ROLES | TASK_ROLES
    if acting_user is not None and not SupportTask.objects.visible_to(acting_user, roles=closers).filter(
            pk=task.pk).exists():
        raise NotAllowed(_("This task is not yours to close."))
    if task.state != SupportTaskState.OPEN:
        raise ValidationError(_("The task is already closed."))
    outcome = (outcome or "").strip()
    if not outcome:
        raise ValidationError({"outcome": _("Say how the task ended.")})
    closed_on = closed_on or timezone.localdate()
    if closed_on < task.assigned_on or closed_on > timezone.localdate():
        raise ValidationError({"closed_on": _("The date must lie between the task's date and today.")})
    task.state, task.closed_on, task.outcome = SupportTaskState.CLOSED, closed_on, outcome
    task.visible_until = timezone.now() + datetime.timedelta(days=access_days())
    save_versioned(task, expected_version, ["state", "closed_on", "outcome", "visible_until"])
    audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=task, changes={
        "state": [SupportTaskState.OPEN, SupportTaskState.CLOSED], "closed_on": [None, closed_on],
        "outcome": [None, outcome]})
    return task


def open_tasks_of(user, person: Person):
    """The open tasks of the user's member unit for ``person``."""
    unit_id = getattr(user, "member_unit_id", None)
    if not unit_id:
        return SupportTask.objects.none()
    return SupportTask.objects.visible_to(user).filter(person=person, member_unit_id=unit_id,
                                                       state=SupportTaskState.OPEN)


@transaction.atomic
def do_record_support(person: Person, kind: str, provided_on: datetime.date, description: str, *,
                      acting_user, task: SupportTask | None = None) -> Support:
    """Record help given to a person. A member unit records it for its unit, against one of its
    open tasks for the person (the one given, or the one of this kind, or the oldest); workers,
    the office and the police may record support too. Only for a person the user can see."""
    member_unit = task.member_unit if acting_user is None and task is not None else None  # the operator (demo)
    if acting_user is not None:
        roles = role_codes(acting_user)
        if not roles & SUPPORT_ROLES:
            raise NotAllowed(_("Your role does not record support."))
        if not Person.objects.visible_to(acting_user).filter(pk=person.pk).exists():
            raise NotAllowed(_("This person is outside your area."))
        if Role.MEMBER_UNIT in roles:
            member_unit = acting_user.member_unit
            if member_unit is None and not roles & WRITER_ROLES:
                raise NotAllowed(_("Your account belongs to no member unit."))
            open_tasks = open_tasks_of(acting_user, person)
            if task is not None:
                task = open_tasks.filter(pk=task.pk).first()
            else:
                task = open_tasks.filter(kind=kind).first() or open_tasks.order_by("assigned_on", "pk").first()
            if task is None and not roles & WRITER_ROLES:
                raise NotAllowed(_("Your unit has no open support task for this person."))
    if kind not in SupportKind.values:
        raise ValidationError({"kind": _("Unknown kind of support.")})
    description = (description or "").strip()
    if not description:
        raise ValidationError({"description": _("Say what help was given.")})
    problems = rules.date_problems({"provided_on": provided_on}, born=person.birth_date, today=timezone.localdate())
    if problems:
        raise ValidationError(problems)
    support = Support.objects.create(person=person, kind=kind, provided_on=provided_on, description=description,
                                     member_unit=member_unit, task=task, recorded_by=acting_user)
    audit.record(AuditEntry.Action.CREATE, actor=acting_user, obj=support, changes={
        "person": [None, person.pk], "kind": [None, kind], "provided_on": [None, provided_on],
        "member_unit": [None, member_unit.pk if member_unit else None], "task": [None, task.pk if task else None],
        "description": [None, description]})
    return support
