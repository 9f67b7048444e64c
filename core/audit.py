"""The audit log: append-only and chained with HMAC-SM3 (SPEC §4).

Services call ``record`` inside their own transaction (STYLE: Zulip). Each entry gets the
next ``seq`` and ``prev_hash`` under a lock (the anchor row ``FOR UPDATE`` on PostgreSQL;
SQLite's ``BEGIN IMMEDIATE`` serialises writers), and ``hash = HMAC-SM3(audit key, prev_hash ‖
canonical content)``. The key is kept outside the database (``core.crypto.audit_key``), so that
whoever can write the database cannot recompute the chain after changing an entry. Entries
written before the chain was keyed (below the anchor's ``keyed_from``) keep their plain SM3
hashes; the first keyed entry's HMAC covers the last of them, so they cannot be recomputed
either. Daily signed checkpoints of the head outside the database (``core.audit_checkpoints``)
show a chain cut short or moved.
``verify`` walks the chain and names the first entry that was altered, removed or inserted
out of order. The request middleware puts the request id and client address in a context
variable, so a service deep down does not need the request to write a complete entry.
"""

import contextlib
import contextvars
import datetime
import json
import math
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models.sql import InsertQuery
from django.utils import timezone
from django.utils.translation import gettext as _

from core import bulk, masking
from core.crypto import AuditKeyMissing, audit_key, sm3
from core.models import AuditAnchor, AuditEntry

GENESIS = "0" * 64
_LOCK_ID = 0x6A696E6475  # "jindu"


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip_address: str | None


_request_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "jindu_request_context", default=None
)


def begin_request(ip_address: str | None) -> contextvars.Token:
    return _request_context.set(RequestContext(uuid.uuid4().hex, ip_address))


def end_request(token: contextvars.Token) -> None:
    _request_context.reset(token)


def current_request_id() -> str:
    context = _request_context.get()
    return context.request_id if context else ""


_PLAIN_JSON = (str, int, float, bool, type(None))
_ENCODER = DjangoJSONEncoder()


_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
_SORTED_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_SORT_KEYS  # _prepared_changes: text keys only


