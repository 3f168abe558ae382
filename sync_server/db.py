"""PostgreSQL access: one async connection pool per process, numbered migrations, and scoped transactions.

Every query about an org's data runs inside ``Db.org(org_id)``, which sets ``parley.org_id`` for that transaction
only (``set_config(..., true)``), so the row-level security policies refuse anything of another org even if a
query forgot its ``WHERE org_id``. ``Db.system()`` is the narrow exception for the auth look-ups that must find an
org first (login by e-mail, refresh by token hash, invite by token hash).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
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


class Db:
    def __init__(self, pool: AsyncConnectionPool[Conn], url: str) -> None:
        self.pool = pool
        self.url = url

    @classmethod
    async def open(cls, url: str, *, min_size: int = 2, max_size: int = 20, timeout: float = 10.0) -> Db:
        """Migrate with a connection of its own, then open the pool (raises if the database cannot be reached)."""
        async with await psycopg.AsyncConnection.connect(url, connect_timeout=int(timeout)) as conn:
            await migrate(conn)
        pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            open=False,
            kwargs={"row_factory": tuple_row},
        )
        await pool.open(wait=True, timeout=timeout)
        return cls(pool, url)

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def org(self, org_id: str) -> AsyncIterator[Conn]:
        """A transaction that can see only ``org_id``'s rows."""
        async with self._scoped("parley.org_id", org_id) as conn:
            yield conn

    @asynccontextmanager
    async def system(self) -> AsyncIterator[Conn]:
        """A transaction for the auth look-ups that cross orgs (see the module doc). Use nowhere else."""
        async with self._scoped("parley.scope", "system") as conn:
            yield conn

    @asynccontextmanager
    async def _scoped(self, setting: str, value: str) -> AsyncIterator[Conn]:
        """A transaction in pipeline mode, scoped by ``setting``, on a connection known to work.

        Pipeline mode sends statements without waiting for each answer: the round trip happens when a result is
        read (or at the end, for the COMMIT). BEGIN and the scope go together in the first one, which also proves the
        connection: one broken by a database restart fails there, before the caller ran anything, so the pool's
        idle connections are checked and the transaction starts again on a good one. That replaces a checking round
        trip on every checkout; a request costs 3-5 round trips instead of 6-8.
        """
        for attempt in range(2):
            started, conn = False, None
            try:
                async with self.pool.connection() as conn, conn.pipeline() as pipeline, conn.transaction():
                    await conn.execute("SELECT set_config(%s, %s, true)", (setting, value))
                    await pipeline.sync()
                    started = True
                    yield conn
                return
            except psycopg.OperationalError:
                if started or attempt or conn is None or not conn.broken:
                    raise
                log.warning("a pooled database connection was broken (database restarted?): checking the pool")
                await self.pool.check()

    async def ping(self) -> bool:
        try:
            async with self.pool.connection(timeout=2.0) as conn:
                await conn.execute("SELECT 1")
            return True
        except Exception:
            return False
