"""A backup or restore killed (SIGKILL, in a real child process) at each step leaves no copy of the database in the
folder the user chose nor in the workspace once Parley starts again, never plaintext anywhere, and loses nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.store.workspaces import Workspaces
from tests.support import store_child
from tests.support.graph import AT, build_graph

BACKUP_PASS = "backup passphrase one"
CANARY = "canary-Quokka-7731"
WORKSPACE_FILES = {"parley.db", "parley.db-wal", "parley.db-shm", "workspace.json", "browser", "logs", "backups", "tmp"}


def make_workspace(workspaces: Workspaces) -> str:
    store = workspaces.create("Acme", "Ana")
    g = build_graph(store)
    for n in range(200):
        store.messages.create(chat_id=g.chat.id, direction="in", body=f"{CANARY} message {n}", sent_at=AT)
    workspace_id = store.meta("workspace_id")
    assert workspace_id
    store.close()
    return workspace_id


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def assert_no_plaintext(*folders: Path) -> None:
    for folder in folders:
        for path in files_under(folder):
            assert CANARY.encode() not in path.read_bytes(), f"plaintext in {path}"


def assert_workspace_clean(workspaces: Workspaces, workspace_id: str) -> None:
    paths = workspaces.paths(workspace_id)
    assert {p.name for p in paths.root.iterdir()} <= WORKSPACE_FILES
    assert files_under(paths.tmp) == [], "no scratch file is left in the workspace"
    assert [p.name for p in (workspaces.home / "workspaces").iterdir()] == [workspace_id]


def message_count(workspaces: Workspaces, workspace_id: str) -> int:
    store = workspaces.open(workspace_id)
    try:
        assert store.db.integrity_check() == ["ok"]
        return len(store.search_messages(CANARY, limit=1000))
    finally:
        store.close()


@pytest.mark.parametrize("step", ["backup.snapshot", "backup.written"])
def test_backup_killed_leaves_nothing_in_the_chosen_folder(
    file_workspaces: Workspaces, keyring_file: Path, tmp_path: Path, step: str
) -> None:
    workspaces, workspace_id = file_workspaces, make_workspace(file_workspaces)
    dest = tmp_path / "usb stick" / "acme.parleybackup"
    usb = dest.parent
    store_child.run(
        "backup", workspaces.home, workspace_id, "-", str(dest), BACKUP_PASS, keyring_file=keyring_file, die_at=step
    )
    assert_no_plaintext(usb, workspaces.home)

    workspaces.sweep()  # start-up
    assert files_under(usb) == [], "no hidden copy of the database stays in the folder the user chose"
    assert_workspace_clean(workspaces, workspace_id)
    # And the next backup works.
    store_child.run(
        "backup", workspaces.home, workspace_id, "-", str(dest), BACKUP_PASS, keyring_file=keyring_file, die_at=None
    )
    assert files_under(usb) == [dest]
    assert_workspace_clean(workspaces, workspace_id)


@pytest.mark.parametrize("step", ["restore.staged", "restore.adopted", "restore.extracted", "restore.set_aside"])
def test_restore_killed_leaves_nothing_and_loses_nothing(
    file_workspaces: Workspaces, keyring_file: Path, tmp_path: Path, step: str
) -> None:
    workspaces, workspace_id = file_workspaces, make_workspace(file_workspaces)
    store = workspaces.open(workspace_id)
    source = tmp_path / "usb stick" / "acme.parleybackup"
    usb = source.parent
    workspaces.backup(store, workspace_id, source, BACKUP_PASS)
    chat_id = store.chats.find_all()[0].id
    store.messages.create(chat_id=chat_id, direction="in", body=f"{CANARY} after the backup", sent_at=AT)
    store.close()

    store_child.run(
        "restore", workspaces.home, workspace_id, "-", str(source), BACKUP_PASS, keyring_file=keyring_file, die_at=step
    )
    assert_no_plaintext(usb, workspaces.home)

    workspaces.sweep()  # start-up
    assert message_count(workspaces, workspace_id) == 201, "the restore did not happen, and nothing is lost"
    assert files_under(usb) == [source]
    assert_workspace_clean(workspaces, workspace_id)
    # The restore can be done again and then holds the backup's data.
    store_child.run(
        "restore", workspaces.home, workspace_id, "-", str(source), BACKUP_PASS, keyring_file=keyring_file, die_at=None
    )
    assert message_count(workspaces, workspace_id) == 200
    assert files_under(usb) == [source]


@pytest.mark.parametrize("step", ["restore.staged", "restore.adopted", "create.filled"])
def test_restore_as_new_killed_leaves_no_workspace_and_no_key(
    file_workspaces: Workspaces, keyring_file: Path, tmp_path: Path, step: str
) -> None:
    workspaces = file_workspaces
    workspace_id = make_workspace(workspaces)
    source = tmp_path / "usb stick" / "acme.parleybackup"
    store = workspaces.open(workspace_id)
    workspaces.backup(store, workspace_id, source, BACKUP_PASS)
    store.close()
    entries = json.loads(keyring_file.read_text())

    store_child.run(
        "restore-new", workspaces.home, str(source), BACKUP_PASS, "-", keyring_file=keyring_file, die_at=step
    )
    assert_no_plaintext(source.parent, workspaces.home)

    workspaces.sweep()
    assert [h.workspace_id for h in workspaces.available()] == [workspace_id]
    assert workspaces.unusable() == []
    assert_workspace_clean(workspaces, workspace_id)
    assert json.loads(keyring_file.read_text()) == entries, "the new workspace's key is removed with it"
