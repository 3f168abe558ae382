"""Right after creating or joining a team, nobody has replaced anyone's edit: the first upload's own normalisation
(the server keeps roles to its member records, so a seeded user's role is refused) is no "edit replaced", while a
real conflict (two devices writing the same field) still is. Against the real server, through the sync service."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from app.store.seed import populate
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.sync.credentials import Credentials
from app.sync.service import SyncService
from app.sync.status import SyncState, SyncStatus
from tests.support.sync_fixtures import PASSWORD, unique_email
from tests.support.sync_server import ServerProcess
from tests.sync.clients import Client, join, until


def _fresh(store: Store) -> None:
    """A workspace just made: its org, owner and default pipeline."""


def _with_data(store: Store) -> None:
    """A workspace used for a while: the demo seed adds staff users (with roles no member record backs), customers,
    chats, deals and sales."""
    populate(store, chats=4, messages=12, seed=3)


def _service(store: Store, workspace_id: str, credentials: Credentials) -> SyncService:
    return SyncService(store, workspace_id, credentials, local_poll_seconds=0.1, backoff=(0.2, 0.5, 1.0))


def _synced(status: SyncStatus) -> bool:
    return status.state is SyncState.SYNCED and status.pending == 0


@pytest.mark.parametrize("prepare", [_fresh, _with_data], ids=["fresh workspace", "workspace with data"])
def test_creating_and_joining_a_team_replaces_no_edits_but_a_real_conflict_counts(
    workspaces: Workspaces, server: ServerProcess, prepare: Callable[[Store], None]
) -> None:
    store = workspaces.create("Acme Boutique", "Ana Owner", owner_email="ana@example.com")
    prepare(store)
    workspace_id = store.meta("workspace_id")
    assert workspace_id is not None
    owner = Client("owner", workspace_id, store, Credentials(store, workspace_id, workspaces.vault.backend), server.url)
    staff: Client | None = None

    async def create_team() -> None:
        service = _service(store, workspace_id, owner.credentials)
        await service.start()
        try:
            await service.sign_up(server.url, name="Ana", email=unique_email("owner"), password=PASSWORD,
                                  device_name="office pc")  # fmt: skip
            status = await until(service, _synced, 60, "the first upload to finish")
            assert status.unseen_conflicts == 0, owner.conflicts()
        finally:
            await service.stop()

    async def first_sync(client: Client) -> SyncStatus:
        service = _service(client.store, client.workspace_id, client.credentials)
        await service.start()
        try:
            return await until(service, _synced, 60, f"{client.name} to sync")
        finally:
            await service.stop()

    try:
        asyncio.run(create_team())
        assert owner.conflicts() == []
        staff = join(workspaces, server.url, owner.invite())
        assert staff.conflicts() == []
        assert asyncio.run(first_sync(staff)).unseen_conflicts == 0
        assert asyncio.run(first_sync(owner)).unseen_conflicts == 0
        # A genuine conflict: both write a customer's phone, staff without having seen the owner's value.
        contact = store.contacts.create(name="Maya", phone="+62811000001")
        owner.sync()
        staff.sync()
        store.contacts.update(contact.id, phone="+62811000002")
        owner.sync(pull=False)
        staff.store.contacts.update(contact.id, phone="+62811000003")
        staff.sync(pull=False)
        status = asyncio.run(first_sync(owner))
        assert owner.conflicts() == [("contacts", contact.id, ["phone"], "overwritten")]
        assert status.unseen_conflicts == 1
        assert asyncio.run(first_sync(staff)).unseen_conflicts == 0
    finally:
        store.close()
        if staff is not None:
            staff.store.close()
