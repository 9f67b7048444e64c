import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from core import audit
from core.models import AuditEntry


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        # A tamperer with direct database access (on PostgreSQL a superuser bypassing triggers).
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


@pytest.fixture
def chain(db):
    return [audit.record(AuditEntry.Action.SYSTEM, object_repr=f"entry {n}", changes={"n": n}) for n in range(6)]


def _verify_exit(capsys):
    with pytest.raises(SystemExit) as exited:
        call_command("audit", "verify")
    return exited.value.code, capsys.readouterr().err


def test_intact_chain_verifies(chain, capsys):
    call_command("audit", "verify")
    assert "6 entries" in capsys.readouterr().out
    assert [e.seq for e in AuditEntry.objects.order_by("seq")] == [1, 2, 3, 4, 5, 6]
    assert chain[1].prev_hash == chain[0].hash


def test_altered_entry_is_named(chain, capsys):
    _raw("UPDATE core_auditentry SET object_repr = 'forged' WHERE seq = 3")
    code, err = _verify_exit(capsys)
    assert code == 1
    assert f"entry #{chain[2].id} (seq 3)" in err and "altered" in err


def test_altered_changes_are_detected(chain, capsys):
    _raw("UPDATE core_auditentry SET changes = %s WHERE seq = 5", ['{"n": 99}'])
    code, err = _verify_exit(capsys)
    assert code == 1 and "seq 5" in err


def test_deleted_entry_is_detected(chain, capsys):
    _raw("DELETE FROM core_auditentry WHERE seq = 4")
    code, err = _verify_exit(capsys)
    assert code == 1 and "4" in err and "removed" in err


def test_deleted_tail_is_detected(chain, capsys):
    _raw("DELETE FROM core_auditentry WHERE seq = 6")
    code, err = _verify_exit(capsys)
    assert code == 1 and "ends at seq 5" in err


def test_reordered_entries_are_detected(chain, capsys):
    # Swap the sequence numbers of entries 2 and 3 (as if inserted out of order).
    _raw("UPDATE core_auditentry SET seq = 1000 WHERE seq = 2")
    _raw("UPDATE core_auditentry SET seq = 2 WHERE seq = 3")
    _raw("UPDATE core_auditentry SET seq = 3 WHERE seq = 1000")
    code, err = _verify_exit(capsys)
    assert code == 1 and "seq 2" in err


def test_inserted_entry_is_detected(chain, capsys):
    forged = AuditEntry(seq=7, at=timezone.now(), action="system", object_repr="forged",
                        prev_hash="f" * 64, hash="f" * 64)
    forged.save()
    from core.models import AuditAnchor

    _raw("UPDATE core_auditanchor SET seq = 7")
    AuditAnchor.objects.filter(pk=1).update(hash="f" * 64)
    code, err = _verify_exit(capsys)
    assert code == 1 and "seq 7" in err


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
    assert "2 entries" in capsys.readouterr().out


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
