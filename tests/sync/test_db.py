"""``Db``'s scoped transactions on a real cluster: the scope is set, a connection broken by a PostgreSQL restart is
replaced before the caller runs (so the first request after a restart succeeds), and a caller's own failure is never
run twice."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import psycopg
import pytest

from sync_server.db import Db
from sync_server.pgcluster import Cluster
from tests.support.sync_fixtures import private_cluster
from tests.support.sync_server import fresh_database

ORG = "0b7c6a3e-5d4f-4e1a-9c2b-8a7f6e5d4c3b"


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    with private_cluster("parley-db-pg-") as cluster:  # restarted by the tests: not the session's shared one
        yield cluster


async def scope_of(db: Db) -> tuple[str, str]:
    async with db.org(ORG) as conn:
        cur = await conn.execute("SELECT current_setting('parley.org_id'), pg_backend_pid()::text")
        row = await cur.fetchone()
        assert row is not None
        return str(row[0]), str(row[1])


def test_requests_after_a_restart_succeed_on_fresh_connections(own_cluster: Cluster) -> None:
    url = fresh_database(own_cluster, prefix="db")

    async def scenario() -> None:
        db = await Db.open(url, min_size=3, max_size=3)
        try:
            before = await asyncio.gather(*(scope_of(db) for _ in range(3)))  # all three pooled connections used
            assert {org for org, _ in before} == {ORG}
            await asyncio.to_thread(own_cluster.restart, mode="immediate")
            # Every pooled connection is dead now; each call must still succeed, first time, on a new backend.
            after = [await scope_of(db) for _ in range(3)]
            assert {org for org, _ in after} == {ORG}
            assert not {pid for _, pid in after} & {pid for _, pid in before}
        finally:
            await db.close()

    asyncio.run(scenario())


def test_a_failure_inside_the_transaction_is_not_retried(own_cluster: Cluster) -> None:
    url = fresh_database(own_cluster, prefix="db")

    async def scenario() -> int:
        db = await Db.open(url, min_size=1, max_size=1)
        runs = 0
        try:
            with pytest.raises(psycopg.OperationalError):
                async with db.org(ORG) as conn:
                    runs += 1
                    await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
                    await conn.execute("SELECT 1")
            assert (await scope_of(db))[0] == ORG  # and the pool goes on with a new connection
        finally:
            await db.close()
        return runs

    assert asyncio.run(scenario()) == 1
