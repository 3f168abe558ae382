"""Where a workspace keeps its secrets: this computer's keyring when it has a secure one, else inside the
workspace's encrypted database (local, never synced, never in plain text), said in words, never moved by itself."""

from __future__ import annotations

import secrets as random_tokens
import shutil
import time
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from app.ai.keys import ProviderKeys
from app.core.errors import KeyringUnavailable
from app.store.database import Database
from app.store.keyring_vault import KeyringVault, keyring_label
from app.store.secrets import HOME, IN_WORKSPACE, Secrets
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.sync.credentials import SERVICE as SYNC_SERVICE
from tests.data.make_snapshot import ORG_ID, SNAPSHOT_KEY, snapshot_path
from tests.support.keyrings import InMemoryKeyring
from tests.support.plaintext import files_containing
from tests.support.workspace_fixtures import FAST_KDF

PASS = "correct horse battery"


def new_key() -> str:
    return f"sk-proj-{random_tokens.token_hex(16)}"  # unique: no other test or process has these bytes


def passphrase_workspace(home: Path, backend: KeyringBackend) -> tuple[Workspaces, str, Store]:
    workspaces = Workspaces(home, KeyringVault(backend), kdf=FAST_KDF)
    store = workspaces.create("Acme", "Ana", passphrase=PASS)
    workspace_id = store.meta("workspace_id")
    assert workspace_id is not None
    return workspaces, workspace_id, store


def local_rows(store: Store) -> list[tuple[str, str]]:
    with store.db.read() as conn:
        return [(r[0], r[1]) for r in conn.execute("SELECT service, name FROM local_secrets ORDER BY 1, 2")]


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_without_a_secure_keyring_provider_keys_live_inside_the_encrypted_workspace(
    tmp_path: Path, backend: KeyringBackend
) -> None:
    started = time.time()
    home = tmp_path / "home"
    workspaces, workspace_id, store = passphrase_workspace(home, backend)
    keys = ProviderKeys(Secrets(backend, store))
    assert keys.secure
    assert keys.where() == IN_WORKSPACE
    outbox = store.outbox.count()
    key = new_key()
    keys.set("e1", key)  # the old code refused: "No secure keyring is available … Use a passphrase instead"
    assert keys.get("e1") == key
    assert local_rows(store) == [("parley-ai", "e1")]
    assert store.meta(HOME) == "workspace"
    assert store.outbox.count() == outbox, "a secret is local: nothing to sync"
    store.close()

    assert files_containing(key, home, tmp_path, since=started) == [], "never in plain text on disk"
    reopened = workspaces.open(workspace_id, passphrase=PASS)
    try:
        assert ProviderKeys(Secrets(backend, reopened)).get("e1") == key
    finally:
        reopened.close()


def test_with_a_secure_keyring_keys_go_there_and_the_choice_is_recorded(tmp_path: Path) -> None:
    keyring = InMemoryKeyring()
    _, _, store = passphrase_workspace(tmp_path / "home", keyring)
    keys = ProviderKeys(Secrets(keyring, store))
    key = new_key()
    keys.set("e1", key)
    assert keyring.entries == {("parley-ai", "e1"): key}
    assert local_rows(store) == []
    assert store.meta(HOME) == "keyring"
    assert keys.where() == "in this computer's keyring (InMemoryKeyring)"
    store.close()


