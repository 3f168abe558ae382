"""History backfill on connect, against the WhatsApp Web imitation: real headless Chromium, real SQLCipher store.

Fixtures and helpers come from ``conftest``. Waits are on conditions (``driver.wait_until``), never sleeps.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from app.store.store import Store
from app.whatsapp.backfill import BACKFILL_MESSAGES
from app.whatsapp.profile import Profile
from tests.whatsapp.conftest import WAIT, Recorder, connect, make_driver, run, stored_wa_ids
from tests.whatsapp.imitation_server import ImitationControl, ImitationServer

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
    loop: asyncio.AbstractEventLoop,
    store: Store,
    profile: Profile,
    tmp_path: Path,
    server: ImitationServer,
    control: ImitationControl,
) -> None:
    async def scenario() -> None:
        history = await asyncio.to_thread(_load_history, control)
        assert len(history) == 3 * HISTORY

        driver = make_driver(store, profile, tmp_path, server, Recorder())
        await connect(driver, control)
        try:
            await driver.wait_until(lambda: driver.last_backfill is not None, 60)
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
        finally:
            await driver.stop()

        # A restart on the same store: every chat's latest message is already there, so nothing is opened.
        again = make_driver(store, profile, tmp_path, server, Recorder())
        await connect(again, control)
        try:
            await again.wait_until(lambda: again.last_backfill is not None, WAIT)
            result = again.last_backfill
            assert result is not None
            assert result.considered == 3
            assert result.opened == ()
            assert again.chats_opened == 0
            assert (await asyncio.to_thread(control.state))["chat_opens"] == 3
            assert store.messages.count() == len(history)
            assert again.captured == 0
            assert again.last_error is None
        finally:
            await again.stop()

        # Two messages for Bob while Parley was closed: only Bob's chat is opened, and only what is new is read
        # (its oldest rendered row is already stored, so it does not scroll back).
        late = [(await asyncio.to_thread(control.incoming, "6590000002", f"late {n}", "Bob"))["id"] for n in range(2)]
        third = make_driver(store, profile, tmp_path, server, Recorder())
        await connect(third, control)
        try:
            await third.wait_until(lambda: third.last_backfill is not None, WAIT)
            result = third.last_backfill
            assert result is not None
            assert result.opened == ("Bob",)
            assert result.rows_seen < HISTORY
            assert third.captured == 2
            assert sorted(stored_wa_ids(store)) == sorted([*history, *late])
            assert third.last_error is None
        finally:
            await third.stop()

    run(loop, scenario, timeout=120)
