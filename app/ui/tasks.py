"""The one way the UI runs work off its thread (house rule 3), and the one way results come back.

- ``start(name, fn, on_done, on_error, owner=...)``: a blocking callable (a store query, an import, a backup) on the
  worker pool.
- ``submit(name, coroutine_factory, on_done, on_error, owner=..., on=...)``: a coroutine on the *service loop*
  (``app.core.loops.LoopThread``, one thread made once: team sync, AI calls, the analysis of incoming messages), or on
  another ``CoroutineRunner`` such as the WhatsApp host's own loop (``on=host``), the one loop kept apart.
- ``stream(name, make_iterator, on_item, on_error, on_done, owner=...)``: an async iterator on the service loop
  (an AI reply as it is written); each item reaches ``on_item`` on the main thread; the ``Job`` cancels it.

Whatever ran where, its outcome crosses to the main thread through one queued signal and one ``_deliver``: callbacks
are skipped once Qt has deleted ``owner`` (the dialog or page they touch), a failure becomes a sentence for people
made by ``app.core.errors.describe`` (a bug's traceback goes to the log), and with no ``on_error`` — or no owner
left to show it — the ``failed`` signal carries it (the main window shows it). Progress from a worker crosses the
same way (``progress_reporter``). Shutting down is ordered by ``app.ui.shutdown``: ``stop_accepting`` first (a late
debounce timer starts nothing), then ``close_loop`` once its users stopped, then ``drain`` and ``shutdown``.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from app.core.errors import describe
from app.core.loops import SERVICE_THREAD, CoroutineRunner, LoopClosed, LoopThread
from app.qt import QtCore, Signal, is_alive

log = logging.getLogger(__name__)
T = TypeVar("T")

Progress = Callable[[int, int], None]


@dataclass
class Job:
    """A running stream; ``cancel`` stops it (the coroutine is cancelled on its loop) and drops what it still sends."""

    name: str
    cancelled: bool = False
    future: concurrent.futures.Future[None] | None = field(default=None, repr=False)

    def cancel(self) -> None:
        self.cancelled = True
        if self.future is not None:
            self.future.cancel()


@dataclass
class _Packet:
    """One outcome on its way to the main thread: an item of a stream (``final`` False) or the end of a task."""

    name: str
    owner: QtCore.QObject | None
    on_done: Callable[[Any], None] | None
    on_error: Callable[[str], None] | None
    final: bool = True
    quiet: bool = False
    job: Job | None = None
    value: Any = None
    error: BaseException | None = None
    cancelled: bool = False


class TaskRunner(QtCore.QObject):
    started = Signal(str)
    progressed = Signal(str, int, int)
    finished = Signal(str)
    failed = Signal(str, str)  # task name, message for the user
    _completed = Signal(object)  # any thread → main thread: a _Packet
    _idle = Signal()  # on the main thread, when the last pending task was delivered

    def __init__(
        self, workers: int = 2, parent: QtCore.QObject | None = None, *, loop: LoopThread | None = None
    ) -> None:
        super().__init__(parent)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="parley-task")
        self._loop = loop
        self._pending = 0
        self._accepting = True
        self._shut_down = False
        self._completed.connect(self._deliver, QtCore.Qt.ConnectionType.QueuedConnection)

    # ---- where work runs -------------------------------------------------------------------------------------
    @property
    def service_loop(self) -> LoopThread:
        """The one service loop (made on first use when bootstrap did not hand one in)."""
        if self._loop is None:
            self._loop = LoopThread(SERVICE_THREAD)
        return self._loop

    @property
    def pool(self) -> concurrent.futures.Executor:
        return self._pool

    @property
    def idle(self) -> bool:
        return self._pending == 0

    @property
    def accepting(self) -> bool:
        return self._accepting

    # ---- running ---------------------------------------------------------------------------------------------
    def start(
        self,
        name: str,
        fn: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        *,
        owner: QtCore.QObject | None = None,
        quiet: bool = False,
    ) -> concurrent.futures.Future[T]:
        """Run ``fn`` on a worker; ``on_done(result)`` or ``on_error(message)`` run later on the main thread.

        Without ``on_error`` a failure is announced through ``failed`` (the main window shows it). With an
        ``owner`` (the dialog or page the callbacks touch), callbacks are skipped once Qt has deleted it; the work
        itself still completes. ``quiet`` work is not shown in the status bar (``started``/``finished``). Once the
        runner stopped accepting work nothing is started: the returned future is cancelled and no callback runs.
        """
        if not self._accepting:
            return _refused(name)
        packet = _Packet(name, owner, on_done, on_error, quiet=quiet)
        self._begin(packet)
        future = self._pool.submit(fn)
        future.add_done_callback(lambda f: self._finish(packet, f))
        return future

    def submit(
        self,
        name: str,
        work: Callable[[], Awaitable[T]],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        *,
        owner: QtCore.QObject | None = None,
        on: CoroutineRunner | None = None,
        quiet: bool = False,
    ) -> concurrent.futures.Future[T]:
        """Run the coroutine ``work()`` on the service loop (or on ``on``, e.g. the WhatsApp host's loop); the
        outcome is delivered like ``start``'s. ``work`` is called on that loop, so it may bind to it."""
        if not self._accepting:
            return _refused(name)

        async def run() -> T:
            return await work()

        runner = on if on is not None else self.service_loop
        try:
            future = runner.submit(run())
        except LoopClosed:
            return _refused(name)
        packet = _Packet(name, owner, on_done, on_error, quiet=quiet)
        self._begin(packet)
        future.add_done_callback(lambda f: self._finish(packet, f))
        return future

    def stream(
        self,
        name: str,
        make: Callable[[], AsyncIterator[Any]],
        on_item: Callable[[Any], None],
        on_error: Callable[[str], None],
        on_done: Callable[[], None],
        *,
        owner: QtCore.QObject | None = None,
    ) -> Job:
        """Consume ``make()`` on the service loop; each item reaches ``on_item`` on the main thread, then ``on_done``
        (or ``on_error`` with a sentence). After ``job.cancel()`` nothing more is delivered. Never in the status
        bar: the panel that asked shows its own progress."""
        job = Job(name)
        if not self._accepting:
            job.cancelled = True
            return job
        packet = _Packet(name, owner, lambda _none: on_done(), on_error, quiet=True, job=job)

        async def consume() -> None:
            async for item in make():
                if job.cancelled:
                    return
                self._completed.emit(_Packet(name, owner, on_item, None, final=False, quiet=True, job=job, value=item))

        try:
            job.future = self.service_loop.submit(consume())
        except LoopClosed:
            job.cancelled = True
            return job
        self._begin(packet)
        job.future.add_done_callback(lambda f: self._finish(packet, f))  # however it ends, even cancelled early
        return job

    def progress_reporter(self, name: str) -> Progress:
        """A callable a worker may call with (done, total); the signal crosses to the main thread by itself."""
        return lambda done, total: self.progressed.emit(name, done, total)

    # ---- the one delivery path -------------------------------------------------------------------------------
    def _begin(self, packet: _Packet) -> None:
        self._pending += 1
        if not packet.quiet:
            self.started.emit(packet.name)

    def _finish(self, packet: _Packet, future: concurrent.futures.Future[Any]) -> None:
        """Done callback (the worker's or loop's thread): record the outcome and hand it to the main thread."""
        if future.cancelled():
            packet.cancelled = True
        elif (exc := future.exception()) is not None:
            packet.error = exc
        else:
            packet.value = future.result()
        self._completed.emit(packet)

    def _deliver(self, packet: _Packet) -> None:
        if packet.final:
            self._pending -= 1
            if not packet.quiet:
                self.finished.emit(packet.name)
            if not self._pending:
                self._idle.emit()
        if packet.cancelled or (packet.job is not None and packet.job.cancelled):
            return
        alive = packet.owner is None or is_alive(packet.owner)
        if packet.error is not None:
            message = describe(packet.error, doing=f"task {packet.name!r}", logger=log)  # a line, or the traceback
            if packet.on_error is not None and alive:
                packet.on_error(message)
            else:
                self.failed.emit(packet.name, message)
            return
        if packet.on_done is not None and alive:
            packet.on_done(packet.value)

    # ---- shutting down (in the order app.ui.shutdown gives) --------------------------------------------------
    def stop_accepting(self) -> None:
        """From now on ``start``/``submit``/``stream`` start nothing (what runs finishes)."""
        self._accepting = False

    def close_loop(self, timeout: float = 5.0) -> None:
        """Close the service loop: what still runs on it is cancelled (its users have stopped by now)."""
        if self._loop is not None:
            self._loop.close(timeout)

    def drain(self, timeout: float = 30.0) -> None:
        """Block until running work finishes and deliver its results (shutdown)."""
        if not self._pending:
            return
        loop = QtCore.QEventLoop()
        self._idle.connect(loop.quit)
        QtCore.QTimer.singleShot(int(timeout * 1000), loop.quit)
        loop.exec()
        self._idle.disconnect(loop.quit)

    def shutdown(self) -> None:
        """Stop accepting work, close the service loop, wait for the pool's workers to end."""
        if self._shut_down:
            return
        self._shut_down = True
        self.stop_accepting()
        self.close_loop()
        self._pool.shutdown(wait=True, cancel_futures=True)


def logged_only(_sentence: str) -> None:
    """``on_error`` for best-effort work nobody waits for: ``describe`` has logged the failure already."""


def _refused(name: str) -> concurrent.futures.Future[Any]:
    log.debug("task %r not started: Parley is shutting down", name)
    cancelled: concurrent.futures.Future[Any] = concurrent.futures.Future()
    cancelled.cancel()
    return cancelled
