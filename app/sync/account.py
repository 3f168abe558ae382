"""Getting a workspace onto a team server and off it again: sign up, sign in, join with an invite, sign out.

Signing up turns the owner's existing workspace into the org (its org and user ids travel in the request, so every
row keeps its key). Its outbox holds the workspace's history since it was created, most of it long superseded; it
is replaced in one transaction by one ``insert`` per live row, so the first push uploads the current state once.

A member joining with an invite gets a new, empty workspace with the org's id (``Workspaces.create_joined``) and
downloads the org's rows. Signing out forgets the tokens and the sync settings but keeps every row and the outbox,
so nothing written offline is lost if the user signs in again later.

Each flow checks that the keyring keeps a sign-in before it asks the server for anything (an org, a member, a
device), so a refusing keyring costs nothing on the server. If the keyring still refuses the real save, the session
is held in memory and the flow raises ``SignInNotSaved`` saying what was done on the server; saving again
(``save_held_sign_in``, ``HeldJoin.save``) continues where the flow stopped, without a second team, member or device.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from app.core.errors import KeyringLocked, KeyringUnavailable
from app.core.ids import new_id, to_ms, utc_now
from app.store.outbox_triggers import shared_rows
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.sync.credentials import (
    CURSOR,
    INITIAL,
    SERVER_URL,
    Credentials,
    SignInNotSaved,
    check_keyring,
    refusal_reason,
)
from app.sync.engine import PassResult, Progress, SyncEngine
from app.sync.protocol import SYNC_COLUMNS, AcceptInviteRequest, LoginRequest, Session, SignupRequest
from app.sync.transport import RequestRefused, SyncApi, TokenSource

log = logging.getLogger(__name__)


KEYRING_HINT = "Team sync keeps its sign-in in the system keyring: unlock it (or install one), then try again."
SAVE_AGAIN_HINT = "Unlock your system keyring, then press Save sign-in: nothing is made twice on the server."


class WrongOrganisation(RequestRefused):
    """The account belongs to another org than the workspace's."""


async def keyring_first(check: Callable[[], None], outcome: str) -> None:
    """Make sure the keyring keeps a sign-in before the server makes anything; ``outcome`` ends the sentence."""
    try:
        await asyncio.to_thread(check)
    except (KeyringUnavailable, KeyringLocked) as exc:
        log.warning("the keyring cannot keep a sync sign-in (%s); nothing was asked of the server", refusal_reason(exc))
        raise type(exc)(
            f"Parley cannot keep the sign-in in the system keyring ({refusal_reason(exc)}), so {outcome}.",
            hint=KEYRING_HINT,
        ) from exc


def not_saved(done: str, exc: SignInNotSaved) -> SignInNotSaved:
    """The sentence for a session the server gave but the keyring refused: what was done, and why it is not kept."""
    return SignInNotSaved(
        f"{done}, but Parley could not save the sign-in to the system keyring ({exc.reason}).",
        reason=exc.reason,
        hint=SAVE_AGAIN_HINT,
    )


def replace_outbox_with_current_state(store: Store) -> int:
    """In one transaction: drop the outbox and queue one ``insert`` per live row of every synced table."""
    now = to_ms(utc_now())
    queued = 0
    with store.db.transaction() as conn:
        conn.execute("DELETE FROM outbox")
        for table in SYNC_COLUMNS:
            ids = [
                r[0]
                for r in conn.execute(
                    f'SELECT id FROM "{table}" WHERE org_id = ? AND deleted_at IS NULL '
                    f"AND {shared_rows(table, table)} ORDER BY rid",
                    (store.org_id,),
                )
            ]
            conn.executemany(
                "INSERT INTO outbox (op_id, table_name, row_id, org_id, op, changed, created_at) "
                "VALUES (?, ?, ?, ?, 'insert', '[]', ?)",
                [(new_id(), table, row_id, store.org_id, now) for row_id in ids],
            )
            queued += len(ids)
    return queued


def _remember(store: Store, credentials: Credentials, server_url: str, session: Session, initial: str | None) -> None:
    """Keep a new session: the refresh token in the keyring, the account in ``workspace_meta``."""
    credentials.save_session(session)
    _remember_account(store, server_url, initial)


