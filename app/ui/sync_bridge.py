"""The UI's end of team sync: status snapshots in, actions out, and nothing on the UI thread that waits.

The sync service is asyncio code and runs on the app's one service loop (``app.core.loops``, reached through the
``TaskRunner``; ``SyncLoop`` is sync's adapter to it): its HTTP client, WebSocket and timers live there whatever the
UI does, and the tests run it the same way as the app. The service calls ``publish`` (through ``subscribe``) from
that thread; ``publish`` only emits a signal, which Qt queues to the main thread, so widgets listening to
``statusChanged`` are touched on the main thread only (house rule 3).

Actions (sign in, invite, revoke, ...) are coroutines submitted to the loop with ``SyncLoop.call``; the result, or a
sentence for people when it failed, comes back on the main thread through the runner's one delivery path. The
transport's exceptions are ``ParleyError``s (``ServerUnreachable``, ``Unauthorized``, ...), so ``describe`` shows
their sentences; anything else is "Something went wrong" for the person and a traceback in the log.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import ValidationError

from app.core.errors import InvalidInput, ParleyError
from app.qt import QtCore, Signal
from app.sync.status import ConflictNote, SyncState, SyncStatus
from app.ui.tasks import TaskRunner, logged_only

if TYPE_CHECKING:
    from app.ai.cloud import CloudAccess
    from app.sync.protocol import DeviceInfo, GatewayPolicy, GatewayUsage, Invite, MediaSettings, MemberInfo, Role

log = logging.getLogger(__name__)
T = TypeVar("T")


class SyncClient(Protocol):
    """What the UI uses of ``app.sync.service.SyncService`` (it satisfies this by its shape)."""

    def status(self) -> SyncStatus: ...
    def sync_now(self) -> None: ...
    def conflicts(self, *, limit: int = 200) -> list[ConflictNote]: ...
    def mark_conflicts_seen(self) -> None: ...
    def subscribe(self, callback: Callable[[SyncStatus], None]) -> Callable[[], None]: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def sign_up(self, server_url: str, *, name: str, email: str, password: str, device_name: str) -> Any: ...
    async def sign_in(self, server_url: str, *, email: str, password: str, device_name: str) -> Any: ...
    async def sign_out(self) -> Any: ...
    def unsaved_sign_in(self) -> bool: ...
    async def save_sign_in(self) -> Any: ...
    async def invite(self, email: str, role: Role = ...) -> Invite: ...
    async def members(self) -> list[MemberInfo]: ...
    async def devices(self) -> list[DeviceInfo]: ...
    async def revoke_device(self, device_id: str) -> Any: ...
    async def remove_member(self, member_id: str) -> Any: ...
    async def set_role(self, member_id: str, role: Role) -> MemberInfo: ...
    async def ai_settings(self) -> GatewayPolicy: ...
    async def save_ai_settings(self, settings: GatewayPolicy) -> GatewayPolicy: ...
    async def ai_usage(self) -> list[GatewayUsage]: ...
    async def media_settings(self) -> MediaSettings: ...
    async def set_media_sharing(self, enabled: bool) -> MediaSettings: ...
    async def fetch_from_team(self, message_id: str) -> None: ...
    def cloud_access(self) -> CloudAccess | None: ...


def invalid_input(exc: ValidationError) -> InvalidInput:
    """A request a person's input made invalid (an e-mail without "@", say), as the sentence pydantic gives it.

    Only the field and pydantic's message are used, never the value typed.
    """
    first = exc.errors()[0] if exc.errors() else None
    if first is None:
        return InvalidInput("That value is not valid.")
    field = ".".join(str(part) for part in first.get("loc", ()))
    message = str(first.get("msg", "invalid"))
    return InvalidInput(f"{field}: {message}" if field else message)


class SyncLoop(QtCore.QObject):
    """Sync's way onto the service loop: ``call`` submits a sync action through the ``TaskRunner`` (one delivery
    path), turning a pydantic refusal of what a person typed into ``InvalidInput``.

    The app hands in its ``TaskRunner``, so the start-up flow's "Join a team" and the open workspace's sync run on
    the one service loop and no loop is left behind. Built without one (tests), it makes a runner of its own and
    ``close`` shuts that down; a shared runner is closed by the app's ordered shutdown instead.
    """

    def __init__(self, tasks: TaskRunner | None = None, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._owns = tasks is None
        self.tasks = tasks if tasks is not None else TaskRunner(parent=self)
        self._closed = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self.tasks.service_loop.loop

    @property
    def _thread(self) -> threading.Thread:
        return self.tasks.service_loop.thread

    @property
    def idle(self) -> bool:
        return self.tasks.idle

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop and return a thread-safe future (no callback on the main thread)."""
        return self.tasks.service_loop.submit(coro)

    def call(
        self,
        name: str,
        factory: Callable[[], Awaitable[T]],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        *,
        owner: QtCore.QObject | None = None,
    ) -> concurrent.futures.Future[T] | None:
        """Run ``factory()`` on the loop; ``on_done(result)`` or ``on_error(sentence)`` later on the main thread.

        Callbacks are skipped once Qt has deleted ``owner``. Without ``on_error`` a failure is only logged.
        """
        if self._closed:
            log.info("sync action %r not started: the sync loop is closed", name)
            return None

        async def run() -> T:
            try:
                return await factory()
            except ValidationError as exc:  # a request built from what a person typed
                raise invalid_input(exc) from exc

        quietly: Callable[[str], None] = on_error if on_error is not None else logged_only
        return self.tasks.submit(name, run, on_done, quietly, owner=owner, quiet=True)

    def close(self, timeout: float = 3.0) -> None:
        """Take no more actions; a runner of its own is shut down (its loop's work gets ``timeout`` seconds)."""
        if self._closed:
            return
        self._closed = True
        if self._owns:
            self.tasks.stop_accepting()
            self.tasks.close_loop(timeout)
            self.tasks.shutdown()


