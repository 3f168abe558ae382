"""Team sync on a computer without a secure keyring (keyring's ``fail`` backend; passphrase workspaces), against the
real server: creating a team, signing in, joining with an invite and the refresh that rotates the token all keep
the sign-in inside the encrypted workspace. It survives reopening the workspace (the sync loop carries on without a
new sign-in) and is never in a file in plain text. The old code refused each flow before asking the server ("No
secure keyring is available … Use a passphrase instead") although the workspace already had a passphrase."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail

from app.store.store import Store
from app.store.workspaces import Workspaces
from app.sync import account
from app.sync.credentials import Credentials
from app.sync.service import SyncService
from app.sync.status import SyncState, SyncStatus
from sync_server.pgcluster import Cluster
from tests.support.plaintext import files_containing
from tests.support.sync_fixtures import PASSWORD, unique_email
from tests.support.sync_server import ServerProcess
from tests.sync.clients import superuser_query, until

PASS = "correct horse battery"


@pytest.fixture
def keyring_backend() -> fail.Keyring:
    return fail.Keyring()


@pytest.fixture
def opened() -> Iterator[list[Store]]:
    stores: list[Store] = []
    yield stores
    for store in stores:
        store.close()


def _synced(status: SyncStatus) -> bool:
    return status.state is SyncState.SYNCED and status.pending == 0


def service(workspaces: Workspaces, store: Store) -> SyncService:
    workspace_id = store.meta("workspace_id")
    assert workspace_id is not None
    credentials = Credentials(store, workspace_id, workspaces.vault.backend)
    return SyncService(store, workspace_id, credentials, local_poll_seconds=0.1, backoff=(0.2, 0.5, 1.0))


def refresh_token(store: Store, workspaces: Workspaces) -> str:
    workspace_id = store.meta("workspace_id")
    assert workspace_id is not None
    token = Credentials(store, workspace_id, workspaces.vault.backend).refresh_token()
    assert token is not None
    return token


def reopen_and_sync(
    workspaces: Workspaces, store: Store, opened: list[Store], note: str, pg: Cluster, database_url: str
) -> Store:
    """Close the workspace, open it again with its passphrase, and sync a new contact with the sign-in it kept."""
    workspace_id = store.meta("workspace_id")
    assert workspace_id is not None
    opened.remove(store)
    store.close()
    again = workspaces.open(workspace_id, passphrase=PASS)
    opened.append(again)
    sync = service(workspaces, again)

    async def go() -> None:
        await sync.start()
        try:
            assert sync.status().signed_in
            await asyncio.to_thread(again.contacts.create, name=note)
            sync.sync_now()
            uploaded = lambda s: _synced(s) and on_server(pg, database_url, again.org_id, note)  # noqa: E731
            await until(sync, uploaded, 60, "syncing after reopening")
        finally:
            await sync.stop()

    asyncio.run(go())
    return again


def on_server(pg: Cluster, database_url: str, org_id: str, name: str) -> bool:
    rows = superuser_query(
        pg, database_url, "SELECT data->>'name' FROM sync_rows WHERE org_id = %s AND tbl = 'contacts'", (org_id,)
    )
    return (name,) in rows


def test_create_team_sign_in_and_refresh_keep_the_sign_in_inside_the_workspace(
    workspaces: Workspaces,
    server: ServerProcess,
    pg: Cluster,
    database_url: str,
    opened: list[Store],
    home: Path,
    tmp_path: Path,
) -> None:
    started = time.time()
    store = workspaces.create("Acme Boutique", "Ana Owner", passphrase=PASS)
    opened.append(store)
    store.contacts.create(name="Maya", phone="+62811000001")
    sync = service(workspaces, store)
    email = unique_email("owner")

    async def create_team() -> None:
        await sync.start()
        try:
            await sync.sign_up(server.url, name="Ana", email=email, password=PASSWORD, device_name="pc")
            await until(sync, _synced, 60, "syncing after creating the team")
            sync.credentials.drop_access_token()  # the next call refreshes: the rotated token is saved in place
            await asyncio.to_thread(store.contacts.create, name="After the refresh")
            sync.sync_now()
            uploaded = lambda s: _synced(s) and on_server(pg, database_url, store.org_id, "After the refresh")  # noqa: E731
            await until(sync, uploaded, 60, "syncing after the refresh")
        finally:
            await sync.stop()

    asyncio.run(create_team())  # the old code refused here, before asking the server: no secure keyring
    assert store.meta("secrets.home") == "workspace"
    assert sync.credentials.where() == "inside this workspace's encrypted database"
    assert on_server(pg, database_url, store.org_id, "After the refresh")
    token = refresh_token(store, workspaces)
    store = reopen_and_sync(workspaces, store, opened, "After reopening", pg, database_url)
    assert on_server(pg, database_url, store.org_id, "After reopening")
    assert files_containing(token, home, tmp_path, since=started) == []

    # Signed out, then signed in again from the same workspace.
    signed_in = service(workspaces, store)

    async def sign_out_and_in() -> None:
        await signed_in.start()
        try:
            await signed_in.sign_out()
            assert not signed_in.status().signed_in
            await signed_in.sign_in(server.url, email=email, password=PASSWORD, device_name="office pc")
            await until(signed_in, _synced, 60, "syncing after signing in")
        finally:
            await signed_in.stop()

    asyncio.run(sign_out_and_in())
    token = refresh_token(store, workspaces)
    store = reopen_and_sync(workspaces, store, opened, "After signing in again", pg, database_url)
    assert on_server(pg, database_url, store.org_id, "After signing in again")
    assert files_containing(token, home, tmp_path, since=started) == []


def test_joining_with_an_invite_keeps_the_sign_in_inside_the_new_passphrase_workspace(
    workspaces: Workspaces,
    server: ServerProcess,
    pg: Cluster,
    database_url: str,
    opened: list[Store],
    home: Path,
    tmp_path: Path,
) -> None:
    started = time.time()
    owner = workspaces.create("Acme Boutique", "Ana Owner", passphrase=PASS)
    opened.append(owner)
    owner.contacts.create(name="Maya", phone="+62811000001")
    owner_sync = service(workspaces, owner)

    async def make_team() -> str:
        await owner_sync.start()
        try:
            await owner_sync.sign_up(
                server.url, name="Ana", email=unique_email("owner"), password=PASSWORD, device_name="pc"
            )
            await until(owner_sync, _synced, 60, "the owner's upload")
            api = owner_sync.credentials
            from app.sync.transport import SyncApi

            client = SyncApi(server.url, api)
            try:
                invite = await client.invite(unique_email("staff"), "staff")
            finally:
                await client.aclose()
            return invite.token
        finally:
            await owner_sync.stop()

    token = asyncio.run(make_team())
    _, joined = asyncio.run(
        account.join_with_invite(
            workspaces,
            server.url,
            token,
            name="Sam",
            password=PASSWORD,
            device_name="sam laptop",
            business_name="Acme (Sam)",
            passphrase=PASS,
        )
    )
    opened.append(joined)
    assert [c.name for c in joined.contacts.find_all()] == ["Maya"]
    assert joined.meta("secrets.home") == "workspace"
    secret = refresh_token(joined, workspaces)
    joined = reopen_and_sync(workspaces, joined, opened, "Sam's first contact", pg, database_url)
    assert on_server(pg, database_url, joined.org_id, "Sam's first contact")
    assert files_containing(secret, home, tmp_path, since=started) == []