def _remember_account(store: Store, server_url: str, initial: str | None) -> None:
    with store.db.transaction():
        store.set_meta(SERVER_URL, server_url.rstrip("/"))
        if store.meta(CURSOR) is None:
            store.set_meta(CURSOR, "0")
        if initial:
            store.set_meta(INITIAL, initial)


async def sign_up(
    store: Store,
    credentials: Credentials,
    api: SyncApi,
    *,
    name: str,
    email: str,
    password: str,
    device_name: str,
    progress: Progress | None = None,
    on_saved: Callable[[], None] | None = None,
) -> PassResult:
    """Make the workspace the org on the server, then upload its current state.

    ``on_saved`` runs (in a worker thread) once the sign-in is kept, before the upload starts."""
    await keyring_first(credentials.check_storable, "the team was not created")
    org = await asyncio.to_thread(store.orgs.get, store.org_id)
    request = SignupRequest(
        org_name=org.name,
        name=name,
        email=email,
        password=password,
        device_name=device_name,
        org_id=store.org_id,
        user_id=store.local_user_id,
    )
    session = await api.signup(request)
    queued = await asyncio.to_thread(replace_outbox_with_current_state, store)
    try:
        await asyncio.to_thread(_remember, store, credentials, api.server_url, session, "upload")
    except SignInNotSaved as exc:
        raise not_saved(TEAM_CREATED, exc) from exc
    log.info("signed up; %d rows queued for the first upload", queued)
    if on_saved is not None:
        await asyncio.to_thread(on_saved)
    return await first_pass(store, api, progress)


TEAM_CREATED = "The team was created"
SIGNED_IN = "You are signed in"
JOINED = "You joined the team"


async def save_held_sign_in(
    store: Store, credentials: Credentials, server_url: str, *, initial: str | None, done: str
) -> None:
    """Save the session a flow could not keep (``SignInNotSaved`` again, with ``done``, while the keyring refuses),
    then record the account as the flow would have."""
    try:
        await asyncio.to_thread(credentials.save_unsaved)
    except SignInNotSaved as exc:
        raise not_saved(done, exc) from exc
    await asyncio.to_thread(_remember_account, store, server_url, initial)


async def sign_in(
    store: Store, credentials: Credentials, api: SyncApi, *, email: str, password: str, device_name: str
) -> Session:
    """Sign this workspace in to an org it already belongs to (a new device session for it)."""
    await keyring_first(credentials.check_storable, "you were not signed in")
    # Without the org id first: with it, an account of another team would only hear "wrong e-mail or password".
    request = LoginRequest(email=email, password=password, device_name=device_name)
    try:
        session = await api.login(request)
    except RequestRefused as exc:
        if exc.code != "choose_org":
            raise
        session = await api.login(request.model_copy(update={"org_id": store.org_id}))
    if session.org.id != store.org_id:
        # Do not leave a device signed in that this workspace will never use.
        await log_out_session(api.server_url, session)
        raise WrongOrganisation(
            f"This account belongs to the team {session.org.name!r}, not to this workspace's organisation. "
            "To work with that team, join it with an invite: Parley makes a new workspace for it."
        )
    previous = await asyncio.to_thread(store.meta, SERVER_URL)
    if previous is not None and previous != api.server_url:
        await asyncio.to_thread(store.set_meta, CURSOR, "0")  # another server: its versions mean nothing here
    try:
        await asyncio.to_thread(_remember, store, credentials, api.server_url, session, None)
    except SignInNotSaved as exc:
        raise not_saved(SIGNED_IN, exc) from exc
    return session


async def join_with_invite(
    workspaces: Workspaces,
    server_url: str,
    token: str,
    *,
    name: str,
    password: str,
    device_name: str,
    business_name: str,
    passphrase: str | None = None,
    progress: Progress | None = None,
) -> tuple[str, Store]:
    """Accept an invite: a new workspace with the org's id, signed in, and (if the server answers) downloaded.

    If the download is cut short the workspace is still returned: the sync loop finishes it. If the keyring refuses
    the sign-in after the server accepted the invite, ``JoinNotSaved`` carries the held join to save again.
    """
    if passphrase is None or workspaces.vault.secure:  # else the new workspace keeps the sign-in inside itself
        await keyring_first(lambda: check_keyring(workspaces.vault.backend, "join"), "the invite was not used")
    async with _Client(server_url) as api:
        session = await api.accept_invite(
            AcceptInviteRequest(token=token, name=name, password=password, device_name=device_name)
        )
    try:
        workspace_id, store = await asyncio.to_thread(
            workspaces.create_joined, business_name, session.org.id, session.user.id, passphrase=passphrase
        )
    except BaseException:
        await log_out_session(server_url, session)  # no workspace to use it from: the device must not stay active
        raise
    held = HeldJoin(
        workspaces, workspace_id, store, Credentials(store, workspace_id, workspaces.vault.backend), server_url
    )
    try:
        await asyncio.to_thread(_remember, store, held.credentials, server_url, session, "download")
    except SignInNotSaved as exc:
        raise JoinNotSaved(not_saved(JOINED, exc), held) from exc
    await held.download(progress)
    return workspace_id, store