def _json_safe(value):
    """What the entry stores: the value as JSON would give it back (dates as ISO text…), and as
    the database's JSON column gives it back, so that the hash still matches when verified.

    orjson does the round trip, handing dates, decimals and lazy text to Django's encoder as
    ``json`` would; content with floats, or what orjson declines (integers past 64 bits),
    takes the walk."""
    if isinstance(value, _PLAIN_JSON):
        return value
    try:
        text = orjson.dumps(value, default=_ENCODER.default, option=_ORJSON_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        return _json_safe_walk(value)
    return _json_safe_walk(orjson.loads(text)) if _FLOAT_LIKE.search(text) else orjson.loads(text)


def _json_safe_walk(value):
    if isinstance(value, float):
        # PostgreSQL's jsonb keeps numbers as decimals: 1e16 comes back as the integer
        # 10000000000000000, and it has no NaN or infinity.
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() and abs(value) >= 1e16 else value
    if isinstance(value, _PLAIN_JSON):
        return value
    if isinstance(value, dict):
        return {str(k): _json_safe_walk(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe_walk(v) for v in value]
    try:
        return _json_safe_walk(_ENCODER.default(value))  # dates, decimals, UUIDs, lazy text: as JSON writes them
    except TypeError:
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


_HASHED = ("actor_username", "actor_jurisdiction", "actor_path", "action", "object_type", "object_id", "object_repr",
           "changes", "ip_address", "request_id")


def _hash(values: dict, seq: int, at: str, prev_hash: str, keyed: bool = True) -> str:
    """HMAC-SM3 under the audit key (plain SM3 for an entry written before the chain was keyed,
    ``keyed`` False) over the previous hash and the canonical JSON of an entry's content
    (``values`` by field name, the actor as ``actor_id``; ``at`` the time as UTC ISO text)."""
    content = {name: values[name] for name in _HASHED} | {"seq": seq, "at": at, "actor": values["actor_id"]}
    data = prev_hash.encode() + canonical_json(content)
    if not keyed:
        return sm3(data).hex()
    mac = audit_key().chain.copy()
    mac.update(data)
    return mac.finalize().hex()


# A digit before a point or an exponent: where a float may be, whose text orjson and json write
# differently (1e-05 / 0.00001). A string that merely looks like one only costs the slower path.
_FLOAT_LIKE = re.compile(rb"[0-9][.eE]")
# Text and integers, their subclasses included (an entry's action is a TextChoices member): orjson
# and json write those alike.
_SCALARS = (str, int, type(None))


def canonical_json(content: dict) -> bytes:
    """The canonical text of an entry's content: ``json.dumps`` with sorted keys, no spaces and
    no ASCII escaping, UTF-8. orjson writes exactly that for strings, integers, lists and
    dicts: the fast path takes an entry's scalar fields and its ``changes`` (the only place a
    float can be) when they hold no float; anything else is written by ``json``."""
    changes = content.get("changes")
    rest = {key: value for key, value in content.items() if key != "changes"}
    if all(isinstance(value, _SCALARS) for value in rest.values()):
        part = changes.encode() if type(changes) is bulk.JSONText else _canonical_part(changes)
        if part is not None:
            if "changes" in content:
                rest["changes"] = orjson.Fragment(part)
            return orjson.dumps(rest, option=orjson.OPT_SORT_KEYS)
    if type(changes) is bulk.JSONText:
        content = content | {"changes": json.loads(changes)}
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _canonical_part(value) -> bytes | None:
    """``value``'s canonical text when orjson writes it as ``json`` would (no float), else None."""
    try:
        part = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return None
    return None if _FLOAT_LIKE.search(part) else part


def content_hash(entry: AuditEntry, at: str | None = None, keyed_from: int = 1) -> str:
    """The entry's hash over the previous hash and its canonical JSON content (``at``: the time
    as UTC ISO text, when the caller has it already; ``keyed_from``: the anchor's)."""
    values = {name: getattr(entry, name) for name in _HASHED} | {"actor_id": entry.actor_id}
    return _hash(values, entry.seq, at or entry.at.astimezone(datetime.UTC).isoformat(), entry.prev_hash,
                 keyed=entry.seq >= keyed_from)


def _lock_chain() -> AuditAnchor:
    """The chain's head, locked until the transaction ends. On PostgreSQL the anchor row is
    read ``FOR UPDATE`` (one round trip: a writer waits there and then reads the head the
    previous one left); the row itself is created once, under an advisory lock, so that two
    first writers cannot both start a chain. SQLite's ``BEGIN IMMEDIATE`` serialises writers."""
    found = _anchor()
    if not found:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])
        found = _anchor()
        if not found:
            return AuditAnchor.objects.create(pk=1, seq=0, hash=GENESIS)
    return found[0]


def _anchor() -> list[AuditAnchor]:
    """The anchor row, locked."""
    return list(AuditAnchor.objects.select_for_update().filter(pk=1))


def _who(actor=None, ip_address=None) -> dict:
    """The fields an entry takes from who acts and from the request."""
    context = _request_context.get()
    jurisdiction = getattr(actor, "jurisdiction", None) if actor else None
    return {
        "actor": actor if actor is not None and actor.pk else None,
        "actor_username": getattr(actor, "username", "") or "",
        "actor_jurisdiction": getattr(jurisdiction, "code", "") or "",
        "actor_path": getattr(jurisdiction, "path", "") or "",
        "ip_address": AuditEntry._meta.get_field("ip_address").to_python(
            ip_address or (context.ip_address if context else None)),
        "request_id": context.request_id if context else "",
    }


def _build(action, *, who: dict, obj: models.Model | None = None, changes=None, object_repr="") -> AuditEntry:
    return AuditEntry(
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=object_name(obj, object_repr),
        changes=redacted(_json_safe(changes or {})),
        **who,
    )


def object_name(obj, object_repr: str = "") -> str:
    """What the entry names the object by: the given text, or the object's ``audit_repr()``
    (a person's masked name: the audit administrator reads no personal data) or ``str()``;
    ID numbers and phones in it masked."""
    if not object_repr and obj is not None:
        object_repr = obj.audit_repr() if hasattr(obj, "audit_repr") else str(obj)
    return masking.redact_numbers(str(object_repr or ""))[:200]


