"""TaskRunner's ``owner``: results for a dialog or page Qt has already deleted are dropped, errors still surface.

And how a failure is logged: an expected ``ParleyError`` as one line, anything else with its traceback. And the same
delivery for coroutines: on the one service loop, on another loop (the WhatsApp host's shape), and streamed.

The worker waits on an Event the test sets, so the owner is deleted (or not) strictly before the result arrives.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from app.core.errors import InvalidInput, WrongPassphrase
from app.core.loops import SERVICE_THREAD, LoopThread
from app.qt import QtWidgets, is_alive
from app.ui.tasks import TaskRunner


@pytest.fixture
def runner(qapp: QtWidgets.QApplication) -> Iterator[TaskRunner]:
    tasks = TaskRunner()
    yield tasks
    tasks.drain()
    tasks.shutdown()


def gated(gate: threading.Event, result: Callable[[], int]) -> Callable[[], int]:
    """A worker function that blocks until the test opens ``gate``, then returns (or raises) ``result()``."""

    def work() -> int:
        assert gate.wait(10), "the test never let the worker finish"
        return result()

    return work


def delete(qtbot: QtBot, widget: QtWidgets.QWidget) -> None:
    widget.deleteLater()
    qtbot.waitUntil(lambda: not is_alive(widget))


def refuse(message: str) -> int:
    raise InvalidInput(message)


def test_a_deleted_owner_gets_no_result(qtbot: QtBot, runner: TaskRunner) -> None:
    gate, owner = threading.Event(), QtWidgets.QLabel()
    done: list[int] = []
    errors: list[str] = []
    failed: list[tuple[str, str]] = []
    runner.failed.connect(lambda name, message: failed.append((name, message)))

    def show(value: int) -> None:
        owner.setText(str(value))  # would raise RuntimeError on the deleted label
        done.append(value)

    runner.start("Loading", gated(gate, lambda: 42), show, errors.append, owner=owner)
    delete(qtbot, owner)
    gate.set()
    qtbot.waitUntil(lambda: runner.idle)
    assert (done, errors, failed) == ([], [], [])


def test_a_live_owner_gets_the_result(qtbot: QtBot, runner: TaskRunner) -> None:
    gate, owner = threading.Event(), QtWidgets.QLabel()
    qtbot.addWidget(owner)
    errors: list[str] = []
    runner.start(
        "Loading", gated(gate, lambda: 42), lambda value: owner.setText(str(value)), errors.append, owner=owner
    )
    gate.set()
    qtbot.waitUntil(lambda: runner.idle)
    assert (owner.text(), errors) == ("42", [])


def test_an_error_for_a_deleted_owner_surfaces_through_failed(qtbot: QtBot, runner: TaskRunner) -> None:
    gate, owner = threading.Event(), QtWidgets.QLabel()
    done: list[int] = []
    errors: list[str] = []
    runner.start("Saving", gated(gate, lambda: refuse("The name is taken.")), done.append, errors.append, owner=owner)
    delete(qtbot, owner)
    with qtbot.waitSignal(runner.failed) as failed:
        gate.set()
    assert failed.args == ["Saving", "The name is taken."]
    qtbot.waitUntil(lambda: runner.idle)
    assert (done, errors) == ([], [])


def test_an_error_for_a_live_owner_goes_to_its_handler(qtbot: QtBot, runner: TaskRunner) -> None:
    gate, owner = threading.Event(), QtWidgets.QLabel()
    qtbot.addWidget(owner)
    failed: list[tuple[str, str]] = []
    runner.failed.connect(lambda name, message: failed.append((name, message)))
    runner.start("Saving", gated(gate, lambda: refuse("The name is taken.")), None, owner.setText, owner=owner)
    gate.set()
    qtbot.waitUntil(lambda: runner.idle)
    assert (owner.text(), failed) == ("The name is taken.", [])


def test_an_error_without_a_handler_surfaces_even_when_the_owner_is_gone(qtbot: QtBot, runner: TaskRunner) -> None:
    gate, owner = threading.Event(), QtWidgets.QLabel()
    runner.start("Saving", gated(gate, lambda: refuse("Disk full.")), owner=owner)
    delete(qtbot, owner)
    with qtbot.waitSignal(runner.failed) as failed:
        gate.set()
    assert failed.args == ["Saving", "Disk full."]


def test_nothing_starts_after_shutdown(qtbot: QtBot, qapp: QtWidgets.QApplication) -> None:
    """A debounce timer firing while the application winds down must not raise from the event loop."""
    runner = TaskRunner()
    runner.shutdown()
    done: list[int] = []
    future = runner.start("Late", lambda: 1, done.append, done.append)
    assert future.cancelled()
    assert runner.idle
    qapp.processEvents()
    assert done == []


def boom() -> int:
    raise RuntimeError("SELECT phone FROM contacts WHERE name = 'Ana Souza'")  # a bug's text: never shown


def test_an_unexpected_error_is_logged_with_its_traceback_and_not_shown(
    qtbot: QtBot, runner: TaskRunner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.ui.tasks")
    with qtbot.waitSignal(runner.failed) as failed:
        runner.start("Saving", boom)
    name, message = failed.args
    assert name == "Saving"
    assert message.startswith("Something went wrong; the details are in the log")
    assert "Ana Souza" not in message
    assert "SELECT" not in message
    assert "RuntimeError" not in message
    [record] = [r for r in caplog.records if r.name == "app.ui.tasks"]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert record.exc_info[0] is RuntimeError


def test_an_expected_error_is_logged_as_one_line(
    qtbot: QtBot, runner: TaskRunner, caplog: pytest.LogCaptureFixture
) -> None:
    """A wrong passphrase is not a bug: one line without a traceback (and without the error's text)."""
    caplog.set_level(logging.INFO, logger="app.ui.tasks")

    def unlock() -> int:
        raise WrongPassphrase("That passphrase does not open “Ana's shop”.")

    with qtbot.waitSignal(runner.failed) as failed:
        runner.start("Unlock", unlock)
    assert failed.args[1] == f"That passphrase does not open “Ana's shop”. {WrongPassphrase.hint}"
    [record] = [r for r in caplog.records if r.name == "app.ui.tasks"]
    assert record.exc_info is None
    assert record.levelno < logging.WARNING
    assert "\n" not in record.getMessage()
    assert "Ana" not in record.getMessage()
    assert "WrongPassphrase" in record.getMessage()


# ---- coroutines: the service loop, another loop (the WhatsApp host's shape), streams --------------------------------
def test_a_coroutine_runs_on_the_service_loop_and_its_result_arrives_on_the_main_thread(
    qtbot: QtBot, runner: TaskRunner
) -> None:
    ran_on: list[str] = []
    delivered_on: list[threading.Thread] = []

    async def work() -> int:
        ran_on.append(threading.current_thread().name)
        await asyncio.sleep(0)
        return 7

    def done(value: int) -> None:
        delivered_on.append(threading.current_thread())
        assert value == 7

    runner.submit("Counting", work, done)
    qtbot.waitUntil(lambda: bool(delivered_on))
    assert ran_on == [SERVICE_THREAD]
    assert delivered_on == [threading.main_thread()]


def test_every_coroutine_shares_the_one_service_loop(qtbot: QtBot, runner: TaskRunner) -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def which() -> None:
        loops.append(asyncio.get_running_loop())

    for name in ("Sync", "AI", "Analysis"):
        runner.submit(name, which)
    qtbot.waitUntil(lambda: runner.idle and len(loops) == 3)
    assert len(set(loops)) == 1
    assert loops[0] is runner.service_loop.loop


def test_a_coroutine_on_another_loop_comes_back_the_same_way(qtbot: QtBot, runner: TaskRunner) -> None:
    """The WhatsApp host keeps its own loop; ``on=`` reaches it with the same delivery (owner guard included)."""
    other = LoopThread("whatsapp-like")
    try:
        gate = threading.Event()
        owner = QtWidgets.QLabel()
        ran_on: list[str] = []

        async def work() -> str:
            ran_on.append(threading.current_thread().name)
            await asyncio.to_thread(gate.wait, 10)
            return "typed"

        runner.submit("Sending", work, owner.setText, owner=owner, on=other)
        delete(qtbot, owner)
        gate.set()
        qtbot.waitUntil(lambda: runner.idle)
        assert ran_on == ["whatsapp-like"]  # the result was dropped for the deleted label: no RuntimeError

        failed: list[tuple[str, str]] = []
        runner.failed.connect(lambda name, message: failed.append((name, message)))

        async def refused() -> str:
            raise InvalidInput("That number is not on WhatsApp.")

        runner.submit("Sending", refused, on=other)
        qtbot.waitUntil(lambda: bool(failed))
        assert failed == [("Sending", "That number is not on WhatsApp.")]
    finally:
        other.close()


def test_a_coroutine_error_is_a_sentence_and_a_bug_is_not_shown(qtbot: QtBot, runner: TaskRunner) -> None:
    errors: list[str] = []

    async def bug() -> int:
        raise RuntimeError("UPDATE contacts SET name = 'Ana Souza'")

    runner.submit("Saving", bug, None, errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert errors[0].startswith("Something went wrong")
    assert "Ana" not in errors[0]


def test_a_stream_delivers_each_item_in_order_and_a_cancelled_one_stops(qtbot: QtBot, runner: TaskRunner) -> None:
    items: list[str] = []
    ended: list[str] = []

    async def words() -> AsyncIterator[str]:
        for word in ("Hi", " Maya", "!"):
            await asyncio.sleep(0)
            yield word

    runner.stream("Writing", words, items.append, ended.append, lambda: ended.append("done"))
    qtbot.waitUntil(lambda: ended == ["done"])
    assert items == ["Hi", " Maya", "!"]

    gate = asyncio.Event()
    started = threading.Event()
    later: list[str] = []

    async def forever() -> AsyncIterator[str]:
        started.set()
        await gate.wait()  # never set: only cancelling ends it
        yield "never"

    job = runner.stream("Writing", forever, later.append, later.append, lambda: later.append("done"))
    assert started.wait(10)
    job.cancel()
    qtbot.waitUntil(lambda: runner.idle)
    assert later == []


def test_after_stop_accepting_nothing_starts_anywhere(qtbot: QtBot, runner: TaskRunner) -> None:
    runner.stop_accepting()

    async def work() -> int:
        return 1

    assert runner.start("Late", lambda: 1).cancelled()
    assert runner.submit("Late", work).cancelled()
    assert runner.stream("Late", lambda: _empty(), print, print, print).cancelled
    assert runner.idle


async def _empty() -> AsyncIterator[int]:
    return
    yield


def test_shutdown_closes_the_service_loop_and_its_thread(qapp: QtWidgets.QApplication) -> None:
    tasks = TaskRunner()
    thread = tasks.service_loop.thread
    assert thread.is_alive()
    tasks.shutdown()
    assert not thread.is_alive()
    assert tasks.service_loop.closed
