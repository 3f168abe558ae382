"""Runs the WhatsApp ``Supervisor`` on its own loop thread (``app.core.loops.LoopThread`` named ``whatsapp``), and
takes commands from any thread.

This is the one loop kept apart from the service loop: the browser's traffic (Playwright's pipe to its driver, every
page report) then never competes with a model's answer or a sync pass, and a slow page cannot stall the window.
``WhatsAppHost`` implements ``WhatsAppControl``: each command is handed to the supervisor's loop and returns at once;
outcomes arrive through ``on_status``, which is called on the supervisor's thread (the UI bridge re-emits it as a
queued Qt signal). Like the service loop it takes coroutines through ``submit`` (a ``CoroutineRunner``), so the UI's
``TaskRunner.submit(..., on=host)`` delivers their results the same way. The supervisor (and with it Playwright, most
of a second to import) is imported on that thread too, so starting the host never stalls the UI.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from app.core.loops import LoopClosed, LoopThread
from app.whatsapp.config import ServiceConfig
from app.whatsapp.profile import Profile
from app.whatsapp.status import WhatsAppStatus

if TYPE_CHECKING:
    from app.core.models import Message
    from app.store.store import Store
    from app.whatsapp.pacing import Pace
    from app.whatsapp.supervisor import Supervisor

log = logging.getLogger(__name__)
T = TypeVar("T")

START_TIMEOUT = 10.0
CLOSE_TIMEOUT = 20.0


class WhatsAppHost:
    def __init__(
        self,
        store: Store,
        profile: Profile,
        profile_dir: Path,
        config: ServiceConfig,
        on_status: Callable[[WhatsAppStatus], None],
        *,
        stricter: Callable[[Message], Pace | None] | None = None,
    ) -> None:
        self._args = (store, profile, Path(profile_dir), config)
        self._on_status = on_status
        self._stricter = stricter
        self._runner: LoopThread | None = None
        self._main_done: concurrent.futures.Future[None] | None = None
        self._supervisor: Supervisor | None = None
        self._ready = threading.Event()

    @property
    def supervisor(self) -> Supervisor:
        if self._supervisor is None:
            raise RuntimeError("the WhatsApp host is not running")
        return self._supervisor

    def start(self, *, connect: bool = False) -> None:
        """Start the thread and its supervisor (idle, ``stopped``); with ``connect`` also open the browser."""
        if self._runner is not None:
            return
        self._runner = LoopThread("whatsapp")
        self._main_done = self._runner.submit(self._main())
        self._main_done.add_done_callback(self._ended)
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError("the WhatsApp service did not start")
        if connect:
            self.connect()

    def _ended(self, future: concurrent.futures.Future[None]) -> None:
        self._ready.set()
        if not future.cancelled() and future.exception() is not None:
            log.error("the WhatsApp service stopped with an error", exc_info=future.exception())

    async def _main(self) -> None:
        from app.whatsapp.supervisor import Supervisor  # Playwright is imported here, off the UI thread

        store, profile, profile_dir, config = self._args
        self._supervisor = Supervisor(
            store, profile, profile_dir, config, on_status=self._on_status, stricter=self._stricter
        )
        self._ready.set()
        await self._supervisor.run()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the WhatsApp loop (``CoroutineRunner``); raises ``LoopClosed`` when it is not running."""
        runner = self._runner
        if runner is None:
            coro.close()
            raise LoopClosed("the WhatsApp service is not running")
        return runner.submit(coro)

    def _call(self, command: Callable[[Supervisor], None]) -> None:
        runner, supervisor = self._runner, self._supervisor
        if runner is None or supervisor is None or runner.closed:
            log.info("WhatsApp: command ignored, the service is not running")
            return
        runner.call_soon(command, supervisor)

    # ---- WhatsAppControl -------------------------------------------------------------------------------------
    def connect(self) -> None:
        self._call(lambda supervisor: supervisor.connect())

    def disconnect(self) -> None:
        self._call(lambda supervisor: supervisor.disconnect())

    def restart(self) -> None:
        self._call(lambda supervisor: supervisor.restart())

    def queue_changed(self) -> None:
        self._call(lambda supervisor: supervisor.queue_changed())

    def fetch_media(self, message_id: str) -> concurrent.futures.Future[str]:
        """Fetch a received message's media again ("click to fetch"); the future gives the state it ends in
        (``stored``, ``missing``, ``too_large``). Raises ``LoopClosed`` when the service is not running."""
        return self.submit(self.supervisor.fetch_media(message_id))

    def reconfigure(self, config: ServiceConfig) -> None:
        self._call(lambda supervisor: supervisor.reconfigure(config))

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Close the browser, let the supervisor end, then the loop and its thread (waits up to ``timeout`` s)."""
        runner, main = self._runner, self._main_done
        if runner is None:
            return
        self._call(lambda supervisor: supervisor.close())
        if main is not None:
            _done, running = concurrent.futures.wait([main], timeout)  # an error ending it is logged by ``_ended``
            if running:
                log.warning("WhatsApp: the service did not stop within %.0f s", timeout)
        runner.close()
        self._runner = None
