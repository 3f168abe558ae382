"""Every account flow that stores a sign-in, with a keyring that refuses to store: create a team, sign in, join with
an invite, and the token refresh that rotates the refresh token. Against the real server.

For each flow: a keyring that refuses from the start is found out before the server makes anything (a clear
sentence, no org, member or device, the invite still usable, and the same flow works once the keyring does); a
keyring that locks between Parley's check and its save gives a sentence saying what the server did, keeps the
session in memory and saves it later without a second team or device; giving up instead signs that device out, so
no device stays listed as active with a token nobody has.

Without any secure keyring a passphrase workspace keeps the sign-in inside itself
(``test_sign_in_without_keyring.py``); what still refuses is a workspace that keeps it in a keyring that is gone
later: it says so, and nothing is moved into the workspace until the person asks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import ClassVar

import pytest
from keyring.backends import fail

from app.core.errors import KeyringLocked, KeyringUnavailable
from app.store.keyring_vault import KeyringVault
from app.store.secrets import Secrets
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.sync import account
from app.sync.account import HeldJoin, JoinNotSaved
from app.sync.credentials import UNSAVED, Credentials, SignInNotSaved
from app.sync.protocol import Invite
from app.sync.service import SyncService
from app.sync.status import SyncState, SyncStatus
from app.sync.transport import SyncApi
from sync_server.pgcluster import Cluster
from tests.support.keyrings import RefusingKeyring
from tests.support.sync_fixtures import PASSWORD, unique_email
from tests.support.sync_server import ServerProcess
from tests.support.workspace_fixtures import FAST_KDF
from tests.sync.clients import Client, owner_client, superuser_query, until


@pytest.fixture
def keyring_backend() -> RefusingKeyring:
    return RefusingKeyring()


def _synced(status: SyncStatus) -> bool:
    return status.state is SyncState.SYNCED and status.pending == 0


class Flow:
    """One account flow, driven against the real server; subclasses say how to run it and where it leaves traces."""

    name: ClassVar[str]
    not_done: ClassVar[str]  # the end of the sentence when the keyring is refused before asking the server
    done: ClassVar[str]  # the start of the sentence when the server already did its part
    writes_before_save: ClassVar[int]  # keyring writes that succeed before the sign-in's own save (the check...)

    def __init__(self, workspaces: Workspaces, keyring: RefusingKeyring, server: ServerProcess, pg: Cluster, db: str):
        self.workspaces, self.keyring, self.server, self.pg, self.db = workspaces, keyring, server, pg, db
        self.stores: list[Store] = []

    # ---- what the server holds -------------------------------------------------------------------------------------
    def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        return superuser_query(self.pg, self.db, sql, params)

    def active_devices(self) -> int:
        rows = self.query("SELECT count(*) FROM devices WHERE org_id = %s AND revoked_at IS NULL", self.org_id)
        count = rows[0][0]
        assert isinstance(count, int)
        return count

    def owner(self) -> Client:
        """A team made from a workspace the usual way (the keyring still works)."""
        owner = owner_client(self.workspaces, self.server.url)
        self.stores.append(owner.store)
        self.org_id = owner.store.org_id
        return owner

    def service(self, store: Store) -> SyncService:
        workspace_id = store.meta("workspace_id")
        assert workspace_id is not None
        credentials = Credentials(store, workspace_id, self.keyring)
        return SyncService(store, workspace_id, credentials, local_poll_seconds=0.1, backoff=(0.2, 0.5, 1.0))

    # ---- the flow ----------------------------------------------------------------------------------------------------
    org_id: str

    def prepare(self) -> None: ...

    async def attempt(self) -> None: ...

    def assert_untouched(self) -> None:
        """After a refusal found before asking the server: nothing new there."""

    async def save_again(self, exc: SignInNotSaved) -> None: ...

    async def give_up(self, exc: SignInNotSaved) -> None: ...

    def assert_working(self) -> None:
        """The flow's result works: data on the server and in the workspace, one active device for it."""

    def close(self) -> None:
        for store in self.stores:
            store.close()


