"""The connection layer: reads beside writes, and reads that keep working across a rekey and a restore."""

from __future__ import annotations

import threading
from pathlib import Path

from app.store import keys
from app.store.database import Database
from app.store.store import Store
from app.store.workspaces import Workspaces


def hammer(store: Store, stop: threading.Event, errors: list[BaseException], counts: list[int]) -> None:
    while not stop.is_set():
        try:
            store.contacts.count()
            store.inbox(limit=5)
            counts.append(1)
        except BaseException as exc:
            errors.append(exc)
            return


def run_with_readers(store: Store, action: object) -> tuple[list[BaseException], int]:
    stop = threading.Event()
    errors: list[BaseException] = []
    counts: list[int] = []
    threads = [threading.Thread(target=hammer, args=(store, stop, errors, counts)) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for _ in range(3):
            action()  # type: ignore[operator]
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    return errors, len(counts)


def test_reads_survive_concurrent_rekeys(store: Store, workspaces: Workspaces, workspace_id: str) -> None:
    store.contacts.create(name="A")
    errors, reads = run_with_readers(
        store, lambda: workspaces.change_protection(store, workspace_id, new_passphrase=None)
    )
    assert errors == []
    assert reads > 0
    assert store.contacts.count() == 1


def test_reads_survive_a_restore(store: Store, workspaces: Workspaces, workspace_id: str, tmp_path: Path) -> None:
    store.contacts.create(name="A")
    backup = tmp_path / "b.parleybackup"
    workspaces.backup(store, workspace_id, backup, "backup passphrase")
    errors, _ = run_with_readers(
        store, lambda: workspaces.restore_into(store, workspace_id, backup, "backup passphrase")
    )
    assert errors == []
    assert store.contacts.count() == 1


def test_readers_see_committed_state_only(tmp_path: Path) -> None:
    db = Database.open(tmp_path / "x.db", keys.random_key())
    seen: list[int] = []
    with db.transaction() as conn:
        conn.execute("INSERT INTO settings (key, value, updated_at) VALUES ('a', '1', 0)")

        def other_thread() -> None:
            with db.read() as reader:
                seen.append(reader.execute("SELECT count(*) FROM settings").fetchone()[0])

        t = threading.Thread(target=other_thread)
        t.start()
        t.join(10)
        with db.read() as same_thread:  # the writer's own thread sees its uncommitted write
            seen.append(same_thread.execute("SELECT count(*) FROM settings").fetchone()[0])
    assert seen == [0, 1]
    db.close()
