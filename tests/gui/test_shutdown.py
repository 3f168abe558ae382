"""The one ordered shutdown (``app.ui.shutdown.Shutdown``): whatever registered first, the runner stops accepting
work, then agents → sync → WhatsApp → the service loop → the pool → the stores, and one clean-exit line is logged;
a step that fails is logged and the rest still close."""

from __future__ import annotations

import logging
import threading

import pytest
from pytestqt.qtbot import QtBot

from app.qt import QtWidgets
from app.ui.shutdown import CLEAN_EXIT, Shutdown, Stage
from app.ui.tasks import TaskRunner


def test_steps_run_in_the_one_order_and_the_exit_is_logged_once(
    qtbot: QtBot, qapp: QtWidgets.QApplication, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    tasks = TaskRunner()
    loop_thread = tasks.service_loop.thread
    gate = threading.Event()
    results: list[int] = []
    tasks.start("Saving", lambda: gate.wait(10) and 1, results.append)  # still running when the shutdown starts
    order: list[str] = []
    shutdown = Shutdown(tasks)

    def step(name: str) -> None:
        assert not tasks.accepting, "work is refused before anything closes"
        order.append(name)
        if name == "store":
            assert not loop_thread.is_alive(), "the service loop closed before the store"
            assert results == [1], "the pool's work finished and was delivered before the store"
        if name == "whatsapp":
            gate.set()

    def broken() -> None:
        order.append("sync (broken)")
        raise RuntimeError("the socket would not close")

    shutdown.add(Stage.STORE, "store", lambda: step("store"))
    shutdown.add(Stage.WHATSAPP, "whatsapp", lambda: step("whatsapp"))
    shutdown.add(Stage.SYNC, "sync", broken)
    shutdown.add(Stage.AGENTS, "agents", lambda: step("agents"))
    shutdown.run()
    shutdown.run()  # a second way out (the window closed, then a signal) does nothing more

    assert order == ["agents", "sync (broken)", "whatsapp", "store"]
    assert [r.getMessage() for r in caplog.records].count(CLEAN_EXIT) == 1
    [failure] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failure.getMessage() == "closing sync failed"
    assert tasks.start("Late", lambda: 1).cancelled()


def test_a_signal_handler_writes_no_log_line_itself_and_the_loop_logs_it_and_quits(
    qtbot: QtBot, qapp: QtWidgets.QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SIGINT arriving while a log line was being written: a handler that logged re-entered the log file's stream
    ("reentrant call inside BufferedWriter", a traceback at Ctrl+C in a fresh-clone run). It only notes the signal;
    Qt's loop writes the line and quits."""
    import signal

    from app.ui.shutdown import SignalWatcher

    quits: list[bool] = []
    monkeypatch.setattr(qapp, "quit", lambda: quits.append(True))
    lines: list[str] = []

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger, handler = logging.getLogger("parley"), Lines(logging.INFO)
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    watcher = SignalWatcher(qapp, (signal.SIGUSR1,))
    try:
        watcher._handle(signal.SIGUSR1, None)  # as Python runs it, between two steps of whatever the main thread did
        assert watcher.received == ["SIGUSR1"]
        assert lines == []
        assert quits == []
        qtbot.waitUntil(lambda: quits == [True])
        assert lines == ["SIGUSR1 received: closing Parley"]
    finally:
        watcher.restore()
        logger.removeHandler(handler)
        logger.setLevel(level)
