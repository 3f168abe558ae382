"""One writer connection, a few reader connections, and the transactions around them (house rule 4).

Writes are serialised through the single writer connection under a lock, each in a ``BEGIN IMMEDIATE``
transaction; in WAL mode readers on their own connections see the last committed state and never wait for it.
A read made on the thread that holds the write transaction uses the writer, so it sees its own changes.

Each committed write transaction is reported to the ``watch``-ers with the tables it touched (recorded by the
writer's TEMP triggers, see ``touched.py``) and where it came from, once, after the commit; a rollback reports
nothing.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, NoReturn

from app.core.errors import CorruptDatabase
from app.store import crashpoints, migrations, sqlcipher, touched
from app.store.sqlcipher import Connection

log = logging.getLogger(__name__)

# Where a committed change came from: this device, rows pulled from the team server, or a restored backup.
Origin = Literal["local", "remote", "restore"]
Watcher = Callable[[touched.Touched, Origin], None]

# How long a read waits for a free reader connection before it fails (every reader held that long is a fault).
READER_WAIT_SECONDS = 30.0


class Database:
    def __init__(self, path: Path, key: bytes | None, writer: Connection, *, max_readers: int = 4) -> None:
        self.path = path
        self._key = key
        self._writer = writer
        self._write_lock = threading.RLock()
        self._local = threading.local()
        # Idle readers, and the threads waiting for one in the order they came: a reader released goes to the
        # longest waiter, never to a thread that asks again at once (that starved a waiter for 30 s under load).
        self._readers: list[Connection] = []
        self._waiting: deque[object] = deque()
        self._reader_count = 0
        self._max_readers = max_readers
        self._reader_lock = threading.Lock()
        # Readers in use, and a gate that holds new ones back while rekey / restore swap the connections.
        self._readers_idle = threading.Condition(self._reader_lock)
        self._readers_in_use = 0
        self._readers_paused = False
        self._all_readers: list[Connection] = []
        self._closed = False
        self._after_commit: list[Callable[[], None]] = []
        self._tracked = touched.install(writer)
        self._origin: Origin = "local"
        self._watchers: list[Watcher] = []

    # ---- opening ---------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, key: bytes | None) -> Database:
        """Open, authenticate, refuse a newer schema, then configure and migrate.

        Raises ``sqlcipher.DatabaseError`` when the first page cannot be read (wrong key or damaged file: the
        caller knows which), and ``DatabaseTooNew``; in both cases nothing has been written.
        """
        return cls(path, key, cls._open_writer(path, key))

    # ---- transactions ----------------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction; nested use on the same thread joins the outer one through a savepoint.

        After-commit callbacks registered inside a savepoint that rolls back are dropped with it; the rest run
        once the outer transaction commits, after the write lock is released.
        """
        callbacks: list[Callable[[], None]] = []
        with self._write_lock:
            depth = getattr(self._local, "depth", 0)
            conn = self._writer
            mark = len(self._after_commit)
            self._local.depth = depth + 1
            try:
                if depth == 0:
                    conn.execute("BEGIN IMMEDIATE")
                    self._origin = "local"
                else:
                    conn.execute(f"SAVEPOINT sp{depth}")
                try:
                    yield conn
                except BaseException:
                    if depth == 0:
                        self._after_commit.clear()
                        if conn.in_transaction:  # some errors (disk full, I/O) already rolled it back
                            conn.execute("ROLLBACK")
                    else:
                        del self._after_commit[mark:]
                        conn.execute(f"ROLLBACK TO sp{depth}")
                        conn.execute(f"RELEASE sp{depth}")
                    raise
                if depth == 0:
                    written = self._commit(conn)
                    callbacks, self._after_commit = self._after_commit, []
                    if written.tables:
                        callbacks.append(self._notifier(written, self._origin))
                else:
                    conn.execute(f"RELEASE sp{depth}")
            except sqlcipher.DatabaseError as exc:
                self._reraise(exc)
            finally:
                self._local.depth = depth
        self._run(callbacks)

    def _commit(self, conn: Connection) -> touched.Touched:
        """Take what the transaction touched, then COMMIT; on failure (deferred foreign keys are checked here) roll
        back so the writer stays usable (the rollback restores the touched sets too)."""
        try:
            written = touched.take(conn)
            conn.execute("COMMIT")
        except BaseException:
            self._after_commit.clear()
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlcipher.DatabaseError:
                    log.exception("rollback after a failed commit failed")
            raise
        return written

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current write transaction commits (never if it rolls back)."""
        if getattr(self._local, "depth", 0) == 0:
            callback()
        else:
            self._after_commit.append(callback)

    # ---- what changed ----------------------------------------------------------------------------------------
    @property
    def tracked_tables(self) -> frozenset[str]:
        """The tables whose changes are reported to watchers."""
        return self._tracked

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Call ``watcher(touched, origin)`` after each commit that touched tracked tables (on the committing thread,
        after the write lock is released); returns a function that stops it."""
        self._watchers.append(watcher)

        def stop() -> None:
            if watcher in self._watchers:
                self._watchers.remove(watcher)

        return stop

    def _notifier(self, written: touched.Touched, origin: Origin) -> Callable[[], None]:
        def notify() -> None:
            for watcher in list(self._watchers):
                try:
                    watcher(written, origin)
                except Exception:
                    log.exception("change watcher failed")

        return notify

    @staticmethod
    def _run(callbacks: list[Callable[[], None]]) -> None:
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("after-commit callback failed")

    @contextmanager
    def applying_remote(self, *, check_foreign_keys: bool = True) -> Iterator[Connection]:
        """A write transaction whose changes are not echoed into the outbox (rows pulled from the server).

        The flag lives in the database so the triggers can see it, but only ever inside this transaction: it is
        reset before commit, and a crash rolls it back with everything else.

        ``check_foreign_keys=False`` turns foreign-key enforcement off for this one transaction: a pulled page is a
        slice of the org's history in version order, so it may hold a message before its chat, or a row whose
        parent another member already purged. ``PRAGMA foreign_keys`` is a no-op inside a transaction, so it is
        switched on the writer before BEGIN and back after COMMIT/ROLLBACK, all under the write lock (no other
        write can run in between); readers are separate connections and are not affected. It cannot be nested in
        another transaction, where the pragma would silently do nothing.
        """
        if check_foreign_keys:
            with self.transaction() as conn:
                self._origin = "remote"
                conn.execute("UPDATE sync_control SET applying_remote = 1 WHERE id = 1")
                try:
                    yield conn
                finally:
                    conn.execute("UPDATE sync_control SET applying_remote = 0 WHERE id = 1")
            return
        with self._write_lock:
            if getattr(self._local, "depth", 0) > 0:
                raise RuntimeError("foreign-key checks can only be turned off outside any transaction")
            self._writer.execute("PRAGMA foreign_keys = OFF")
            try:
                with self.transaction() as conn:
                    self._origin = "remote"
                    conn.execute("UPDATE sync_control SET applying_remote = 1 WHERE id = 1")
                    try:
                        yield conn
                    finally:
                        conn.execute("UPDATE sync_control SET applying_remote = 0 WHERE id = 1")
            finally:
                self._writer.execute("PRAGMA foreign_keys = ON")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading. Inside this thread's write transaction, the writer itself."""
        if getattr(self._local, "depth", 0) > 0:
            yield self._writer
            return
        conn = self._acquire_reader()
        try:
            yield conn
        except sqlcipher.DatabaseError as exc:
            self._reraise(exc)
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._release_reader(conn)

    def _acquire_reader(self) -> Connection:
        with self._reader_lock:
            while self._readers_paused:
                self._readers_idle.wait()
            if self._closed:
                raise RuntimeError("database is closed")
            self._readers_in_use += 1
            turn = object()
            self._waiting.append(turn)
            deadline = time.monotonic() + READER_WAIT_SECONDS
            try:
                while not (self._waiting[0] is turn and (self._readers or self._reader_count < self._max_readers)):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError(
                            f"no database reader became free in {READER_WAIT_SECONDS:.0f} s "
                            f"({self._max_readers} in use)"
                        )
                    self._readers_idle.wait(remaining)
                self._waiting.popleft()
                if self._readers:
                    return self._readers.pop()
                self._reader_count += 1
                try:
                    conn = sqlcipher.connect(self.path, self._key)
                    sqlcipher.configure(conn, writer=False)
                except BaseException:
                    self._reader_count -= 1
                    raise
                self._all_readers.append(conn)
                return conn
            except BaseException:
                if turn in self._waiting:
                    self._waiting.remove(turn)
                self._readers_in_use -= 1
                raise
            finally:
                self._readers_idle.notify_all()  # the next in line may go now

    def _release_reader(self, conn: Connection) -> None:
        with self._reader_lock:
            self._readers_in_use -= 1
            if conn in self._all_readers:
                self._readers.append(conn)
            else:
                conn.close()  # closed and replaced while it was out (rekey, restore)
            self._readers_idle.notify_all()

    def _translated(self, exc: sqlcipher.DatabaseError) -> BaseException:
        if sqlcipher.is_not_a_database(exc):
            return CorruptDatabase(f"The workspace database is damaged: {exc}.")
        return exc

    def _reraise(self, exc: sqlcipher.DatabaseError) -> NoReturn:
        translated = self._translated(exc)
        if translated is exc:
            raise exc
        raise translated from exc

    # ---- maintenance -----------------------------------------------------------------------------------------
    def close_readers(self) -> None:
        """Close every idle reader; readers in use are closed when they come back."""
        with self._reader_lock:
            while self._readers:
                self._readers.pop().close()
            self._all_readers.clear()
            self._reader_count = 0

    @contextmanager
    def _readers_quiesced(self) -> Iterator[None]:
        """Hold new reads back and wait for reads in flight to finish (rekey and restore change the key/file)."""
        with self._reader_lock:
            self._readers_paused = True
            while self._readers_in_use:
                self._readers_idle.wait()
        try:
            self.close_readers()
            yield
        finally:
            with self._reader_lock:
                self._readers_paused = False
                self._readers_idle.notify_all()

    def rekey(self, new_key: bytes) -> None:
        """Re-encrypt every page under ``new_key``. Readers are closed first and reopen with the new key."""
        with self._write_lock, self._readers_quiesced():
            sqlcipher.rekey(self._writer, new_key)
            crashpoints.reached("rekey.reencrypted")
            self._key = new_key
            self.checkpoint()

    def export_encrypted(self, dest: Path, key: bytes) -> None:
        """Write a consistent, compacted copy of the database to ``dest``, encrypted under ``key``.

        ``VACUUM INTO`` copies a snapshot under the current key; the copy is then re-keyed on its own connection,
        so the workspace key never leaves this object and the live database is not touched.
        """
        if dest.exists():
            raise FileExistsError(dest)
        with self.read() as conn:
            conn.execute("VACUUM INTO ?", (str(dest),))
        copy = sqlcipher.connect(dest, self._key)
        try:
            sqlcipher.verify_readable(copy)
            sqlcipher.rekey(copy, key)
        finally:
            copy.close()

    def adopt(self, conn: Connection) -> None:
        """Re-encrypt another open database (a restored backup) under this database's key."""
        assert self._key is not None
        sqlcipher.rekey(conn, self._key)

    def replace_file(self, staged: Path, keep_previous: Path) -> None:
        """Swap in ``staged`` (already under this key) as the database, keeping the old file as ``keep_previous``.

        If any step fails, or the new file does not open, the old file is put back, the writer reopened on it and
        the error raised: a failed restore loses nothing and leaves the workspace usable. Once swapped, watchers
        hear that every tracked table changed.
        """
        with self._write_lock, self._readers_quiesced():
            busy, _log, _done = self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy:
                raise sqlcipher.OperationalError("the database is busy: its write-ahead log could not be emptied")
            self._writer.close()
            try:
                os.replace(self.path, keep_previous)
            except BaseException:
                self._reopen_writer()
                raise
            crashpoints.reached("restore.set_aside")
            try:
                for suffix in ("-wal", "-shm"):
                    Path(str(self.path) + suffix).unlink(missing_ok=True)
                os.replace(staged, self.path)
            except BaseException:
                os.replace(keep_previous, self.path)
                self._reopen_writer()
                raise
            try:
                self._reopen_writer()
            except BaseException:
                os.replace(self.path, staged)
                os.replace(keep_previous, self.path)
                self._reopen_writer()
                raise
        # Every page shows something else now: report every tracked table, as a restore.
        self._notifier(touched.Touched(self._tracked, None), "restore")()

    def _reopen_writer(self) -> None:
        self._writer = self._open_writer(self.path, self._key)
        self._tracked = touched.install(self._writer)

    @staticmethod
    def _open_writer(path: Path, key: bytes | None) -> Connection:
        conn = sqlcipher.connect(path, key)
        try:
            sqlcipher.verify_readable(conn)
            migrations.check_not_newer(conn)
            sqlcipher.configure(conn, writer=True)
            migrations.migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def checkpoint(self) -> None:
        with self._write_lock:
            self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def integrity_check(self) -> list[str]:
        with self.read() as conn:
            return [row[0] for row in conn.execute("PRAGMA integrity_check")]

    @property
    def writer(self) -> Connection:
        """The writer connection, for code that manages its own locking (backup)."""
        return self._writer

    @contextmanager
    def exclusive(self) -> Iterator[Connection]:
        """Hold the write lock without a transaction (VACUUM INTO, rekey)."""
        with self._write_lock:
            yield self._writer

    def close(self) -> None:
        if self._closed:
            return
        with self._write_lock, self._readers_quiesced():
            try:
                self._writer.execute("PRAGMA optimize")
            except sqlcipher.DatabaseError:
                log.warning("PRAGMA optimize failed while closing", exc_info=True)
            self._writer.close()
            self._closed = True
