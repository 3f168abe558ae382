"""Two server processes on one database, a real sync client on each: a change made through one process reaches the
client of the other by its socket's notice alone (LISTEN/NOTIFY between processes), with no polling to help and,
for a small change, no pull either (the notice carries the rows)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

from app.store.workspaces import Workspaces
from app.sync.credentials import CURSOR
from app.sync.service import SyncService
from app.sync.status import SyncState
from tests.support.sync_server import ServerProcess
from tests.support.waiting import async_assert_stays, async_wait_until
from tests.sync.clients import Client, join, owner_client


@pytest.fixture
def second_server(
    database_url: str, server: ServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    other = ServerProcess(database_url, tmp_path_factory.mktemp("second") / "server.log").start()
    try:
        yield other
    finally:
        other.stop()


def _service(client: Client) -> SyncService:
    # The 30 s poll is pushed out of reach: only a notice can wake this client's loop.
    return SyncService(client.store, client.workspace_id, client.credentials, poll_seconds=3600, local_poll_seconds=0.1)


async def _wait(check: Callable[[], object], timeout: float, what: str) -> None:
    async def holds() -> object:
        return await asyncio.to_thread(check)

    await async_wait_until(holds, timeout, what, interval=0.05)


def test_a_change_through_one_process_reaches_a_client_of_the_other(
    workspaces: Workspaces, server: ServerProcess, second_server: ServerProcess
) -> None:
    owner = owner_client(workspaces, server.url)
    staff = join(workspaces, server.url, owner.invite())
    staff.credentials.set_server(second_server.url)  # staff's app talks to the other process from now on
    try:

        async def scenario() -> None:
            owner_service, staff_service = _service(owner), _service(staff)
            await owner_service.start()
            await staff_service.start()
            try:
                for service in (owner_service, staff_service):
                    await _wait(lambda s=service: s.status().state is SyncState.SYNCED, 30, "both synced")
                # Owner (on process A) edits; staff (on process B) must get it with no poll and no request of its own:
                # the notice carries the new row.
                pulls = second_server.log_tail(200_000).count("/api/sync/pull")
                contact = await asyncio.to_thread(owner.store.contacts.create, name="From process A")
                await _wait(lambda: staff.store.contacts.find(contact.id) is not None, 20, "the contact on B's client")

                def pulled() -> int:
                    return second_server.log_tail(200_000).count("/api/sync/pull")

                # 0.3 s: a pull, had there been one, is in B's log by then (its request line is written as it answers)
                await async_assert_stays(
                    lambda: pulled() == pulls, 0.3, lambda: f"B's client pulled: {pulled() - pulls} pull request(s)"
                )
                assert staff.store.meta(CURSOR) == str(owner_service.status().server_version)
                # And back: staff's edit through B reaches the owner on A.
                await asyncio.to_thread(staff.store.contacts.update, contact.id, name="Edited through B")
                edited = "Edited through B"
                await _wait(lambda: owner.store.contacts.get(contact.id).name == edited, 20, "the edit on A's client")
            finally:
                await staff_service.stop()
                await owner_service.stop()

        asyncio.run(scenario())
        server_log = second_server.log_tail(200_000)
        assert "/api/sync/pull" in server_log, "staff's client did not pull through the second process"
    finally:
        owner.store.close()
        staff.store.close()
