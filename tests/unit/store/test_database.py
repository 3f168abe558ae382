"""The connection layer: reads beside writes, and reads that keep working across a rekey and a restore."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from app.store import keys, migrations, sqlcipher
from app.store.database import Database
from app.store.migrations import LATEST_VERSION, MIGRATIONS, Migration
from app.store.store import Store
from app.store.workspaces import Workspaces


def hammer(store: Store, stop: threading.Event, errors: list[BaseException], counts: list[int]) -> None:
    while not stop.is_set():
        try:
            store.contacts.count()
            store.inbox(limit=5)
            counts.append(1)
        except BaseException as exc:  # noqa: BLE001 — collected: the test asserts no reader failed
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


# ---- transactions: failed commits, savepoints and after-commit callbacks -------------------------------------------
def test_a_commit_refused_by_a_deferred_foreign_key_leaves_the_writer_usable(store: Store) -> None:
    ran: list[str] = []
    with pytest.raises(sqlcipher.IntegrityError, match="FOREIGN KEY"), store.db.transaction():
        store.db.after_commit(lambda: ran.append("failed"))
        store.chats.create(contact_id="01900000-0000-7000-8000-00000000dead", title="Orphan")
    assert not store.db.writer.in_transaction
    assert store.chats.count() == 0
    store.contacts.create(name="Next write")  # no "cannot start a transaction within a transaction"
    with store.db.transaction():
        store.db.after_commit(lambda: ran.append("next"))
    assert ran == ["next"]  # the failed transaction's callback is gone, not run by the next commit
    assert store.contacts.count() == 1


def test_callbacks_of_a_rolled_back_savepoint_never_run(tmp_path: Path) -> None:
    db = Database.open(tmp_path / "x.db", keys.random_key())
    ran: list[str] = []
    with db.transaction():
        db.after_commit(lambda: ran.append("outer"))
        with pytest.raises(RuntimeError), db.transaction():
            db.after_commit(lambda: ran.append("inner, rolled back"))
            with db.transaction():
                db.after_commit(lambda: ran.append("innermost, rolled back with its parent"))
            raise RuntimeError("undo the savepoint")
        with db.transaction():
            db.after_commit(lambda: ran.append("kept savepoint"))
        assert ran == []
    assert ran == ["outer", "kept savepoint"]
    db.close()


class _HookedLock:
    """An RLock that, once armed, runs ``hook`` on ``thread`` right after that thread releases it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.hook: Callable[[], None] | None = None
        self.thread: threading.Thread | None = None

    def __enter__(self) -> _HookedLock:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
        if self.hook is not None and threading.current_thread() is self.thread:
            hook, self.hook = self.hook, None
            hook()


def test_a_commit_never_runs_callbacks_of_another_threads_open_transaction(tmp_path: Path) -> None:
    db = Database.open(tmp_path / "x.db", keys.random_key())
    lock = _HookedLock()
    db._write_lock = lock  # type: ignore[assignment]
    ran: list[str] = []
    go, registered, finish = threading.Event(), threading.Event(), threading.Event()

    def other() -> None:
        go.wait(10)
        with pytest.raises(RuntimeError), db.transaction():
            db.after_commit(lambda: ran.append("other, rolled back"))
            registered.set()
            finish.wait(10)
            raise RuntimeError("roll back")

    worker = threading.Thread(target=other)
    worker.start()

    def let_the_other_thread_in() -> None:  # between releasing the lock and running the callbacks
        go.set()
        registered.wait(10)

    lock.thread, lock.hook = threading.current_thread(), let_the_other_thread_in
    with db.transaction():
        db.after_commit(lambda: ran.append("mine"))
    finish.set()
    worker.join(10)
    assert ran == ["mine"]
    db.close()


# ---- replacing the file (restore) ----------------------------------------------------------------------------------
def _db_with_a_staged_copy(tmp_path: Path) -> tuple[Database, bytes, Path]:
    key = keys.random_key()
    db = Database.open(tmp_path / "x.db", key)
    with db.transaction() as conn:
        conn.execute("INSERT INTO settings (key, value, updated_at) VALUES ('which', '\"original\"', 0)")
    staged = tmp_path / "staged.db"
    db.export_encrypted(staged, key)
    with db.transaction() as conn:
        conn.execute("UPDATE settings SET value = '\"live\"' WHERE key = 'which'")
    return db, key, staged


def _which(db: Database) -> str:
    with db.read() as conn:
        return str(conn.execute("SELECT value FROM settings WHERE key = 'which'").fetchone()[0])


