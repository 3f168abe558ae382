"""PostgreSQL access: one async connection pool per process, numbered migrations, and scoped transactions.

Every query about an org's data runs inside ``Db.org(org_id)``, which sets ``parley.org_id`` for that transaction
only (``set_config(..., true)``), so the row-level security policies refuse anything of another org even if a
query forgot its ``WHERE org_id``. ``Db.system()`` is the narrow exception for the auth look-ups that must find an
org first (login by e-mail, refresh by token hash, invite by token hash).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)

MIGRATIONS_PACKAGE = "sync_server.migrations"
_MIGRATION_LOCK = 7_402_113  # pg_advisory_xact_lock key: processes starting together migrate one at a time
REQUEST_TIMEOUT_SECONDS = 10.0  # the longest a request waits for the database (a connection, a probe) by default
PROBE_SECONDS = 2.0  # a probe's own connection, and a fresh pool's first connections, must come within this
PING_WAIT_SECONDS = 2.0  # /health's wait for a pooled connection

Conn = AsyncConnection[tuple[Any, ...]]


class DatabaseTooNew(RuntimeError):
    """The database was migrated by a newer server than this one; this server refuses to touch it."""


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every bundled migration, in order."""
    found = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found


async def migrate(conn: Conn) -> int:
    """Apply the missing migrations, each in its own transaction; returns the schema version."""
    files = migration_files()
    latest = files[-1][0] if files else 0
    await conn.set_autocommit(True)
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
        "applied_at timestamptz NOT NULL DEFAULT now())"
    )
    await conn.set_autocommit(False)
    for version, name, sql in files:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            cur = await conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
            row = await cur.fetchone()
            current = int(row[0]) if row else 0
            if current > latest:
                raise DatabaseTooNew(
                    f"The database is at schema {current}, newer than this server's {latest}: upgrade the server."
                )
            if version <= current:
                continue
            await conn.execute(sql.encode())
            await conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name))
            log.info("applied migration %s", name)
    cur = await conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
    row = await cur.fetchone()
    await conn.commit()
    current = int(row[0]) if row else 0
    if current > latest:
        raise DatabaseTooNew(f"The database is at schema {current}, newer than this server's {latest}.")
    return current


class DatabaseUnavailable(psycopg.OperationalError):
    """The database did not answer, or gave no connection within the request timeout: the request gets a 503."""


