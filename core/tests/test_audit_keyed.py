"""The audit chain cannot be rewritten from the database (issue 19, item 6): HMAC-SM3 under a
key outside the database, signed daily checkpoints of the head outside it, and on SQLite
triggers refusing updates and deletes as on PostgreSQL."""

import importlib
import json
import sqlite3

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from accounts.tests.factories import UserFactory
from core import audit, audit_checkpoints, crypto, sweep
from core.models import AuditAnchor, AuditEntry
from core.roles import Role

_SQLITE = importlib.import_module("core.migrations.0007_audit_append_only_sqlite")


def _tamper(statements):
    """A database administrator: on PostgreSQL past the trigger (session_replication_role), on
    SQLite dropping the triggers and putting them back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            for statement in _SQLITE.SQLITE_DROP:
                cursor.execute(statement)
        for sql, params in statements:
            cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        else:
            for statement in _SQLITE.SQLITE_TRIGGERS:
                cursor.execute(statement)


def _recompute_unkeyed(from_seq=1):
    """The attack: recompute every hash from ``from_seq`` on as the chain was computed before it
    was keyed (SM3 over the previous hash and the canonical content), and move the anchor."""
    entries = list(AuditEntry.objects.order_by("seq"))
    prev = audit.GENESIS
    updates = []
    for entry in entries:
        if entry.seq >= from_seq:
            entry.prev_hash = prev
            content = {name: getattr(entry, name) for name in audit._HASHED} | {
                "seq": entry.seq, "at": entry.at.astimezone(audit.datetime.UTC).isoformat(), "actor": entry.actor_id}
            entry.hash = crypto.sm3(prev.encode() + audit.canonical_json(content)).hex()
            updates.append(("UPDATE core_auditentry SET prev_hash = %s, hash = %s WHERE seq = %s",
                            [entry.prev_hash, entry.hash, entry.seq]))
        prev = entry.hash
    updates.append(("UPDATE core_auditanchor SET hash = %s WHERE id = 1", [prev]))
    _tamper(updates)


@pytest.fixture
def chain(db):
    return [audit.record(AuditEntry.Action.SYSTEM, object_repr=f"entry {n}", changes={"n": n}) for n in range(8)]


def _verify(capsys):
    try:
        call_command("audit", "verify")
    except SystemExit as exited:
        return exited.code, capsys.readouterr().err
    return 0, capsys.readouterr().out


def test_a_chain_recomputed_without_the_key_is_broken(chain, capsys):
    """The issue's attack: entry changed, the chain recomputed with the unkeyed hash, and the
    anchor moved. `audit verify` said "intact"; now it names the changed entry."""
    _tamper([("UPDATE core_auditentry SET object_repr = 'forged' WHERE seq = 5", [])])
    _recompute_unkeyed()
    code, text = _verify(capsys)
    assert code == 1
    assert f"审计链已损坏：第 {chain[0].id} 号条目（序号 1）" in text
    assert "不持有审计密钥的人重新计算过" in text


def test_moving_where_the_keyed_part_starts_is_seen_by_the_checkpoints(chain, capsys):
    """With keyed_from moved past the head, the recomputed chain verifies by itself; the
    checkpoint written outside the database says where the keyed part started."""
    audit_checkpoints.write_head()
    _tamper([("UPDATE core_auditentry SET object_repr = 'forged' WHERE seq = 5", []),
             ("UPDATE core_auditanchor SET keyed_from = 1000 WHERE id = 1", [])])
    _recompute_unkeyed()
    code, text = _verify(capsys)
    assert code == 1 and "审计链加密部分的起点与检查点" in text and "审计链被重新计算过" in text


def test_deleting_the_tail_after_a_checkpoint_is_reported(chain, capsys):
    path = audit_checkpoints.write_head()
    assert path.parent == audit_checkpoints.directory() and json.loads(path.read_text())["seq"] == 8
    assert _verify(capsys) == (0, "审计链完好：8 条，与 1 个检查点一致\n")
    # Entries 7 and 8 deleted and the anchor set back to entry 6: the chain agrees with itself.
    _tamper([("DELETE FROM core_auditentry WHERE seq > 6", []),
             ("UPDATE core_auditanchor SET seq = 6, hash = %s WHERE id = 1", [chain[5].hash])])
    assert audit._walk("default", AuditAnchor.objects.get(), 1) == (6, None)
    code, text = _verify(capsys)
    assert code == 1 and f"检查点 {path.name} 记录日志已写到序号 8，现在却止于序号 6：末尾的条目被删除" in text


def test_an_altered_or_forged_checkpoint_is_reported(chain, capsys):
    path = audit_checkpoints.write_head()
    data = json.loads(path.read_text())
    path.write_text(json.dumps(data | {"seq": 6, "hash": chain[5].hash}))
    code, text = _verify(capsys)
    assert code == 1 and "签名与本系统的审计密钥不符" in text


def test_a_rewritten_entry_before_a_checkpoint_differs_from_it(chain, capsys):
    """Whoever holds the key could recompute the chain; a checkpoint copied away before still
    shows it (here the checkpoint's entry itself was rewritten)."""
    audit_checkpoints.write_head()
    _tamper([("UPDATE core_auditentry SET object_repr = 'forged' WHERE seq = 8", [])])
    entry = AuditEntry.objects.get(seq=8)
    _tamper([("UPDATE core_auditentry SET hash = %s WHERE seq = 8", [audit.content_hash(entry)]),
             ("UPDATE core_auditanchor SET hash = %s WHERE id = 1", [audit.content_hash(entry)])])
    code, text = _verify(capsys)
    assert code == 1 and "审计链被改写" in text


def test_the_chain_is_keyed(chain):
    entry = AuditEntry.objects.get(seq=3)
    assert entry.hash == audit.content_hash(entry)
    assert entry.hash != audit.content_hash(entry, keyed_from=10**9)  # not the plain SM3


def test_entries_before_the_switch_keep_their_plain_hashes(db, capsys):
    """An upgraded database: the entries written before the chain was keyed verify with plain
    SM3 and the keyed part goes on from them (core migration 0006 sets keyed_from so)."""
    AuditAnchor.objects.create(pk=1, seq=0, hash=audit.GENESIS, keyed_from=4)
    for n in range(6):
        audit.record(AuditEntry.Action.SYSTEM, object_repr=f"entry {n}")
    entries = list(AuditEntry.objects.order_by("seq"))
    assert entries[2].hash == audit.content_hash(entries[2], keyed_from=10**9)  # plain
    assert entries[3].hash != audit.content_hash(entries[3], keyed_from=10**9)  # keyed
    assert audit.verify() == (6, None)
    # The plain entries cannot be recomputed either: the first keyed entry covers their head.
    _tamper([("UPDATE core_auditentry SET object_repr = 'forged' WHERE seq = 2", []),
             ("UPDATE core_auditanchor SET keyed_from = 1 WHERE id = 1", [])])
    _recompute_unkeyed(from_seq=2)
    _tamper([("UPDATE core_auditanchor SET keyed_from = 4 WHERE id = 1", [])])
    checked, problem = audit.verify()
    assert problem is not None and problem.seq == 4


def test_verify_without_the_audit_key_says_so(chain, settings, tmp_path, monkeypatch):
    audit_checkpoints.write_head()
    monkeypatch.delenv("JINDU_AUDIT_KEY", raising=False)
    settings.DATA_DIR = tmp_path / "elsewhere"
    crypto.reset_audit_key()
    try:
        checked, problem = audit.verify()
        assert checked == 0 and "找不到审计密钥" in problem.message
        assert not audit_checkpoints.all_checkpoints()[0].signed
        assert not crypto.audit_key_file().exists()  # neither verify nor reading a checkpoint makes a new key
    finally:
        crypto.reset_audit_key()


def test_the_audit_key_file_is_the_owners_only(db, settings, tmp_path, monkeypatch):
    monkeypatch.delenv("JINDU_AUDIT_KEY", raising=False)
    settings.DATA_DIR = tmp_path / "fresh"
    crypto.reset_audit_key()
    try:
        crypto.audit_key()
        assert crypto.audit_key_file().stat().st_mode & 0o777 == 0o600
        assert crypto.audit_key_file() != crypto.key_file()
    finally:
        crypto.reset_audit_key()


# --- the daily checkpoint and its download -----------------------------------------------------


def test_the_daily_sweep_writes_a_checkpoint(chain, capsys):
    results = sweep.run_all()
    [checkpoint] = audit_checkpoints.all_checkpoints()
    assert results["audit_checkpoint"] == {"file": checkpoint.name}
    assert checkpoint.signed and checkpoint.seq >= 8
    call_command("audit", "checkpoint")
    assert "已写入检查点" in capsys.readouterr().out
    assert len(audit_checkpoints.all_checkpoints()) == 2


def test_the_audit_administrator_downloads_the_checkpoints(client, chain, tree):
    path = audit_checkpoints.write_head()
    auditor = UserFactory(jurisdiction=tree["county"], roles=[Role.AUDIT_ADMIN])
    client.force_login(auditor)
    page = client.get(reverse("core:audit_checkpoints"))
    assert page.status_code == 200 and path.name in page.content.decode() and "有效" in page.content.decode()
    download = client.get(reverse("core:audit_checkpoint", args=[path.name]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == path.read_bytes()
    assert "attachment" in download["Content-Disposition"]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.EXPORT, actor=auditor).exists()
    for name in ("audit_key", "..%2Faudit_key", "checkpoint-20260101T000000Z-seq1.json"):
        assert client.get(reverse("core:audit_checkpoints") + name).status_code == 404
    for role in (Role.SYSTEM_ADMIN, Role.OFFICE):
        client.force_login(UserFactory(jurisdiction=tree["county"], roles=[role]))
        assert client.get(reverse("core:audit_checkpoints")).status_code == 403
        assert client.get(reverse("core:audit_checkpoint", args=[path.name])).status_code == 403


# --- the database refuses updates and deletes ----------------------------------------------------


@pytest.mark.parametrize("sql", ["UPDATE core_auditentry SET object_repr = 'x' WHERE seq = 1",
                                 "UPDATE core_auditentry SET hash = prev_hash",
                                 "DELETE FROM core_auditentry WHERE seq = 8",
                                 "DELETE FROM core_auditentry"])
def test_the_database_refuses_updates_and_deletes(chain, sql):
    """Raw SQL, past the model's guards: refused by PostgreSQL's trigger and now by SQLite's."""
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEntry.objects.count() == 8 and AuditEntry.objects.filter(object_repr="x").count() == 0


def test_pruning_still_deletes(chain, settings):
    settings.JINDU_AUDIT_RETENTION_DAYS = 183
    _tamper([("UPDATE core_auditentry SET at = '2000-01-01 00:00:00' WHERE seq <= 3", [])])
    assert audit.prune() == 3
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE seq = 4")  # the permission ended with the pruning


def test_another_program_opening_the_sqlite_file_cannot_delete(chain, tmp_path):
    """sqlite3 on a file with the audit table and the triggers as the migrations installed them
    (read from the test database), not a jindu connection, so without the pruning function:
    the triggers refuse both."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's file")
    with connection.cursor() as cursor:
        cursor.execute("SELECT type, sql FROM sqlite_master WHERE tbl_name = 'core_auditentry' "
                       "AND type IN ('table', 'trigger') ORDER BY type = 'trigger'")
        schema = cursor.fetchall()
    assert [kind for kind, _sql in schema] == ["table", "trigger", "trigger"]
    other = sqlite3.connect(tmp_path / "copy.sqlite3")
    for _kind, sql in schema[:1]:
        other.execute(sql)
    other.execute("INSERT INTO core_auditentry (seq, at, actor_username, actor_jurisdiction, actor_path, action, "
                  "object_type, object_id, object_repr, changes, request_id, prev_hash, hash) "
                  "VALUES (1, '2026-01-01', '', '', '', 'system', '', '', 'a', '{}', '', '', '')")
    for _kind, sql in schema[1:]:
        other.execute(sql)
    other.commit()
    for sql in ("DELETE FROM core_auditentry WHERE seq = 1", "UPDATE core_auditentry SET object_repr = 'b'"):
        with pytest.raises(sqlite3.Error):
            other.execute(sql)
    assert other.execute("SELECT object_repr FROM core_auditentry").fetchall() == [("a",)]