def test_replace_file_keeps_the_store_usable_when_the_old_file_cannot_be_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _key, staged = _db_with_a_staged_copy(tmp_path)
    real_replace = os.replace

    def refuse_to_move_the_database(src: object, dst: object) -> None:
        if Path(str(src)) == db.path:
            raise PermissionError("file is locked by another program")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", refuse_to_move_the_database)
    with pytest.raises(PermissionError):
        db.replace_file(staged, tmp_path / "previous.db")
    monkeypatch.undo()
    assert staged.exists()
    assert not (tmp_path / "previous.db").exists()
    with db.transaction() as conn:  # the writer is open again, on the original file
        conn.execute("INSERT INTO settings (key, value, updated_at) VALUES ('after', '1', 0)")
    assert _which(db) == '"live"'
    db.close()


def test_replace_file_refuses_while_the_log_cannot_be_emptied(tmp_path: Path) -> None:
    db, key, staged = _db_with_a_staged_copy(tmp_path)
    # Another connection (another process, say) holds a read snapshot older than the last write.
    other = sqlcipher.connect(db.path, key)
    other.execute("BEGIN")
    other.execute("SELECT count(*) FROM settings").fetchone()
    with db.transaction() as conn:
        conn.execute("INSERT INTO settings (key, value, updated_at) VALUES ('in the log', '1', 0)")
    db.writer.execute("PRAGMA busy_timeout = 50")
    try:
        with pytest.raises(sqlcipher.OperationalError, match="busy"):
            db.replace_file(staged, tmp_path / "previous.db")
    finally:
        other.rollback()
        other.close()
    assert staged.exists()
    assert not (tmp_path / "previous.db").exists()
    assert _which(db) == '"live"'
    with db.read() as conn:
        assert conn.execute("SELECT count(*) FROM settings WHERE key = 'in the log'").fetchone()[0] == 1
    db.close()


# ---- migrations and paths ------------------------------------------------------------------------------------------
def test_migrations_run_without_foreign_keys_and_enforcement_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database.open(tmp_path / "x.db", keys.random_key())
    assert db.writer.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    probe = Migration(
        LATEST_VERSION + 1,
        "probe",
        "CREATE TABLE fk_during (enforced INTEGER);\n"
        "INSERT INTO fk_during SELECT foreign_keys FROM pragma_foreign_keys;\n",
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, probe])
    monkeypatch.setattr(migrations, "LATEST_VERSION", LATEST_VERSION + 1)
    with db.exclusive() as conn:
        migrations.migrate(conn, target=LATEST_VERSION + 1)
        assert conn.execute("SELECT enforced FROM fk_during").fetchone()[0] == 0
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    db.close()


def test_database_in_a_folder_with_uri_characters(tmp_path: Path) -> None:
    folder = tmp_path / "a#b?c%20d"
    folder.mkdir()
    key = keys.random_key()
    db = Database.open(folder / "x.db", key)
    with db.transaction() as conn:
        conn.execute("INSERT INTO settings (key, value, updated_at) VALUES ('a', '1', 0)")
    with db.read() as conn:
        assert conn.execute("SELECT count(*) FROM settings WHERE key = 'a'").fetchone()[0] == 1
    db.close()
    assert (folder / "x.db").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a#b?c%20d"]  # nothing written beside it
    reopened = Database.open(folder / "x.db", key)
    assert reopened.integrity_check() == ["ok"]
    reopened.close()


def test_a_waiting_reader_is_served_before_a_thread_that_asks_again(tmp_path: Path) -> None:
    """Readers are handed out first come, first served: a thread releasing and re-asking at once cannot starve one
    that was already waiting (with four busy readers a restore waited 30 s for a reader and failed, under load)."""
    db = Database.open(tmp_path / "x.db", keys.random_key())
    db._max_readers = 1  # one reader: the waiter and the re-asker compete for it
    order: list[str] = []
    holding = db.read()
    holding.__enter__()

    def waiter() -> None:
        with db.read():
            order.append("waiter")

    t = threading.Thread(target=waiter)
    t.start()
    for _ in range(500):  # until the waiter is queued for the reader
        if db._readers_in_use == 2:
            break
        threading.Event().wait(0.01)
    assert db._readers_in_use == 2
    holding.__exit__(None, None, None)
    with db.read():
        order.append("re-asker")
    t.join(10)
    assert order == ["waiter", "re-asker"]
    db.close()
