"""The one ordered shutdown, whatever asked for it: the window closed, Quit in the tray, SIGTERM or SIGINT.

Every way out ends the Qt event loop (``QApplication.quit``); ``run_desktop`` then runs ``Shutdown.run`` once:

1. the task runner stops accepting work (a debounce timer firing now starts nothing);
2. agents and the analysis of incoming messages stop (they would start AI calls and writes);
3. team sync stops (its socket and HTTP client close; pending changes stay in the outbox);
4. the WhatsApp host closes the browser and ends its loop;
5. the service loop closes (whatever still runs on it is cancelled);
6. the worker pool finishes what it runs and its results are delivered;
7. the stores close (SQLCipher checkpoints its WAL);

and logs ``CLEAN_EXIT`` — the line the end-to-end test looks for. A step that fails is logged and the next runs.

``install_signal_handlers`` makes SIGTERM and SIGINT quit the application: Python runs a signal handler only when
the main thread runs Python code, and Qt's loop runs C++; the C-level handler writes the signal number to a socket
(``signal.set_wakeup_fd``) that a ``QSocketNotifier`` watches, which wakes Qt, which runs the Python handler.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import signal
import socket
from collections.abc import Callable

from app.qt import QtCore, QtWidgets
from app.ui.tasks import TaskRunner

log = logging.getLogger("parley")

CLEAN_EXIT = "Parley closed cleanly"


class Stage(enum.IntEnum):
    """What closes before what (lower first); the service loop, the pool and the stores are in between."""

    AGENTS = 1
    SYNC = 2
    WHATSAPP = 3
    STORE = 9


class Shutdown:
    def __init__(self, tasks: TaskRunner) -> None:
        self.tasks = tasks
        self._steps: list[tuple[Stage, str, Callable[[], None]]] = []
        self.done = False

    def add(self, stage: Stage, name: str, close: Callable[[], None]) -> None:
        """Register ``close`` for ``stage`` (a service started); steps of one stage run in the order added."""
        self._steps.append((stage, name, close))

    def run(self) -> None:
        """Close everything in order (once); logs ``CLEAN_EXIT`` at the end."""
        if self.done:
            return
        self.done = True
        self.tasks.stop_accepting()
        steps = sorted(self._steps, key=lambda step: step[0])  # stable: a stage keeps the order of ``add``
        for stage, name, close in steps:
            if stage is Stage.STORE:
                self._step("the service loop", self.tasks.close_loop)
                self._step("the worker pool", self._finish_pool)
            self._step(name, close)
        if not any(stage is Stage.STORE for stage, _name, _close in steps):
            self._step("the service loop", self.tasks.close_loop)
            self._step("the worker pool", self._finish_pool)
        log.info(CLEAN_EXIT)

    def _finish_pool(self) -> None:
        self.tasks.drain()
        self.tasks.shutdown()

    @staticmethod
    def _step(name: str, close: Callable[[], None]) -> None:
        try:
            close()
        except Exception:  # one service failing to close must not keep the others open
            log.exception("closing %s failed", name)


class SignalWatcher(QtCore.QObject):
    """SIGTERM and SIGINT quit the Qt application (see the module's docstring for how Qt wakes up)."""

    def __init__(self, app: QtWidgets.QApplication, signals: tuple[signal.Signals, ...]) -> None:
        super().__init__(app)
        self._app = app
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno())
        self._previous = {sig: signal.signal(sig, self._handle) for sig in signals}
        self._notifier = QtCore.QSocketNotifier(self._reader.fileno(), QtCore.QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._wake)
        self.received: list[str] = []
        app.aboutToQuit.connect(self.restore)

    def _handle(self, signum: int, _frame: object) -> None:
        """Runs on the main thread between two Python steps — possibly in the middle of a log line being written —
        so it only notes the signal and asks Qt's loop to quit; the log line is written from the loop. (Logging here
        re-entered the log file's stream once: "reentrant call inside BufferedWriter", a traceback at Ctrl+C.)"""
        name = signal.Signals(signum).name
        self.received.append(name)
        QtCore.QTimer.singleShot(0, lambda: self._quit(name))

    def _quit(self, name: str) -> None:
        log.info("%s received: closing Parley", name)
        self._app.quit()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._reader.recv(64)  # the signal numbers the C handler wrote; the Python handler has run

    def restore(self) -> None:
        """Give the signals back to their previous handlers (a second Ctrl+C while closing ends at once)."""
        if self._previous:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)
            self._previous = {}
            signal.set_wakeup_fd(self._previous_fd)
            self._notifier.setEnabled(False)
            self._reader.close()
            self._writer.close()


def install_signal_handlers(app: QtWidgets.QApplication) -> SignalWatcher:
    return SignalWatcher(app, (signal.SIGTERM, signal.SIGINT))