def redacted(value):
    """``value`` (JSON-safe) with every ID number and phone in its texts masked (keys too: a
    search's criteria are named by whoever typed the URL). Issue 19: a search by ID number
    kept the number as typed, for the audit administrator and their export to read."""
    if isinstance(value, str):
        return masking.redact_numbers(value)
    if isinstance(value, dict):
        return {redacted(k): redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value


def criteria(model, params, skip=()) -> dict:
    """A search's or an export's criteria as the log keeps them: the non-empty parameters but
    ``skip``, a parameter named after one of the model's ``masked_fields`` (``id_number``)
    masked as that field is, whatever its spelling (spaces, full-width digits), and one the
    model names in ``audit_criteria_masks`` (a person's name) masked by the function given."""
    masks = {key: mask for key, (mask, _roles) in getattr(model, "masked_fields", {}).items()}
    masks |= getattr(model, "audit_criteria_masks", {})
    kept = {}
    for key, value in params.items():
        if value and key not in skip:
            mask = masks.get(key)
            kept[key] = mask(value) if mask else value
    return kept


def _append(entry: AuditEntry) -> None:
    """Chain ``entry`` after the current head under the lock and write it. Every page showing
    personal data appends an entry, and all of them wait for the one lock, so it is held for as
    few round trips as can be: on PostgreSQL the entry and the new head are one statement."""
    with transaction.atomic():
        anchor = _lock_chain()
        entry.seq, entry.prev_hash, entry.at = anchor.seq + 1, anchor.hash, timezone.now()
        entry.hash = content_hash(entry, keyed_from=anchor.keyed_from)
        if connection.vendor == "postgresql":
            _insert_with_head(entry)
        else:
            entry.save()
            AuditAnchor.objects.filter(pk=1).update(seq=entry.seq, hash=entry.hash)


def _insert_with_head(entry: AuditEntry) -> None:
    """INSERT the entry (as ``save()`` would write it) and move the anchor to it, in one
    statement: a data-modifying WITH runs once, whether or not the UPDATE reads it. The
    statement is compiled once per connection; each entry only gives its values."""
    sql, compiler, fields = connection.__dict__.get("jindu_audit_insert") or _compile_insert_with_head(entry)
    params = [compiler.prepare_value(field, compiler.pre_save_val(field, entry)) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, entry.seq, entry.hash])
        entry.pk = cursor.fetchone()[0]
    entry._state.adding, entry._state.db = False, connection.alias


def _compile_insert_with_head(entry: AuditEntry) -> tuple:
    meta = AuditEntry._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    if any(hasattr(field, "get_placeholder") for field in fields):
        raise ImproperlyConfigured("an audit entry's fields are written as plain parameters")
    query = InsertQuery(AuditEntry)
    query.insert_values(fields, [entry])
    compiler = query.get_compiler(connection=connection)
    [(insert, _params)] = compiler.as_sql()
    quote = connection.ops.quote_name
    pk = quote(meta.pk.column)
    sql = (f"WITH entry AS ({insert} RETURNING {pk}) "
           f"UPDATE {quote(AuditAnchor._meta.db_table)} SET {quote('seq')} = %s, {quote('hash')} = %s "
           f"WHERE {quote('id')} = 1 RETURNING (SELECT {pk} FROM entry)")
    connection.__dict__["jindu_audit_insert"] = compiled = (sql, compiler, fields)
    return compiled


def record(action, *, actor=None, obj: models.Model | None = None, changes=None, object_repr="",
           ip_address=None) -> AuditEntry:
    """Append one audit entry. ``actor`` None means the system or the command-line operator."""
    entry = _build(action, who=_who(actor, ip_address), obj=obj, changes=changes, object_repr=object_repr)
    _append(entry)
    return entry


def record_list(*, actor, object_repr: str, criteria: dict, page: int, rows: int, results: int) -> AuditEntry:
    """One SEARCH entry for one page of a list of personal data, filtered or not (SPEC §4):
    who (the entry's actor), which list, the criteria, which page, and the rows it showed of
    how many matched."""
    return record(AuditEntry.Action.SEARCH, actor=actor, object_repr=object_repr,
                  changes={"criteria": criteria, "page": page, "rows": rows, "results": results})


