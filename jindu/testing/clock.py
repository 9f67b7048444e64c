"""A fixed clock for tests whose dates are reckoned from "today".

A module that computes ``TODAY`` once and then asks the services (which read
``timezone.localdate()`` when called) to act "today" sees two different days when the suite
runs across midnight in Asia/Shanghai, 16:00 UTC (CI did, on 2026-12-02). Such a module uses
time-machine's marker, ``pytestmark = pytest.mark.time_machine(clock.NOW)``: every test starts
at ``NOW`` and the clock ticks on from there, so the day cannot change under it.

The database's own clock is not moved (``Now()`` in SQL, as break-glass grants use it), so a
test under this clock must not compare Python's time with the database's.
"""

import datetime
from zoneinfo import ZoneInfo

NOW = datetime.datetime(2025, 6, 16, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday
TODAY = NOW.date()
