"""TaskRunner's ``owner``: results for a dialog or page Qt has already deleted are dropped, errors still surface.

And how a failure is logged: an expected ``ParleyError`` as one line, anything else with its traceback.

The worker waits on an Event the test sets, so the owner is deleted (or not) strictly before the result arrives.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from app.core.errors import InvalidInput, WrongPassphrase
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