class ServiceFlow(Flow):
    """A flow of the Team sync card: the service holds the refused sign-in and saves it on request."""

    sync: SyncService

    async def account_call(self) -> None: ...

    async def attempt(self) -> None:
        await self.sync.start()
        try:
            await self.account_call()
        except Exception:
            assert not self.sync.status().signed_in, "the card must not show an account that is not kept"
            raise
        await until(self.sync, _synced, 60, "syncing after the flow")
        await self.sync.stop()

    async def save_again(self, exc: SignInNotSaved) -> None:
        assert self.sync.unsaved_sign_in()
        await self.sync.save_sign_in()
        await until(self.sync, _synced, 60, "syncing after saving")
        await self.sync.stop()

    async def give_up(self, exc: SignInNotSaved) -> None:
        await self.sync.stop()  # quitting the app


class CreateTeam(ServiceFlow):
    name = "create team"
    not_done = "so the team was not created."
    done = "The team was created, but"
    writes_before_save = 1

    def prepare(self) -> None:
        self.store = self.workspaces.create("Acme Boutique", "Ana Owner", owner_email="ana@example.com")
        self.stores.append(self.store)
        self.store.contacts.create(name="Maya", phone="+62811000001")
        self.org_id = self.store.org_id
        self.sync = self.service(self.store)
        self.email = unique_email("owner")

    async def account_call(self) -> None:
        await self.sync.sign_up(self.server.url, name="Ana", email=self.email, password=PASSWORD, device_name="pc")

    def assert_untouched(self) -> None:
        assert self.query("SELECT id FROM orgs WHERE id = %s", self.org_id) == []
        assert self.query("SELECT id FROM members WHERE lower(email) = %s", self.email) == []

    def assert_working(self) -> None:
        assert self.active_devices() == 1
        assert self.query("SELECT count(*) FROM orgs WHERE id = %s", self.org_id) == [(1,)]
        rows = self.query("SELECT count(*) FROM sync_rows WHERE org_id = %s AND tbl = 'contacts'", self.org_id)
        assert rows == [(1,)], "the workspace was uploaded"


class SignIn(ServiceFlow):
    name = "sign in"
    not_done = "so you were not signed in."
    done = "You are signed in, but"
    writes_before_save = 1

    def prepare(self) -> None:
        owner = self.owner()
        self.store = owner.store
        self.email = owner.credentials.account().email  # type: ignore[union-attr]
        asyncio.run(account.sign_out(owner.credentials, owner.api()))
        assert self.active_devices() == 0
        self.store.contacts.create(name="Written while signed out")
        self.sync = self.service(self.store)

    async def account_call(self) -> None:
        await self.sync.sign_in(self.server.url, email=self.email, password=PASSWORD, device_name="office pc")

    def assert_untouched(self) -> None:
        assert self.active_devices() == 0

    def assert_working(self) -> None:
        assert self.active_devices() == 1
        names = self.query("SELECT data->>'name' FROM sync_rows WHERE org_id = %s AND tbl = 'contacts'", self.org_id)
        assert ("Written while signed out",) in names


class Join(Flow):
    name = "join with invite"
    not_done = "so the invite was not used."
    done = "You joined the team, but"
    writes_before_save = 2  # the check, then the new workspace's key

    def prepare(self) -> None:
        owner = self.owner()
        owner.store.contacts.create(name="Maya", phone="+62811000001")
        owner.sync()
        self.invite: Invite = owner.invite()
        self.workspaces_before = len(self.workspaces.available())
        self.joined: Store | None = None

    async def attempt(self) -> None:
        _, store = await account.join_with_invite(
            self.workspaces,
            self.server.url,
            self.invite.token,
            name="Sam",
            password=PASSWORD,
            device_name="sam laptop",
            business_name="Acme (Sam)",
        )
        self.joined = store
        self.stores.append(store)

    def assert_untouched(self) -> None:
        assert self.query("SELECT accepted_at FROM invites WHERE org_id = %s", self.org_id) == [(None,)]
        assert self.query("SELECT count(*) FROM members WHERE org_id = %s", self.org_id) == [(1,)]
        assert len(self.workspaces.available()) == self.workspaces_before

    async def save_again(self, exc: SignInNotSaved) -> None:
        assert isinstance(exc, JoinNotSaved)
        held: HeldJoin = exc.held
        _, store = await held.save()
        self.joined = store
        self.stores.append(store)

    async def give_up(self, exc: SignInNotSaved) -> None:
        assert isinstance(exc, JoinNotSaved)
        await exc.held.discard()  # closing the dialog

    def assert_working(self) -> None:
        assert self.active_devices() == 2
        assert self.joined is not None
        assert [c.name for c in self.joined.contacts.find_all()] == ["Maya"]
        workspace_id = self.joined.meta("workspace_id")
        assert workspace_id is not None
        assert Credentials(self.joined, workspace_id, self.keyring).signed_in()


