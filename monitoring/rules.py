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
