"""The `jindu` commands: import, createuser, demo, sweep, and the scheduler of `jindu serve`."""

import datetime
import io
import json
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts.models import MemberUnit, User
from accounts.tests.factories import UserFactory
from core.management.commands.serve import enqueue_sweep_if_due, sweep_due
from core.models import AuditEntry, ScheduledRun
from core.roles import Role
from demo import builders
from jurisdictions.choices import Level
from jurisdictions.models import Jurisdiction

SHANGHAI = ZoneInfo("Asia/Shanghai")
BAD_FILE = "code,name,level,parent_code\n990000,演示省,province,\n99010X,坏,county,990000\n990100,,city,990000\n"


def _run(*args, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **kwargs)
    return out.getvalue(), err.getvalue()


def _exit_code(*args):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as raised:
        call_command(*args, stdout=out, stderr=err)
    return raised.value.code, out.getvalue(), err.getvalue()


# --- jindu import jurisdictions ---------------------------------------------------------------


@pytest.fixture
def sample_path(tmp_path, sample_csv):
    path = tmp_path / "sample_jurisdictions.csv"
    path.write_bytes(sample_csv)
    return path


def test_import(db, sample_path):
    out, _ = _run("import", "jurisdictions", str(sample_path))
    assert "13" in out
    assert Jurisdiction.objects.count() == 13
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert entry.actor is None and "sample_jurisdictions.csv" in entry.object_repr


def test_import_json(db, sample_path):
    out, _ = _run("import", "jurisdictions", str(sample_path), "--json")
    assert json.loads(out) == {"rows_read": 13, "created": 13, "updated": 0, "unchanged": 0, "rejected": []}
    out, _ = _run("import", "jurisdictions", str(sample_path), "--json")
    assert json.loads(out)["unchanged"] == 13


def test_import_bad_file_exits_1_and_changes_nothing(db, tmp_path, jurisdiction_table):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_FILE)
    code, out, err = _exit_code("import", "jurisdictions", str(path))
    assert code == 1
    assert jurisdiction_table() == []
    assert out == ""
    assert err.count("\n") >= 3  # the verdict and one line per bad row
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).exists()


def test_import_bad_file_json(db, tmp_path, jurisdiction_table):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_FILE)
    code, out, _ = _exit_code("import", "jurisdictions", str(path), "--json")
    assert code == 1
    rejected = json.loads(out)["rejected"]
    assert [(e["row"], e["field"]) for e in rejected] == [(3, "code"), (4, "name")]
    assert all(e["message"] for e in rejected)
    assert jurisdiction_table() == []


def test_import_missing_file_exits_2(db, tmp_path):
    code, _, err = _exit_code("import", "jurisdictions", str(tmp_path / "nope.csv"))
    assert code == 2
    assert "nope.csv" in err


def test_import_needs_a_kind(db):
    with pytest.raises(CommandError):
        call_command("import", "persons-from-mars", "x.csv")


# --- jindu createuser -------------------------------------------------------------------------


def test_createuser_reads_the_password_from_the_environment(tree, township, monkeypatch):
    monkeypatch.setenv("JINDU_NEW_PASSWORD", "Qz7!wlmk-env")
    monkeypatch.setattr("getpass.getpass", _no_prompt)
    out, _ = _run("createuser", "li", "--jurisdiction", township.code, "--role", "township", "--role", "social_worker",
                  "--full-name", "李专干")
    user = User.objects.get(username="li")
    assert (user.jurisdiction, user.full_name) == (township, "李专干")
    assert user.role_codes == {Role.TOWNSHIP, Role.SOCIAL_WORKER}
    assert user.check_password("Qz7!wlmk-env")
    assert "li" in out
    entry = AuditEntry.objects.get(action=AuditEntry.Action.CREATE, object_id=str(user.pk))
    assert entry.actor is None
    assert "Qz7!wlmk-env" not in json.dumps(entry.changes)


def test_createuser_with_another_variable_and_a_member_unit(tree, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "Qz7!wlmk-var")
    monkeypatch.delenv("JINDU_NEW_PASSWORD", raising=False)
    monkeypatch.setattr("getpass.getpass", _no_prompt)
    MemberUnit.objects.create(name="测试县教育局", kind="education", jurisdiction=tree["county"])
    _run("createuser", "teacher", "--jurisdiction", tree["county"].code, "--role", "member_unit",
         "--member-unit", "测试县教育局", "--password-env", "ADMIN_PASSWORD")
    user = User.objects.get(username="teacher")
    assert user.member_unit.name == "测试县教育局"
    assert user.check_password("Qz7!wlmk-var")


