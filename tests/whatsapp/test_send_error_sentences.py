"""A send that cannot start reaches the person as its sentence (issue 15: one error type for people).

Against the WhatsApp Web imitation (real Chromium, real SQLCipher store): a chat the page cannot open ends the
message ``failed`` with the ``SendFailed`` sentence as its reason (what the failed bubble shows), and the error is a
``ParleyError`` whose ``describe`` adds what to do next. Before, ``SendFailed`` was a plain ``Exception``: anything
that described it showed "Something went wrong: SendFailed: ...".
"""

from __future__ import annotations

import random

from app.core.errors import describe
from app.store.intake import CapturedChat, record_chat
from app.store.messaging import queue_outbound
from app.store.store import Store
from app.whatsapp.humanizer import Humanizer
from app.whatsapp.sender import Sender, SendFailed
from tests.support.whatsapp_fixtures import FAST, NO_QUIET, DriverRunner


def test_a_chat_the_page_cannot_open_fails_with_its_sentence(
    driver_runner: DriverRunner,
    store: Store,
) -> None:
    # A group the page's chat list does not show: no row to click, and a group has no number to open it by.
    group = record_chat(store, CapturedChat(chat_jid="120363000000000001@g.us", title="Market stall team"))
    message = queue_outbound(store, group.id, "Stock arrives on Friday")
    driver = driver_runner.driver()
    sender = Sender(driver, store, Humanizer(FAST, random.Random(7)), NO_QUIET)
    sentence = "the chat 'Market stall team' is not in the WhatsApp chat list and has no phone number"

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            outcome = await sender.send_next()
        assert (outcome.kind, outcome.message_id, outcome.reason) == ("failed", message.id, sentence)

    driver_runner.run(scenario, timeout=40)
    stored = store.messages.get(message.id)
    assert (stored.status, stored.status_reason) == ("failed", sentence)  # the failed bubble's reason
    assert describe(SendFailed(sentence)) == f"{sentence} {SendFailed.hint}"
