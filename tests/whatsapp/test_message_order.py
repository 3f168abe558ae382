"""The order of a chat is the page's order (issue 16.1): real headless Chromium against the WhatsApp Web imitation.

The seller's reply goes out through the sender; the customer answers within the same minute. WhatsApp shows both as
"[HH:MM, date]", so only the page's row order says which came first: the store, the chat view and the history the
AI is given must all read reply-then-answer, and still after a restart.
"""

from __future__ import annotations

import asyncio
import math
import random

from pytestqt.qtbot import QtBot

from app.ai.grounding import gather
from app.store.messaging import queue_outbound
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.ui.models.chat_model import ChatModel
from app.whatsapp.humanizer import Humanizer
from app.whatsapp.sender import Sender
from tests.support.whatsapp_fixtures import FAST, NO_QUIET, WAIT, DriverRunner, page_sent
from tests.whatsapp.imitation_server import ImitationControl

ALICE = "6590000001"
QUESTION = "Do you have the jacket in blue?"
REPLY = "Yes! Size M is 59 €"
ANSWER = "Great, I'll take it"


def chat_view_bodies(store: Store, chat_id: str) -> list[str]:
    model = ChatModel(store)
    model.open(chat_id)
    return [item.text for item in (model.item(i) for i in range(model.rowCount())) if item.kind == "message"]


def test_customer_answer_in_the_reply_minute_stays_below_the_reply(
    driver_runner: DriverRunner,
    store: Store,
    workspaces: Workspaces,
    workspace_id: str,
    control: ImitationControl,
    qtbot: QtBot,
) -> None:
    control.add_chat(ALICE, "Alice")
    control.incoming(ALICE, QUESTION)
    driver = driver_runner.driver()
    sender = Sender(driver, store, Humanizer(FAST, random.Random(16)), NO_QUIET)
    expected = [QUESTION, REPLY, ANSWER]

    def has(body: str) -> bool:
        return any(m.body == body and m.wa_id for m in store.messages.find_all({"direction": "in"}))

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            # The catch-up read the question and is over (it closes the chat it opened: a reply sent meanwhile would
            # race it, and the answer could land in a chat it then marks as read; not what this test is about).
            await driver.wait_until(lambda: has(QUESTION) and driver.last_backfill is not None and driver.idle, WAIT)
            chat = store.chats.find_by_wa_chat_id(f"{ALICE}@c.us")
            assert chat is not None
            queue_outbound(store, chat.id, REPLY)
            outcome = await sender.send_next()
            assert outcome.kind == "sent", outcome
            # The customer answers within the minute WhatsApp shows for the reply.
            [sent] = [m for m in page_sent(await asyncio.to_thread(control.state)) if m["text"] == REPLY]
            minute = math.floor(sent["timestamp"] / 60) * 60
            await asyncio.to_thread(control.incoming, ALICE, ANSWER, None, None, minute + 1)
            await driver.wait_until(lambda: has(ANSWER) and driver.idle, WAIT)
            assert driver.last_error is None

    driver_runner.run(scenario, timeout=60)

    chat = store.chats.find_by_wa_chat_id(f"{ALICE}@c.us")
    assert chat is not None
    assert [m.body for m in store.messages.for_chat(chat.id)] == expected
    assert chat_view_bodies(store, chat.id) == expected
    assert [m.body for m in gather(store, chat.id).messages] == expected
    [row] = store.inbox()
    assert row.last_message_body == ANSWER

    # Restart: the order is what was stored, not recomputed from the times.
    store.close()
    reopened = workspaces.open(workspace_id)
    try:
        assert [m.body for m in reopened.messages.for_chat(chat.id)] == expected
        assert chat_view_bodies(reopened, chat.id) == expected
        assert [m.body for m in gather(reopened, chat.id).messages] == expected
    finally:
        reopened.close()