class SyncNotReady(ParleyError):
    """An action asked for before bootstrap attached the sync service (it starts after the first paint)."""


class SyncBridge(QtCore.QObject):
    """Status of one workspace's sync service, on the main thread, and its actions for the UI.

    Built empty with the context (cheap: the sync client and its HTTP stack are not imported on the start-up path);
    bootstrap ``attach``-es the service after the first paint and ``start``-s it.
    """

    statusChanged = Signal(object)  # SyncStatus, on the main thread
    attached = Signal()
    _published = Signal(object)  # any thread → the bridge's thread

    def __init__(
        self, service: SyncClient | None = None, loop: SyncLoop | None = None, parent: QtCore.QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.loop = loop or SyncLoop(parent=self)
        self._status = SyncStatus()
        self._published.connect(self._deliver, QtCore.Qt.ConnectionType.QueuedConnection)
        self._service: SyncClient | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._started = False
        self._closed = False
        if service is not None:
            self.attach(service)

    # ---- status ----------------------------------------------------------------------------------------------
    @property
    def status(self) -> SyncStatus:
        """The last snapshot delivered on the main thread."""
        return self._status

    def publish(self, status: SyncStatus) -> None:
        """Hand over a new snapshot; callable from any thread (the service's subscriber)."""
        self._published.emit(status)

    def _deliver(self, status: SyncStatus) -> None:
        if self._closed:
            # A snapshot published just before close is still queued: the workspace behind the pages may be closed
            # by the time it arrives, and a page reading the store then would fail (seen in CI, a page's teardown).
            return
        self._status = status
        self.statusChanged.emit(status)

    # ---- life ------------------------------------------------------------------------------------------------
    @property
    def service(self) -> SyncClient:
        """The attached service; raises ``SyncNotReady`` (shown as a sentence) before bootstrap attached it."""
        if self._service is None:
            raise SyncNotReady("Team sync is still starting: try again in a moment.")
        return self._service

    @property
    def ready(self) -> bool:
        return self._service is not None

    def attach(self, service: SyncClient) -> None:
        self._service = service
        self._unsubscribe = service.subscribe(self.publish)
        self.publish(service.status())
        self.attached.emit()

    def start(self, on_error: Callable[[str], None] | None = None) -> None:
        """Start the service on the sync loop (it goes to the network only when this workspace is signed in)."""
        if self._started or self._service is None:
            return
        self._started = True
        self.loop.call("Start team sync", self._service.start, on_error=on_error)

    def close(self) -> None:
        """Stop the service and the loop (quit): pending changes stay in the outbox for the next start.

        Status snapshots still queued for the main thread are dropped from here on.
        """
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._started and self._service is not None:
            try:
                self.loop.submit(self._service.stop()).result(10)
            except Exception:  # shutting down: a failing stop must not keep the app from quitting
                log.exception("stopping team sync failed")
            self._started = False
        self.loop.close()

    # ---- actions ---------------------------------------------------------------------------------------------
    def call(
        self,
        name: str,
        factory: Callable[[], Awaitable[T]],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        *,
        owner: QtCore.QObject | None = None,
    ) -> None:
        self.loop.call(name, factory, on_done, on_error, owner=owner)

    def sync_now(self) -> None:
        self._quick("sync_now")

    def _quick(self, name: str) -> None:
        if self._service is None:
            log.info("sync %s ignored: no sync service is attached", name)
            return
        try:
            getattr(self._service, name)()
        except Exception:  # meant to return at once; a bug in it must not take a page down
            log.exception("sync %s failed", name)

    @property
    def signed_in(self) -> bool:
        return self._status.signed_in

    @property
    def needs_sign_in(self) -> bool:
        return self._status.state in (SyncState.SIGN_IN_AGAIN, SyncState.REVOKED)