def record_many(specs=(), *, actor=None, prepared: list[dict] | None = None) -> int:
    """Append many entries under one lock (bulk imports, sweeps): ``specs`` are dicts of
    ``record``'s keyword arguments (``action``, ``obj`` or ``object_type`` and ``object_id``,
    ``changes``, ``object_repr``), all by ``actor``. The chain is the same as from that many
    ``record`` calls; the rows go in through ``core.bulk.Rows`` (no model instance each).
    ``prepared``: entries ``prepare_many`` made already (in a forked worker of an import)."""
    entries = prepare_many(specs, actor=actor) if prepared is None else prepared
    if not entries:
        return 0
    with transaction.atomic():
        anchor = _lock_chain()
        seq, prev, keyed_from = anchor.seq, anchor.hash, anchor.keyed_from
        at = timezone.now()
        at_text = at.astimezone(datetime.UTC).isoformat()
        rows = bulk.Rows(AuditEntry)

        def chained():  # streamed: the database stores entries while the next are hashed
            nonlocal seq, prev
            for values in entries:
                seq += 1
                digest = _hash(values, seq, at_text, prev, keyed=seq >= keyed_from)
                yield rows.make(**values, seq=seq, at=at, prev_hash=prev, hash=digest)
                prev = digest

        bulk.copy_rows(AuditEntry._meta.db_table, rows.columns, chained())
        AuditAnchor.objects.filter(pk=1).update(seq=seq, hash=prev)
    return len(entries)


def prepare_many(specs, *, actor=None) -> list[dict]:
    """``record_many``'s entries before they are chained: who, what and the JSON-safe changes,
    already as their canonical text where that is orjson's (no database access: a forked
    worker of an import prepares them, the importing process only chains them)."""
    who = _who(actor)
    who = {k: v for k, v in who.items() if k != "actor"} | {"actor_id": who["actor"].pk if who["actor"] else None}
    entries = []
    for spec in specs:
        obj = spec.get("obj")
        entries.append(who | {
            "action": spec["action"],
            "object_type": obj._meta.label if obj is not None else spec.get("object_type", ""),
            "object_id": str(obj.pk) if obj is not None else spec.get("object_id", ""),
            "object_repr": object_name(obj, spec.get("object_repr")),
            "changes": _prepared_changes(spec.get("changes") or {}),
        })
    return entries


def _prepared_changes(changes):
    """The changes as they will be stored and hashed: their canonical text when orjson writes it
    (one pass for text keys and no float: dates and the like through Django's encoder, as
    ``_json_safe`` gives them), else the JSON-safe value."""
    try:
        part = orjson.dumps(changes, default=_ENCODER.default, option=_SORTED_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):  # a key that is not text, an integer past 64 bits
        part = None
    if part is not None and not _FLOAT_LIKE.search(part) and not masking.may_hold_numbers(part):
        return bulk.JSONText(part.decode())
    safe = redacted(_json_safe(changes))
    part = _canonical_part(safe)
    return safe if part is None else bulk.JSONText(part.decode())



def diff(before: dict, after: dict, masks: dict | None = None) -> dict:
    """{field: [old, new]} for the fields whose value changed.

    ``masks`` maps sensitive field names to their masking function (e.g. ``{"id_number":
    mask_id_number}``), so the audit log never holds such a value in clear.
    """
    masks = masks or {}
    changed = {}
    for key in after:
        old, new = before.get(key), after.get(key)
        if old != new:
            mask = masks.get(key)
            changed[key] = [mask(old), mask(new)] if mask else [old, new]
    return changed


# --- verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    entry_id: int | None
    message: str

    def __str__(self):
        if self.entry_id:
            where = _("entry #%(id)s (seq %(seq)s)") % {"id": self.entry_id, "seq": self.seq}
        else:
            where = _("seq %(seq)s") % {"seq": self.seq}
        return f"{where}：{self.message}"


