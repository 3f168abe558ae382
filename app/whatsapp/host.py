"""Runs the WhatsApp ``Supervisor`` on a thread with its own asyncio loop, and takes commands from any thread.

The browser's traffic (Playwright's pipe to its driver, every page report) then never competes with the Qt loop,
and a slow page cannot stall the window. ``WhatsAppHost`` implements ``WhatsAppControl``: each command is handed to
the supervisor's loop with ``call_soon_threadsafe`` and returns at once; outcomes arrive through ``on_status``, which
is called on the supervisor's thread (the UI bridge re-emits it as a queued Qt signal). The supervisor (and with it
Playwright, most of a second to import) is imported on that thread too, so starting the host never stalls the UI.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from app.whatsapp.config import ServiceConfig
from app.whatsapp.profile import Profile
from app.whatsapp.status import WhatsAppStatus

if TYPE_CHECKING:
    from app.store.store import Store
    from app.whatsapp.supervisor import Supervisor

log = logging.getLogger(__name__)

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
    ) -> None:
        self._args = (store, profile, Path(profile_dir), config)
        self._on_status = on_status
        self._loop: asyncio.AbstractEventLoop | None = None
        self._supervisor: Supervisor | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def supervisor(self) -> Supervisor:
        if self._supervisor is None:
            raise RuntimeError("the WhatsApp host is not running")
        return self._supervisor

    def start(self, *, connect: bool = False) -> None:
        """Start the thread and its supervisor (idle, ``stopped``); with ``connect`` also open the browser."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="whatsapp", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError("the WhatsApp service did not start")
        if connect:
            self.connect()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:
            log.exception("the WhatsApp service stopped with an error")
        finally:
            self._ready.set()

    async def _main(self) -> None:
        from app.whatsapp.supervisor import Supervisor  # Playwright is imported here, off the UI thread

        self._loop = asyncio.get_running_loop()
        store, profile, profile_dir, config = self._args
        self._supervisor = Supervisor(store, profile, profile_dir, config, on_status=self._on_status)
        self._ready.set()
        await self._supervisor.run()

    def _call(self, command: Callable[[Supervisor], None]) -> None:
        loop, supervisor = self._loop, self._supervisor
        if loop is None or supervisor is None or loop.is_closed():
            log.info("WhatsApp: command ignored, the service is not running")
            return
        try:
            loop.call_soon_threadsafe(command, supervisor)
        except RuntimeError:  # the loop closed meanwhile
            log.info("WhatsApp: command ignored, the service has stopped")

    # ---- WhatsAppControl -------------------------------------------------------------------------------------
    def connect(self) -> None:
        self._call(lambda supervisor: supervisor.connect())

    def disconnect(self) -> None:
        self._call(lambda supervisor: supervisor.disconnect())

    def restart(self) -> None:
        self._call(lambda supervisor: supervisor.restart())

    def queue_changed(self) -> None:
        self._call(lambda supervisor: supervisor.queue_changed())

    def reconfigure(self, config: ServiceConfig) -> None:
        self._call(lambda supervisor: supervisor.reconfigure(config))

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Close the browser and stop the thread (waits up to ``timeout`` seconds)."""
        thread = self._thread
        if thread is None:
            return
        self._call(lambda supervisor: supervisor.close())
        thread.join(timeout)
        if thread.is_alive():
            log.warning("WhatsApp: the service did not stop within %.0f s", timeout)
        self._thread = None
