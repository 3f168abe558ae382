"""Media bytes between two workspaces of one team, through a real server and PostgreSQL (docs/sync.md, "Media"):
nothing leaves the computer that received a photo until the owner turns sharing on; then it is uploaded (sealed at
rest), downloaded by the teammate with its thumbnail, removed by a GDPR erase, and an outage is retried later."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.media import MediaInfo
from app.store.gdpr import erase_contact
from app.store.keyring_vault import KeyringVault
from app.store.ops.media import attach_received
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.sync.media_transfer import MediaStatus, MediaTransfer
from app.sync.service import SyncService
from app.thumbnails import make_thumbnail
from sync_server.pgcluster import Cluster
from tests.support.sync_server import ServerProcess
from tests.support.waiting import async_wait_until
from tests.support.workspace_fixtures import FAST_KDF
from tests.sync.clients import Client, join, owner_client, superuser_query
from tests.unit.store.test_media_privacy import files_holding
from tests.unit.store.test_media_store import png

MAX_BYTES = 300 * 1024
QUOTA_BYTES = 600 * 1024


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"PARLEY_SYNC_MEDIA_MAX_BYTES": str(MAX_BYTES), "PARLEY_SYNC_MEDIA_QUOTA_BYTES": str(QUOTA_BYTES)}
    proc = ServerProcess(database_url, tmp_path_factory.mktemp("server") / "server.log", env_extra=env).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def team(home: Path, vault: KeyringVault, server: ServerProcess) -> Iterator[tuple[Client, Client]]:
    """The owner's computer holds the WhatsApp session; the staff member's is a teammate's. Both make thumbnails
    with Qt, as the app does."""
    workspaces = Workspaces(home, vault, kdf=FAST_KDF, thumbnailer=make_thumbnail)
    owner = owner_client(workspaces, server.url)
    staff = join(workspaces, server.url, owner.invite())
    yield owner, staff
    owner.store.close()
    staff.store.close()


def media_pass(client: Client) -> MediaStatus:
    async def go() -> MediaStatus:
        api = client.api()
        try:
            return await MediaTransfer(client.store, lambda: api).run_pass()
        finally:
            await api.aclose()

    return asyncio.run(go())


def receive(store: Store, data: bytes, mime: str, kind: str = "image", name: str = "José") -> tuple[str, MediaInfo]:
    """A received media message whose bytes the owner's computer fetched from WhatsApp."""
    contact = store.contacts.create(name=name, phone=f"+34{abs(hash(name)) % 10**9:09d}")
    chat = store.chats.create(contact_id=contact.id, title=name)
    info = MediaInfo(kind=kind, mime=mime).model_dump(mode="json")  # type: ignore[arg-type]
    message = store.messages.create(chat_id=chat.id, direction="in", kind=kind, media=info, sent_at=contact.created_at)
    stored = attach_received(store, message.id, data, mime).value
    assert stored.media is not None
    return contact.id, MediaInfo.model_validate(stored.media)


def server_blobs(pg: Cluster, database_url: str, org_id: str) -> dict[str, bytes]:
    rows = superuser_query(pg, database_url, "SELECT blob_id, sealed FROM media_blobs WHERE org_id = %s", (org_id,))
    return {str(r[0]): bytes(r[1]) for r in rows}


def org_of(client: Client) -> str:
    return client.store.org_id