def _entries(using: str = "default", chunk: int = 5000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        batch = list(AuditEntry.objects.using(using).filter(seq__gt=last).order_by("seq")[:chunk])
        if not batch:
            return
        yield from batch
        last = batch[-1].seq


def verify(using: str = "default") -> tuple[int, ChainProblem | None]:
    """Walk the chain, then compare it with the checkpoints written outside the database;
    return (entries checked, the first problem or None)."""
    from core import audit_checkpoints

    anchor = AuditAnchor.objects.using(using).filter(pk=1).first()
    keyed_from = anchor.keyed_from if anchor is not None else 1
    try:
        audit_key(create=False)
    except AuditKeyMissing as missing:
        if anchor is not None and anchor.seq >= keyed_from:
            return 0, ChainProblem(keyed_from, None, _("the audit key %(path)s is missing: the keyed entries "
                                                       "cannot be verified") % {"path": missing})
    checked, problem = _walk(using, anchor, keyed_from)
    if problem is None:
        problem = audit_checkpoints.compare(using, anchor)
    return checked, problem


def _walk(using: str, anchor: AuditAnchor | None, keyed_from: int) -> tuple[int, ChainProblem | None]:
    expected_prev = None
    expected_seq = None
    checked = 0
    for entry in _entries(using):
        if expected_seq is None:
            # The first entry left: the genesis, or the one after the last pruned entry.
            if entry.seq == 1:
                if entry.prev_hash != GENESIS:
                    return checked, ChainProblem(entry.seq, entry.id, _("the first entry does not start the chain"))
            elif not _pruned_up_to(entry, using):
                return checked, ChainProblem(entry.seq, entry.id, _(
                    "entries before seq %(seq)s were removed without a pruning record") % {"seq": entry.seq})
        else:
            if entry.seq != expected_seq:
                return checked, ChainProblem(expected_seq, None, _("entries %(first)s–%(last)s were removed") % {
                    "first": expected_seq, "last": entry.seq - 1})
            if entry.prev_hash != expected_prev:
                return checked, ChainProblem(entry.seq, entry.id,
                                             _("does not follow the previous entry (inserted or re-ordered)"))
        if content_hash(entry, keyed_from=keyed_from) != entry.hash:
            return checked, ChainProblem(entry.seq, entry.id, _(
                "was altered after it was written, or the chain was computed again without the audit key"))
        checked += 1
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    if anchor is not None and anchor.seq and (expected_seq or 1) - 1 != anchor.seq:
        return checked, ChainProblem(anchor.seq, None, _(
            "the log ends at seq %(end)s but entries up to seq %(seq)s were written") % {
            "end": (expected_seq or 1) - 1, "seq": anchor.seq})
    if anchor is not None and expected_prev is not None and anchor.hash != expected_prev:
        return checked, ChainProblem(anchor.seq, None, _("the last entry differs from the one written"))
    return checked, None


def _pruned_up_to(entry: AuditEntry, using: str) -> bool:
    for prune in AuditEntry.objects.using(using).filter(action=AuditEntry.Action.PRUNE).order_by("-seq"):
        if (prune.changes.get("last_pruned_seq") == entry.seq - 1
                and prune.changes.get("last_pruned_hash") == entry.prev_hash):
            return True
    return False


# --- retention ------------------------------------------------------------------------------


def retention_days() -> int:
    """At least 183 days (6 months, 等保 2.0); three years unless configured."""
    return max(183, int(getattr(settings, "JINDU_AUDIT_RETENTION_DAYS", 3 * 365)))


def prune(*, acting_user=None, now: datetime.datetime | None = None) -> int:
    """Delete entries older than the retention period; the pruning itself is audited first."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=retention_days())
    with transaction.atomic():
        _lock_chain()
        old = AuditEntry.objects.filter(at__lt=cutoff).order_by("-seq")
        last = old.first()
        if last is None:
            return 0
        count = old.count()
        record(AuditEntry.Action.PRUNE, actor=acting_user, object_repr="audit log pruning", changes={
            "before": cutoff.isoformat(), "count": count, "last_pruned_seq": last.seq,
            "last_pruned_hash": last.hash,
        })
        with connection.cursor() as cursor, pruning():
            cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE seq <= %s", [last.seq])
    return count


@contextlib.contextmanager
def pruning():
    """Let this connection delete audit entries until the block ends (the database's triggers
    refuse it otherwise): on PostgreSQL ``jindu.audit_prune`` for the transaction, on SQLite
    the ``jindu_audit_prune()`` function the trigger asks, registered on every connection
    (``register_sqlite_functions``)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jindu.audit_prune = 'on'")
        yield
        # Not for the rest of an enclosing transaction (after an error the transaction is rolled
        # back, and the setting with it).
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jindu.audit_prune = 'off'")
        return
    connection.jindu_audit_prune = True
    try:
        yield
    finally:
        connection.jindu_audit_prune = False


def register_sqlite_functions(sender, connection, **kwargs):
    """``connection_created``: the function the SQLite trigger asks whether this connection is
    pruning. Another program opening the file has no such function, and its deletes fail."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "jindu_audit_prune", 0, lambda: int(getattr(connection, "jindu_audit_prune", False)))
