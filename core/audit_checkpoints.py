"""Signed checkpoints of the audit chain's head, kept outside the database (SPEC §4).

The chain (core.audit) shows an entry changed, removed or inserted, but not a tail cut off
together with the anchor, nor the anchor's ``keyed_from`` moved so that the chain can be
recomputed without the key. So once a day (the sweep's ``audit_checkpoint`` job, and
``jindu audit checkpoint``) the head — its seq, its hash and ``keyed_from`` — is written to a
file in ``JINDU_AUDIT_DIR``, signed with HMAC-SM3 under a key derived from the audit key.
``jindu audit verify`` compares the chain with every checkpoint; the audit administrator
downloads them from the audit pages, to keep a copy where the database's administrator cannot
reach it.
"""

import datetime
import json
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from core.crypto import AuditKeyMissing, audit_key, constant_time_equal, hmac_sm3

FORMAT = "jindu-audit-checkpoint-1"
NAME = re.compile(r"^checkpoint-\d{8}T\d{6}Z-seq\d+\.json$")


def directory() -> Path:
    return Path(settings.JINDU_AUDIT_DIR)


def _signed_text(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _mac(body: dict, create_key: bool = True) -> str:
    return hmac_sm3(audit_key(create=create_key).checkpoint, _signed_text(body)).hex()


@dataclass(frozen=True)
class Checkpoint:
    name: str
    seq: int
    hash: str
    keyed_from: int
    written_at: str
    signed: bool  # the signature matches: written by this installation, unchanged since

    @property
    def written(self) -> datetime.datetime | None:
        try:
            return datetime.datetime.fromisoformat(self.written_at)
        except ValueError:
            return None


def write(seq: int, head_hash: str, keyed_from: int, now: datetime.datetime | None = None) -> Path:
    """Write one checkpoint of the head (``seq``, ``head_hash``) and return its path."""
    now = (now or timezone.now()).astimezone(datetime.UTC)
    body = {"format": FORMAT, "seq": seq, "hash": head_hash, "keyed_from": keyed_from,
            "written_at": now.isoformat()}
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"checkpoint-{now:%Y%m%dT%H%M%SZ}-seq{seq}.json"
    text = json.dumps(body | {"mac": _mac(body)}, ensure_ascii=False, indent=1) + "\n"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    temporary.chmod(0o640)
    temporary.replace(path)
    return path


def write_head(using: str = "default") -> Path:
    """A checkpoint of the chain's head as committed now."""
    from core.audit import GENESIS
    from core.models import AuditAnchor

    anchor = AuditAnchor.objects.using(using).filter(pk=1).first()
    if anchor is None:
        return write(0, GENESIS, 1)
    return write(anchor.seq, anchor.hash, anchor.keyed_from)


def sweep() -> dict:
    """Daily sweep job: a checkpoint of the head."""
    path = write_head()
    return {"file": path.name}


def read(path: Path) -> Checkpoint:
    try:
        data = json.loads(path.read_text())
        body = {key: data[key] for key in ("format", "seq", "hash", "keyed_from", "written_at")}
        signed = body["format"] == FORMAT and constant_time_equal(str(data.get("mac", "")), _mac(body, False))
        return Checkpoint(path.name, int(body["seq"]), str(body["hash"]), int(body["keyed_from"]),
                          str(body["written_at"]), signed)
    except (ValueError, KeyError, TypeError, AuditKeyMissing):
        return Checkpoint(path.name, 0, "", 0, "", False)


def all_checkpoints() -> list[Checkpoint]:
    """Every checkpoint file, oldest first."""
    folder = directory()
    if not folder.is_dir():
        return []
    return sorted((read(path) for path in folder.iterdir() if NAME.match(path.name)), key=lambda c: (c.seq, c.name))


def path_of(name: str) -> Path | None:
    """The checkpoint file called ``name`` (for the download), or None."""
    path = directory() / name
    return path if NAME.match(name) and path.is_file() else None


def compare(using: str, anchor):
    """The first disagreement between the chain and a checkpoint, as a ``core.audit.ChainProblem``,
    or None. The chain itself was verified before."""
    from core.audit import ChainProblem
    from core.models import AuditEntry

    checkpoints = all_checkpoints()
    if not checkpoints:
        return None
    entries = AuditEntry.objects.using(using)
    head = anchor.seq if anchor is not None else 0
    keyed_from = anchor.keyed_from if anchor is not None else 1
    pruned_to = max((entry.changes.get("last_pruned_seq") or 0 for entry in
                     entries.filter(action=AuditEntry.Action.PRUNE).only("changes")), default=0)
    for checkpoint in checkpoints:
        names = {"file": checkpoint.name, "seq": checkpoint.seq, "head": head}
        if not checkpoint.signed:
            return ChainProblem(checkpoint.seq, None, _(
                "the checkpoint %(file)s is not signed by this installation's audit key (altered or forged)") % names)
        if checkpoint.keyed_from != keyed_from:
            return ChainProblem(checkpoint.seq, None, _(
                "the chain's keyed part does not start where the checkpoint %(file)s says (from seq %(keyed)s): "
                "the chain was computed again") % (names | {"keyed": checkpoint.keyed_from}))
        if checkpoint.seq == 0:
            continue
        if checkpoint.seq > head:
            return ChainProblem(checkpoint.seq, None, _(
                "the checkpoint %(file)s recorded the log up to seq %(seq)s, but it now ends at seq %(head)s: "
                "entries were removed from its end") % names)
        if checkpoint.seq <= pruned_to:
            continue  # pruned after the retention period, which is recorded in the chain
        entry = entries.filter(seq=checkpoint.seq).first()
        if entry is None or entry.hash != checkpoint.hash:
            return ChainProblem(checkpoint.seq, entry.id if entry else None, _(
                "differs from the checkpoint %(file)s: the chain was rewritten") % names)
    return None
