"""Encryption at rest for sensitive fields (SPEC §4; 个人信息保护法, 等保 2.0 level 3).

* SM4-GCM (GB/T 32907) encrypts each value with a fresh 96-bit nonce; the model and field
  name are authenticated as associated data, so a ciphertext cannot be moved to another column.
* A keyed blind index, HMAC-SM3 (GB/T 32905) over the normalised value, lets an exact look-up
  (an ID number) use an index without decrypting the table.

Keys come from ``JINDU_FIELD_KEY`` (base64 of 32 random bytes), or for a single-machine
install from ``data/field_key``, made by ``jindu migrate`` on a database that holds no encrypted
value yet (``create_key_file``), never at read time: a database restored without its key stops
with MissingFieldKey instead of getting a new key that reads nothing. Old keys stay readable through
``JINDU_FIELD_KEYS_OLD`` (comma-separated) or ``data/field_key.old``; ``jindu keys rotate``
re-encrypts every encrypted column and rebuilds the blind indexes with the current key.

Ciphertext format: ``sm4gcm:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>``.
"""

import base64
import hmac
import os
import secrets
import threading
from contextlib import suppress
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "sm4gcm"
NONCE_BYTES = 12
TAG_BYTES = 16


class DecryptionError(Exception):
    pass


class MissingFieldKey(DecryptionError):
    """No field key: neither ``JINDU_FIELD_KEY`` nor the key file."""

    def __init__(self, path):
        from django.utils.translation import gettext as _

        super().__init__(_("The field encryption key is missing: neither JINDU_FIELD_KEY nor %(path)s. Put back the "
                           "key kept apart from the backups (docs/operations.md, “Restore”); a new install gets its "
                           "key from “jindu migrate”.") % {"path": path})


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


@dataclass(frozen=True)
class FieldKey:
    """One master key and the two keys derived from it (never used for both purposes)."""

    master: bytes

    # Derived once per key (cached_property writes the instance dict, which a frozen dataclass allows).
    @cached_property
    def key_id(self) -> str:
        return sm3(b"jindu-key-id" + self.master).hex()[:8]

    def _derive(self, label: bytes, length: int) -> bytes:
        return HKDF(algorithm=hashes.SM3(), length=length, salt=None, info=label).derive(self.master)

    @cached_property
    def encryption_key(self) -> bytes:
        return self._derive(b"jindu field encryption sm4", 16)

    @cached_property
    def cipher_algorithm(self) -> algorithms.SM4:
        return algorithms.SM4(self.encryption_key)

    @cached_property
    def index_key(self) -> bytes:
        return self._derive(b"jindu blind index hmac-sm3", 32)


def generate_master() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _parse(text: str) -> FieldKey:
    raw = base64.b64decode(text.strip())
    if len(raw) < 32:
        raise ValueError("JINDU_FIELD_KEY must be base64 of at least 32 bytes")
    return FieldKey(raw)


def key_file() -> Path:
    return Path(settings.DATA_DIR) / "field_key"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to a new file readable by its owner only (created 0600, never wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(text)


def create_key_file() -> Path:
    """Make the file-based field key (0600). The one place a key is made; ``jindu migrate``
    calls it through core.backup.ensure_field_key, on a database without encrypted values."""
    path = key_file()
    write_private(path, generate_master())
    reset_keyring()
    return path


def fingerprint(key: "FieldKey") -> str:
    """A key's fingerprint (SM3, hex): what a backup records to recognise its key on restore."""
    return sm3(b"jindu-key-fingerprint" + key.master).hex()


@lru_cache(maxsize=1)
def keyring() -> tuple[FieldKey, dict[str, FieldKey]]:
    """(current key, every readable key by id); MissingFieldKey without one."""
    current_text = os.environ.get("JINDU_FIELD_KEY")
    old_texts = [t for t in os.environ.get("JINDU_FIELD_KEYS_OLD", "").split(",") if t.strip()]
    if not current_text:
        path = key_file()
        if not path.exists():
            raise MissingFieldKey(path)
        current_text = path.read_text()
        old_path = path.with_name("field_key.old")
        if old_path.exists():
            old_texts += [t for t in old_path.read_text().split() if t.strip()]
    current = _parse(current_text)
    readable = {key.key_id: key for key in [current, *(_parse(t) for t in old_texts)]}
    return current, readable


def reset_keyring() -> None:
    keyring.cache_clear()


def _cipher(key: FieldKey, nonce: bytes, tag: bytes | None = None):
    return Cipher(key.cipher_algorithm, modes.GCM(nonce, tag))


_nonces = threading.local()
os.register_at_fork(after_in_child=lambda: _nonces.__dict__.clear())


def _nonce() -> bytes:
    """A fresh random GCM nonce: os.urandom read 256 nonces at a time (one system call each
    was a tenth of an import's time). Each thread has its own pool and a forked child starts
    with none, so no two encryptions ever share one."""
    pool = getattr(_nonces, "pool", b"")
    taken = getattr(_nonces, "taken", 0)
    if taken + NONCE_BYTES > len(pool):
        pool, taken = os.urandom(NONCE_BYTES * 256), 0
        _nonces.pool = pool
    _nonces.taken = taken + NONCE_BYTES
    return pool[taken:taken + NONCE_BYTES]


def encrypt(plaintext: str, context: str) -> str:
    key, _ = keyring()
    nonce = _nonce()
    encryptor = _cipher(key, nonce).encryptor()
    encryptor.authenticate_additional_data(context.encode())
    body = encryptor.update(plaintext.encode()) + encryptor.finalize()
    return f"{PREFIX}:{key.key_id}:{base64.b64encode(nonce + body + encryptor.tag).decode()}"


def is_encrypted(value: str) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX + ":")


