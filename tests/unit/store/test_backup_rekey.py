"""Backups and key changes: round trips, wrong passphrases, damaged files, and crash safety of a rekey."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import BackupError, DatabaseTooNew, PassphraseRequired, WrongPassphrase
from app.store import backup, keys
from app.store.header import read_header, write_header
from app.store.store import Store
from app.store.workspaces import Workspaces
from tests.support.files import all_bytes, digest
from tests.support.graph import AT, build_graph
from tests.support.keyrings import InMemoryKeyring

BACKUP_PASS = "backup passphrase one"
NEW_PASS = "a brand new passphrase"


def fill(store: Store) -> str:
    g = build_graph(store)
    store.messages.create(chat_id=g.chat.id, direction="in", body="backup-canary-Zebra42", sent_at=AT)
    return g.contact.id


def test_backup_restore_into_same_workspace(
    store: Store, workspaces: Workspaces, workspace_id: str, tmp_path: Path
) -> None:
    contact_id = fill(store)
    target = tmp_path / "out" / "acme.parleybackup"
    info = workspaces.backup(store, workspace_id, target, BACKUP_PASS)
    assert info.org_id == store.org_id
    assert b"backup-canary-Zebra42" not in target.read_bytes()
    assert BACKUP_PASS.encode() not in target.read_bytes()

    store.contacts.update(contact_id, name="Changed after backup")
    store.messages.create(chat_id=store.chats.find_all()[0].id, direction="in", body="later", sent_at=AT)
    restored = workspaces.restore_into(store, workspace_id, target, BACKUP_PASS)
    assert restored.created_at == info.created_at
    assert store.contacts.get(contact_id).name == "Lena Weber"
    assert [h.snippet for h in store.search_messages("Zebra42")] == ["backup-canary-Zebra42"]
    assert store.search_messages("later") == []
    assert (workspaces.paths(workspace_id).root / "parley.db.before-restore").exists()
    # Still the same workspace key, and the store keeps working after the swap.
    store.contacts.create(name="After restore")
    store.close()
    reopened = workspaces.open(workspace_id)
    assert reopened.contacts.count() == 2
    reopened.close()


def test_restore_as_new_workspace_on_another_machine(
    store: Store, workspaces: Workspaces, workspace_id: str, tmp_path: Path
) -> None:
    fill(store)
    target = tmp_path / "b.parleybackup"
    workspaces.backup(store, workspace_id, target, BACKUP_PASS)
    other_machine = Workspaces(tmp_path / "laptop2", workspaces.vault.__class__(InMemoryKeyring()), kdf=workspaces.kdf)
    new_id, restored = other_machine.restore_as_new(target, BACKUP_PASS, passphrase=NEW_PASS)
    assert restored.org_id == store.org_id
    assert restored.contacts.count() == store.contacts.count()
    assert restored.search_messages("Zebra42")
    restored.close()
    other_machine.open(new_id, passphrase=NEW_PASS).close()


def test_wrong_backup_passphrase_changes_nothing(
    store: Store, workspaces: Workspaces, workspace_id: str, tmp_path: Path
) -> None:
    fill(store)
    target = tmp_path / "b.parleybackup"
    workspaces.backup(store, workspace_id, target, BACKUP_PASS)
    store.db.checkpoint()
    before = digest(workspaces.paths(workspace_id).database)
    with pytest.raises(WrongPassphrase):
        workspaces.restore_into(store, workspace_id, target, "not the passphrase")
    assert digest(workspaces.paths(workspace_id).database) == before
    assert store.contacts.count() == 1


def test_damaged_backup_is_refused(store: Store, workspaces: Workspaces, workspace_id: str, tmp_path: Path) -> None:
    fill(store)
    target = tmp_path / "b.parleybackup"
    workspaces.backup(store, workspace_id, target, BACKUP_PASS)
    data = bytearray(target.read_bytes())
    data[-3000:-2000] = b"\xff" * 1000
    target.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="damaged"):
        workspaces.restore_into(store, workspace_id, target, BACKUP_PASS)
    assert store.contacts.count() == 1
    (tmp_path / "junk").write_bytes(b"hello")
    with pytest.raises(BackupError, match="not a Parley backup"):
        backup.read_info(tmp_path / "junk")


def test_backup_of_another_org_is_not_mixed_in(
    store: Store, workspaces: Workspaces, workspace_id: str, tmp_path: Path
) -> None:
    other = workspaces.create("Other shop", "Oscar")
    other_id = other.meta("workspace_id")
    assert other_id
    target = tmp_path / "other.parleybackup"
    workspaces.backup(other, other_id, target, BACKUP_PASS)
    other.close()
    with pytest.raises(BackupError, match="another organisation"):
        workspaces.restore_into(store, workspace_id, target, BACKUP_PASS)


def test_backup_from_newer_schema_refused(
    store: Store, workspaces: Workspaces, workspace_id: str, tmp_path: Path
) -> None:
    target = tmp_path / "b.parleybackup"
    workspaces.backup(store, workspace_id, target, BACKUP_PASS)
    raw = target.read_bytes()
    magic_end = len(backup.MAGIC)
    header_end = raw.index(b"\n", magic_end)
    info = backup.BackupInfo.model_validate_json(raw[magic_end:header_end])
    newer = info.model_copy(update={"schema_version": 999}).model_dump_json().encode()
    target.write_bytes(raw[:magic_end] + newer + raw[header_end:])
    with pytest.raises(DatabaseTooNew):
        workspaces.restore_into(store, workspace_id, target, BACKUP_PASS)


@pytest.mark.parametrize("start", ["keyring", "passphrase"])
@pytest.mark.parametrize("end", ["keyring", "passphrase"])
def test_change_protection_round_trip(
    workspaces: Workspaces, keyring_backend: InMemoryKeyring, start: str, end: str
) -> None:
    store = workspaces.create("Acme", "Ana", passphrase=None if start == "keyring" else "first passphrase")
    workspace_id = store.meta("workspace_id")
    assert workspace_id
    fill(store)
    old_header = workspaces.header(workspace_id)
    workspaces.change_protection(store, workspace_id, new_passphrase=None if end == "keyring" else NEW_PASS)
    store.contacts.create(name="Written after rekey")
    store.close()
    header = workspaces.header(workspace_id)
    assert header.key.mode == end
    assert header.pending_key is None
    assert header.key.verifier != old_header.key.verifier
    assert len(keyring_backend.entries) == (1 if end == "keyring" else 0), "old keyring entries are removed"
    reopened = workspaces.open(workspace_id, passphrase=NEW_PASS if end == "passphrase" else None)
    assert reopened.contacts.count() == 2
    assert reopened.search_messages("Zebra42")
    reopened.close()
    if start == end == "passphrase":
        with pytest.raises(WrongPassphrase):
            workspaces.open(workspace_id, passphrase="first passphrase")


def test_interrupted_rekey_still_opens_and_completes(workspaces: Workspaces) -> None:
    store = workspaces.create("Acme", "Ana", passphrase="first passphrase")
    workspace_id = store.meta("workspace_id")
    assert workspace_id
    fill(store)
    paths = workspaces.paths(workspace_id)
    header = read_header(paths.header)
    # Simulate a crash after the database was re-keyed but before the header was promoted.
    new_key, protection = keys.passphrase_protection(NEW_PASS, workspaces.kdf)
    write_header(paths.header, header.model_copy(update={"pending_key": protection}))
    store.db.rekey(new_key)
    store.close()
    reopened = workspaces.open(workspace_id, passphrase=NEW_PASS)
    assert reopened.contacts.count() == 1
    reopened.close()
    final = read_header(paths.header)
    assert final.key == protection
    assert final.pending_key is None


def test_interrupted_before_rekey_opens_with_the_old_key(workspaces: Workspaces) -> None:
    store = workspaces.create("Acme", "Ana", passphrase="first passphrase")
    workspace_id = store.meta("workspace_id")
    assert workspace_id
    paths = workspaces.paths(workspace_id)
    header = read_header(paths.header)
    _, protection = keys.passphrase_protection(NEW_PASS, workspaces.kdf)
    write_header(paths.header, header.model_copy(update={"pending_key": protection}))
    store.close()
    workspaces.open(workspace_id, passphrase="first passphrase").close()


def test_rekeyed_file_holds_no_plaintext(store: Store, workspaces: Workspaces, workspace_id: str) -> None:
    fill(store)
    workspaces.change_protection(store, workspace_id, new_passphrase=NEW_PASS)
    store.db.checkpoint()
    assert b"backup-canary-Zebra42" not in all_bytes(workspaces.paths(workspace_id).database)


def test_restored_workspace_knows_its_own_id(
    store: Store, workspaces: Workspaces, workspace_id: str, tmp_path: Path
) -> None:
    target = tmp_path / "b.parleybackup"
    workspaces.backup(store, workspace_id, target, BACKUP_PASS)
    new_id, restored = workspaces.restore_as_new(target, BACKUP_PASS, passphrase=NEW_PASS)
    assert new_id != workspace_id
    assert restored.meta("workspace_id") == new_id
    restored.close()
    workspaces.restore_into(store, workspace_id, target, BACKUP_PASS)
    assert store.meta("workspace_id") == workspace_id


def test_interrupted_change_from_keyring_to_passphrase(
    workspaces: Workspaces, keyring_backend: InMemoryKeyring
) -> None:
    store = workspaces.create("Acme", "Ana")
    workspace_id = store.meta("workspace_id")
    assert workspace_id
    paths = workspaces.paths(workspace_id)
    header = read_header(paths.header)
    new_key, protection = keys.passphrase_protection(NEW_PASS, workspaces.kdf)
    write_header(paths.header, header.model_copy(update={"pending_key": protection}))
    store.db.rekey(new_key)  # ...and the process dies before the header is promoted
    store.close()
    assert workspaces.needs_passphrase(workspace_id), "startup must ask, not offer only 'try again'"
    with pytest.raises(PassphraseRequired, match="was being changed"):
        workspaces.open(workspace_id)
    with pytest.raises(WrongPassphrase, match="Enter the new passphrase"):
        workspaces.open(workspace_id, passphrase="first passphrase")
    workspaces.open(workspace_id, passphrase=NEW_PASS).close()
    final = read_header(paths.header)
    assert (final.key.mode, final.pending_key) == ("passphrase", None)
    assert keyring_backend.entries == {}, "the keyring key of the old protection is gone"


def test_change_stopped_before_rekey_is_discarded(workspaces: Workspaces, keyring_backend: InMemoryKeyring) -> None:
    store = workspaces.create("Acme", "Ana", passphrase="first passphrase")
    workspace_id = store.meta("workspace_id")
    assert workspace_id
    paths = workspaces.paths(workspace_id)
    header = read_header(paths.header)
    # A change to a new keyring key that stopped before re-encrypting.
    new_key = keys.random_key()
    workspaces.vault.store(f"{workspace_id}.pending", new_key)
    pending = keys.keyring_protection(new_key, workspaces.vault.name, f"{workspace_id}.pending")
    write_header(paths.header, header.model_copy(update={"pending_key": pending}))
    store.close()
    workspaces.open(workspace_id, passphrase="first passphrase").close()
    assert read_header(paths.header).pending_key is None
    assert keyring_backend.entries == {}, "the unused new key is removed from the keyring"


def test_failed_rekey_leaves_everything_as_it_was(
    store: Store,
    workspaces: Workspaces,
    workspace_id: str,
    keyring_backend: InMemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = read_header(workspaces.paths(workspace_id).header)
    entries = dict(keyring_backend.entries)

    def broken(new_key: bytes) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store.db, "rekey", broken)
    with pytest.raises(OSError, match="disk full"):
        workspaces.change_protection(store, workspace_id, new_passphrase=None)
    assert read_header(workspaces.paths(workspace_id).header) == before
    assert keyring_backend.entries == entries
