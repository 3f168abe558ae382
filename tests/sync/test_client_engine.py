"""The sync client against the real server: sign-up from a workspace with data, joining, edits both ways, the
conflict rules as the client sees them, offline work, token refresh and a revoked device."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from app.store.workspaces import Workspaces
from app.sync import account
from app.sync.credentials import SERVICE, Credentials
from app.sync.engine import SyncEngine
from app.sync.protocol import PullResponse, Session, VersionNotice
from app.sync.service import SyncService
from app.sync.status import SyncState, SyncStatus
from app.sync.transport import LOGOUT_TIMEOUT_SECONDS, ServerUnreachable, SyncApi
from sync_server.pgcluster import Cluster
from tests.support.keyrings import InMemoryKeyring
from tests.support.sync_fixtures import PASSWORD, unique_email
from tests.support.sync_server import ServerProcess
from tests.support.waiting import async_wait_until
from tests.sync.clients import (
    Client,
    differences,
    join,
    local_rows,
    owner_client,
    server_rows,
    superuser_query,
    until,
    wait_for,
)


@pytest.fixture
def team(workspaces: Workspaces, server: ServerProcess) -> Iterator[tuple[Client, Client]]:
    owner = owner_client(workspaces, server.url)
    staff = join(workspaces, server.url, owner.invite())
    yield owner, staff
    owner.store.close()
    staff.store.close()


def test_owner_signs_up_with_data_and_staff_downloads_everything(workspaces: Workspaces, server: ServerProcess) -> None:
    store = workspaces.create("Acme Boutique", "Ana Owner", owner_email="ana@example.com")
    contact = store.contacts.create(name="José Müller", phone="+4915112345678", tags=["vip"])
    chat = store.chats.create(contact_id=contact.id, title="José")
    for i in range(3):
        store.messages.create(chat_id=chat.id, direction="in", body=f"hola {i}", sent_at=contact.created_at)
    gone = store.contacts.create(name="Deleted before sign-up")
    store.contacts.delete(gone.id)
    assert store.outbox.count() > 10  # the workspace's history
    workspace_id = store.meta("workspace_id")
    assert workspace_id is not None
    owner = Client("owner", workspace_id, store, Credentials(store, workspace_id, workspaces.vault.backend), server.url)

    async def sign_up() -> None:
        api = owner.api()
        try:
            await account.sign_up(
                store, owner.credentials, api, name="Ana", email=unique_email(), password=PASSWORD, device_name="pc"
            )
        finally:
            await api.aclose()

    asyncio.run(sign_up())
    assert store.outbox.count() == 0
    staff = join(workspaces, server.url, owner.invite())
    try:
        owner.sync()  # the server added the new member's users row
        theirs, ours = local_rows(staff.store), local_rows(store)
        # The tombstone of a row deleted before sign-up is history: it was not uploaded.
        del ours["contacts"][gone.id]
        assert differences(ours, theirs, "owner", "staff") == []
        assert len(theirs["messages"]) == 3
        assert len(theirs["pipeline_stages"]) == 6
        assert staff.store.org_id == store.org_id
        assert staff.store.meta("sync.member_id") not in (None, store.local_user_id)
        assert [h.title for h in staff.store.search_messages("hola")] == ["José Müller"] * 3
    finally:
        staff.store.close()
        store.close()


def test_edits_flow_both_ways_and_fields_merge(team: tuple[Client, Client]) -> None:
    owner, staff = team
    contact = owner.store.contacts.create(name="Ada", email="ada@old.example")
    owner.sync()
    staff.sync()
    assert staff.store.contacts.get(contact.id).name == "Ada"
    # Concurrent edits of different fields of one row: both survive everywhere.
    owner.store.contacts.update(contact.id, name="Ada Lovelace")
    staff.store.contacts.update(contact.id, email="ada@new.example", lead_score=7)
    staff.store.notes.create(body="Called her", contact_id=contact.id)
    owner.sync()
    staff.sync()
    owner.sync()
    for client in (owner, staff):
        got = client.store.contacts.get(contact.id)
        assert (got.name, got.email, got.lead_score) == ("Ada Lovelace", "ada@new.example", 7), client.name
        assert [n.body for n in client.store.notes.find_all({"contact_id": contact.id})] == ["Called her"]
    assert differences(local_rows(owner.store), local_rows(staff.store), "owner", "staff") == []
    assert owner.store.outbox.count() == staff.store.outbox.count() == 0


def test_a_pulled_row_never_overwrites_an_unpushed_local_edit(team: tuple[Client, Client]) -> None:
    owner, staff = team
    contact = owner.store.contacts.create(name="Bo", phone="+15550001")
    owner.sync()
    staff.sync()
    owner.store.contacts.update(contact.id, name="Bo (owner)", phone="+15550002")
    owner.sync()
    staff.store.contacts.update(contact.id, name="Bo (staff)")
    staff.sync(push=False)  # pull only: the pulled name must not replace the pending local one
    got = staff.store.contacts.get(contact.id)
    assert (got.name, got.phone) == ("Bo (staff)", "+15550002")
    staff.sync()
    owner.sync()
    assert owner.store.contacts.get(contact.id).name == "Bo (staff)"  # last writer by arrival
    assert owner.conflicts() == []  # staff had pulled the owner's name before pushing its own
    # An edit pushed without having seen the other one overwrites it: the device that lost hears of it.
    owner.store.contacts.update(contact.id, phone="+15550003")
    owner.sync(pull=False)
    staff.store.contacts.update(contact.id, phone="+15550004")
    staff.sync(pull=False)
    owner.sync()
    staff.sync()
    assert owner.store.contacts.get(contact.id).phone == staff.store.contacts.get(contact.id).phone == "+15550004"
    assert owner.conflicts() == [("contacts", contact.id, ["phone"], "overwritten")]
    assert staff.conflicts() == []


def test_delete_wins_and_the_losing_edit_is_reported(team: tuple[Client, Client]) -> None:
    owner, staff = team
    pipeline = owner.store.pipelines.find_all()[0]
    stage = owner.store.pipeline_stages.find_all({"pipeline_id": pipeline.id})[0]
    deal = owner.store.deals.create(pipeline_id=pipeline.id, stage_id=stage.id, title="Jacket", value_minor=5900)
    owner.sync()
    staff.sync()
    owner.store.deals.delete(deal.id)
    staff.store.deals.update(deal.id, title="Two jackets", value_minor=11800)
    owner.sync()
    staff.sync()
    owner.sync()
    for client in (owner, staff):
        assert client.store.deals.find(deal.id) is None, client.name
        assert client.store.deals.get(deal.id, include_deleted=True).title == "Jacket", client.name
    assert ("deals", deal.id, ["title", "value_minor"], "deleted") in staff.conflicts()
    # The same when the tombstone is pulled before the losing edit is pushed: the edit does not linger locally.
    other = owner.store.deals.create(pipeline_id=pipeline.id, stage_id=stage.id, title="Boots", value_minor=7900)
    owner.sync()
    staff.sync()
    owner.store.deals.delete(other.id)
    owner.sync()
    staff.store.deals.update(other.id, title="Red boots")
    staff.sync(push=False)
    staff.sync()
    for client in (owner, staff):
        got = client.store.deals.get(other.id, include_deleted=True)
        assert (got.title, got.deleted_at is not None) == ("Boots", True), client.name
    notes = asyncio.run(_conflicts_of(staff))
    assert [(n.reason, n.seen) for n in notes] == [("deleted", False)] * 2


async def _conflicts_of(client: Client) -> list:  # type: ignore[type-arg]
    service = SyncService(client.store, client.workspace_id, client.credentials)
    return service.conflicts()


def _service(client: Client, **options: float) -> SyncService:
    return SyncService(client.store, client.workspace_id, client.credentials, local_poll_seconds=0.1, **options)  # type: ignore[arg-type]


def test_offline_keeps_working_locally_then_catches_up(team: tuple[Client, Client], server: ServerProcess) -> None:
    owner, staff = team

    async def scenario() -> None:
        service = _service(owner, backoff=(0.2, 0.5))
        seen: list[SyncState] = []
        unsubscribe = service.subscribe(lambda s: seen.append(s.state))
        await service.start()
        try:
            await until(service, lambda s: s.state is SyncState.SYNCED, 30, "SYNCED")
            server.stop()
            contact = await asyncio.to_thread(owner.store.contacts.create, name="Made offline")
            service.sync_now()
            offline = await until(service, lambda s: s.state is SyncState.OFFLINE, 30, "OFFLINE")
            assert offline.next_retry_at is not None
            assert offline.message
            assert offline.pending >= 1
            await asyncio.to_thread(owner.store.contacts.update, contact.id, name="Made offline, edited")
            await asyncio.to_thread(server.start)
            await until(service, lambda s: s.state is SyncState.SYNCED and s.pending == 0, 60, "catch-up")
        finally:
            unsubscribe()
            await service.stop()
            if server.proc is None or server.proc.poll() is not None:
                server.start()
        assert SyncState.OFFLINE in seen
        assert seen[-1] is SyncState.SYNCED

    asyncio.run(scenario())
    staff.sync()
    assert [c.name for c in staff.store.contacts.find_all({"name": "Made offline, edited"})] == ["Made offline, edited"]


def _synced_since(status: SyncStatus, moment: datetime) -> bool:
    synced = status.state is SyncState.SYNCED and status.pending == 0
    return synced and status.last_synced_at is not None and status.last_synced_at > moment


class StaleToken:
    """A client whose clock is behind: it holds on to an access token the server already considers expired."""

    def __init__(self, credentials: Credentials, stale: str) -> None:
        self.credentials = credentials
        self.stale: str | None = stale
        self.refreshes = 0

    def access_token(self) -> str | None:
        return self.stale or self.credentials.access_token()

    def refresh_token(self) -> str | None:
        return self.credentials.refresh_token()

    def save_session(self, session: Session) -> None:
        self.refreshes += 1
        self.stale = None
        self.credentials.save_session(session)


def test_expired_access_token_is_refreshed_and_rotated(
    workspaces: Workspaces, database_url: str, tmp_path: Path, keyring_backend: InMemoryKeyring
) -> None:
    short = ServerProcess(database_url, tmp_path / "short.log", env_extra={"PARLEY_SYNC_ACCESS_SECONDS": "1"}).start()
    try:
        owner = owner_client(workspaces, short.url)
        stale = owner.credentials.access_token()
        assert stale is not None
        first_refresh = keyring_backend.get_password(SERVICE, owner.workspace_id)

        def refused() -> bool:
            answer = httpx.get(short.url + "/api/members", headers={"Authorization": f"Bearer {stale}"})
            return answer.status_code == 401 and answer.json()["code"] == "token_expired"

        wait_for(refused, timeout=10, what="the server to consider the access token expired")
        contact = owner.store.contacts.create(name="After expiry")
        tokens = StaleToken(owner.credentials, stale)

        async def push() -> None:
            api = SyncApi(short.url, tokens)
            try:
                await SyncEngine(owner.store, api).run()
            finally:
                await api.aclose()

        asyncio.run(push())
        assert tokens.refreshes == 1
        assert owner.store.outbox.count() == 0
        rotated = keyring_backend.get_password(SERVICE, owner.workspace_id)
        assert rotated not in (None, first_refresh)

        async def keeps_syncing() -> None:  # the loop itself, across several token lifetimes
            service = _service(owner)
            await service.start()
            try:
                await until(service, lambda s: s.state is SyncState.SYNCED, 30, "SYNCED")
                for i in range(3):
                    await asyncio.sleep(0.5)
                    written = datetime.now(UTC)
                    await asyncio.to_thread(owner.store.contacts.update, contact.id, lead_score=i + 1)
                    service.sync_now()
                    await until(service, lambda s, t=written: _synced_since(s, t), 30, "the edit to be pushed")
            finally:
                await service.stop()

        asyncio.run(keeps_syncing())
        staff = join(workspaces, short.url, owner.invite())
        assert staff.store.contacts.get(contact.id).lead_score == 3
        staff.store.close()
        owner.store.close()
    finally:
        short.stop()


def test_revoked_device_is_signed_out_and_keeps_its_data(
    team: tuple[Client, Client], keyring_backend: InMemoryKeyring
) -> None:
    owner, staff = team
    staff.store.contacts.create(name="Written by staff")
    staff.sync()
    before = local_rows(staff.store)
    device_id = staff.store.meta("sync.device_id")
    assert keyring_backend.get_password(SERVICE, staff.workspace_id) is not None

    async def scenario() -> None:
        service = _service(staff)
        await service.start()
        try:
            await until(service, lambda s: s.state is SyncState.SYNCED, 30, "SYNCED")
            owner_api = owner.api()
            try:
                await owner_api.revoke_device(device_id)
            finally:
                await owner_api.aclose()
            await asyncio.to_thread(staff.store.contacts.create, name="Written after the revocation")
            service.sync_now()
            revoked = await until(service, lambda s: s.state is SyncState.REVOKED, 30, "REVOKED")
            assert "removed" in (revoked.message or "")
            assert service.cloud_access() is None
        finally:
            await service.stop()

    asyncio.run(scenario())
    assert keyring_backend.get_password(SERVICE, staff.workspace_id) is None
    assert staff.credentials.access_token() is None
    assert staff.credentials.account() is None
    after = local_rows(staff.store)
    assert (
        differences(
            before,
            {t: {i: r for i, r in rows.items() if i in before.get(t, {})} for t, rows in after.items()},
            "before",
            "after",
        )
        == []
    )
    assert staff.store.contacts.count({"name": "Written after the revocation"}) == 1
    assert staff.store.outbox.count() >= 1  # kept, in case they sign in again


def test_a_cursor_older_than_the_kept_tombstones_refetches_everything(
    team: tuple[Client, Client], pg: Cluster, database_url: str
) -> None:
    owner, staff = team
    gone = owner.store.contacts.create(name="Deleted long ago")
    kept = owner.store.contacts.create(name="Kept")
    owner.sync()
    staff.sync()
    owner.store.contacts.delete(gone.id)
    owner.sync()
    # What the server's janitor does after 90 days: the tombstone goes, and older cursors must refetch.
    [(version,)] = superuser_query(
        pg,
        database_url,
        "DELETE FROM sync_rows WHERE org_id = %s AND tbl = 'contacts' AND id = %s RETURNING version",
        (owner.store.org_id, gone.id),
    )
    superuser_query(
        pg, database_url, "UPDATE orgs SET refetch_below = %s WHERE id = %s RETURNING id", (version, owner.store.org_id)
    )
    staff.store.contacts.update(kept.id, name="Kept, edited offline")
    fresh = staff.store.contacts.create(name="Not pushed yet")
    staff.sync(push=False)
    assert staff.store.contacts.find(gone.id, include_deleted=True) is None  # the server no longer mentions it
    assert staff.store.contacts.get(kept.id).name == "Kept, edited offline"  # unpushed: kept
    assert staff.store.contacts.get(fresh.id).name == "Not pushed yet"
    assert staff.store.meta("sync.refetch") is None
    staff.sync()
    owner.sync()
    expected = server_rows(pg, database_url, owner.store.org_id)
    assert differences(expected, local_rows(staff.store), "server", "staff") == []
    assert owner.store.contacts.get(kept.id).name == "Kept, edited offline"


def test_service_account_life_cycle(
    workspaces: Workspaces, server: ServerProcess, keyring_backend: InMemoryKeyring
) -> None:
    """Sign up through the service (INITIAL with progress), team calls, sign out (data kept), sign in again, and a
    sign-in from a workspace of another org refused."""
    store = workspaces.create("Shop", "Ana Owner", owner_email="ana@example.com")
    for i in range(30):
        store.contacts.create(name=f"Customer {i}")
    workspace_id = store.meta("workspace_id")
    assert workspace_id is not None
    email = unique_email("owner")
    other = workspaces.create("Another shop", "Oz Other")
    other_id = other.meta("workspace_id")
    assert other_id is not None

    async def scenario() -> None:
        service = SyncService(store, workspace_id, Credentials(store, workspace_id, keyring_backend))
        states: list[tuple[SyncState, float | None]] = []
        service.subscribe(lambda s: states.append((s.state, s.progress)))
        await service.start()
        assert service.status().state is SyncState.SIGNED_OUT
        assert service.cloud_access() is None
        try:
            await service.sign_up(server.url, name="Ana", email=email, password=PASSWORD, device_name="office pc")
            await until(service, lambda s: s.state is SyncState.SYNCED and s.pending == 0, 30, "SYNCED")
            assert (SyncState.INITIAL, 1.0) in states
            status = service.status()
            assert (status.email, status.org_name, status.role, status.server_url) == (
                email,
                "Shop",
                "owner",
                server.url,
            )
            access = service.cloud_access()
            assert access is not None
            assert access.server_url == server.url
            assert access.token()
            invite = await service.invite(unique_email("staff"), "staff")
            assert invite.role == "staff"
            assert [m.email for m in await service.members()] == [email]
            [device] = await service.devices()
            assert device.name == "office pc"
            await service.sign_out()
            assert service.status().state is SyncState.SIGNED_OUT
            assert keyring_backend.get_password(SERVICE, workspace_id) is None
            assert store.contacts.count() == 30
            await asyncio.to_thread(store.contacts.create, name="Written while signed out")
            await service.sign_in(server.url, email=email, password=PASSWORD, device_name="office pc")
            await until(service, lambda s: s.state is SyncState.SYNCED and s.pending == 0, 30, "SYNCED again")
            devices = await service.devices()
            assert sorted(d.revoked_at is not None for d in devices) == [False, True]
        finally:
            await service.stop()
        stranger = SyncService(other, other_id, Credentials(other, other_id, keyring_backend))
        await stranger.start()
        try:
            with pytest.raises(account.WrongOrganisation, match="join it with an invite"):
                await stranger.sign_in(server.url, email=email, password=PASSWORD, device_name="elsewhere")
            assert keyring_backend.get_password(SERVICE, other_id) is None
        finally:
            await stranger.stop()

    try:
        asyncio.run(scenario())
        staff_rows = local_rows(store, ["contacts"])["contacts"]
        expected = {r["name"] for r in staff_rows.values()}
        assert "Written while signed out" in expected
    finally:
        store.close()
        other.close()


def test_a_version_notice_wakes_the_loop(team: tuple[Client, Client]) -> None:
    """With the 30 s poll pushed out of reach, only the socket's notice can bring the owner's edit to staff."""
    owner, staff = team
    contact = owner.store.contacts.create(name="Before")
    owner.sync()
    staff.sync()

    async def scenario() -> None:
        service = _service(staff, poll_seconds=3600)
        await service.start()
        try:
            await until(service, lambda s: s.state is SyncState.SYNCED, 30, "SYNCED")
            await asyncio.to_thread(owner.store.contacts.update, contact.id, name="After")
            await asyncio.to_thread(owner.sync)

            async def arrived() -> bool:
                return (await asyncio.to_thread(staff.store.contacts.get, contact.id)).name == "After"

            await async_wait_until(arrived, 20, "the rename arrived on the staff's device")
        finally:
            await service.stop()

    asyncio.run(scenario())


def test_notices_that_lead_on_from_the_cursor_are_applied_like_pulled_pages(team: tuple[Client, Client]) -> None:
    """The rows a notice carries go through the pull's apply (a pending local edit survives), only in a chain that
    starts at the cursor; a notice from any other version is left for a pull."""
    owner, staff = team
    contact = owner.store.contacts.create(name="Cy", phone="+15550001")
    owner.sync()
    start = staff.sync().cursor
    owner.store.contacts.update(contact.id, name="Cy (owner)", phone="+15550002")
    middle = owner.sync().server_version
    other = owner.store.contacts.create(name="Di")
    end = owner.sync().server_version
    page: PullResponse = staff.call("pull", start, 1000)
    first = VersionNotice(version=middle, since=start, rows=[r for r in page.rows if r.version <= middle])
    second = VersionNotice(version=end, since=middle, rows=[r for r in page.rows if r.version > middle])
    astray = VersionNotice(version=end + 7, since=end + 2, rows=[])
    staff.store.contacts.update(contact.id, name="Cy (staff)")  # unpushed

    engine = SyncEngine(staff.store, staff.api())
    assert asyncio.run(engine.apply_notices([astray, second, first])) == end
    got = staff.store.contacts.get(contact.id)
    assert (got.name, got.phone) == ("Cy (staff)", "+15550002")
    assert staff.store.contacts.get(other.id).name == "Di"
    assert engine.cursor() == end
    # Heard again, or heard out of line: nothing is written and the cursor stays.
    assert asyncio.run(engine.apply_notices([first, second, astray])) == end
    staff.sync()
    owner.sync()
    assert differences(local_rows(owner.store), local_rows(staff.store), "owner", "staff") == []


class _FixedToken:
    def access_token(self) -> str | None:
        return "an-access-token"

    def refresh_token(self) -> str | None:
        return None

    def save_session(self, session: Session) -> None:
        raise AssertionError("no refresh expected")


def test_logout_gives_up_on_a_server_that_accepts_but_never_answers() -> None:
    """Sign-out must not keep the person waiting for the whole 30-s request timeout on a stuck server."""

    async def scenario() -> float:
        held: list[asyncio.StreamWriter] = []

        async def never_answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            held.append(writer)  # keep the connection open, say nothing

        silent = await asyncio.start_server(never_answer, "127.0.0.1", 0)
        port = silent.sockets[0].getsockname()[1]
        api = SyncApi(f"http://127.0.0.1:{port}", _FixedToken())
        started = time.monotonic()
        try:
            with pytest.raises(ServerUnreachable, match="did not answer in time"):
                await api.logout()
            return time.monotonic() - started
        finally:
            await api.aclose()
            for writer in held:
                writer.close()
            silent.close()
            await silent.wait_closed()

    waited = asyncio.run(scenario())
    assert LOGOUT_TIMEOUT_SECONDS <= waited < 30.0  # the logout's own limit, not the client's 30-s default


async def _until_pushed(client: Client, service: SyncService, timeout: float) -> None:
    """Until the server acknowledged every local change (the outbox is empty)."""

    async def pushed() -> bool:
        return await asyncio.to_thread(client.store.outbox.count) == 0

    await async_wait_until(pushed, timeout, lambda: f"the change was pushed; status: {service.status()}")


def test_a_failed_look_at_the_outbox_does_not_stop_local_changes_from_going_out(
    team: tuple[Client, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watcher of local commits keeps watching after a failed look (a busy workspace): a change made next is
    pushed at once, not at the next timed pass a minute later."""
    owner, staff = team

    async def scenario() -> None:
        service = _service(staff, poll_seconds=60.0)
        failures = 3
        real_last_seq = service._last_seq

        def flaky_last_seq() -> int:
            nonlocal failures
            if failures:
                failures -= 1
                raise RuntimeError("database is locked")
            return real_last_seq()

        monkeypatch.setattr(service, "_last_seq", flaky_last_seq)
        await service.start()
        try:
            await until(service, lambda s: s.state is SyncState.SYNCED, 30, "SYNCED")
            await until(service, lambda s: failures == 0, 10, "the failed looks")
            await asyncio.to_thread(staff.store.contacts.create, name="Made after a failed look")

            await _until_pushed(staff, service, 10)
        finally:
            await service.stop()

    asyncio.run(scenario())
    owner.sync()
    assert "Made after a failed look" in {r["name"] for r in local_rows(owner.store, ["contacts"])["contacts"].values()}


