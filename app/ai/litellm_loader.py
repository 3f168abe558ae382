"""Loading litellm off the start-up path.

``import litellm`` takes seconds and, unless told otherwise, fetches a cost map from the internet while importing.
Nothing in ``app.ai`` imports it at module level: the first call that needs it awaits ``LitellmLoader.get()``, which
imports it once off the calling thread (after switching the cost map to the bundled copy and telemetry off), so
neither the window nor the asyncio loop waits on it. ``start()`` warms it up early (after the window is shown). The
app hands the loader its worker pool (``use``), so the import is one more task on the pool rather than a thread of
its own; without one (tests, scripts) it runs on a thread made for it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
import time
from collections.abc import Callable
from types import ModuleType

log = logging.getLogger(__name__)


def _import() -> ModuleType:
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # no network at import
    os.environ.setdefault("LITELLM_TELEMETRY", "False")
    os.environ.setdefault("LITELLM_LOG", "ERROR")
    started = time.perf_counter()
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" banners on stdout
    litellm.drop_params = True  # a provider that lacks a parameter (e.g. stream_options) is not an error
    log.info("litellm %s imported in %.1f s", getattr(litellm, "__version__", "?"), time.perf_counter() - started)
    return litellm


class LitellmLoader:
    """Imports litellm once, on a thread of its own; safe to share between threads and event loops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._future: concurrent.futures.Future[ModuleType] | None = None
        self._executor: concurrent.futures.Executor | None = None

    def use(self, executor: concurrent.futures.Executor) -> None:
        """Import on ``executor`` (the app's worker pool) from now on."""
        with self._lock:
            self._executor = executor

    @property
    def loaded(self) -> bool:
        future = self._future
        return future is not None and future.done() and future.exception() is None

    def start(self) -> concurrent.futures.Future[ModuleType]:
        """Begin the import in the background (idempotent); the future holds the module."""
        with self._lock:
            if self._future is None or (self._future.done() and self._future.exception() is not None):
                future: concurrent.futures.Future[ModuleType] = concurrent.futures.Future()

                def run() -> None:
                    try:
                        future.set_result(_import())
                    except BaseException as exc:  # noqa: BLE001 — handed to whoever awaits the import, who decides
                        future.set_exception(exc)

                if not self._submit(run):
                    threading.Thread(target=run, name="litellm-import", daemon=True).start()
                self._future = future
            return self._future

    def _submit(self, run: Callable[[], None]) -> bool:
        """Hand ``run`` to the executor given by ``use``; False when there is none or it is shutting down."""
        if self._executor is None:
            return False
        try:
            self._executor.submit(run)
        except RuntimeError:
            return False
        return True

    async def get(self) -> ModuleType:
        """The litellm module, importing it first if needed without blocking the running loop."""
        return await asyncio.wrap_future(self.start())

    def get_blocking(self, timeout: float | None = None) -> ModuleType:
        return self.start().result(timeout)


default_loader = LitellmLoader()
