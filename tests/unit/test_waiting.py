"""The suite's one way to wait (tests/support/waiting.py): it returns what it waited for, and a failure says what
was seen, not only what was expected."""

from __future__ import annotations

import asyncio
import itertools
import threading

import pytest

from tests.support.waiting import (
    WaitTimeout,
    assert_stays,
    async_assert_stays,
    async_wait_until,
    wait_until,
)


def test_wait_until_returns_the_truthy_value_once_another_thread_makes_it() -> None:
    box: list[str] = []
    threading.Timer(0.05, box.append, ["done"]).start()
    assert wait_until(lambda: box[:], 10, "the timer fired") == ["done"]


def test_wait_until_times_out_with_the_message_and_the_last_value() -> None:
    counter = itertools.count()
    seen: list[int] = []

    def negative() -> bool:
        seen.append(next(counter))
        return seen[-1] < 0

    with pytest.raises(
        WaitTimeout, match=r"the count reached -1; it is at \d+ \(not within 0.1 s; last value: False\)"
    ):
        wait_until(negative, 0.1, lambda: f"the count reached -1; it is at {seen[-1]}")


def test_a_predicate_that_asserts_is_not_yet_and_its_text_is_reported() -> None:
    def checks() -> bool:
        assert 1 == 2, "one is not two"
        return True

    with pytest.raises(WaitTimeout, match="last assertion: one is not two"):
        wait_until(checks, 0.05, "arithmetic")


def test_other_errors_in_the_predicate_end_the_wait_at_once() -> None:
    def broken() -> bool:
        raise RuntimeError("the server died")

    with pytest.raises(RuntimeError, match="the server died"):
        wait_until(broken, 60, "never reached")


def test_assert_stays_passes_while_it_holds_and_fails_with_what_was_seen() -> None:
    sent: list[str] = []
    assert_stays(lambda: sent == [], 0.05, lambda: f"sent: {sent}")
    threading.Timer(0.02, sent.append, ["hello"]).start()
    with pytest.raises(AssertionError, match=r"sent: \['hello'\] \(changed within 5 s\)"):
        assert_stays(lambda: sent == [], 5, lambda: f"sent: {sent}")


def test_the_async_pair_lets_the_loop_run_and_awaits_coroutine_predicates() -> None:
    async def scenario() -> None:
        box: list[int] = []
        asyncio.get_running_loop().call_later(0.02, box.append, 1)

        async def filled() -> list[int]:
            await asyncio.sleep(0)
            return box[:]

        assert await async_wait_until(filled, 10, "the callback ran") == [1]
        await async_assert_stays(lambda: box == [1], 0.05, lambda: f"box: {box}")
        asyncio.get_running_loop().call_later(0.01, box.append, 2)
        with pytest.raises(AssertionError, match=r"box: \[1, 2\]"):
            await async_assert_stays(lambda: box == [1], 5, lambda: f"box: {box}")
        with pytest.raises(WaitTimeout, match="never"):
            await async_wait_until(lambda: False, 0.05, "never")

    asyncio.run(scenario())
