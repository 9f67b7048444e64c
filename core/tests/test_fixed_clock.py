"""Test clocks: ``JINDU_TEST_START`` (jindu.testing.plugin) moves a whole session, collection
included; a module on ``pytest.mark.time_machine(clock.NOW)`` (jindu.testing.clock) keeps one
day whatever the session's clock says."""

import os
import subprocess
import sys

SESSION = '''
import datetime

import pytest
from django.utils import timezone

from jindu.testing import clock

COLLECTED_ON = timezone.localdate()


def test_the_session_runs_from_the_instant_given():
    assert COLLECTED_ON == timezone.localdate() == datetime.date(2028, 2, 29)


@pytest.mark.time_machine(clock.NOW)
def test_a_test_on_the_fixed_clock_has_its_day():
    assert timezone.localdate() == clock.TODAY != COLLECTED_ON
'''


def test_a_session_on_another_day_and_a_test_on_the_fixed_clock(tmp_path):
    (tmp_path / "test_day.py").write_text(SESSION)
    env = {key: value for key, value in os.environ.items() if key != "JINDU_TEST_DB"}  # no second server
    env.update(JINDU_TEST_START="2028-02-29T10:00+08:00", DJANGO_SETTINGS_MODULE="jindu.settings")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "jindu.testing.plugin", "-p", "no:cacheprovider",
                             "test_day.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