@pytest.mark.parametrize(
    ("args", "password"),
    [
        (["--jurisdiction", "000000", "--role", "office"], "Qz7!wlmk"),  # unknown jurisdiction
        (["--jurisdiction", "980101", "--role", "office"], "weak"),  # password policy
        (["--jurisdiction", "980101", "--role", "office", "--role", "system_admin"], "Qz7!wlmk"),  # 三员分立
        (["--jurisdiction", "980101", "--role", "member_unit"], "Qz7!wlmk"),  # no unit
        (["--jurisdiction", "980101", "--member-unit", "不存在"], "Qz7!wlmk"),
    ],
)
def test_createuser_errors(tree, monkeypatch, args, password):
    monkeypatch.setenv("JINDU_NEW_PASSWORD", password)
    monkeypatch.setattr("getpass.getpass", _no_prompt)
    with pytest.raises(CommandError):
        call_command("createuser", "li", *args)
    assert not User.objects.filter(username="li").exists()


def _no_prompt(*args, **kwargs):
    raise AssertionError("createuser prompted although the password was in the environment")


# --- jindu demo -------------------------------------------------------------------------------


@pytest.fixture
def demo_password(monkeypatch):
    monkeypatch.setenv("JINDU_DEMO_PASSWORD", "Demo-Passw0rd")
    return "Demo-Passw0rd"


EXPECTED_ACCOUNTS = {
    # username: (jurisdiction, roles, member unit)
    "office": ("990101", {"office"}, None),
    "township": ("990101001", {"township"}, None),
    "township2": ("990101002", {"township"}, None),
    "worker": ("990101001", {"social_worker"}, None),
    "police": ("990101", {"police"}, "示范县公安局"),
    "leader": ("990101", {"leadership"}, None),
    "unit_edu": ("990101", {"member_unit"}, "示范县教育局"),
    "sysadmin": ("990101", {"system_admin"}, None),
    "secadmin": ("990101", {"security_admin"}, None),
    "auditor": ("990101", {"audit_admin"}, None),
}


def _assert_demo_loaded(password):
    levels = {level: Jurisdiction.objects.filter(level=level).count() for level in Level}
    assert levels == {Level.PROVINCE: 1, Level.CITY: 1, Level.COUNTY: 1, Level.TOWNSHIP: 15,
                      Level.VILLAGE: 150, Level.GRID: 300}
    assert set(Jurisdiction.objects.filter(level=Level.TOWNSHIP).values_list("county_code", flat=True)) == {"990101"}
    assert Jurisdiction.objects.get(code="990101001004").name == "北岭村"  # as in the sample file
    assert MemberUnit.objects.count() == len(builders.MEMBER_UNITS)
    accounts = {u.username: u for u in User.objects.select_related("jurisdiction", "member_unit")}
    assert set(accounts) == set(EXPECTED_ACCOUNTS)
    for username, (code, roles, unit) in EXPECTED_ACCOUNTS.items():
        user = accounts[username]
        assert user.jurisdiction.code == code, username
        assert user.role_codes == roles, username
        assert (user.member_unit.name if user.member_unit else None) == unit, username
        assert user.check_password(password), username


def test_demo_loads_the_county(db, demo_password):
    out, _ = _run("demo")
    _assert_demo_loaded(demo_password)
    assert demo_password in out
    assert all(username in out for username in EXPECTED_ACCOUNTS)


def test_demo_is_idempotent(db, demo_password, jurisdiction_table):
    _run("demo")
    before = (jurisdiction_table(), list(User.objects.values_list("username", "version")),
              AuditEntry.objects.filter(action__in=["create", "import"]).count())
    _run("demo")
    after = (jurisdiction_table(), list(User.objects.values_list("username", "version")),
             AuditEntry.objects.filter(action__in=["create", "import"]).count())
    assert after == before


def test_demo_reset_reloads(db, demo_password):
    _run("demo")
    Jurisdiction.objects.filter(code="990101001").update(name="改过的名字")
    User.objects.get(username="worker").role_grants.all().delete()
    UserFactory(username="extra", jurisdiction=Jurisdiction.objects.get(code="990101"))
    if connection.vendor == "postgresql":
        # Outside a test the flush runs in a transaction of its own; inside the test's
        # transaction PostgreSQL refuses TRUNCATE while deferred foreign-key checks are pending.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    _run("demo", "--reset")
    _assert_demo_loaded(demo_password)
    assert Jurisdiction.objects.get(code="990101001").name == "城关镇"