@dataclass
class HeldJoin:
    """A joined workspace whose sign-in the keyring refused: the session is held in memory until saved or discarded."""

    workspaces: Workspaces
    workspace_id: str
    store: Store
    credentials: Credentials
    server_url: str

    async def save(self, progress: Progress | None = None) -> tuple[str, Store]:
        """Save the sign-in (``SignInNotSaved`` while the keyring still refuses), then download as a join does."""
        await save_held_sign_in(self.store, self.credentials, self.server_url, initial="download", done=JOINED)
        await self.download(progress)
        return self.workspace_id, self.store

    async def download(self, progress: Progress | None) -> None:
        async with _Client(self.server_url, self.credentials) as api:
            try:
                await first_pass(self.store, api, progress)
            except Exception:
                log.warning("the first download was interrupted; the sync loop will finish it", exc_info=True)

    async def discard(self) -> None:
        """Give up: sign the held device out on the server (it must not stay listed as active) and close the
        workspace. The workspace stays, so the member can sign in from it later; the invite is used up."""
        session = await asyncio.to_thread(self.credentials.discard_unsaved)
        if session is not None:
            await log_out_session(self.server_url, session)
        await asyncio.to_thread(self.store.close)


class JoinNotSaved(SignInNotSaved):
    """``SignInNotSaved`` for a join, with the held join to save again or discard."""

    def __init__(self, error: SignInNotSaved, held: HeldJoin) -> None:
        super().__init__(str(error), reason=error.reason, hint=error.hint)
        self.held = held


async def log_out_session(server_url: str, session: Session) -> None:
    """Sign out a session that is kept nowhere (refused, or never saved); a server that does not answer is logged."""
    try:
        async with _Client(server_url, _OneSession(session)) as one:
            await one.logout()
    except Exception as exc:  # noqa: BLE001 — best effort: the unsaved session expires on the server anyway
        log.warning("could not sign out an unsaved sync session on the server (%s)", type(exc).__name__)


async def first_pass(store: Store, api: SyncApi, progress: Progress | None) -> PassResult:
    """The first upload or download, reported as progress; clears the ``initial`` mark once it completed."""
    initial = await asyncio.to_thread(store.meta, INITIAL)
    result = await SyncEngine(store, api, first_upload=initial == "upload").run(progress=progress)
    await asyncio.to_thread(_clear_initial, store)
    return result


def _clear_initial(store: Store) -> None:
    with store.db.transaction() as conn:
        conn.execute("DELETE FROM workspace_meta WHERE key = ?", (INITIAL,))


async def sign_out(credentials: Credentials, api: SyncApi | None) -> None:
    """Revoke this device on the server when it answers, then forget the tokens; local data and outbox stay."""
    if api is not None:
        try:
            await api.logout()
        except Exception as exc:  # noqa: BLE001 — offline or already revoked: signing out locally is what matters
            log.info("sign-out could not reach the server (%s); signed out locally", type(exc).__name__)
    await asyncio.to_thread(credentials.forget)


class _OneSession:
    """Tokens of a session that is not kept anywhere (to log out a session just refused)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def access_token(self) -> str | None:
        return self._session.access_token

    def refresh_token(self) -> str | None:
        return None

    def save_session(self, session: Session) -> None:
        self._session = session


class _Client:
    """``async with`` around a ``SyncApi`` so its connections are closed on every path."""

    def __init__(self, server_url: str, tokens: TokenSource | None = None) -> None:
        self.api = SyncApi(server_url, tokens)

    async def __aenter__(self) -> SyncApi:
        return self.api

    async def __aexit__(self, *exc: object) -> None:
        await self.api.aclose()