class Refresh(Flow):
    """The loop's refresh rotates the refresh token; the keyring refuses the new one (the old one is dead)."""

    name = "token refresh"
    done = "Parley could not save the renewed sign-in"
    not_done = ""
    writes_before_save = 0

    def prepare(self) -> None:
        owner = self.signed_in = self.owner()
        self.store = owner.store
        self.sync = SyncService(
            self.store, owner.workspace_id, owner.credentials, local_poll_seconds=0.1, backoff=(0.2, 0.5, 1.0)
        )

    async def attempt(self) -> None:
        await self.sync.start()
        await until(self.sync, _synced, 60, "SYNCED")
        if self.keyring.writes_left is not None:
            self.signed_in.credentials.drop_access_token()  # the next call refreshes
            self.sync.sync_now()
            status = await until(self.sync, lambda s: s.state is SyncState.ERROR, 60, "the refused save to be said")
            assert self.store.meta(UNSAVED) == "1"
            raise SignInNotSaved(status.message or "", reason="")
        await self.sync.stop()

    async def save_again(self, exc: SignInNotSaved) -> None:
        written = await asyncio.to_thread(self.store.contacts.create, name="After the keyring came back")
        self.sync.sync_now()
        await until(self.sync, _synced, 60, "syncing once the keyring works")
        assert self.store.meta(UNSAVED) is None
        await self.sync.stop()
        # The keyring now holds the live token: a fresh start (no memory of this one) signs in with it.
        fresh = Credentials(self.store, self.signed_in.workspace_id, self.keyring)
        api = SyncApi(self.server.url, fresh)
        try:
            await api.refresh()
            assert [m.email for m in await api.members()] == [self.signed_in.credentials.account().email]  # type: ignore[union-attr]
        finally:
            await api.aclose()
        assert written.id

    async def give_up(self, exc: SignInNotSaved) -> None:
        await self.sync.stop()  # quitting: the only live token was in memory
        again = self.service(self.store)
        await again.start()
        try:
            # Not REVOKED: the dead token in the keyring is never shown to the server as if it were stolen.
            assert again.status().state is SyncState.SIGN_IN_AGAIN
            assert again.status().message == (
                "The system keyring did not keep the last sign-in, so this computer was signed out: sign in again."
            )
        finally:
            await again.stop()

    def assert_working(self) -> None:
        assert self.active_devices() == 1


FLOWS = [CreateTeam, SignIn, Join, Refresh]


@pytest.fixture
def make_flow(
    workspaces: Workspaces, keyring_backend: RefusingKeyring, server: ServerProcess, pg: Cluster, database_url: str
) -> Iterator[Callable[[type[Flow]], Flow]]:
    made: list[Flow] = []

    def make(kind: type[Flow]) -> Flow:
        flow = kind(workspaces, keyring_backend, server, pg, database_url)
        made.append(flow)
        flow.prepare()
        return flow

    yield make
    for flow in made:
        flow.close()


@pytest.mark.parametrize("kind", [f for f in FLOWS if f.not_done], ids=lambda f: f.name)
def test_a_refusing_keyring_is_found_before_the_server_makes_anything(
    make_flow: Callable[[type[Flow]], Flow], keyring_backend: RefusingKeyring, kind: type[Flow]
) -> None:
    flow = make_flow(kind)
    keyring_backend.lock()
    with pytest.raises(KeyringLocked) as refused:
        asyncio.run(flow.attempt())
    sentence = str(refused.value)
    assert sentence.startswith("Parley cannot keep the sign-in in the system keyring (it is locked)"), sentence
    assert sentence.endswith(flow.not_done), sentence
    assert "unlock" in refused.value.hint
    flow.assert_untouched()
    keyring_backend.unlock()
    asyncio.run(flow.attempt())  # the same flow, once the keyring works
    flow.assert_working()


