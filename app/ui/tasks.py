"""Running slow work off the UI thread (house rule 3).

``TaskRunner.start`` runs a blocking callable (a store query, an import, a backup) on a worker thread and delivers
its result, or a sentence for people made by ``app.core.errors.describe``, back on the main thread through a queued
signal; the ``failed`` signal lets the main window show every error that a page does not handle itself.
``TaskRunner.run`` is the awaitable form for qasync coroutines. Progress reported from a worker crosses to the main
thread the same way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from app.core.errors import describe
from app.qt import QtCore, Signal, is_alive

log = logging.getLogger(__name__)
T = TypeVar("T")

Progress = Callable[[int, int], None]


class TaskRunner(QtCore.QObject):
    started = Signal(str)
    progressed = Signal(str, int, int)
    finished = Signal(str)
    failed = Signal(str, str)  # task name, message for the user
    _completed = Signal(object)  # worker thread → main thread

    def __init__(self, workers: int = 2, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="parley-task")
        self._pending = 0
        self._shut_down = False
        self._completed.connect(self._deliver, QtCore.Qt.ConnectionType.QueuedConnection)

    @property
    def idle(self) -> bool:
        return self._pending == 0

    def start(
        self,
        name: str,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        *,
        owner: QtCore.QObject | None = None,
    ) -> concurrent.futures.Future[T]:
        """Run ``fn`` on a worker; ``on_done(result)`` or ``on_error(message)`` run later on the main thread.

        Without ``on_error`` a failure is announced through ``failed`` (the main window shows it). With an
        ``owner`` (the dialog or page the callbacks touch), callbacks are skipped once Qt has deleted it; the work
        itself still completes. After ``shutdown`` nothing is started (a debounce timer may still fire while the
        application winds down): the returned future is cancelled and no callback runs.
        """
        if self._shut_down:
            log.debug("task %r not started: the task runner is shut down", name)
            cancelled: concurrent.futures.Future[T] = concurrent.futures.Future()
            cancelled.cancel()
            return cancelled
        self._pending += 1
        self.started.emit(name)
        future = self._pool.submit(fn)
        future.add_done_callback(lambda f: self._completed.emit((name, f, on_done, on_error, owner)))
        return future

    def _deliver(self, packet: tuple[str, concurrent.futures.Future[Any], Any, Any, QtCore.QObject | None]) -> None:
        name, future, on_done, on_error, owner = packet
        self._pending -= 1
        self.finished.emit(name)
        if owner is not None and not is_alive(owner):
            on_done = None
            on_error = (lambda message: self.failed.emit(name, message)) if on_error is not None else None
        exc = future.exception()
        if exc is not None:
            message = describe(exc, doing=f"task {name!r}", logger=log)  # one line, or the traceback for a bug
            if on_error is not None:
                on_error(message)
            else:
                self.failed.emit(name, message)
            return
        if on_done is not None:
            on_done(future.result())

    async def run(self, name: str, fn: Callable[[], T]) -> T:
        """Await ``fn()`` run on a worker thread (for qasync coroutines)."""
        loop = asyncio.get_running_loop()
        self.started.emit(name)
        try:
            return await loop.run_in_executor(self._pool, fn)
        finally:
            self.finished.emit(name)

    def progress_reporter(self, name: str) -> Progress:
        """A callable a worker may call with (done, total); the signal crosses to the main thread by itself."""
        return lambda done, total: self.progressed.emit(name, done, total)

    def drain(self, timeout: float = 30.0) -> None:
        """Block until running work finishes and deliver its results (shutdown)."""
        if not self._pending:
            return
        loop = QtCore.QEventLoop()
        self.finished.connect(lambda _name: loop.quit() if not self._pending else None)
        QtCore.QTimer.singleShot(int(timeout * 1000), loop.quit)
        loop.exec()

    def shutdown(self) -> None:
        self._shut_down = True
        self._pool.shutdown(wait=True, cancel_futures=True)