def test_a_photo_reaches_a_teammate_only_once_the_owner_turns_sharing_on(
    team: tuple[Client, Client], pg: Cluster, database_url: str, home: Path, server: ServerProcess
) -> None:
    owner, staff = team
    started = time.time()
    photo = png(640, 480, "teal") + os.urandom(64)  # unique bytes to grep for (PNG readers ignore the tail)
    _contact, info = receive(owner.store, photo, "image/png")
    assert info.blob_id
    assert info.thumb_blob_id
    owner.sync()
    staff.sync()
    [message] = staff.store.messages.find_all({"kind": "image"})
    assert MediaInfo.model_validate(message.media).blob_id == info.blob_id  # the description arrived, not the bytes
    assert not staff.store.media.exists(info.blob_id)

    # Off (the default): nothing is uploaded, and the teammate's app knows to say so.
    assert (media_pass(owner).state, media_pass(staff).state) == ("off", "off")
    assert server_blobs(pg, database_url, org_of(owner)) == {}
    assert staff.store.media.team_sharing() is False
    assert not staff.store.media.exists(info.blob_id)

    # The owner turns it on: the owner's computer uploads the photo and its thumbnail, the teammate's downloads.
    assert owner.call("put_media_settings", True).enabled
    uploaded = media_pass(owner)
    assert (uploaded.state, uploaded.uploaded) == ("on", 2)
    stored = server_blobs(pg, database_url, org_of(owner))
    assert set(stored) == {info.blob_id, info.thumb_blob_id}
    thumb = owner.store.media.get(info.thumb_blob_id)
    for sealed in stored.values():  # sealed at rest: neither the photo nor its thumbnail, nor a piece of either
        assert photo not in sealed
        assert thumb[len(thumb) // 2 : len(thumb) // 2 + 32] not in sealed
    assert media_pass(owner).uploaded == 0  # sent once
    downloaded = media_pass(staff)
    assert (downloaded.state, downloaded.downloaded) == ("on", 2)
    assert staff.store.media.team_sharing() is True
    assert staff.store.media.get(info.blob_id) == photo
    assert staff.store.media.get(info.thumb_blob_id) == thumb
    assert staff.store.media.mime(info.blob_id) == "image/png"
    # No plaintext copy on disk: not in either workspace's files, the temp dir or the server's log.
    staff.store.db.checkpoint()
    for root in (home, Path(tempfile.gettempdir())):
        assert files_holding(root, photo[-64:], since=started) == []
    assert photo[-64:].hex() not in server.log_path.read_text(errors="replace")


def test_sharing_turned_off_and_on_again_uploads_again(
    team: tuple[Client, Client], pg: Cluster, database_url: str
) -> None:
    owner, _staff = team
    owner.call("put_media_settings", True)
    _contact, info = receive(owner.store, png(300, 200, "gold"), "image/png")
    assert media_pass(owner).uploaded == 2
    owner.call("put_media_settings", False)  # the server's copies go
    assert server_blobs(pg, database_url, org_of(owner)) == {}
    owner.call("put_media_settings", True)
    assert media_pass(owner).uploaded == 2
    assert set(server_blobs(pg, database_url, org_of(owner))) == {info.blob_id, info.thumb_blob_id}


def test_a_file_over_the_fetch_cap_comes_on_a_click(team: tuple[Client, Client]) -> None:
    owner, staff = team
    owner.call("put_media_settings", True)
    doc = os.urandom(200 * 1024)
    _contact, info = receive(owner.store, doc, "application/pdf", "document", "Big Doc")
    owner.sync()
    media_pass(owner)
    staff.sync()
    [message] = staff.store.messages.find_all({"kind": "document"})

    async def go() -> tuple[MediaStatus, bool]:
        api = staff.api()
        try:
            transfer = MediaTransfer(staff.store, lambda: api, fetch_cap=100 * 1024)
            status = await transfer.run_pass()
            before = staff.store.media.exists(info.blob_id or "")
            await transfer.fetch(message.id)
            return status, before
        finally:
            await api.aclose()

    status, before = asyncio.run(go())
    assert (status.downloaded, before) == (0, False)  # over the cap: left for a click
    assert staff.store.media.get(info.blob_id or "") == doc


def test_gdpr_erase_removes_the_servers_copy_and_the_teammates(
    team: tuple[Client, Client], pg: Cluster, database_url: str
) -> None:
    owner, staff = team
    owner.call("put_media_settings", True)
    contact_id, info = receive(owner.store, png(300, 200, "orange"), "image/png", name="Erase Me")
    _other, kept = receive(owner.store, png(200, 300, "navy"), "image/png", name="Stays")
    owner.sync()
    staff.sync()
    media_pass(owner)
    media_pass(staff)
    assert staff.store.media.exists(info.blob_id)
    assert len(server_blobs(pg, database_url, org_of(owner))) == 4

    erase_contact(owner.store, contact_id)
    assert set(owner.store.media.remote_deletes()) == {info.blob_id, info.thumb_blob_id}
    media_pass(owner)
    assert set(server_blobs(pg, database_url, org_of(owner))) == {kept.blob_id, kept.thumb_blob_id}
    assert owner.store.media.remote_deletes() == []
    owner.sync()
    staff.sync()  # the purge arrives; the next media pass removes the bytes it had fetched
    media_pass(staff)
    assert not staff.store.media.exists(info.blob_id)
    assert not staff.store.media.exists(info.thumb_blob_id)
    assert staff.store.media.exists(kept.blob_id)


def test_the_per_blob_cap_and_the_teams_quota_end_in_clear_states(
    team: tuple[Client, Client], pg: Cluster, database_url: str
) -> None:
    owner, _staff = team
    owner.call("put_media_settings", True)
    docs = [os.urandom(250 * 1024) for _ in range(3)]
    too_big = os.urandom(MAX_BYTES + 1)
    ids = [receive(owner.store, d, "application/pdf", "document", f"Doc {i}")[1].blob_id for i, d in enumerate(docs)]
    [big_id] = [receive(owner.store, too_big, "application/pdf", "document", "Big")[1].blob_id]
    status = media_pass(owner)
    assert status.state == "quota"
    assert "full" in (status.message or "")
    assert status.uploaded == 2  # 2 x 250 KB of 600 KB; the third does not fit
    on_server = set(server_blobs(pg, database_url, org_of(owner)))
    assert len(on_server) == 2
    assert on_server < set(ids)
    since = owner.call("media_settings").since
    assert big_id in owner.store.media.uploaded(since)  # refused for good (over the cap): not sent again
    # Nothing lost: the one that did not fit is tried again by the next pass.
    again = media_pass(owner)
    assert (again.state, again.uploaded) == ("quota", 0)
    assert set(ids) - on_server - owner.store.media.uploaded(since)


def test_a_server_outage_is_retried_later(team: tuple[Client, Client], server: ServerProcess) -> None:
    owner, staff = team
    owner.call("put_media_settings", True)
    _contact, info = receive(owner.store, png(320, 240, "plum"), "image/png")
    owner.sync()
    media_pass(owner)
    staff.sync()
    assert info.blob_id is not None

    async def go() -> None:
        service = SyncService(
            staff.store,
            staff.workspace_id,
            staff.credentials,
            poll_seconds=0.5,
            backoff=(0.2, 0.5),
            media_min_seconds=0,
        )
        await asyncio.to_thread(server.stop)
        try:
            await service.start()
            await async_wait_until(lambda: service.media_status().state == "offline", 30, "media offline")
            assert not staff.store.media.exists(info.blob_id)
            await asyncio.to_thread(server.start)
            await async_wait_until(lambda: staff.store.media.exists(info.blob_id), 30, "photo fetched after outage")
            assert service.media_status().state == "on"
        finally:
            await service.stop()
            if server.proc is None or server.proc.poll() is not None:
                await asyncio.to_thread(server.start)

    asyncio.run(go())
