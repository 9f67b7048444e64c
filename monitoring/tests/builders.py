"""Real rows for the indicator tests, written with bulk_create (thousands in a second or two):
person files with their status history, measures, planned check-ins, check-ins and flags.
Nothing is mocked: the indicators read these rows through the same SQL as in production."""

import datetime
import itertools
import json
from pathlib import Path

from django.conf import settings
from django.utils import translation

from persons.choices import CheckInKind, ControlStatus, MeasureKind, MeasureState
from persons.models import CheckIn, Flag, Measure, Person, PersonSubstance, PlannedCheckIn, StatusChange
from persons.tests import people

_serial = itertools.count(1)
PENDING = Path(settings.BASE_DIR) / "locale-pending" / "indicators.json"


def zh(msgid: str) -> str:
    """The Chinese of a UI message: from the catalogue once merged, from this work line's
    pending translations (locale-pending/indicators.json) until then."""
    with translation.override("zh-hans"):
        text = translation.gettext(msgid)
    if text != msgid:
        return text
    return json.loads(PENDING.read_text(encoding="utf-8"))[msgid]


def ui(msgid: str) -> str:
    """What the Chinese UI shows for ``msgid`` now — after checking that it has a Chinese
    translation (merged, or pending for the lead to merge)."""
    chinese = zh(msgid)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese), msgid
    with translation.override("zh-hans"):
        return translation.gettext(msgid)


def _id_number(birth: str) -> str:
    """A valid ID number unique in the test run: the area code carries the serial (the area code
    is never checked, SPEC §3.1)."""
    serial = next(_serial)
    return people.id_number(birth=birth, area=f"{11 + serial // 400_000}{(serial // 400) % 10000:04d}",
                            serial=serial % 400)


def persons(village, count: int, *, status: str = ControlStatus.SOCIAL_CONTROL,
            since: datetime.date = datetime.date(2020, 1, 1), birth: str = "19900101", grid=None,
            first_found_on: datetime.date | None = None, substances=(), history=()) -> list[Person]:
    """``count`` files in ``village`` with status ``status`` since ``since``; ``history`` adds
    earlier (status, date) changes. Each file's first status change is its registration."""
    rows = [Person(name=f"测试{i}", id_number=_id_number(birth), sex="M",
                   birth_date=datetime.date(int(birth[:4]), int(birth[4:6]), int(birth[6:])),
                   jurisdiction=village, grid=grid, county_code=village.county_code, control_status=status,
                   control_status_since=since, first_found_on=first_found_on) for i in range(count)]
    created = Person.objects.bulk_create(rows, batch_size=500)
    changes = []
    for person in created:
        for old_status, on in history:
            changes.append(StatusChange(person=person, county_code=person.county_code, status=old_status,
                                        changed_on=on))
        changes.append(StatusChange(person=person, county_code=person.county_code, status=status, changed_on=since))
    StatusChange.objects.bulk_create(changes, batch_size=1000)
    if substances:
        PersonSubstance.objects.bulk_create([PersonSubstance(person=p, county_code=p.county_code, substance=s) for p in created
                                             for s in substances], batch_size=1000)
    return created


def measures(group, *, decided_on: datetime.date, reported_on: datetime.date | None = None,
             kind: str = MeasureKind.COMMUNITY_TREATMENT, state: str | None = None,
             ended_on: datetime.date | None = None, term_months: int = 36) -> list[Measure]:
    from persons import rules

    if state is None:
        state = MeasureState.IN_EFFECT if reported_on else MeasureState.AWAITING_REPORT
    starts_on = reported_on
    ends_on = rules.term_end(kind, starts_on, term_months) if starts_on else None
    township = group[0].jurisdiction.parent
    rows = [Measure(person=p, county_code=p.county_code, kind=kind, state=state, decided_on=decided_on,
                    executing_jurisdiction=township, reported_on=reported_on, starts_on=starts_on,
                    term_months=term_months, ends_on=ends_on, ended_on=ended_on) for p in group]
    return Measure.objects.bulk_create(rows, batch_size=500)


def planned_tests(measure_rows, *, due_on: datetime.date, done_on: datetime.date | None = None) -> None:
    """One planned drug test per measure due on ``due_on``; done on ``done_on`` if given."""
    done = {}
    if done_on is not None:
        checks = CheckIn.objects.bulk_create([
            CheckIn(person_id=m.person_id, county_code=m.county_code, kind=CheckInKind.DRUG_TEST, occurred_on=done_on,
                    measure=m, result="negative") for m in measure_rows], batch_size=500)
        done = {c.measure_id: c for c in checks}
    PlannedCheckIn.objects.bulk_create([
        PlannedCheckIn(person_id=m.person_id, county_code=m.county_code, measure=m, kind=CheckInKind.DRUG_TEST,
                       due_on=due_on, done=done.get(m.pk)) for m in measure_rows], batch_size=500)


def tests(group, *, on: datetime.date, result: str = "positive") -> None:
    CheckIn.objects.bulk_create([CheckIn(person=p, county_code=p.county_code, kind=CheckInKind.DRUG_TEST,
                                         occurred_on=on, result=result) for p in group], batch_size=500)


def flags(group, *, rule: str = "serious_breach", raised_on: datetime.date, state: str = "open",
          resolved_at=None) -> None:
    Flag.objects.bulk_create([Flag(person=p, county_code=p.county_code, rule=rule, state=state, raised_on=raised_on,
                                   title="测试提示", article="戒毒条例 第二十条", resolved_at=resolved_at)
                              for p in group], batch_size=500)
