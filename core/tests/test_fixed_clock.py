"""The fixed clock of jindu.testing.clock: a test under it keeps one day even when the suite
runs across midnight in Asia/Shanghai."""

import datetime
import os
import subprocess
import sys

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


def test_a_whole_session_runs_on_another_day_with_jindu_test_start(tmp_path):
    """jindu.testing.plugin: JINDU_TEST_START moves the clock of the whole session, collection
    included (where a module may take its TODAY)."""
    (tmp_path / "test_day.py").write_text(
        "import datetime\n\nCOLLECTED_ON = datetime.date.today()\n\n\n"
        "def test_day():\n    assert COLLECTED_ON == datetime.date.today() == datetime.date(2028, 2, 29)\n")
    env = {key: value for key, value in os.environ.items() if key != "JINDU_TEST_DB"}  # no second server
    env.update(JINDU_TEST_START="2028-02-29T10:00+08:00", DJANGO_SETTINGS_MODULE="jindu.settings")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "jindu.testing.plugin", "-p", "no:cacheprovider",
                             "test_day.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