def key_id_of(token: str) -> str:
    return token.split(":", 2)[1]


def decrypt(token: str, context: str) -> str:
    try:
        prefix, key_id, payload = token.split(":", 2)
    except ValueError:
        raise DecryptionError("not an encrypted value") from None
    _, readable = keyring()
    key = readable.get(key_id)
    if prefix != PREFIX or key is None:
        raise DecryptionError(f"no key {key_id} to decrypt this value")
    raw = base64.b64decode(payload)
    nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    decryptor = _cipher(key, nonce, tag).decryptor()
    decryptor.authenticate_additional_data(context.encode())
    try:
        return (decryptor.update(body) + decryptor.finalize()).decode()
    except InvalidTag:
        raise DecryptionError("the value was altered or belongs to another column") from None


def blind_index(value: str, context: str, key: FieldKey | None = None) -> str:
    """HMAC-SM3 of the value under the index key, hex. Equal values give equal indexes."""
    key = key or keyring()[0]
    mac = crypto_hmac.HMAC(key.index_key, hashes.SM3())
    mac.update(context.encode() + b"\x00" + value.encode())
    return mac.finalize().hex()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


# --- the audit chain's key --------------------------------------------------------------------
#
# The audit chain (core.audit) is keyed with HMAC-SM3 so that whoever can write the database
# cannot recompute it after changing an entry: the key lives outside the database, like the
# field key, in ``JINDU_AUDIT_KEY`` (base64 of 32 random bytes) or ``data/audit_key`` (created
# readable by its owner only, the service's system user; the PostgreSQL server's role cannot read it).


class AuditKeyMissing(Exception):
    pass


def audit_key_file() -> Path:
    return Path(settings.DATA_DIR) / "audit_key"


@dataclass(frozen=True)
class AuditKey:
    master: bytes

    def _derive(self, label: bytes) -> bytes:
        return HKDF(algorithm=hashes.SM3(), length=32, salt=None, info=label).derive(self.master)

    @cached_property
    def chain(self) -> crypto_hmac.HMAC:
        """HMAC-SM3 under the chain key, before any data: ``copy()`` it for each entry."""
        return crypto_hmac.HMAC(self._derive(b"jindu audit chain hmac-sm3"), hashes.SM3())

    @cached_property
    def checkpoint(self) -> bytes:
        return self._derive(b"jindu audit checkpoint hmac-sm3")

    @property
    def fingerprint(self) -> str:
        """What a backup records to recognise the key on restore (SM3, hex); never the key."""
        return sm3(b"jindu-audit-key-fingerprint" + self.master).hex()


@lru_cache(maxsize=1)
def audit_key(create: bool = True) -> AuditKey:
    """The audit chain's key; created at first use (``jindu migrate``, or the first entry)
    unless ``create`` is False (``jindu audit verify`` must not make a new key)."""
    text = os.environ.get("JINDU_AUDIT_KEY")
    if not text:
        path = audit_key_file()
        if not path.exists():
            if not create:
                raise AuditKeyMissing(str(path))
            with suppress(FileExistsError):  # made meanwhile by another process: read it
                write_private(path, generate_master())
        text = path.read_text()
    raw = base64.b64decode(text.strip())
    if len(raw) < 32:
        raise ValueError("JINDU_AUDIT_KEY must be base64 of at least 32 bytes")
    return AuditKey(raw)


def reset_audit_key() -> None:
    audit_key.cache_clear()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    mac = crypto_hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()
