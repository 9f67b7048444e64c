"""督办 (issue 20): the office assigns what the alert centre shows for a township to that
township with a due date; the township answers what it did; the office closes it. Every change
writes its own audit entry (persons.services' rule); the assignments are read through
``AlertAssignment.objects.visible_to(user)`` (the office: its area's; a township: its own)."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import audit
from core.models import AuditEntry
from core.roles import Role, has_any_role
from core.services import save_versioned
from monitoring import rules
from monitoring.models import AlertAssignment

DUE_DATE_PASSED = gettext_lazy("The due date cannot be in the past.")
ASSIGNER_ROLES = frozenset({Role.OFFICE})
ANSWER_ROLES = frozenset({Role.TOWNSHIP})
STATE_LABELS = {
    "open": gettext_lazy("Waiting for the township"), "overdue": gettext_lazy("Overdue"),
    "answered": gettext_lazy("Answered"), "answered_late": gettext_lazy("Answered after the due date"),
    "closed": gettext_lazy("Closed"),
}


def township_choices(user) -> list:
    """The townships an office may assign to: those of this installation's tree in its area."""
    from jurisdictions.choices import Level
    from jurisdictions.models import Jurisdiction

    if user.jurisdiction is None:
        return []
    nodes = (Jurisdiction.objects.filter(level=Level.TOWNSHIP, path__startswith=user.jurisdiction.path)
             .select_related("parent").order_by("path"))
    return [(node.pk, node.picker_label) for node in nodes]


def state_of(assignment: AlertAssignment, today: datetime.date | None = None) -> tuple[str, str]:
    """(key, Chinese label) of how the assignment stands today (rules.assignment_state)."""
    key = rules.assignment_state(assignment.state, assignment.due_on, assignment.answered_on,
                                 today or timezone.localdate())
    return key, str(STATE_LABELS[key])


def _require(user, roles, message):
    if not has_any_role(user, roles):
        raise PermissionError(message)


@transaction.atomic
def do_assign_alert(jurisdiction, kind: str, request: str, due_on: datetime.date, *, acting_user,
                    today: datetime.date | None = None) -> AlertAssignment:
    _require(acting_user, ASSIGNER_ROLES, _("Only the office assigns alerts to townships."))
    today = today or timezone.localdate()
    errors = {}
    if jurisdiction is None or jurisdiction.pk not in {pk for pk, _label in township_choices(acting_user)}:
        errors["jurisdiction"] = _("Choose a township of your area.")
    if kind not in AlertAssignment.Kind.values:
        errors["kind"] = _("Choose the kind of alert.")
    if not (request or "").strip():
        errors["request"] = _("Say what the township is to do.")
    if due_on is None or rules.due_date_passed(due_on, today):
        errors["due_on"] = str(DUE_DATE_PASSED)
    if errors:
        raise ValidationError(errors)
    assignment = AlertAssignment.objects.create(jurisdiction=jurisdiction, kind=kind, request=request.strip(),
                                                due_on=due_on, assigned_by=acting_user)
    audit.record(AuditEntry.Action.CREATE, actor=acting_user, obj=assignment, changes={
        "jurisdiction": [None, jurisdiction.code], "kind": [None, kind], "due_on": [None, due_on]})
    return assignment


def _own(assignment: AlertAssignment, user) -> AlertAssignment:
    """The assignment as ``user`` may change it (404-like refusal outside their scope)."""
    found = AlertAssignment.objects.visible_to(user).filter(pk=assignment.pk).first()
    if found is None:
        raise PermissionError(_("This assignment is outside your area."))
    return found


@transaction.atomic
def do_answer_alert(assignment: AlertAssignment, answer: str, *, acting_user, expected_version: int,
                    today: datetime.date | None = None) -> AlertAssignment:
    _require(acting_user, ANSWER_ROLES, _("Only the township answers an assignment."))
    assignment = _own(assignment, acting_user)
    if assignment.state == AlertAssignment.State.CLOSED:
        raise ValidationError({"answer": _("The office has closed this assignment.")})
    if not (answer or "").strip():
        raise ValidationError({"answer": _("Say what was done.")})
    before = assignment.state
    assignment.answer, assignment.state = answer.strip(), AlertAssignment.State.ANSWERED
    assignment.answered_on = today or timezone.localdate()
    save_versioned(assignment, expected_version, ["answer", "state", "answered_on"])
    audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=assignment, changes={
        "state": [before, assignment.state], "answered_on": [None, assignment.answered_on]})
    return assignment


@transaction.atomic
def do_close_alert(assignment: AlertAssignment, *, acting_user, expected_version: int,
                   today: datetime.date | None = None) -> AlertAssignment:
    _require(acting_user, ASSIGNER_ROLES, _("Only the office closes an assignment."))
    assignment = _own(assignment, acting_user)
    before = assignment.state
    assignment.state, assignment.closed_on = AlertAssignment.State.CLOSED, today or timezone.localdate()
    save_versioned(assignment, expected_version, ["state", "closed_on"])
    audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=assignment, changes={
        "state": [before, assignment.state], "closed_on": [None, assignment.closed_on]})
    return assignment
