"""Faults in the middle of a sync: the server killed after it committed a batch whose answer never arrived, and
PostgreSQL restarted under a running push. Both end with every row on the server exactly once and everyone equal."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from app.core.ids import utc_now
from app.store.workspaces import Workspaces
from app.sync.engine import SyncEngine
from app.sync.transport import ServerUnreachable, SyncApi
from sync_server.pgcluster import Cluster
from tests.support.sync_fixtures import private_cluster
from tests.support.sync_server import ServerProcess, fresh_database
from tests.support.waiting import wait_until
from tests.sync.clients import Client, differences, join, local_rows, owner_client, server_rows, superuser_query

pytestmark = pytest.mark.slow


class AfterFirstPush(httpx.AsyncHTTPTransport):
    """The real HTTP transport, with ``fault`` run once the server has answered the first push.

    With ``lose_answer`` the answer is then dropped, as when a server dies between its COMMIT and its reply.
    """

    def __init__(self, fault: Callable[[], None], *, lose_answer: bool) -> None:
        super().__init__()
        self.fault = fault
        self.lose_answer = lose_answer
        self.pushes = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.url.path == "/api/sync/push":
            self.pushes += 1
            if self.pushes == 1:
                await response.aread()
                assert response.status_code == 200, response.text
                await asyncio.to_thread(self.fault)
                if self.lose_answer:
                    raise httpx.ReadError("the connection closed before the answer arrived")
        return response


def _add_contacts(client: Client, count: int) -> None:
    now = utc_now()
    repo = client.store.contacts
    repo.add_many(repo.new(name=f"Bulk {i:05d}", created_at=now, updated_at=now) for i in range(count))


def _push(client: Client, transport: httpx.AsyncBaseTransport | None = None) -> None:
    async def go() -> None:
        api = SyncApi(client.server_url, client.credentials, transport=transport)
        try:
            await SyncEngine(client.store, api).run()
        finally:
            await api.aclose()

    asyncio.run(go())


def _sync_until_it_works(client: Client, *, timeout: float) -> None:
    last: list[ServerUnreachable] = []

    def synced() -> bool:
        try:
            client.sync()
        except ServerUnreachable as error:
            last[:] = [error]
            return False
        return True

    wait_until(synced, timeout, lambda: f"a sync pass got through; last error: {last[-1] if last else None!r}", 0.2)


def _org_counts(cluster: Cluster, database_url: str, org_id: str) -> tuple[int, int, int]:
    """(rows, distinct ids, org version) for the org, read as the superuser."""
    [(rows, distinct, version)] = superuser_query(
        cluster,
        database_url,
        "SELECT count(*), count(DISTINCT (tbl, id)), (SELECT version FROM orgs WHERE id = %s) "
        "FROM sync_rows WHERE org_id = %s",
        (org_id, org_id),
    )
    return int(rows), int(distinct), int(version)


def test_server_killed_after_committing_a_batch_whose_answer_was_lost(
    workspaces: Workspaces, database_url: str, pg: Cluster, tmp_path: Path
) -> None:
    server = ServerProcess(database_url, tmp_path / "server.log").start()
    try:
        owner = owner_client(workspaces, server.url)
        rows_before, _, version_before = _org_counts(pg, database_url, owner.store.org_id)
        _add_contacts(owner, 20_000)
        assert owner.store.outbox.count() == 20_000
        transport = AfterFirstPush(server.kill, lose_answer=True)
        with pytest.raises(ServerUnreachable):
            _push(owner, transport)
        assert transport.pushes == 1
        # The server applied the first 1000 but the device never heard so: it still holds all 20,000.
        assert owner.store.outbox.count() == 20_000
        assert _org_counts(pg, database_url, owner.store.org_id)[0] == rows_before + 1000
        server.start()
        owner.sync()
        assert owner.store.outbox.count() == 0
        rows, distinct, version = _org_counts(pg, database_url, owner.store.org_id)
        assert rows == distinct == rows_before + 20_000
        # Each change took one version: the retried first batch was not applied a second time.
        assert version == version_before + 20_000
        staff = join(workspaces, server.url, owner.invite())
        owner.sync()
        expected = server_rows(pg, database_url, owner.store.org_id)
        assert len(expected["contacts"]) == 20_000
        for client in (owner, staff):
            assert differences(expected, local_rows(client.store), "server", client.name) == []
        staff.store.close()
        owner.store.close()
    finally:
        server.stop()


def test_postgresql_restarted_mid_sync(workspaces: Workspaces, tmp_path: Path) -> None:
    with private_cluster("parley-own-pg-") as cluster:  # restarted by the test: not the session's shared one
        database_url = fresh_database(cluster, prefix="restart")
        server = ServerProcess(database_url, tmp_path / "server.log").start()
        try:
            owner = owner_client(workspaces, server.url)
            staff = join(workspaces, server.url, owner.invite())
            _add_contacts(owner, 5_000)
            _add_contacts(staff, 3_000)
            restarted = AfterFirstPush(lambda: cluster.restart(mode="immediate"), lose_answer=False)
            with contextlib.suppress(ServerUnreachable):  # the pool's connections died with PostgreSQL
                _push(owner, restarted)
            assert restarted.pushes >= 1
            for client in (owner, staff, owner, staff):
                _sync_until_it_works(client, timeout=60)
            expected = server_rows(cluster, database_url, owner.store.org_id)
            assert len(expected["contacts"]) == 8_000
            rows, distinct, _ = _org_counts(cluster, database_url, owner.store.org_id)
            assert rows == distinct
            for client in (owner, staff):
                assert client.store.outbox.count() == 0
                assert differences(expected, local_rows(client.store), "server", client.name) == []
            staff.store.close()
            owner.store.close()
        finally:
            server.stop()