def test_a_keyring_that_is_gone_later_is_said_and_nothing_moves_by_itself(tmp_path: Path) -> None:
    home = tmp_path / "home"
    keyring = InMemoryKeyring()
    _, workspace_id, store = passphrase_workspace(home, keyring)
    ProviderKeys(Secrets(keyring, store)).set("e1", new_key())
    store.close()

    # The same workspace on a computer (or session) whose keyring is gone.
    gone = Workspaces(home, KeyringVault(fail.Keyring()), kdf=FAST_KDF)
    store = gone.open(workspace_id, passphrase=PASS)
    secrets = Secrets(fail.Keyring(), store)
    keys = ProviderKeys(secrets)
    assert secrets.keyring_missing()
    assert not keys.secure
    assert keys.where().startswith("in this computer's keyring, which is not available now (no keyring service")
    for attempt in (lambda: keys.get("e1"), lambda: keys.set("e2", new_key())):
        with pytest.raises(KeyringUnavailable) as refused:
            attempt()
        sentence = str(refused.value)
        assert sentence.startswith("This workspace keeps the provider key in this computer's keyring, but no secure")
        assert "keyring.backends" not in sentence
        assert "Keep keys inside this workspace" in refused.value.hint
        assert "Use a passphrase instead" not in refused.value.hint
    assert local_rows(store) == [], "not moved into the workspace without being asked"

    secrets.keep_in_workspace()  # asked for: from now on the workspace keeps them (entered again)
    key = new_key()
    keys.set("e1", key)
    assert keys.get("e1") == key
    assert keys.where() == IN_WORKSPACE
    store.close()


def test_restoring_a_backup_keeps_the_workspaces_own_secrets_and_a_new_workspace_gets_the_backups_keys(
    tmp_path: Path,
) -> None:
    backend = fail.Keyring()
    workspaces, workspace_id, store = passphrase_workspace(tmp_path / "home", backend)
    keys = ProviderKeys(Secrets(backend, store))
    old_key, new_provider_key = new_key(), new_key()
    keys.set("e1", old_key)
    Secrets(backend, store).set(SYNC_SERVICE, workspace_id, "refresh-1", what="the sync sign-in")
    backup = tmp_path / "b.parleybackup"
    workspaces.backup(store, workspace_id, backup, PASS)
    keys.set("e1", new_provider_key)  # changed after the backup, like a rotated sign-in
    Secrets(backend, store).set(SYNC_SERVICE, workspace_id, "refresh-2", what="the sync sign-in")

    workspaces.restore_into(store, workspace_id, backup, PASS)
    assert keys.get("e1") == new_provider_key, "a restore brings back data, not an older key"
    assert Secrets(backend, store).get(SYNC_SERVICE, workspace_id, what="") == "refresh-2"
    store.close()

    # Restored as a new workspace (another computer without a keyring): the provider key came with the backup, the
    # sign-in did not (it belongs to the device that made the backup).
    new_id, restored = workspaces.restore_as_new(backup, PASS, passphrase=PASS)
    try:
        assert ProviderKeys(Secrets(backend, restored)).get("e1") == old_key
        assert Secrets(backend, restored).get(SYNC_SERVICE, new_id, what="") is None
    finally:
        restored.close()


def test_no_backend_class_names_in_sentences(tmp_path: Path) -> None:
    with pytest.raises(KeyringUnavailable) as refused:
        KeyringVault(fail.Keyring()).store("w1", b"x" * 32)
    assert "keyring.backends" not in str(refused.value)
    assert "no keyring service was found" in str(refused.value)
    assert keyring_label("keyring.backends.fail.Keyring") == "no usable keyring"
    assert keyring_label("keyring.backends.SecretService.Keyring") == "Secret Service"
    assert keyring_label("keyring.backends.kwallet.DBusKeyring") == "KWallet"


def test_a_workspace_from_before_schema_8_gets_the_table_and_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(snapshot_path(7), path)
    store = Store(Database.open(path, SNAPSHOT_KEY), ORG_ID)
    try:
        keys = ProviderKeys(Secrets(fail.Keyring(), store))
        assert keys.where() == IN_WORKSPACE  # nothing recorded, no secure keyring
        key = new_key()
        keys.set("e1", key)
        assert keys.get("e1") == key
    finally:
        store.close()
    saved = tmp_path / "v8.db"
    shutil.copy(snapshot_path(8), saved)
    store = Store(Database.open(saved, SNAPSHOT_KEY), ORG_ID)
    try:
        assert ProviderKeys(Secrets(InMemoryKeyring(), store)).get("snap") == "sk-snapshot-0000"  # recorded: workspace
    finally:
        store.close()
