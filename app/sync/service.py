"""The sync loop of one workspace, and what the UI asks of it (``SyncControl``).

The loop runs on the asyncio loop it is started on (in the app, the one service loop of ``app.core.loops``, which it
shares with the AI calls): network calls are awaited there, every database step runs in a worker thread, so neither the
UI nor that loop waits for the database. It syncs when woken by a local commit (the store's after-commit
``TablesChanged``, with a look at the outbox's last seq every second as the fallback), by the socket's version notice
above the cursor, by ``sync_now()``, and every 30 s. Failures set a state rather than raise: OFFLINE with back-off (1,
2, 5, 10, 30, 60 s) while the server is unreachable, SIGN_IN_AGAIN when the refresh token is refused, REVOKED when an
admin removed the device (tokens forgotten, local data kept), ERROR for refusals that retrying will not fix soon (and,
with a message and retries, while the keyring refuses a renewed sign-in).

A sign-up or sign-in whose session the keyring refused is held (``SignInNotSaved``; the status stays SIGNED_OUT):
``save_sign_in`` saves it and carries on (upload, sync) without asking the server again; stopping, or starting another
attempt, signs the held device out on the server so it does not stay listed as active.
Subscribers are called on the loop's thread with each new ``SyncStatus``; the UI bridges them to Qt signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from app.core.errors import KeyringLocked, KeyringUnavailable
from app.core.events import TablesChanged
from app.core.ids import from_ms
from app.store.store import Store
from app.sync import account
from app.sync.account import join_with_invite
from app.sync.credentials import INITIAL, UNSAVED, Credentials, SignInNotSaved
from app.sync.engine import PassResult, SyncEngine
from app.sync.media_transfer import MediaStatus, MediaTransfer
from app.sync.protocol import (
    DeviceInfo,
    GatewayPolicy,
    GatewayUsage,
    Invite,
    MediaSettings,
    MemberInfo,
    Role,
    VersionNotice,
)
from app.sync.status import ConflictNote, SyncState, SyncStatus
from app.sync.transport import DeviceRevoked, ServerUnreachable, SyncApi, SyncError, TokenSource, Unauthorized

if TYPE_CHECKING:
    from app.ai.cloud import CloudAccess

__all__ = ["BACKOFF_SECONDS", "SyncService", "join_with_invite"]

log = logging.getLogger(__name__)

BACKOFF_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
HELD_NOTICES = 64
STOP_WAIT_SECONDS = 5.0  # how long stopping (and signing out) waits for the loop's cancelled tasks to end
MEDIA_MIN_SECONDS = 2.0  # media passes follow sync passes, at most one every this long unless asked for
ApiFactory = Callable[[str, TokenSource], SyncApi]


class SyncService:
    def __init__(
        self,
        store: Store,
        workspace_id: str,
        credentials: Credentials,
        *,
        api_factory: ApiFactory = SyncApi,
        poll_seconds: float = 30.0,
        local_poll_seconds: float = 1.0,
        backoff: tuple[float, ...] = BACKOFF_SECONDS,
        media_min_seconds: float = MEDIA_MIN_SECONDS,
    ) -> None:
        self.store = store
        self.workspace_id = workspace_id
        self.credentials = credentials
        self._api_factory = api_factory
        self.poll_seconds = poll_seconds
        self.local_poll_seconds = local_poll_seconds
        self.backoff = backoff
        self._status = SyncStatus()
        self._status_lock = threading.Lock()
        self._subscribers: list[Callable[[SyncStatus], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._api: SyncApi | None = None
        # Notices with rows heard since the last pass (the newest few): a pass with nothing to push applies those
        # that chain on from the cursor instead of pulling.
        self._heard: deque[VersionNotice] = deque(maxlen=HELD_NOTICES)
        self._held: _HeldSignIn | None = None  # a sign-up or sign-in whose session the keyring refused
        # Media bytes through the team server (app/sync/media_transfer.py): its own task, woken after sync passes.
        self.media = MediaTransfer(store, self._require_api)
        self.media_min_seconds = media_min_seconds
        self._media_wake: asyncio.Event | None = None

    # ---- SyncControl ---------------------------------------------------------------------------------------------
    def status(self) -> SyncStatus:
        with self._status_lock:
            return self._status

    def sync_now(self) -> None:
        """Wake the loop now (from any thread); also ends a back-off wait."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def conflicts(self, *, limit: int = 200) -> list[ConflictNote]:
        with self.store.db.read() as conn:
            rows = conn.execute(
                "SELECT id, table_name, row_id, fields, reason, theirs, detected_at, seen FROM sync_conflicts "
                "ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            ConflictNote(
                id=r[0],
                table=r[1],
                row_id=r[2],
                fields=list(json.loads(r[3])),
                reason=r[4],
                theirs=dict(json.loads(r[5])),
                detected_at=from_ms(r[6]),
                seen=bool(r[7]),
            )
            for r in rows
        ]

    def mark_conflicts_seen(self) -> None:
        with self.store.db.transaction() as conn:
            conn.execute("UPDATE sync_conflicts SET seen = 1 WHERE seen = 0")
        self._update(unseen_conflicts=0)

    def subscribe(self, callback: Callable[[SyncStatus], None]) -> Callable[[], None]:
        """Call ``callback`` with every new status (on the loop's thread); returns the unsubscribe function."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def cloud_access(self) -> CloudAccess | None:
        """The AI gateway of the team server for ``AiService``, or ``None`` when not signed in."""
        info = self.credentials.account()
        if info is None or not self.status().signed_in:
            return None
        from app.ai.cloud import CloudAccess

        return CloudAccess(server_url=info.server_url, token=self.credentials.access_token)

    # ---- life cycle ----------------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind to the running loop; if this workspace is signed in, start syncing."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        info = await asyncio.to_thread(self.credentials.account)
        if info is None:
            self._set(SyncStatus(state=SyncState.SIGNED_OUT))
            return
        self._set(await asyncio.to_thread(self._base_status, SyncState.CONNECTING))
        try:
            token = await asyncio.to_thread(self.credentials.refresh_token)
        except (KeyringUnavailable, KeyringLocked) as exc:
            # The sign-in is in a keyring that is locked or gone: say so (the card offers the way on), move nothing.
            self._update(state=SyncState.ERROR, message=f"{exc} {exc.hint}".strip())
            return
        if token is None:
            unsaved = await asyncio.to_thread(self.store.meta, UNSAVED) is not None
            message = (
                "The system keyring did not keep the last sign-in, so this computer was signed out: sign in again."
                if unsaved
                else "Sign in to the sync server again."
            )
            self._update(state=SyncState.SIGN_IN_AGAIN, message=message)
            return
        self._launch()

    async def stop(self) -> None:
        """Stop the loop and close the connections (the status keeps its last value). A session the keyring refused
        is signed out on the server: its token lives only in memory, so the device could never be used again."""
        await self._cancel_tasks()
        self._held = None
        session = await asyncio.to_thread(self.credentials.discard_unsaved)
        if session is not None and self._api is not None:
            await account.log_out_session(self._api.server_url, session)
        if self._api is not None:
            await self._api.aclose()
            self._api = None

    async def _cancel_tasks(self) -> None:
        """Cancel the loop's tasks and let them end, for at most ``STOP_WAIT_SECONDS``. Never raises: stopping and
        signing out must not fail because a task had died of an error earlier (logged here) or will not end (left
        behind with a warning)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if not tasks:
            return
        done, stuck = await asyncio.wait(tasks, timeout=STOP_WAIT_SECONDS)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.warning("a sync task had stopped on an error", exc_info=task.exception())
        for task in stuck:
            log.warning("a sync task did not stop within %.0f s; left behind: %s", STOP_WAIT_SECONDS, task.get_coro())

    # ---- account -------------------------------------------------------------------------------------------------
    async def sign_up(self, server_url: str, *, name: str, email: str, password: str, device_name: str) -> None:
        """Make this workspace a team org on ``server_url`` and upload it (state INITIAL with progress)."""
        await self._bind()
        await self.stop()
        api = self._api_factory(server_url, self.credentials)
        self._api = api
        # The state stays SIGNED_OUT until the sign-in is kept: the card shows the form, busy, not an account.
        try:
            await account.sign_up(
                self.store,
                self.credentials,
                api,
                name=name,
                email=email,
                password=password,
                device_name=device_name,
                progress=self._progress,
                on_saved=lambda: self._set(self._base_status(SyncState.CONNECTING)),
            )
        except SignInNotSaved:
            self._held = _HeldSignIn(initial="upload", done=account.TEAM_CREATED)
            raise
        except ServerUnreachable:
            if not await asyncio.to_thread(self.credentials.signed_in):
                raise  # the org was not made: nothing to resume
            log.info("first upload interrupted; the loop resumes it")
        self._set(await asyncio.to_thread(self._base_status, SyncState.SYNCING))
        self._launch()

    async def sign_in(self, server_url: str, *, email: str, password: str, device_name: str) -> None:
        await self._bind()
        await self.stop()
        api = self._api_factory(server_url, self.credentials)
        self._api = api
        try:
            await account.sign_in(
                self.store, self.credentials, api, email=email, password=password, device_name=device_name
            )
        except SignInNotSaved:
            self._held = _HeldSignIn(initial=None, done=account.SIGNED_IN)
            raise
        self._set(await asyncio.to_thread(self._base_status, SyncState.CONNECTING))
        self._launch()

    def unsaved_sign_in(self) -> bool:
        """Whether a sign-up or sign-in waits for ``save_sign_in`` (the keyring refused its session)."""
        return self._held is not None

    async def save_sign_in(self) -> None:
        """Save the held session of a sign-up or sign-in once the keyring works, and carry on from there (the first
        upload, then syncing) without asking the server for another team or device."""
        held, api = self._held, self._api
        if held is None or api is None:
            raise SignInNotSaved("There is no sign-in waiting to be saved.", reason="", hint="Sign in again.")
        await account.save_held_sign_in(
            self.store, self.credentials, api.server_url, initial=held.initial, done=held.done
        )
        self._held = None
        self._set(await asyncio.to_thread(self._base_status, SyncState.CONNECTING))
        if held.initial:
            try:
                await account.first_pass(self.store, api, self._progress)
            except ServerUnreachable:
                log.info("first upload interrupted; the loop resumes it")
        self._launch()

    async def sign_out(self) -> None:
        """Revoke this device (when the server answers) and forget the tokens; local data and outbox stay."""
        await self._cancel_tasks()
        await account.sign_out(self.credentials, self._api)
        await self.stop()
        self._set(SyncStatus(state=SyncState.SIGNED_OUT))

    # ---- team ----------------------------------------------------------------------------------------------------
    async def invite(self, email: str, role: Role = "staff") -> Invite:
        return await self._require_api().invite(email, role)

    async def members(self) -> list[MemberInfo]:
        return await self._require_api().members()

    async def set_role(self, member_id: str, role: Role) -> MemberInfo:
        return await self._require_api().set_role(member_id, role)

    async def remove_member(self, member_id: str) -> None:
        await self._require_api().remove_member(member_id)

    async def devices(self) -> list[DeviceInfo]:
        return await self._require_api().devices()

    async def revoke_device(self, device_id: str) -> None:
        await self._require_api().revoke_device(device_id)

    async def ai_settings(self) -> GatewayPolicy:
        return await self._require_api().ai_settings()

    async def save_ai_settings(self, settings: GatewayPolicy) -> GatewayPolicy:
        return await self._require_api().put_ai_settings(settings)

    async def ai_usage(self) -> list[GatewayUsage]:
        return await self._require_api().ai_usage()

    # ---- media through the team server ---------------------------------------------------------------------------
    def media_status(self) -> MediaStatus:
        return self.media.status

    async def media_settings(self) -> MediaSettings:
        settings = await self._require_api().media_settings()
        await asyncio.to_thread(self.store.media.set_team_sharing, settings.enabled)
        return settings

    async def set_media_sharing(self, enabled: bool) -> MediaSettings:
        """The owner's switch; turning it on starts a media pass at once."""
        settings = await self.media.set_sharing(enabled)
        self.media_now()
        return settings

    async def fetch_from_team(self, message_id: str) -> None:
        """A click on media that is on a teammate's computer: fetch its bytes through the team server now."""
        self._require_api()
        await self.media.fetch(message_id)

    def media_now(self) -> None:
        """Wake the media task now (from any thread)."""
        if self._loop is not None and self._media_wake is not None:
            self._loop.call_soon_threadsafe(self._media_wake.set)

    # ---- the loop ------------------------------------------------------------------------------------------------
    def _launch(self) -> None:
        if self._api is None:
            info = self.credentials.account()
            if info is None:
                return
            self._api = self._api_factory(info.server_url, self.credentials)
        self._media_wake = asyncio.Event()
        jobs = (self._run(), self._listen(), self._watch_outbox(), self._media_loop())
        self._tasks = [asyncio.create_task(job) for job in jobs]

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._pass()
                failures = 0
                wait = self.poll_seconds
            except ServerUnreachable as exc:
                wait = self.backoff[min(failures, len(self.backoff) - 1)]
                failures += 1
                retry = datetime.now(UTC) + timedelta(seconds=wait)
                self._update(state=SyncState.OFFLINE, next_retry_at=retry, message=str(exc), progress=None)
            except DeviceRevoked as exc:
                await asyncio.to_thread(self.credentials.forget)
                self._update(state=SyncState.REVOKED, message=str(exc), progress=None, next_retry_at=None)
                return
            except Unauthorized as exc:
                await asyncio.to_thread(self.credentials.forget_tokens)
                self._update(state=SyncState.SIGN_IN_AGAIN, message=str(exc), progress=None, next_retry_at=None)
                return
            except SignInNotSaved as exc:
                # A renewed sign-in lives only in memory: pass after pass tries the keyring again (nothing else).
                wait = self.backoff[min(failures, len(self.backoff) - 1)]
                failures += 1
                message = (
                    f"Parley could not save the renewed sign-in to the system keyring ({exc.reason}), so syncing is "
                    "paused: unlock the keyring and it resumes."
                )
                self._update(state=SyncState.ERROR, message=message, progress=None)
            except SyncError as exc:
                wait = self.backoff[-1]
                self._update(state=SyncState.ERROR, message=str(exc), progress=None)
            except Exception:
                log.exception("sync pass failed")
                wait = self.backoff[-1]
                self._update(state=SyncState.ERROR, message="Sync stopped on an unexpected error; see the log.")
            await self._sleep(wait)

    async def _pass(self) -> None:
        api = self._require_api()
        if await asyncio.to_thread(self.credentials.unsaved):
            await asyncio.to_thread(self.credentials.save_unsaved)  # a renewed sign-in the keyring refused
        initial = await asyncio.to_thread(self.store.meta, INITIAL)
        pending = await asyncio.to_thread(self.store.outbox.count)
        if initial:
            self._update(state=SyncState.INITIAL, pending=pending, progress=0.0)
        elif pending or self.status().state is not SyncState.SYNCED:
            self._update(state=SyncState.SYNCING, pending=pending)
        engine = SyncEngine(self.store, api)
        if initial:
            result = await account.first_pass(self.store, api, self._progress)
        elif not pending and self._heard and await self._caught_up_by_notices(engine):
            result = PassResult(server_version=self.status().server_version)
        else:
            self._heard.clear()
            result = await engine.run()
        base = await asyncio.to_thread(self._base_status, SyncState.SYNCING)
        version = max(result.server_version, self.status().server_version)
        done = base.pending == 0 and base.cursor >= version
        self._set(
            dataclasses.replace(
                base,
                state=SyncState.SYNCED if done else SyncState.SYNCING,
                server_version=version,
                last_synced_at=datetime.now(UTC),
            )
        )
        if not done and base.pending:
            self._wake_soon()  # changes arrived during the pass
        if self._media_wake is not None:
            self._media_wake.set()  # pulled rows may name media that is not here, pushed ones media to send

    async def _caught_up_by_notices(self, engine: SyncEngine) -> bool:
        """Apply the heard notices that chain on from the cursor; true when no pull is needed now.

        That is when the cursor reached the newest version heard, or moved and notices heard meanwhile may take it
        the rest of the way (the next pass, already woken, applies them; if they do not chain on, it pulls).
        """
        heard = list(self._heard)
        self._heard.clear()
        start = await asyncio.to_thread(engine.cursor)
        cursor = await engine.apply_notices(heard)
        return cursor >= self.status().server_version or (cursor > start and bool(self._heard))

    async def _media_loop(self) -> None:
        """Media passes (``MediaTransfer.run_pass``): after sync passes (at most one every ``media_min_seconds``),
        on ``media_now``, and every ``poll_seconds``; on failures it backs off like the sync loop. A refused sign-in
        ends it: the sync loop makes that decision and says why."""
        assert self._media_wake is not None
        wake = self._media_wake
        failures = 0
        while True:
            started = asyncio.get_running_loop().time()
            try:
                await self.media.run_pass()
                failures = 0
                wait = self.poll_seconds
            except (DeviceRevoked, Unauthorized):
                return
            except ServerUnreachable:
                wait = self.backoff[min(failures, len(self.backoff) - 1)]
                failures += 1
            except SyncError:
                wait = self.backoff[-1]
            except Exception:
                log.exception("media pass failed")
                wait = self.backoff[-1]
            rest = self.media_min_seconds - (asyncio.get_running_loop().time() - started)
            if rest > 0 and failures == 0:
                await asyncio.sleep(rest)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), wait)
            wake.clear()

    async def _listen(self) -> None:
        """The socket of version notices: wake the loop when the org moved past our cursor; reconnect forever."""
        failures = 0
        while True:
            try:
                async for notice in self._require_api().notices():
                    failures = 0
                    self._update(server_version=max(notice.version, self.status().server_version))
                    if notice.version > self.status().cursor:
                        if notice.rows is not None:
                            self._heard.append(notice)
                        self._wake_soon()
            except (DeviceRevoked, Unauthorized):
                self._wake_soon()  # the loop makes the decision (and says why)
                return
            except Exception as exc:  # noqa: BLE001 — live updates are a hint; any failure backs off and reconnects
                log.debug("sync socket closed: %s", type(exc).__name__)
            await asyncio.sleep(self.backoff[min(failures, len(self.backoff) - 1)])
            failures += 1

    async def _watch_outbox(self) -> None:
        """Wake the loop after local commits: the outbox's last seq moves with every synced write.

        It looks as soon as the store reports a local commit (``TablesChanged``, published on the committing thread)
        and at least every ``local_poll_seconds`` (for writes the bus does not see, e.g. another process on the
        file). A look that fails (the workspace busy, say) is logged and the next one tries again: this task ending
        would leave local changes unpushed until the next timed pass."""
        loop = asyncio.get_running_loop()
        committed = asyncio.Event()

        def local_commit(event: TablesChanged) -> None:
            if event.origin == "local":
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(committed.set)

        unsubscribe = self.store.bus.subscribe(TablesChanged, local_commit)
        try:
            await self._watch_outbox_seq(committed)
        finally:
            unsubscribe()

    async def _watch_outbox_seq(self, committed: asyncio.Event) -> None:
        last: int | None = None
        while True:
            try:
                seq = await asyncio.to_thread(self._last_seq)
                if last is not None and seq != last:
                    pending = await asyncio.to_thread(self.store.outbox.count)
                    self._update(pending=pending)
                    if self.status().state is not SyncState.OFFLINE:  # offline: the back-off decides
                        self._wake_soon()
                last = seq
            except Exception:
                log.warning("sync could not look at the outbox; looking again shortly", exc_info=True)
                if last is None:
                    last = -1  # no baseline yet: the first look that works wakes the loop, for changes made meanwhile
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(committed.wait(), self.local_poll_seconds)
            committed.clear()

    def _last_seq(self) -> int:
        with self.store.db.read() as conn:
            return int(conn.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()[0])

    async def _sleep(self, seconds: float) -> None:
        assert self._wake is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    def _wake_soon(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # ---- status --------------------------------------------------------------------------------------------------
    def _base_status(self, state: SyncState) -> SyncStatus:
        """A status with the figures read from the store (call in a worker thread)."""
        info = self.credentials.account()
        with self.store.db.read() as conn:
            unseen = int(conn.execute("SELECT count(*) FROM sync_conflicts WHERE seen = 0").fetchone()[0])
        current = self.status()
        return dataclasses.replace(
            current,
            state=state,
            server_url=info.server_url if info else current.server_url,
            email=info.email if info else current.email,
            org_name=info.org_name if info else current.org_name,
            role=info.role if info else current.role,
            pending=self.store.outbox.count(),
            cursor=self.credentials.cursor(),
            unseen_conflicts=unseen,
            next_retry_at=None,
            progress=None,
            progress_text=None,
            message=None,
        )

    def _progress(self, done: int, total: int, text: str) -> None:
        self._update(state=SyncState.INITIAL, progress=(done / total) if total else 1.0, progress_text=text)

    def _update(self, **changes: Any) -> None:
        with self._status_lock:
            self._status = dataclasses.replace(self._status, **changes)
        self._publish()

    def _set(self, status: SyncStatus) -> None:
        with self._status_lock:
            self._status = status
        self._publish()

    def _publish(self) -> None:
        loop = self._loop
        if loop is not None and loop.is_running() and not _on_loop(loop):
            loop.call_soon_threadsafe(self._notify)
        else:
            self._notify()

    def _notify(self) -> None:
        status = self.status()
        for callback in list(self._subscribers):
            try:
                callback(status)
            except Exception:
                log.exception("sync status subscriber failed")

    def _require_api(self) -> SyncApi:
        if self._api is None:
            raise Unauthorized("This workspace is not signed in to a sync server.")
        return self._api

    async def _bind(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._wake = asyncio.Event()


@dataclasses.dataclass(frozen=True)
class _HeldSignIn:
    """What a sign-up or sign-in still has to do once its session is saved."""

    initial: str | None  # "upload" after a sign-up
    done: str  # what was done on the server, for the sentence if saving fails again


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    with contextlib.suppress(RuntimeError):
        return asyncio.get_running_loop() is loop
    return False
