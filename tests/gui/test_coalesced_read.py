"""``CoalescedRead``: reads asked for while one runs make one more read after it, not one each; a failed read is
announced through the runner's ``failed`` and not retried. A real TaskRunner; the worker is held on an Event."""

from __future__ import annotations

import threading

from pytestqt.qtbot import QtBot

from app.qt import QtWidgets
from app.ui.coalesced_read import CoalescedRead
from app.ui.tasks import TaskRunner


def test_reads_asked_meanwhile_make_one_more_read(qtbot: QtBot) -> None:
    tasks = TaskRunner()
    owner = QtWidgets.QWidget()
    qtbot.addWidget(owner)
    gate = threading.Event()
    reads: list[int] = []
    shown: list[int] = []

    def read() -> int:
        gate.wait(10)
        reads.append(len(reads) + 1)
        return len(reads)

    coalesced = CoalescedRead(tasks, "Reading", read, shown.append, owner=owner)
    coalesced.start()
    coalesced.start()
    coalesced.start()
    gate.set()
    qtbot.waitUntil(lambda: len(shown) == 2)
    tasks.drain()
    assert shown == [1, 2]
    assert reads == [1, 2]
    assert tasks.idle
    tasks.shutdown()


def test_a_failed_read_is_announced_and_not_retried(qtbot: QtBot) -> None:
    tasks = TaskRunner()
    owner = QtWidgets.QWidget()
    qtbot.addWidget(owner)
    calls: list[str] = []

    def read() -> int:
        calls.append("read")
        raise OSError("disk gone")

    coalesced = CoalescedRead(tasks, "Reading", read, lambda _n: calls.append("shown"), owner=owner)
    with qtbot.waitSignal(tasks.failed) as failed:
        coalesced.start()
    assert failed.args is not None
    assert failed.args[0] == "Reading"
    tasks.drain()
    assert calls == ["read"]
    coalesced.start()  # not stuck "reading": a later ask reads again
    qtbot.waitUntil(lambda: calls.count("read") == 2)
    tasks.drain()
    tasks.shutdown()
