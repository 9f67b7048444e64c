import datetime
import importlib
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from core import audit, bulk
from core.models import AuditEntry

_SQLITE = importlib.import_module("core.migrations.0007_audit_append_only_sqlite")


def _raw(sql, params=()):
    """A tamperer with direct database access: on PostgreSQL a superuser bypassing triggers, on
    SQLite whoever can write the file, dropping the triggers and putting them back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            for statement in _SQLITE.SQLITE_DROP:
                cursor.execute(statement)
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        else:
            for statement in _SQLITE.SQLITE_TRIGGERS:
                cursor.execute(statement)


@pytest.fixture
def chain(db):
    return [audit.record(AuditEntry.Action.SYSTEM, object_repr=f"entry {n}", changes={"n": n}) for n in range(6)]


def _verify_exit(capsys):
    with pytest.raises(SystemExit) as exited:
        call_command("audit", "verify")
    return exited.value.code, capsys.readouterr().err


def test_intact_chain_verifies(chain, capsys):
    call_command("audit", "verify")
    assert "审计链完好：6 条" in capsys.readouterr().out
    assert [e.seq for e in AuditEntry.objects.order_by("seq")] == [1, 2, 3, 4, 5, 6]
    assert chain[1].prev_hash == chain[0].hash


def test_altered_entry_is_named(chain, capsys):
    _raw("UPDATE core_auditentry SET object_repr = 'forged' WHERE seq = 3")
    code, err = _verify_exit(capsys)
    assert code == 1
    assert f"第 {chain[2].id} 号条目（序号 3）" in err and "写入后被改动" in err


def test_altered_changes_are_detected(chain, capsys):
    _raw("UPDATE core_auditentry SET changes = %s WHERE seq = 5", ['{"n": 99}'])
    code, err = _verify_exit(capsys)
    assert code == 1 and "序号 5" in err


def test_deleted_entry_is_detected(chain, capsys):
    _raw("DELETE FROM core_auditentry WHERE seq = 4")
    code, err = _verify_exit(capsys)
    assert code == 1 and "序号 4–4 的条目被删除" in err


def test_deleted_tail_is_detected(chain, capsys):
    _raw("DELETE FROM core_auditentry WHERE seq = 6")
    code, err = _verify_exit(capsys)
    assert code == 1 and "日志止于序号 5" in err


def test_reordered_entries_are_detected(chain, capsys):
    # Swap the sequence numbers of entries 2 and 3 (as if inserted out of order).
    _raw("UPDATE core_auditentry SET seq = 1000 WHERE seq = 2")
    _raw("UPDATE core_auditentry SET seq = 2 WHERE seq = 3")
    _raw("UPDATE core_auditentry SET seq = 3 WHERE seq = 1000")
    code, err = _verify_exit(capsys)
    assert code == 1 and "序号 2" in err


def test_inserted_entry_is_detected(chain, capsys):
    forged = AuditEntry(seq=7, at=timezone.now(), action="system", object_repr="forged",
                        prev_hash="f" * 64, hash="f" * 64)
    forged.save()
    from core.models import AuditAnchor

    _raw("UPDATE core_auditanchor SET seq = 7")
    AuditAnchor.objects.filter(pk=1).update(hash="f" * 64)
    code, err = _verify_exit(capsys)
    assert code == 1 and "序号 7" in err


def test_application_cannot_edit_or_delete(chain):
    entry = AuditEntry.objects.get(seq=2)
    entry.object_repr = "changed"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(seq=2).update(object_repr="x")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()


@pytest.mark.django_db
def test_database_refuses_updates_on_postgresql(chain):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET object_repr = 'x' WHERE seq = 1")


def test_prune_keeps_retention_and_chain(db, settings, capsys):
    settings.JINDU_AUDIT_RETENTION_DAYS = 10  # below the legal minimum: 183 days apply
    assert audit.retention_days() == 183
    for n in range(3):
        audit.record(AuditEntry.Action.SYSTEM, object_repr=f"old {n}")
    _raw("UPDATE core_auditentry SET at = %s", [timezone.now() - datetime.timedelta(days=400)])
    # The edit above invalidated the old entries' hashes; pruning removes exactly those.
    audit.record(AuditEntry.Action.SYSTEM, object_repr="recent")
    assert audit.prune() == 3
    prune_entry = AuditEntry.objects.get(action=AuditEntry.Action.PRUNE)
    assert prune_entry.changes["count"] == 3
    assert set(AuditEntry.objects.values_list("seq", flat=True)) == {4, 5}
    call_command("audit", "verify")
    assert "审计链完好：2 条" in capsys.readouterr().out


def test_record_many_continues_the_chain_under_one_lock(chain):
    written = audit.record_many(
        [{"action": AuditEntry.Action.CREATE, "object_repr": f"bulk {n}", "changes": {"n": n}} for n in range(250)]
    )
    assert written == 250
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == list(range(1, 257))
    assert entries[6].prev_hash == chain[-1].hash
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(entries, entries[1:], strict=False))
    assert audit.verify() == (256, None)
    audit.record(AuditEntry.Action.SYSTEM, object_repr="after")
    assert audit.verify() == (257, None)


def test_record_many_with_nothing_writes_nothing(db):
    assert audit.record_many([]) == 0
    assert not AuditEntry.objects.exists()


def _generated_contents(count: int):
    """Entry contents of every JSON shape: Chinese and control characters, quotes, large and
    negative integers, floats of every notation, strings that look like numbers, nesting."""
    import random
    import string

    rng = random.Random(11)
    alphabet = string.printable + "张三禁毒\u2028\x00\x1f\x7f\"\\/é😀\ue000\uffff"

    def text():
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))

    def value(depth=0):
        kind = rng.randrange(8 if depth < 3 else 5)
        if kind == 0:
            return text()
        if kind == 1:
            return rng.choice([rng.randrange(-10**18, 10**18), rng.randrange(10)])
        if kind == 2:
            return rng.choice([None, True, False])
        if kind == 3:
            return rng.choice([0.1, 1e16, 1e-7, -2.5, 1.0, 1e300, 5e-324, 100.0, 1e15, 2.0**60])
        if kind == 4:
            return rng.choice(["12:30.5", ",1.5", "[2e3", "1e+16"]) + text()
        if kind in (5, 6):
            return [value(depth + 1) for _ in range(rng.randrange(4))]
        return {text(): value(depth + 1) for _ in range(rng.randrange(4))}

    for n in range(count):
        if n % 2:  # shaped like an entry: scalar fields (the action a TextChoices member) and the changes
            yield {"action": rng.choice([text(), *AuditEntry.Action]), "actor": rng.choice([None, n]), "object_repr": text(), "seq": n,
                   "at": "2026-11-23T05:00:00.123456+00:00", "changes": {text(): [value(1), value(1)]
                                                                        for _ in range(rng.randrange(5))}}
        else:
            yield {text(): value() for _ in range(rng.randrange(6))} | {"at": "2026-11-23T05:00:00.123456+00:00"}


def test_canonical_json_is_json_dumps_exactly():
    # Entries written before orjson was used must still verify: the canonical text is unchanged.
    for content in _generated_contents(20_000):
        expected = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
        assert audit.canonical_json(content) == expected, content


def test_prepared_changes_are_the_json_safe_values_canonical_text():
    """One orjson pass for the changes of text keys without floats (an import's 100,000 entries)
    gives what the JSON-safe round trip gives; anything else still takes it."""
    import decimal

    from django.utils.translation import gettext_lazy

    extra = [{"on": [None, datetime.date(2020, 1, 2)], "at": [timezone.now(), None], "amount": [decimal.Decimal("1.50"), 2],
              "label": [gettext_lazy("Imported from a ledger"), ""], 7: ["int key", None], "big": [10**20, 1]}]
    for changes in [*_generated_contents(5_000), *extra]:
        safe = audit._json_safe(changes)
        part = audit._canonical_part(safe)
        expected = safe if part is None else bulk.JSONText(part.decode())
        got = audit._prepared_changes(changes)
        assert (type(got), got) == (type(expected), expected), changes


def test_an_entry_of_text_and_integers_takes_the_fast_path(monkeypatch):
    """The action is a TextChoices member: still orjson's path (json's took 3 s of a
    100,000-row import's chain), with json's text."""
    content = {"action": AuditEntry.Action.CREATE, "actor": 7, "object_repr": "张三", "seq": 3, "ip_address": None,
               "at": "2026-11-23T05:00:00.123456+00:00", "changes": bulk.JSONText('{"name":[null,"张三"]}')}
    expected = json.dumps(content | {"changes": {"name": [None, "张三"]}}, sort_keys=True, ensure_ascii=False,
                          separators=(",", ":")).encode()

    def refuse(*args, **kwargs):
        raise AssertionError("json's path")

    monkeypatch.setattr(audit.json, "dumps", refuse)
    assert audit.canonical_json(content) == expected


def test_entries_with_floats_dates_and_lists_verify(db):
    audit.record(AuditEntry.Action.UPDATE, object_repr="浮点", changes={
        "score": [1e16, 2.5], "on": [datetime.date(2020, 1, 1), None], "list": [["海洛因"], ["冰毒", "K粉"]],
        "at": [timezone.now(), None], "big": [10**20, 1]})
    audit.record_many([{"action": AuditEntry.Action.CREATE, "object_repr": f"bulk {n}",
                        "changes": {"x": [None, n / 3], "day": [None, datetime.date(2020, 1, n + 1)]}}
                       for n in range(20)])
    assert audit.verify() == (21, None)
    entry = AuditEntry.objects.get(object_repr="浮点")
    assert entry.changes["on"] == ["2020-01-01", None] and entry.changes["big"] == [10**20, 1]


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_chain():
    """Writers in parallel transactions, the first ones racing to start the chain: every entry
    gets its own seq after the previous entry's hash (the anchor row is the lock)."""
    if connection.vendor != "postgresql":
        pytest.skip("the test database on SQLite is in memory: one writer at a time")
    import threading

    from django.db import connections, transaction

    from core.models import AuditAnchor

    AuditAnchor.objects.all().delete()
    start = threading.Barrier(4)
    failures = []

    def write(n):
        try:
            start.wait()
            for i in range(5):
                with transaction.atomic():
                    audit.record(AuditEntry.Action.SYSTEM, object_repr=f"writer {n} entry {i}")
        except Exception as error:  # noqa: BLE001 (reported below)
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 21))
    assert audit.verify() == (20, None)


def test_a_recorded_entry_is_the_stored_row_and_the_new_head(db):
    from core.models import AuditAnchor

    first = audit.record(AuditEntry.Action.SYSTEM, object_repr="first", changes={"n": 1.5, "when": "2026-01-02"})
    entry = audit.record(AuditEntry.Action.VIEW, object_repr="second", changes={"criteria": {"q": "李"}})
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.seq, stored.prev_hash, stored.hash, stored.at, stored.changes) == (
        entry.seq, first.hash, entry.hash, entry.at, {"criteria": {"q": "李"}})
    assert audit.content_hash(stored) == entry.hash
    anchor = AuditAnchor.objects.get(pk=1)
    assert (anchor.seq, anchor.hash) == (entry.seq, entry.hash)
