"""An asyncio loop on a thread of its own: where Parley's coroutines run (Qt-free, so ``app.ai`` and ``app.sync`` can
be handed one).

The app makes two: the *service loop* (``SERVICE_THREAD``), made once at start-up and shared by team sync, AI
streams and the analysis of incoming messages (later the agents); and the WhatsApp host's loop, kept apart because
Playwright's traffic must never wait behind a model or a sync pass. Both are reached the same way: ``submit`` a
coroutine from any thread and get a ``concurrent.futures.Future``; the UI's ``TaskRunner`` turns that into a callback
on the main thread. Nothing here calls ``asyncio.run``: one loop per thread, made once, closed once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

SERVICE_THREAD = "parley-service"


class LoopClosed(RuntimeError):
    """Work submitted to a loop that is closing or closed (the app is shutting down)."""


class CoroutineRunner(Protocol):
    """Anything that runs a coroutine on its own loop and hands back a thread-safe future (``LoopThread``, the
    WhatsApp host)."""

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]: ...


class LoopThread:
    """One asyncio loop running forever on one named daemon thread, until ``close``."""

    def __init__(self, name: str = SERVICE_THREAD) -> None:
        self.name = name
        self.loop = asyncio.new_event_loop()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            self.loop.close()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def on_loop(self) -> bool:
        """Whether the caller runs on this loop's thread (blocking on the loop from there would deadlock)."""
        return threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop (from any thread); raises ``LoopClosed`` once closing began."""
        if self._closed:
            coro.close()
            raise LoopClosed(f"the {self.name} loop is closed")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call_soon(self, fn: Callable[..., object], *args: object) -> None:
        """Run ``fn(*args)`` on the loop's thread soon (from any thread); ignored once closed."""
        if self._closed:
            return
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop closed between the check and the call
            log.debug("%s: call dropped, the loop has closed", self.name)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for it from another thread (a worker; never from the loop itself)."""
        if self.on_loop():
            coro.close()
            raise RuntimeError(f"blocking on the {self.name} loop from its own thread would never return")
        return self.submit(coro).result(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Cancel what still runs, give it ``timeout`` seconds to end, stop the loop and join the thread (once)."""
        if self._closed:
            return
        self._closed = True
        if not self._thread.is_alive():
            return

        async def finish() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            if tasks:
                _done, stuck = await asyncio.wait(tasks, timeout=timeout)
                for task in stuck:
                    log.warning("%s: a task did not stop within %.0f s: %s", self.name, timeout, task.get_coro())
            await self.loop.shutdown_asyncgens()
            await self.loop.shutdown_default_executor()

        try:
            asyncio.run_coroutine_threadsafe(finish(), self.loop).result(timeout + 5)
        except (concurrent.futures.TimeoutError, RuntimeError):
            log.warning("%s: work still running when the loop stopped", self.name)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("%s: the loop thread did not end within %.0f s", self.name, timeout)