class Db:
    """The pool, and what keeps it honest across a database restart or outage.

    A pooled connection broken by a restart is found when a transaction begins on it (see ``_scoped``); then the
    database is probed with a connection of its own. Down: the request is answered 503 at once, and so is every
    later one until a probe gets through (no request waits out the pool's timeout against a database that refuses
    connections). Up: the pool's idle connections are checked together (``pool.check()``), not one per request; and
    after an outage this process saw, the pool is replaced by a fresh one, because psycopg_pool's reconnection
    attempts back off exponentially during an outage (1, 2, 4 ... s) and would keep it empty long after the
    database is back. ``/health`` (``ping``) goes through the same steps, so the first check after a restart answers
    for the database as it is now.
    """

    def __init__(self, url: str, make_pool: Callable[[], AsyncConnectionPool[Conn]], timeout: float) -> None:
        self.url = url
        self.timeout = timeout  # the longest a request waits for the database before it is answered 503
        self._make_pool = make_pool
        self.pool = make_pool()
        self._down = False  # a probe failed and none has got through since
        self._recovering: asyncio.Task[bool] | None = None
        self._retiring: set[asyncio.Task[None]] = set()

    @classmethod
    async def open(
        cls, url: str, *, min_size: int = 2, max_size: int = 20, timeout: float = REQUEST_TIMEOUT_SECONDS
    ) -> Db:
        """Migrate with a connection of its own, then open the pool (raises if the database cannot be reached).

        ``timeout`` bounds a request's wait for the database: for a pooled connection, and for a probe and a fresh
        pool after a failure (``_scoped``)."""
        async with await psycopg.AsyncConnection.connect(url, connect_timeout=int(timeout)) as conn:
            await migrate(conn)

        def make_pool() -> AsyncConnectionPool[Conn]:
            return AsyncConnectionPool(
                url,
                min_size=min_size,
                max_size=max_size,
                timeout=timeout,
                open=False,
                kwargs={"row_factory": tuple_row, "connect_timeout": max(2, int(timeout))},
            )

        db = cls(url, make_pool, timeout)
        await db.pool.open(wait=True, timeout=timeout)
        return db

    async def close(self) -> None:
        if self._recovering is not None:
            self._recovering.cancel()
            await asyncio.gather(self._recovering, return_exceptions=True)
        await self.pool.close()
        await asyncio.gather(*self._retiring, return_exceptions=True)

    @asynccontextmanager
    async def org(self, org_id: str, *, deadline: float | None = None) -> AsyncIterator[Conn]:
        """A transaction that can see only ``org_id``'s rows.

        ``deadline`` (loop time): when the request's wait for the database began earlier than now (a push queued
        behind its org's other pushes); by default ``self.timeout`` from now."""
        async with self._scoped("parley.org_id", org_id, deadline) as conn:
            yield conn

    @asynccontextmanager
    async def system(self) -> AsyncIterator[Conn]:
        """A transaction for the auth look-ups that cross orgs (see the module doc). Use nowhere else."""
        async with self._scoped("parley.scope", "system") as conn:
            yield conn

    @asynccontextmanager
    async def _scoped(self, setting: str, value: str, deadline: float | None = None) -> AsyncIterator[Conn]:
        """A transaction in pipeline mode, scoped by ``setting``, on a connection known to work.

        Pipeline mode sends statements without waiting for each answer: the round trip happens when a result is
        read (or at the end, for the COMMIT). BEGIN and the scope go together in the first one, which also proves the
        connection: one broken by a database restart fails there, before the caller ran anything; the database is
        then probed and the pool refreshed (see the class doc), and the transaction starts again on a good
        connection. That replaces a checking round trip on every checkout; a request costs 3-5 round trips instead of
        6-8. Everything before the caller runs (the wait for a connection, the probe, the retry) ends by
        ``self.timeout``: past it, or when the database is down, ``DatabaseUnavailable``.
        """
        loop = asyncio.get_running_loop()
        if deadline is None:
            deadline = loop.time() + self.timeout
        if self._down and not await self._recover(deadline):
            raise DatabaseUnavailable("the database is down")
        recovered = False
        while True:
            started, pool = False, self.pool
            wait = deadline - loop.time()
            if wait <= 0:
                raise DatabaseUnavailable("no database connection within the request timeout")
            try:
                async with (
                    pool.connection(timeout=wait) as conn,
                    conn.pipeline() as pipeline,
                    conn.transaction(),
                ):
                    await conn.execute("SELECT set_config(%s, %s, true)", (setting, value))
                    await pipeline.sync()
                    started = True
                    yield conn
                return
            except psycopg.OperationalError as exc:
                if started:
                    raise
                if pool is not self.pool:  # replaced while this request waited for one of its connections
                    continue
                if recovered or not await self._recover(deadline):
                    raise DatabaseUnavailable("the database is unavailable") from exc
                recovered = True
                log.warning("no working pooled database connection (%s): retrying on a fresh one", type(exc).__name__)

    async def _recover(self, deadline: float | None = None) -> bool:
        """Whether the database answers now (refreshing the pool when it does); callers share one probe at a time.

        Gives up with False at ``deadline`` (loop time); the probe itself goes on for the next caller."""
        if self._recovering is None or self._recovering.done():
            self._recovering = asyncio.create_task(self._probe_and_refresh(), name="database-probe")
        try:
            async with asyncio.timeout_at(deadline):
                return await asyncio.shield(self._recovering)
        except TimeoutError:
            return False

    async def _probe_and_refresh(self) -> bool:
        try:
            async with asyncio.timeout(PROBE_SECONDS):
                probe = await psycopg.AsyncConnection.connect(
                    self.url, autocommit=True, connect_timeout=int(PROBE_SECONDS)
                )
                async with probe:
                    await probe.execute("SELECT 1")
            if self._down:  # the pool's reconnection attempts are backing off: start afresh
                await self._replace_pool()
                log.warning("the database answers again: the connection pool was replaced")
            else:
                await self.pool.check()  # the idle connections a restart broke go at once, not one per request
        except (psycopg.Error, OSError, TimeoutError) as exc:
            if not self._down:
                log.warning("the database cannot be reached (%s): answering 503 until it can", type(exc).__name__)
            self._down = True
            return False
        self._down = False
        return True

    async def _replace_pool(self) -> None:
        fresh = self._make_pool()
        try:
            await fresh.open(wait=True, timeout=PROBE_SECONDS)
        except BaseException:
            await fresh.close()
            raise
        old, self.pool = self.pool, fresh
        # Transactions still running on the old pool finish there (their connections close when returned); requests
        # waiting for one of its connections are refused by its closing and retry on the new pool.
        task = asyncio.create_task(old.close(), name="retired-pool")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def ping(self) -> bool:
        """``/health``: can this process reach its database now? A pool left stale by a restart is refreshed by the
        check rather than reported as an outage (see the class doc)."""
        if not self._down and await self._select_one():
            return True
        return await self._recover() and await self._select_one()

    async def _select_one(self) -> bool:
        try:
            async with self.pool.connection(timeout=PING_WAIT_SECONDS) as conn:
                await conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False