def test_demo_password_is_generated_once(db, monkeypatch, tmp_path, settings):
    monkeypatch.delenv("JINDU_DEMO_PASSWORD", raising=False)
    settings.DATA_DIR = tmp_path
    first = builders.demo_password()
    assert first == builders.demo_password()
    assert (tmp_path / "demo_password").stat().st_mode & 0o077 == 0
    _run("demo")
    assert User.objects.get(username="office").check_password(first)


# --- jindu sweep ------------------------------------------------------------------------------


def _session(expired: bool) -> str:
    store = SessionStore()
    store["x"] = 1
    store.create()
    if expired:
        Session.objects.filter(session_key=store.session_key).update(
            expire_date=timezone.now() - datetime.timedelta(minutes=1))
    return store.session_key


def test_sweep_clears_expired_sessions_and_is_audited(db):
    expired, live = _session(True), _session(False)
    out, _ = _run("sweep")
    assert not Session.objects.filter(session_key=expired).exists()
    assert Session.objects.filter(session_key=live).exists()
    assert json.loads(out)["sessions"] == {"deleted": 1}
    entry = AuditEntry.objects.get(action=AuditEntry.Action.SYSTEM)
    assert entry.actor is None
    assert entry.changes["sessions"] == {"deleted": 1}


def test_sweep_is_idempotent(db):
    _session(True)
    _run("sweep")
    out, _ = _run("sweep")
    assert json.loads(out)["sessions"] == {"deleted": 0}
    assert AuditEntry.objects.filter(action=AuditEntry.Action.SYSTEM).count() == 2


# --- the daily schedule of jindu serve --------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "already", "due"),
    [
        (0, 0, False, False),
        (2, 29, False, False),
        (2, 30, False, True),
        (2, 31, False, True),
        (23, 59, False, True),
        (2, 30, True, False),
        (23, 59, True, False),
    ],
)
def test_sweep_due(hour, minute, already, due):
    now = datetime.datetime(2026, 3, 1, hour, minute, tzinfo=SHANGHAI)
    assert sweep_due(now, "02:30", already) is due


def _at(day, hour, minute):
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


def test_enqueue_once_a_day_not_before_the_time(db, settings):
    settings.JINDU_SWEEP_AT = "02:30"
    assert settings.TASKS["default"]["BACKEND"].endswith("ImmediateBackend")
    sweeps = AuditEntry.objects.filter(action=AuditEntry.Action.SYSTEM, object_repr="sweep")
    assert enqueue_sweep_if_due(_at(1, 2, 29)) is False
    assert not ScheduledRun.objects.exists() and not sweeps.exists()
    assert enqueue_sweep_if_due(_at(1, 2, 31)) is True
    assert sweeps.count() == 1  # the immediate backend ran it
    assert enqueue_sweep_if_due(_at(1, 14, 0)) is False
    assert enqueue_sweep_if_due(_at(1, 23, 59)) is False
    assert sweeps.count() == 1
    assert enqueue_sweep_if_due(_at(2, 2, 0)) is False
    assert enqueue_sweep_if_due(_at(2, 3, 0)) is True
    assert sweeps.count() == 2
    assert list(ScheduledRun.objects.order_by("run_date").values_list("job", "run_date")) == [
        ("sweep", datetime.date(2026, 3, 1)), ("sweep", datetime.date(2026, 3, 2))]


def test_enqueue_uses_the_local_day(db, settings):
    """01:00 Shanghai is still the previous day in UTC: the run belongs to the Shanghai day."""
    settings.JINDU_SWEEP_AT = "00:30"
    utc = datetime.datetime(2026, 3, 1, 17, 0, tzinfo=datetime.UTC)  # 2026-03-02 01:00 in Shanghai
    assert enqueue_sweep_if_due(utc) is True
    assert ScheduledRun.objects.get().run_date == datetime.date(2026, 3, 2)


def test_enqueue_respects_the_configured_time(db, settings):
    settings.JINDU_SWEEP_AT = "18:45"
    assert enqueue_sweep_if_due(_at(1, 18, 44)) is False
    assert enqueue_sweep_if_due(_at(1, 18, 45)) is True


def test_a_second_scheduler_does_not_enqueue_again(db, settings):
    settings.JINDU_SWEEP_AT = "02:30"
    ScheduledRun.objects.create(job="sweep", run_date=datetime.date(2026, 3, 1))
    assert enqueue_sweep_if_due(_at(1, 3, 0)) is False
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.SYSTEM).exists()


def test_default_sweep_time_is_configured():
    hour, minute = (int(part) for part in settings.JINDU_SWEEP_AT.split(":"))
    assert 0 <= hour < 24 and 0 <= minute < 60
