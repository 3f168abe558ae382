"""Where a workspace key comes from, and every way opening can fail without touching the file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from keyring.backends import fail, null

from app.core.errors import (
    CorruptDatabase,
    DatabaseTooNew,
    KeyMismatch,
    KeyringBackendChanged,
    KeyringKeyMissing,
    KeyringLocked,
    KeyringUnavailable,
    PassphraseRequired,
    PassphraseTooWeak,
    WorkspaceNotFound,
    WrongPassphrase,
)
from app.store import keys, sqlcipher
from app.store.keyring_vault import KeyringVault
from app.store.workspaces import Workspaces
from tests.support.files import digest
from tests.support.keyrings import InMemoryKeyring, LockedKeyring, OtherMemoryKeyring
from tests.support.workspace_fixtures import FAST_KDF

PASS = "correct horse battery staple"


def make_passphrase_workspace(workspaces: Workspaces) -> tuple[str, Path]:
    store = workspaces.create("Acme", "Ana", passphrase=PASS)
    workspace_id = store.meta("workspace_id")
    assert workspace_id
    store.contacts.create(name="Bea", phone="+34600111222")
    store.close()
    return workspace_id, workspaces.paths(workspace_id).database


def test_keyring_mode_stores_a_random_key_and_reopens(workspaces: Workspaces, keyring_backend: InMemoryKeyring) -> None:
    store = workspaces.create("Acme", "Ana")
    workspace_id = store.meta("workspace_id")
    assert workspace_id
    store.contacts.create(name="Bea")
    store.close()
    assert list(keyring_backend.entries) == [("parley", workspace_id)]
    header = workspaces.header(workspace_id)
    assert header.key.mode == "keyring"
    assert header.key.keyring_backend == "tests.support.keyrings.InMemoryKeyring"
    reopened = workspaces.open(workspace_id)
    assert [c.name for c in reopened.contacts.find_all()] == ["Bea"]
    reopened.close()


def test_passphrase_mode_round_trip(workspaces: Workspaces, keyring_backend: InMemoryKeyring) -> None:
    workspace_id, _ = make_passphrase_workspace(workspaces)
    assert keyring_backend.entries == {}
    header = workspaces.header(workspace_id)
    assert header.key.mode == "passphrase"
    assert header.key.kdf is not None
    assert header.key.kdf.algorithm == "argon2id"
    assert workspaces.needs_passphrase(workspace_id)
    store = workspaces.open(workspace_id, passphrase=PASS)
    assert store.contacts.count() == 1
    store.close()


def test_wrong_passphrase_is_clear_and_changes_nothing(workspaces: Workspaces) -> None:
    workspace_id, db_path = make_passphrase_workspace(workspaces)
    before = digest(db_path), digest(workspaces.paths(workspace_id).header)
    with pytest.raises(WrongPassphrase, match="passphrase is not right") as info:
        workspaces.open(workspace_id, passphrase="correct horse battery stapler")
    assert "Nothing was changed" in info.value.hint
    assert (digest(db_path), digest(workspaces.paths(workspace_id).header)) == before


def test_missing_passphrase(workspaces: Workspaces) -> None:
    workspace_id, _ = make_passphrase_workspace(workspaces)
    with pytest.raises(PassphraseRequired):
        workspaces.open(workspace_id)


def test_short_passphrase_refused(workspaces: Workspaces) -> None:
    with pytest.raises(PassphraseTooWeak):
        workspaces.create("Acme", "Ana", passphrase="short")
    assert workspaces.available() == []


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()])
def test_no_secure_keyring_means_passphrase(home: Path, backend: object) -> None:
    workspaces = Workspaces(home, KeyringVault(backend), kdf=FAST_KDF)  # type: ignore[arg-type]
    with pytest.raises(KeyringUnavailable, match="No secure keyring"):
        workspaces.create("Acme", "Ana")
    assert workspaces.available() == []
    store = workspaces.create("Acme", "Ana", passphrase=PASS)
    store.close()
    assert [h.key.mode for h in workspaces.available()] == ["passphrase"]


def test_keyring_backend_changed_is_reported_not_replaced(home: Path) -> None:
    first = Workspaces(home, KeyringVault(InMemoryKeyring()), kdf=FAST_KDF)
    store = first.create("Acme", "Ana")
    workspace_id = store.meta("workspace_id")
    assert workspace_id
    store.close()
    db_path = first.paths(workspace_id).database
    before = digest(db_path)
    other = OtherMemoryKeyring()
    second = Workspaces(home, KeyringVault(other), kdf=FAST_KDF)
    with pytest.raises(KeyringBackendChanged, match="InMemoryKeyring") as info:
        second.open(workspace_id)
    assert "did not create a new key" in info.value.hint
    assert other.entries == {}, "no new key may be minted"
    assert digest(db_path) == before


def test_keyring_entry_removed(workspaces: Workspaces, keyring_backend: InMemoryKeyring) -> None:
    store = workspaces.create("Acme", "Ana")
    workspace_id = store.meta("workspace_id")
    assert workspace_id
    store.close()
    keyring_backend.entries.clear()
    with pytest.raises(KeyringKeyMissing):
        workspaces.open(workspace_id)


def test_keyring_holds_a_foreign_key(workspaces: Workspaces, keyring_backend: InMemoryKeyring) -> None:
    store = workspaces.create("Acme", "Ana")
    workspace_id = store.meta("workspace_id")
    assert workspace_id
    store.close()
    db_path = workspaces.paths(workspace_id).database
    before = digest(db_path)
    KeyringVault(keyring_backend).store(workspace_id, keys.random_key())
    with pytest.raises(KeyMismatch):
        workspaces.open(workspace_id)
    assert digest(db_path) == before


def test_locked_keyring(home: Path) -> None:
    backend = InMemoryKeyring()
    store = Workspaces(home, KeyringVault(backend), kdf=FAST_KDF).create("Acme", "Ana")
    workspace_id = store.meta("workspace_id")
    assert workspace_id
    store.close()
    locked = LockedKeyring()
    locked.entries = backend.entries
    with pytest.raises(KeyringLocked, match="locked"):
        Workspaces(home, KeyringVault(locked), kdf=FAST_KDF).open(workspace_id)
    with pytest.raises(KeyringLocked):
        Workspaces(home, KeyringVault(locked), kdf=FAST_KDF).create("Other", "Ana")


def test_corrupt_database_is_reported_and_left_alone(workspaces: Workspaces, capfd: pytest.CaptureFixture[str]) -> None:
    workspace_id, db_path = make_passphrase_workspace(workspaces)
    data = bytearray(db_path.read_bytes())
    data[100:4096] = b"\x00" * (4096 - 100)  # damage the first page (beyond SQLCipher's salt)
    db_path.write_bytes(bytes(data))
    before = digest(db_path)
    with pytest.raises(CorruptDatabase, match="damaged") as info:
        workspaces.open(workspace_id, passphrase=PASS)
    assert "Restore the latest backup" in info.value.hint
    assert digest(db_path) == before
    assert "hmac" not in capfd.readouterr().err.lower()


def test_garbage_file(workspaces: Workspaces) -> None:
    workspace_id, db_path = make_passphrase_workspace(workspaces)
    db_path.write_bytes(b"this is not a database at all" * 500)
    before = digest(db_path)
    with pytest.raises(CorruptDatabase):
        workspaces.open(workspace_id, passphrase=PASS)
    assert digest(db_path) == before


def test_newer_database_refused_untouched(workspaces: Workspaces, vault: KeyringVault) -> None:
    store = workspaces.create("Acme", "Ana")
    workspace_id = store.meta("workspace_id")
    assert workspace_id
    with store.db.exclusive() as conn:
        conn.execute("PRAGMA user_version = 99")
    store.close()
    db_path = workspaces.paths(workspace_id).database
    before = digest(db_path)
    with pytest.raises(DatabaseTooNew, match="newer version of Parley") as info:
        workspaces.open(workspace_id)
    assert "Update Parley" in info.value.hint
    assert digest(db_path) == before
    key = vault.load(workspace_id)
    assert key is not None
    conn = sqlcipher.connect(db_path, key)
    assert sqlcipher.user_version(conn) == 99
    conn.close()


def test_damaged_header(workspaces: Workspaces) -> None:
    workspace_id, _ = make_passphrase_workspace(workspaces)
    workspaces.paths(workspace_id).header.write_text("{not json")
    with pytest.raises(CorruptDatabase, match="header"):
        workspaces.open(workspace_id, passphrase=PASS)


def test_unknown_workspace(workspaces: Workspaces) -> None:
    with pytest.raises(WorkspaceNotFound):
        workspaces.open("01900000-0000-7000-8000-000000000000")


def test_no_secret_in_header_or_logs(
    workspaces: Workspaces, keyring_backend: InMemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = workspaces.create("Acme", "Ana")
    workspace_id = store.meta("workspace_id")
    assert workspace_id
    workspaces.change_protection(store, workspace_id, new_passphrase=PASS)
    store.close()
    workspaces.open(workspace_id, passphrase=PASS).close()
    header_text = workspaces.paths(workspace_id).header.read_text()
    assert PASS not in header_text
    assert PASS not in caplog.text
    for secret in keyring_backend.entries.values():
        assert secret not in header_text
        assert secret not in caplog.text


def test_derivation_is_argon2id_and_deterministic() -> None:
    params = FAST_KDF.with_new_salt()
    assert keys.derive_key(PASS, params) == keys.derive_key(PASS, params)
    assert keys.derive_key(PASS, params) != keys.derive_key(PASS, FAST_KDF.with_new_salt())
    assert len(keys.derive_key(PASS, params)) == 32
