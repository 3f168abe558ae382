"""The sender against the WhatsApp Web imitation: real headless Chromium, real SQLCipher store, tiny seeded timings.

Fixtures and the event-loop runner come from ``conftest``. Waits are on conditions (``driver.wait_until``, the
imitation's long-poll ``wait_for``), always with a timeout; the test itself never sleeps (the sender's keystroke
delays are a few milliseconds from the seeded humanizer).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime

from app.store.messaging import queue_outbound
from app.store.store import Store
from app.whatsapp.humanizer import Humanizer
from app.whatsapp.limits import SendLimits
from app.whatsapp.profile import Profile
from app.whatsapp.sender import Sender
from tests.support.whatsapp_fixtures import FAST, NO_QUIET, WAIT, DriverRunner, page_sent, store_chat
from tests.whatsapp.imitation_server import ImitationControl

ALICE, BOB, CARA = "6590000001", "6590000002", "6590000003"


def humanizer() -> Humanizer:
    return Humanizer(FAST, random.Random(7))


def test_sends_queue_and_follows_acks(
    driver_runner: DriverRunner,
    store: Store,
    control: ImitationControl,
) -> None:
    control.add_chat(ALICE, "Alice")
    control.add_chat(BOB, "Bob")
    alice = store_chat(store, ALICE, "Alice")
    bob = store_chat(store, BOB, "Bob")
    texts = [
        (alice, "Hello Alice, your order is ready"),
        (bob, "Hi Bob!"),
        (alice, "Größe M ist da — 🎉 schön, oder?"),
        (bob, "Second line for Bob: 50% off"),
        (alice, "See you tomorrow"),
    ]
    queued = [queue_outbound(store, chat.id, text) for chat, text in texts]
    driver = driver_runner.driver()
    sender = Sender(driver, store, humanizer(), NO_QUIET)

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            outcomes = await sender.run_until_empty()
            assert [o.kind for o in outcomes] == ["sent"] * 5, outcomes
            assert [o.message_id for o in outcomes] == [m.id for m in queued]
            stored = [store.messages.get(m.id) for m in queued]
            assert all(m.status == "sent" for m in stored), [(m.body, m.status) for m in stored]
            wa_ids = [m.wa_id for m in stored]
            assert None not in wa_ids
            assert len(set(wa_ids)) == 5
            assert store.messages.send_queue() == []

            state = await asyncio.to_thread(control.state)
            sent = page_sent(state)
            assert sorted(m["text"] for m in sent) == sorted(text for _, text in texts)
            assert {m["id"] for m in sent} == set(wa_ids)
            by_chat = {m["id"]: m["chat"] for m in sent}
            for message, (chat, _) in zip(stored, texts, strict=True):
                assert by_chat[message.wa_id] == chat.wa_chat_id
            assert store.messages.count({"direction": "out"}) == 5  # adopted, never inserted a second time

            def status_is(message_id: str, wanted: str) -> Callable[[], bool]:
                return lambda: store.messages.get(message_id).status == wanted

            # Acks of the open chat (Alice's, the last one used) move the store's status forward.
            last = stored[-1]
            assert last.wa_id is not None
            await asyncio.to_thread(control.ack, last.wa_id, 2)
            await driver.wait_until(status_is(last.id, "delivered"), WAIT)
            await asyncio.to_thread(control.ack, last.wa_id, 3)
            await driver.wait_until(status_is(last.id, "read"), WAIT)
            assert driver.last_error is None

    driver_runner.run(scenario, timeout=40)


def test_typing_message_already_on_whatsapp_is_recovered_not_retyped(
    driver_runner: DriverRunner,
    store: Store,
    control: ImitationControl,
) -> None:
    """We died after Enter: WhatsApp holds the message, the store still says ``typing`` and never saw the row."""
    text = "Your parcel left today ✓"
    chat = store_chat(store, CARA, "+6590000003")
    message = queue_outbound(store, chat.id, text)
    store.messages.update(message.id, status="typing")
    driver = driver_runner.driver()
    sender = Sender(driver, store, humanizer(), NO_QUIET)

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            # What the page's Enter does (POST /__page/send), for a chat the page lists but nobody opened since:
            # the driver sees the chat-list row for the first time without a badge, so it does not capture it.
            await asyncio.to_thread(control.request, "POST", "/__page/send", {"chat": CARA, "text": text})
            await driver.page.wait_for_function(
                "(t) => (window.__parleyScan().chats || []).some((c) => c.title === t)", arg=chat.title
            )
            assert store.messages.get(message.id).wa_id is None

            outcome = await sender.send_next()
            assert outcome.kind == "recovered", outcome
            stored = store.messages.get(message.id)
            assert stored.status == "sent"
            assert stored.wa_id is not None
            assert outcome.wa_id == stored.wa_id
            assert (await sender.send_next()).kind == "idle"

            state = await asyncio.to_thread(control.state)
            assert [m["id"] for m in page_sent(state) if m["text"] == text] == [stored.wa_id]  # once, not retyped
            assert store.messages.count({"direction": "out"}) == 1

    driver_runner.run(scenario)


def test_quiet_hours_wait_and_type_nothing(
    driver_runner: DriverRunner,
    store: Store,
    profile: Profile,
    control: ImitationControl,
) -> None:
    control.add_chat(ALICE, "Alice")
    chat = store_chat(store, ALICE, "Alice")
    message = queue_outbound(store, chat.id, "Late night offer")
    night = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # default quiet hours 22:00-08:00 UTC
    driver = driver_runner.driver()
    sender = Sender(driver, store, humanizer(), SendLimits(), clock=lambda: night)

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            # The driver's own catch-up after connecting may open chats to read them: let it finish, so what the
            # page shows next is the sender's doing alone (asserting "no chat open" raced that catch-up).
            await driver.wait_until(lambda: driver.last_backfill is not None, WAIT)
            header = await driver.page.evaluate("() => window.__parleyScan().header")
            outcome = await sender.send_next()
            assert outcome.kind == "waiting"
            assert outcome.reason == "quiet hours"
            assert outcome.not_before == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
            assert store.messages.get(message.id).status == "queued"
            assert page_sent(await asyncio.to_thread(control.state)) == []
            assert await driver.page.evaluate("() => window.__parleyScan().header") == header  # no chat opened
            for composer in await driver.page.locator(profile.entry("composer").selectors[0]).all():
                assert (await composer.inner_text()).strip() == ""  # nothing typed

    driver_runner.run(scenario)
