"""Missed check-ins (漏检, issue 20): a period of the check-in plan that ended without its
check-in (rules.is_missed). It is a fact: a later check-in does not undo it
(rules.plan_item_to_close). The worker records why (MissedReason); once explained, the item
leaves the today list, stays in the person's record and keeps counting as not done in the
execution and test-completion figures. A missed test explained as refused or evaded counts as a
refusal for 戒毒条例 第二十条 (services.facts_for). Every change writes its own audit entry, as
in persons.services."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.models import AuditEntry
from core.services import ConflictError
from persons import rules
from persons.choices import CheckInKind
from persons.models import Person, PlannedCheckIn
from persons.services import _changed, _reassess_risk, _require_writer, evaluate_flags


def unexplained(person: Person, today: datetime.date | None = None):
    """The person's missed check-ins not yet explained, of measures still running, oldest first."""
    from persons.queries import open_planned

    today = today or timezone.localdate()
    return (open_planned().filter(person=person, due_on__lt=today, missed_reason="")
            .order_by("due_on", "kind", "id"))


def explained(person: Person):
    """The person's missed check-ins with their reasons, newest first (the person's record)."""
    return (PlannedCheckIn.objects.filter(person=person, done__isnull=True).exclude(missed_reason="")
            .select_related("measure").order_by("-due_on", "kind", "id"))


@transaction.atomic
def do_explain_missed(person: Person, item_ids, reason: str, note: str = "", *, acting_user,
                      today: datetime.date | None = None) -> int:
    """Record why the missed check-ins ``item_ids`` of ``person`` were missed: all of those the
    worker saw, at once. Refused when any of them is no longer an unexplained missed check-in of
    this person (somebody explained or recorded it meanwhile: a stale form), so nothing is
    explained twice or by a form that showed something else. Returns the number explained."""
    _require_writer(acting_user, person)
    today = today or timezone.localdate()
    note = (note or "").strip()
    if problems := rules.missed_reason_problem(reason, note):
        raise ValidationError(problems)
    ids = sorted({int(pk) for pk in item_ids})
    if not ids:
        raise ValidationError({"reason": _("There is no missed check-in to explain.")})
    items = list(unexplained(person, today).select_for_update().filter(pk__in=ids))
    if len(items) != len(ids):
        raise ConflictError(_("These missed check-ins have changed since the page was opened (somebody explained "
                              "or recorded them): open the page again."), code="conflict")
    PlannedCheckIn.objects.filter(pk__in=ids).update(missed_reason=reason, missed_note=note, explained_on=today)
    for item in items:
        audit.record(AuditEntry.Action.UPDATE, actor=acting_user, obj=item, changes={
            "missed_reason": ["", reason], "missed_note": ["", note], "due_on": [None, item.due_on]})
    if reason in rules.REFUSAL_REASONS and any(item.kind == CheckInKind.DRUG_TEST for item in items):
        evaluate_flags(person, reassess=False)
        _reassess_risk(person, acting_user)
    _changed([person.pk])
    return len(items)
