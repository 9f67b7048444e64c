import pytest

from core import crypto, masking


@pytest.fixture(autouse=True)
def fresh_keys(tmp_path, settings, monkeypatch):
    monkeypatch.delenv("JINDU_FIELD_KEY", raising=False)
    monkeypatch.delenv("JINDU_FIELD_KEYS_OLD", raising=False)
    settings.DATA_DIR = tmp_path
    crypto.create_key_file()
    yield
    crypto.reset_keyring()


def test_round_trip_and_fresh_nonce():
    a = crypto.encrypt("11010119900307123X", "persons.Person.id_number")
    b = crypto.encrypt("11010119900307123X", "persons.Person.id_number")
    assert a != b  # a fresh nonce each time: equal values do not give equal ciphertexts
    assert "11010119900307123X" not in a
    assert crypto.decrypt(a, "persons.Person.id_number") == "11010119900307123X"


def test_ciphertext_is_bound_to_its_column():
    token = crypto.encrypt("13812345678", "accounts.User.phone")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, "persons.Person.phone")


def test_tampered_ciphertext_is_refused():
    token = crypto.encrypt("13812345678", "accounts.User.phone")
    prefix, key_id, payload = token.split(":")
    flipped = payload[:-6] + ("A" if payload[-6] != "A" else "B") + payload[-5:]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(f"{prefix}:{key_id}:{flipped}", "accounts.User.phone")


def test_blind_index_is_deterministic_keyed_and_contextual(tmp_path, settings):
    one = crypto.blind_index("11010119900307123X", "persons.Person.id_number")
    assert one == crypto.blind_index("11010119900307123X", "persons.Person.id_number")
    assert one != crypto.blind_index("11010119900307123X", "other.Model.id_number")
    settings.DATA_DIR = tmp_path / "other"
    crypto.create_key_file()
    assert one != crypto.blind_index("11010119900307123X", "persons.Person.id_number")


def test_key_from_environment_and_old_keys_stay_readable(monkeypatch):
    old = crypto.generate_master()
    monkeypatch.setenv("JINDU_FIELD_KEY", old)
    crypto.reset_keyring()
    token = crypto.encrypt("secret", "ctx")
    monkeypatch.setenv("JINDU_FIELD_KEY", crypto.generate_master())
    crypto.reset_keyring()
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, "ctx")
    monkeypatch.setenv("JINDU_FIELD_KEYS_OLD", old)
    crypto.reset_keyring()
    assert crypto.decrypt(token, "ctx") == "secret"


def test_generated_key_file_is_private(tmp_path):
    path = tmp_path / "field_key"
    assert path.exists()
    assert path.stat().st_mode & 0o777 == 0o600


def test_no_key_is_made_at_read_time(tmp_path, settings):
    """Without the key file a read or a write stops with MissingFieldKey (its message names the
    file) instead of making a new key that reads nothing (issue 19: a restore without the key)."""
    token = crypto.encrypt("13812345678", "accounts.User.phone")
    (tmp_path / "field_key").unlink()
    crypto.reset_keyring()
    for attempt in (lambda: crypto.decrypt(token, "accounts.User.phone"), lambda: crypto.encrypt("x", "ctx")):
        with pytest.raises(crypto.MissingFieldKey, match="field_key"):
            attempt()
    assert not (tmp_path / "field_key").exists()
    with pytest.raises(FileExistsError):  # never over an existing key
        crypto.create_key_file()
        crypto.create_key_file()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("11010119900307123X", "110101**********3X"),
        ("110101900307123", "110101*******23"),
        ("", ""),
        (None, ""),
        ("12345", "*****"),
    ],
)
def test_mask_id_number(value, expected):
    assert masking.mask_id_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("13812345678", "138****5678"), ("0871-1234567", "087*****4567"), ("12345", "*****"), ("", "")],
)
def test_mask_phone(value, expected):
    assert masking.mask_phone(value) == expected


@pytest.mark.parametrize(("value", "expected"), [("张三", "张*"), ("欧阳娜娜", "欧***"), ("王", "*"), ("", "")])
def test_mask_name(value, expected):
    assert masking.mask_name(value) == expected


def _nonce_of(token: str) -> bytes:
    import base64

    return base64.b64decode(token.split(":", 2)[2])[:crypto.NONCE_BYTES]


def test_nonces_never_repeat_across_pools_threads_and_forks():
    import os
    import threading

    seen = [_nonce_of(crypto.encrypt("x", "c")) for _ in range(1000)]  # several pools of 256
    from_threads = []

    def worker():
        from_threads.extend(_nonce_of(crypto.encrypt("x", "c")) for _ in range(300))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the child's next nonces must not be the parent's next ones
        os.write(writer, b"".join(_nonce_of(crypto.encrypt("x", "c")) for _ in range(10)))
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    forked = os.read(reader, 1000)
    os.close(reader)
    parent_next = [_nonce_of(crypto.encrypt("x", "c")) for _ in range(10)]
    forked = [forked[i:i + crypto.NONCE_BYTES] for i in range(0, len(forked), crypto.NONCE_BYTES)]
    everything = seen + from_threads + forked + parent_next
    assert len(forked) == 10 and len(set(everything)) == len(everything) == 2220
