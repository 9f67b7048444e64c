"""Rules of how the figures are read (pure functions over plain values, no ORM).

SPEC §3.7 asks for one definition of each indicator used everywhere: the dashboard, the API,
the statistical report and the 毒情通报. These rules are the parts of those definitions that
concern time.
"""

import datetime

ONE_DAY = datetime.timedelta(days=1)


def last_due_day(start: datetime.date, end: datetime.date, as_of: datetime.date,
                 today: datetime.date) -> datetime.date | None:
    """The last due date a rate counts in the period ``start``..``end`` read on ``as_of``, or
    None when nothing in the period is due yet.

    A planned item (a drug test of the check-in plan, SPEC §3.1) counts as due once its due day
    is over: until then it can still be done, and counting it as missed would make a month that
    has just begun look failed (issue 20: "44.8%, 同比下降43.0个百分点" on 5 December, townships
    criticised for "0.0%"). So a period still running today counts the items due before today;
    a day asked for in the past (``as_of``, over by now) the items due through that day; a
    closed period every item due in it, as it always did."""
    last = min(end, as_of, today - ONE_DAY)
    return last if last >= start else None


def counts_as_due(due_on: datetime.date, start: datetime.date, end: datetime.date, as_of: datetime.date,
                  today: datetime.date) -> bool:
    """Whether an item due on ``due_on`` is in the denominator of a rate of the period
    ``start``..``end`` read on ``as_of`` (``last_due_day``)."""
    last = last_due_day(start, end, as_of, today)
    return last is not None and start <= due_on <= last


def assignment_state(state: str, due_on: datetime.date, answered_on: datetime.date | None,
                     today: datetime.date) -> str:
    """How a 督办 stands, as the alert centre shows it: ``overdue`` when it is still waiting for
    the township after its due day, ``answered_late`` when the answer came after it; else its
    stored state (open, answered, closed)."""
    if state == "open" and today > due_on:
        return "overdue"
    if state == "answered" and answered_on is not None and answered_on > due_on:
        return "answered_late"
    return state


def due_date_passed(due_on: datetime.date, today: datetime.date) -> bool:
    """A 督办's due date set in the past: it would be overdue the day it is given."""
    return due_on < today