def test_signing_out_is_not_held_up_by_a_loop_task_that_failed_or_will_not_stop(
    team: tuple[Client, Client], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _owner, staff = team
    monkeypatch.setattr("app.sync.service.STOP_WAIT_SECONDS", 0.5)

    async def scenario() -> None:
        service = _service(staff)
        await service.start()
        release = asyncio.Event()

        async def failed() -> None:
            raise RuntimeError("died earlier")

        async def stubborn() -> None:
            while not release.is_set():
                with contextlib.suppress(asyncio.CancelledError):
                    await release.wait()

        extra = [asyncio.create_task(failed()), asyncio.create_task(stubborn())]
        await asyncio.sleep(0)
        service._tasks += extra
        try:
            await until(service, lambda s: s.state is SyncState.SYNCED, 30, "SYNCED")
            await asyncio.wait_for(service.sign_out(), 10)  # (it waits 0.5 s for the stubborn task, not forever)
            assert service.status().state is SyncState.SIGNED_OUT
            assert staff.credentials.account() is None
        finally:
            release.set()
            await asyncio.gather(*extra, return_exceptions=True)
            await service.stop()

    with caplog.at_level(logging.WARNING, logger="app.sync.service"):
        asyncio.run(scenario())
    messages = [r.getMessage() for r in caplog.records]
    assert "a sync task had stopped on an error" in messages
    assert any(m.startswith("a sync task did not stop within") for m in messages)


def test_a_local_commit_wakes_the_push_without_waiting_for_the_look(team: tuple[Client, Client]) -> None:
    """With both the timed pass and the outbox look pushed out of reach, the store's own after-commit event is what
    brings a local change to the server (it used to wait up to a second for the next look: most of the time a
    teammate waited to see it)."""
    owner, staff = team

    async def scenario() -> None:
        service = SyncService(
            staff.store, staff.workspace_id, staff.credentials, poll_seconds=3600, local_poll_seconds=3600
        )  # type: ignore[arg-type]
        await service.start()
        try:
            await until(service, lambda s: s.state is SyncState.SYNCED, 30, "SYNCED")
            await asyncio.to_thread(staff.store.contacts.create, name="Pushed on commit")

            await _until_pushed(staff, service, 20)
        finally:
            await service.stop()

    asyncio.run(scenario())
    owner.sync()
    assert "Pushed on commit" in {r["name"] for r in local_rows(owner.store, ["contacts"])["contacts"].values()}
