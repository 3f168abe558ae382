"""Waiting on conditions, the one way the suite does it.

``wait_until`` polls a predicate until it is true or a deadline passes; ``assert_stays`` checks that a condition
*keeps* holding for a short, documented duration (the "nothing happens" checks: nothing was sent, nothing was
pulled). Both fail with a message that says what was seen, not just what was expected: ``message`` may be a
callable, evaluated at the moment of failure, so it can show the state that broke the expectation.

Thread and process code uses the sync pair; coroutines on an event loop use ``async_wait_until`` and
``async_assert_stays`` (they sleep with ``asyncio.sleep`` so the loop keeps running what is being waited on). Qt
code waits with pytest-qt (``qtbot.waitUntil``, ``waitSignal``); ``qt_assert_stays`` is the negative check that
keeps the Qt event loop turning while it watches.

A negative check can only ever prove "not within this window"; pick the shortest duration after which the thing,
had it been going to happen, would already have happened (say why next to the number), and keep it well under a
second where the code allows.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar, cast

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

T = TypeVar("T")
Message = str | Callable[[], str]

INTERVAL = 0.02  # seconds between two looks: cheap predicates, quick reaction


class WaitTimeout(AssertionError):
    """A condition was not reached in time (an ``AssertionError``, so pytest shows it as a failed assertion)."""


def _text(message: Message) -> str:
    return message() if callable(message) else message


def _evaluate(predicate: Callable[[], T]) -> tuple[T | None, BaseException | None]:
    try:
        return predicate(), None
    except AssertionError as error:  # a predicate may assert: treat it as "not yet" and report its text at the end
        return None, error


async def _evaluate_async(predicate: Callable[[], T | Awaitable[T]]) -> tuple[T | None, BaseException | None]:
    try:
        value = predicate()
        if inspect.isawaitable(value):
            return await value, None
        return cast(T, value), None
    except AssertionError as error:
        return None, error


def _timed_out(message: Message, timeout: float, last: object, error: BaseException | None) -> WaitTimeout:
    seen = f"; last assertion: {error}" if error is not None else f"; last value: {last!r}"
    return WaitTimeout(f"{_text(message)} (not within {timeout:g} s{seen})")


def wait_until(
    predicate: Callable[[], T], timeout: float = 10.0, message: Message = "condition", interval: float = INTERVAL
) -> T:
    """Poll ``predicate`` until it returns something truthy and return that; fail after ``timeout`` seconds.

    The predicate is always evaluated once more after the deadline, so a slow machine that misses every poll
    still sees a condition that became true just before the end.
    """
    deadline = time.monotonic() + timeout
    while True:
        value, error = _evaluate(predicate)
        if value and error is None:
            return value
        if time.monotonic() >= deadline:
            raise _timed_out(message, timeout, value, error)
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


def assert_stays(
    predicate: Callable[[], object], duration: float, message: Message, interval: float = INTERVAL
) -> None:
    """Assert that ``predicate`` stays truthy for ``duration`` seconds (checked at the start, every ``interval``
    and at the end); fail at the first look where it does not, with ``message`` saying what was seen."""
    end = time.monotonic() + duration
    while True:
        if not predicate():
            raise AssertionError(f"{_text(message)} (changed within {duration:g} s)")
        if time.monotonic() >= end:
            return
        time.sleep(min(interval, max(0.0, end - time.monotonic())))


async def async_wait_until(
    predicate: Callable[[], T | Awaitable[T]],
    timeout: float = 10.0,
    message: Message = "condition",
    interval: float = INTERVAL,
) -> T:
    """``wait_until`` for a coroutine: the loop runs other tasks between two looks. The predicate may be a coroutine
    function (e.g. one that reads the store through ``asyncio.to_thread``)."""
    deadline = time.monotonic() + timeout
    while True:
        value, error = await _evaluate_async(predicate)
        if value and error is None:
            return value
        if time.monotonic() >= deadline:
            raise _timed_out(message, timeout, value, error)
        await asyncio.sleep(min(interval, max(0.0, deadline - time.monotonic())))


async def async_assert_stays(
    predicate: Callable[[], object], duration: float, message: Message, interval: float = INTERVAL
) -> None:
    """``assert_stays`` for a coroutine: the loop runs other tasks between two looks."""
    end = time.monotonic() + duration
    while True:
        if not predicate():
            raise AssertionError(f"{_text(message)} (changed within {duration:g} s)")
        if time.monotonic() >= end:
            return
        await asyncio.sleep(min(interval, max(0.0, end - time.monotonic())))


def qt_assert_stays(
    qtbot: QtBot, predicate: Callable[[], object], duration: float, message: Message, interval: float = INTERVAL
) -> None:
    """``assert_stays`` while the Qt event loop runs (queued signals and timers are delivered between looks)."""
    end = time.monotonic() + duration
    while True:
        if not predicate():
            raise AssertionError(f"{_text(message)} (changed within {duration:g} s)")
        left = end - time.monotonic()
        if left <= 0:
            return
        qtbot.wait(max(1, int(min(interval, left) * 1000)))
