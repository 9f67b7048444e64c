"""The fixed clock of jindu.testing.clock: a test under it keeps one day even when the suite
runs across midnight in Asia/Shanghai."""

import datetime

import time_machine
from django.utils import timezone

from jindu.testing import clock


def test_the_day_holds_when_the_real_clock_passes_midnight(request):
    just_before_midnight = datetime.datetime(2026, 12, 2, 15, 59, 59, 900000, tzinfo=datetime.UTC)
    with time_machine.travel(just_before_midnight, tick=False) as real:
        assert timezone.localdate() == datetime.date(2026, 12, 2)
        fixed = request.getfixturevalue("fixed_clock")
        real.shift(datetime.timedelta(seconds=1))  # the real clock is now past midnight in Shanghai
        assert timezone.localdate() == clock.TODAY
        fixed.shift(datetime.timedelta(seconds=1))
        assert timezone.localtime() >= clock.NOW + datetime.timedelta(seconds=1)
