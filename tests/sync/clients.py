"""Real sync clients for the tests: SQLCipher workspaces signed in to a real server, driven one pass at a time.

Each call runs on its own ``asyncio.run`` with a fresh ``SyncApi`` (an httpx client belongs to the loop it was made
on), exactly the code the app's loop runs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from app.store.store import Store
from app.store.workspaces import Workspaces
from app.sync import account
from app.sync.credentials import Credentials
from app.sync.engine import PassResult, SyncEngine
from app.sync.protocol import SYNC_COLUMNS, Invite
from app.sync.service import SyncService
from app.sync.status import SyncStatus
from app.sync.transport import SyncApi
from sync_server.pgcluster import Cluster
from tests.support.sync_fixtures import PASSWORD, unique_email
from tests.support.waiting import async_wait_until, wait_until

Rows = dict[str, dict[str, dict[str, Any]]]


@dataclass
class Client:
    name: str
    workspace_id: str
    store: Store
    credentials: Credentials
    server_url: str

    def api(self) -> SyncApi:
        return SyncApi(self.server_url, self.credentials)

    async def _engine_run(self, *, push: bool, pull: bool) -> PassResult:
        api = self.api()
        try:
            return await SyncEngine(self.store, api).run(push=push, pull=pull)
        finally:
            await api.aclose()

    def sync(self, *, push: bool = True, pull: bool = True) -> PassResult:
        return asyncio.run(self._engine_run(push=push, pull=pull))

    def call(self, method: str, *args: Any) -> Any:
        async def go() -> Any:
            api = self.api()
            try:
                return await getattr(api, method)(*args)
            finally:
                await api.aclose()

        return asyncio.run(go())

    def invite(self, role: str = "staff") -> Invite:
        result: Invite = self.call("invite", unique_email(role), role)
        return result

    def conflicts(self) -> list[tuple[str, str, list[str], str]]:
        with self.store.db.read() as conn:
            rows = conn.execute("SELECT table_name, row_id, fields, reason FROM sync_conflicts ORDER BY id").fetchall()
        return [(r[0], r[1], json.loads(r[2]), r[3]) for r in rows]


def owner_client(workspaces: Workspaces, server_url: str, *, business: str = "Acme Boutique") -> Client:
    """A workspace made the usual way (seeded org, owner, pipeline) and signed up as a new org."""
    store = workspaces.create(business, "Ana Owner", owner_email="ana@example.com")
    workspace_id = store.meta("workspace_id")
    assert workspace_id is not None
    credentials = Credentials(store, workspace_id, workspaces.vault.backend)

    async def go() -> None:
        api = SyncApi(server_url, credentials)
        try:
            await account.sign_up(
                store,
                credentials,
                api,
                name="Ana Owner",
                email=unique_email("owner"),
                password=PASSWORD,
                device_name="owner laptop",
            )
        finally:
            await api.aclose()

    asyncio.run(go())
    return Client("owner", workspace_id, store, credentials, server_url)


def join(workspaces: Workspaces, server_url: str, invite: Invite, name: str = "staff") -> Client:
    workspace_id, store = asyncio.run(
        account.join_with_invite(
            workspaces,
            server_url,
            invite.token,
            name=name.title(),
            password=PASSWORD,
            device_name=f"{name} laptop",
            business_name="Acme Boutique",
        )
    )
    return Client(name, workspace_id, store, Credentials(store, workspace_id, workspaces.vault.backend), server_url)


def local_rows(store: Store, tables: list[str] | None = None) -> Rows:
    """Every synced row of the workspace (tombstones included), as the wire sees them."""
    result: Rows = {}
    with store.db.read() as conn:
        for table in tables or sorted(SYNC_COLUMNS):
            columns = sorted(SYNC_COLUMNS[table])
            rows = conn.execute(f'SELECT id, {", ".join(columns)} FROM "{table}" WHERE org_id = ?', (store.org_id,))
            found = {r[0]: dict(zip(columns, r[1:], strict=True)) for r in rows}
            if found:
                result[table] = found
    return result


def superuser_query(
    cluster: Cluster, database_url: str, sql: str, params: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    """Run ``sql`` as the cluster's superuser (row-level security does not apply) over TCP: a concurrent pytest
    session may make ``/tmp/pytest-of-<user>`` private again, which would lock the ``postgres`` user out of a
    socket folder under it."""
    database = database_url.rsplit("/", 1)[1]
    with psycopg.connect(cluster.url(user="postgres", database=database), autocommit=True) as conn:
        return list(conn.execute(sql, params).fetchall())


def server_rows(cluster: Cluster, database_url: str, org_id: str, tables: list[str] | None = None) -> Rows:
    """The org's rows as PostgreSQL holds them (tombstones included, purged rows not)."""
    result: Rows = {}
    found = superuser_query(
        cluster, database_url, "SELECT tbl, id, data FROM sync_rows WHERE org_id = %s AND NOT purged", (org_id,)
    )
    for table, row_id, data in found:
        if tables is None or table in tables:
            result.setdefault(table, {})[row_id] = data
    return result


async def until(service: SyncService, check: Callable[[SyncStatus], bool], timeout: float, what: str) -> SyncStatus:
    """Wait on the running loop for a sync status that passes ``check``; the bound only turns a stuck loop into a
    failure that shows the last status."""
    seen: list[SyncStatus] = []

    def passes() -> SyncStatus | None:
        seen[:] = [service.status()]
        return seen[0] if check(seen[0]) else None

    return await async_wait_until(
        passes, timeout, lambda: f"{what}; status: {seen[-1] if seen else None}", interval=0.05
    )


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    wait_until(condition, timeout, what, interval=0.05)


def differences(a: Rows, b: Rows, a_name: str, b_name: str, *, limit: int = 10) -> list[str]:
    """Readable differences between two row sets (empty when equal)."""
    out: list[str] = []
    for table in sorted(set(a) | set(b)):
        rows_a, rows_b = a.get(table, {}), b.get(table, {})
        for row_id in sorted(set(rows_a) | set(rows_b)):
            ra, rb = rows_a.get(row_id), rows_b.get(row_id)
            if ra is None or rb is None:
                out.append(f"{table}/{row_id}: only in {b_name if ra is None else a_name}")
            elif ra != rb:
                cols = sorted(c for c in set(ra) | set(rb) if ra.get(c) != rb.get(c))
                out.append(
                    f"{table}/{row_id}: "
                    + ", ".join(f"{c} {a_name}={ra.get(c)!r} {b_name}={rb.get(c)!r}" for c in cols)
                )
            if len(out) >= limit:
                return out
    return out
