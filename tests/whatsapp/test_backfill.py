"""History backfill on connect, against the WhatsApp Web imitation: real headless Chromium, real SQLCipher store.

Fixtures and helpers come from ``conftest``. Waits are on conditions (``driver.wait_until``), never sleeps.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime

import pytest

from app.store.intake import CapturedMessage, record_messages
from app.store.messaging import queue_outbound
from app.store.store import Store
from app.whatsapp.backfill import BACKFILL_MESSAGES
from app.whatsapp.humanizer import Humanizer
from app.whatsapp.sender import Sender
from tests.support.whatsapp_fixtures import (
    FAST,
    NO_QUIET,
    WAIT,
    DriverRunner,
    caught_up,
    page_sent,
    store_chat,
    stored_wa_ids,
)
from tests.whatsapp.imitation_server import ImitationControl, ImitationServer, JsonDict

CHATS = {"6590000001": "Alice", "6590000002": "Bob", "6590000003": "Cara"}
HISTORY = 150  # per chat: five times what the page renders on opening a chat


def _load_history(control: ImitationControl) -> list[str]:
    """150 messages per chat, ten minutes apart and ending an hour ago (so they span two days)."""
    assert HISTORY < BACKFILL_MESSAGES
    ids: list[str] = []
    end = time.time() - 3600
    for offset, (phone, name) in enumerate(CHATS.items()):
        for n in range(HISTORY):
            ts = end - (HISTORY - n) * 600 - offset * 60
            ids.append(control.incoming(phone, f"{name} history {n}", name=name, timestamp=ts)["id"])
    return ids


def test_history_backfill_on_connect_then_nothing_to_do(
    driver_runner: DriverRunner,
    store: Store,
    control: ImitationControl,
) -> None:
    async def scenario() -> None:
        history = await asyncio.to_thread(_load_history, control)
        assert len(history) == 3 * HISTORY

        driver = driver_runner.driver()
        async with driver_runner.connected(driver):
            # Idle too: the report that started the catch-up predates it (its rows still show the unread badges the
            # catch-up cleared), and acting on it once the catch-up is over must not open those chats again.
            await caught_up(driver, 60)
            result = driver.last_backfill
            assert result is not None
            assert sorted(result.opened) == sorted(CHATS.values())
            assert sorted(stored_wa_ids(store)) == sorted(history)  # all of it, once
            assert store.messages.count() == len(history)
            for phone, name in CHATS.items():
                chat = store.chats.find_by_wa_chat_id(f"{phone}@c.us")
                assert chat is not None
                assert chat.title == name
                assert store.messages.count({"chat_id": chat.id}) == HISTORY
                latest = store.messages.for_chat(chat.id, limit=1)[0]
                assert latest.body == f"{name} history {HISTORY - 1}"
            assert driver.skipped == 0
            # No chat was open before, so none is left open.
            assert await driver.page.evaluate("() => window.__parleyScan().header") is None
            opens = (await asyncio.to_thread(control.state))["chat_opens"]
            assert driver.chats_opened == opens == 3
            assert driver.last_error is None

        # A restart on the same store: every chat's latest message is already there, so nothing is opened.
        again = driver_runner.driver()
        async with driver_runner.connected(again):
            await again.wait_until(lambda: again.last_backfill is not None, WAIT)
            result = again.last_backfill
            assert result is not None
            assert result.considered == 3
            assert result.opened == ()
            assert again.chats_opened == 0
            state = await asyncio.to_thread(control.state)
            # One loaded run saw 4 here (a chat opened while the driver's own count said 0): say what the phone side
            # knew, so that a recurrence tells whether an unread badge (a lost /__page/open) led the sweep there.
            seen = (state["open_chat"], [(c["name"], c["unread"]) for c in state["chats"]], again.chats_opened)
            assert state["chat_opens"] == 3, seen
            assert store.messages.count() == len(history)
            assert again.captured == 0
            assert again.last_error is None

        # Two messages for Bob while Parley was closed: only Bob's chat is opened, and only what is new is read
        # (its oldest rendered row is already stored, so it does not scroll back).
        late = [(await asyncio.to_thread(control.incoming, "6590000002", f"late {n}", "Bob"))["id"] for n in range(2)]
        third = driver_runner.driver()
        async with driver_runner.connected(third):
            await third.wait_until(lambda: third.last_backfill is not None, WAIT)
            result = third.last_backfill
            assert result is not None
            assert result.opened == ("Bob",)
            assert result.rows_seen < HISTORY
            assert third.captured == 2
            assert sorted(stored_wa_ids(store)) == sorted([*history, *late])
            assert third.last_error is None

    driver_runner.run(scenario, timeout=120)


WEEKEND_CHATS = 60
CHUNK = 30  # rows WhatsApp (and the imitation) renders on opening a chat


def _weekend(server: ImitationServer, store: Store, rng: random.Random) -> tuple[dict[str, str], list[str]]:
    """60 chats the store had read up to two messages each; then 5-40 new messages each (both ends and a backlog
    longer than a chat shows on opening included), arriving in rounds so the chats' order in the list shuffles.
    Returns the chats (phone -> name) and the ids of every message the store should end with."""
    state = server.state  # in-process: 1,500 messages in well under a second
    chats = {f"659400{n:04d}": f"Weekend {n:02d}" for n in range(WEEKEND_CHATS)}
    counts = [5, CHUNK + 10, CHUNK, CHUNK + 1] + [rng.randint(5, 40) for _ in range(WEEKEND_CHATS - 4)]
    rng.shuffle(counts)
    start = time.time() - 3 * 86400
    old: list[JsonDict] = []
    for n, (phone, name) in enumerate(chats.items()):
        store_chat(store, phone, name)
        for k in range(2):
            old.append(state.incoming(phone, f"{name} before {k}", name, None, start + n * 120 + k))
    # What Parley captured before it was closed (the same ids, as the driver would have stored them).
    record_messages(
        store,
        [
            CapturedMessage(
                wa_id=m["id"],
                chat_jid=m["chat"],
                from_me=False,
                push_name=m["author"],
                body=m["text"],
                timestamp=datetime.fromtimestamp(m["timestamp"], UTC),
            )
            for m in old
        ],
    )
    ids = [m["id"] for m in old]
    weekend = time.time() - 86400
    order = list(chats.items())
    for round_ in range(max(counts)):
        rng.shuffle(order)
        for phone, name in order:
            if counts[int(phone[-4:])] > round_:
                ts = weekend + round_ * 600 + rng.random() * 500
                ids.append(state.incoming(phone, f"{name} weekend {round_}", name, None, ts)["id"])
    return chats, ids


@pytest.mark.parametrize("variant", ["classic", "2026"])  # role=row rows and serialized ids / listitem and bare ids
def test_catch_up_reads_every_chat_of_the_virtualized_list_newest_first(
    driver_runner: DriverRunner,
    store: Store,
    server: ImitationServer,
    control: ImitationControl,
    variant: str,
) -> None:
    """A weekend of messages in 60 chats while Parley was closed: after connecting every message is in the store
    once, chats the list only renders once scrolled to included; the newest chats are read first; a message queued
    meanwhile is sent during the catch-up (between two chats), not after it; a page reload between two chats does
    not stop it."""
    control.configure(variant=variant)

    async def scenario() -> None:
        chats, ids = await asyncio.to_thread(_weekend, server, store, random.Random(14))
        target = store_chat(store, "6594000007", "Weekend 07")
        reply = queue_outbound(store, target.id, "Thanks, we reopen on Monday")
        driver = driver_runner.driver()
        sender = Sender(driver, store, Humanizer(FAST, random.Random(7)), NO_QUIET)
        async with driver_runner.connected(driver):
            # The page is virtualized as WhatsApp's is: most of the 60 chats are not in the DOM.
            shown = await driver.page.evaluate("() => window.__parleyScan().chats.length")
            assert shown < WEEKEND_CHATS / 2, shown
            await driver.wait_until(lambda: driver.chats_opened >= 2, 60)
            outcome = await sender.send_next()
            assert outcome.kind == "sent", outcome
            assert driver.last_backfill is None  # sent between two chats of the catch-up
            # The page reloads between two steps (as the sender's /send?phone= does): the walk goes on where it was.
            async with driver.ui_lock:
                await driver.page.reload()
                await driver.page.wait_for_function("() => window.__parleyScan().chats.length > 0")
            assert driver.last_backfill is None
            await driver.wait_until(lambda: driver.last_backfill is not None, 240)
            result = driver.last_backfill
            assert result is not None
            assert driver.last_error is None
            stored = stored_wa_ids(store)
            sent = store.messages.get(reply.id).wa_id
            missing = set(ids) - set(stored)
            assert not missing, f"{len(missing)} of {len(ids)} messages missing"
            assert sorted(stored) == sorted([*ids, sent])  # each once
            assert set(result.opened) == set(chats.values())
            # Newest first: the chats were read in the order of their latest message (the reply aside, which
            # moved its chat to the top while the catch-up ran).
            state = await asyncio.to_thread(control.state)
            latest = {c["name"]: max(m["timestamp"] for m in c["messages"] if not m["from_me"]) for c in state["chats"]}
            others = [name for name in result.opened if name != target.title]
            assert others == sorted(others, key=lambda name: -latest[name])
            assert [m["text"] for m in page_sent(state)] == ["Thanks, we reopen on Monday"]
            # The list is back at the top, where the next messages show up.
            assert await driver.page.evaluate("() => document.querySelector('#pane-side').scrollTop") == 0

    driver_runner.run(scenario, timeout=300)