@pytest.mark.parametrize("outcome", ["saved once the keyring works", "given up"])
@pytest.mark.parametrize("kind", FLOWS, ids=lambda f: f.name)
def test_a_sign_in_the_keyring_refuses_after_the_server_made_it_is_held_then_saved_or_signed_out(
    make_flow: Callable[[type[Flow]], Flow], keyring_backend: RefusingKeyring, kind: type[Flow], outcome: str
) -> None:
    flow = make_flow(kind)
    keyring_backend.lock(after=flow.writes_before_save)

    async def scenario() -> None:
        with pytest.raises(SignInNotSaved) as refused:
            await flow.attempt()
        sentence = str(refused.value)
        assert sentence.startswith(flow.done), sentence
        assert "system keyring" in sentence, sentence
        assert "locked" in sentence, sentence
        if kind is not Refresh:
            assert "nothing is made twice" in refused.value.hint
            # Still locked: saving again says so again, and still makes nothing on the server.
            with pytest.raises(SignInNotSaved, match=flow.done):
                await flow.save_again(refused.value)
        if outcome == "given up":
            await flow.give_up(refused.value)
            return
        keyring_backend.unlock()
        await flow.save_again(refused.value)

    asyncio.run(scenario())
    if outcome == "given up":
        expected = 1 if kind is Join else 0  # the owner's device stays; the held one is signed out
        assert flow.active_devices() == expected, "no device stays listed as active with a token nobody has"
    else:
        flow.assert_working()
        assert flow.query("SELECT count(*) FROM orgs WHERE id = %s", flow.org_id) == [(1,)], "one team"
    assert not any(user.endswith(".check") for _, user in keyring_backend.entries), "the check leaves nothing"


def test_a_sign_in_kept_in_a_keyring_that_is_gone_later_is_said_and_not_moved(
    workspaces: Workspaces, keyring_backend: RefusingKeyring, server: ServerProcess, pg: Cluster, database_url: str
) -> None:
    passphrase = "correct horse battery"
    store = workspaces.create("Acme Boutique", "Ana Owner", passphrase=passphrase)
    workspace_id = store.meta("workspace_id")
    assert workspace_id is not None
    email = unique_email("owner")

    def service(store: Store, backend: object) -> SyncService:
        credentials = Credentials(store, workspace_id, backend)  # type: ignore[arg-type]
        return SyncService(store, workspace_id, credentials, local_poll_seconds=0.1, backoff=(0.2, 0.5, 1.0))

    async def sign_up() -> None:
        sync = service(store, keyring_backend)
        await sync.start()
        try:
            await sync.sign_up(server.url, name="Ana", email=email, password=PASSWORD, device_name="pc")
            await until(sync, _synced, 60, "syncing after creating the team")
        finally:
            await sync.stop()

    asyncio.run(sign_up())
    assert [u for _, u in keyring_backend.entries] == [workspace_id], "a secure keyring keeps it"
    store.close()

    # The same workspace, opened where no secure keyring is available any more.
    gone = Workspaces(workspaces.home, KeyringVault(fail.Keyring()), kdf=FAST_KDF)
    store = gone.open(workspace_id, passphrase=passphrase)
    try:

        async def after() -> None:
            sync = service(store, fail.Keyring())
            await sync.start()
            try:
                status = sync.status()
                assert status.state is SyncState.ERROR
                assert (status.message or "").startswith(
                    "This workspace keeps the sync sign-in in this computer's keyring, but no secure keyring is "
                    "available now (no keyring service was found on this computer)."
                ), status.message
                assert "keyring.backends" not in (status.message or "")
                # Signing in again is refused before the server is asked, rather than kept somewhere else unasked.
                with pytest.raises(KeyringUnavailable, match="so you were not signed in"):
                    await sync.sign_in(server.url, email=email, password=PASSWORD, device_name="office pc")
                with store.db.read() as conn:
                    assert conn.execute("SELECT count(*) FROM local_secrets").fetchone()[0] == 0
                # Asked for: the workspace keeps it from now on, and signing in works.
                await asyncio.to_thread(Secrets(fail.Keyring(), store).keep_in_workspace)
                await sync.sign_in(server.url, email=email, password=PASSWORD, device_name="office pc")
                await until(sync, _synced, 60, "syncing once the workspace keeps the sign-in")
            finally:
                await sync.stop()

        asyncio.run(after())
        with store.db.read() as conn:
            assert conn.execute("SELECT service, name FROM local_secrets").fetchall() == [("parley-sync", workspace_id)]
    finally:
        store.close()
