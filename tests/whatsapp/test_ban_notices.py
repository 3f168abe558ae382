"""WhatsApp's notices against the imitation (real headless Chromium, real SQLCipher store): a rate-limit or ban
notice stops every automated sender at once while a person's reply still goes; a number WhatsApp does not know
fails with the reason a campaign skips on.

Waits are on conditions (``driver.wait_until``, the imitation's long-poll), never sleeps.
"""

from __future__ import annotations

import asyncio
import random

from app.core.events import AutomationHalted
from app.store.messaging import queue_outbound
from app.store.ops.agent_send import AutomatedSend, send_automated
from app.store.ops.automation import BANNED, RATE_LIMITED, halted, resume
from app.store.store import Store
from app.whatsapp.humanizer import Humanizer
from app.whatsapp.notices import NOT_ON_WHATSAPP, not_on_whatsapp
from app.whatsapp.sender import Sender
from tests.support.whatsapp_fixtures import FAST, NO_QUIET, WAIT, DriverRunner, caught_up, page_sent, store_chat
from tests.whatsapp.imitation_server import ImitationControl

ALICE, BOB, CARA, DAN = "6590000001", "6590000002", "6590000003", "6590000004"


def automated(store: Store, chat_id: str, text: str) -> str:
    """A campaign's message, queued the way every automated sender queues (no human author)."""
    send = AutomatedSend(chat_id=chat_id, bodies=[text], agent="campaign", execution_id="run-1", answering=None)
    result = send_automated(store, send, recheck=lambda: None, holds=lambda _store: True).value
    assert len(result.queued) == 1, result
    return result.queued[0].id


def events_named(store: Store, name: str) -> int:
    with store.db.read() as conn:
        return int(conn.execute("SELECT count(*) FROM events WHERE name = ?", (name,)).fetchone()[0])


def test_rate_limit_notice_mid_queue_stops_automated_sending_but_not_a_persons_reply(
    driver_runner: DriverRunner, store: Store, control: ImitationControl
) -> None:
    for phone, name in ((ALICE, "Alice"), (BOB, "Bob"), (CARA, "Cara")):
        control.add_chat(phone, name)
    alice, bob, cara = (store_chat(store, p, n) for p, n in ((ALICE, "Alice"), (BOB, "Bob"), (CARA, "Cara")))
    first = automated(store, alice.id, "Spring sale: 20% off this week")
    held = [automated(store, bob.id, "Spring sale for Bob"), automated(store, cara.id, "Spring sale for Cara")]
    driver = driver_runner.driver()
    sender = Sender(driver, store, Humanizer(FAST, random.Random(7)), NO_QUIET)

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            await caught_up(driver)
            outcome = await sender.send_next()
            assert (outcome.kind, outcome.message_id) == ("sent", first), outcome

            await asyncio.to_thread(control.notice, "rate_limited")
            # Halted, and the warning popup closed again so the page takes a person's reply.
            await driver.wait_until(lambda: halted(store) is not None and driver.notice is None, WAIT)
            halt = halted(store)
            assert halt is not None
            assert halt.code == RATE_LIMITED
            assert "too many messages" in halt.sentence
            assert "own replies still go" in halt.sentence

            reply = queue_outbound(store, bob.id, "Yes, we have it in blue")  # a person's own reply
            outcomes = await sender.run_until_empty()
            assert next((o.kind, o.message_id) for o in outcomes) == ("sent", reply.id), outcomes
            assert all(o.kind != "sent" for o in outcomes[1:]), outcomes
            assert store.messages.get(reply.id).status == "sent"
            assert [store.messages.get(m).status for m in held] == ["queued", "queued"]
            typed = [m["text"] for m in page_sent(await asyncio.to_thread(control.state))]
            assert sorted(typed) == sorted(["Spring sale: 20% off this week", "Yes, we have it in blue"])

            # The notice again while halted: no second alert.
            await asyncio.to_thread(control.notice, "rate_limited")
            await driver.wait_until(lambda: driver.notice is not None, WAIT)
            await driver.wait_until(lambda: driver.notice is None and driver.idle, WAIT)
            assert events_named(store, AutomationHalted.name) == 1

            # A person resumes: the campaign goes on.
            assert resume(store).value
            await sender.run_until_empty()
            assert [store.messages.get(m).status for m in held] == ["sent", "sent"]

    driver_runner.run(scenario, timeout=60)


def test_ban_screen_halts_with_banned(driver_runner: DriverRunner, store: Store, control: ImitationControl) -> None:
    control.add_chat(ALICE, "Alice")
    alice = store_chat(store, ALICE, "Alice")
    queued = automated(store, alice.id, "Your order shipped")
    driver = driver_runner.driver()
    sender = Sender(driver, store, Humanizer(FAST, random.Random(7)), NO_QUIET)

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            await caught_up(driver)
            await asyncio.to_thread(control.notice, "temp_banned")
            await driver.wait_until(lambda: halted(store) is not None, WAIT)
            halt = halted(store)
            assert halt is not None
            assert halt.code == BANNED
            assert "temporarily banned from WhatsApp" in halt.sentence
            assert "Open WhatsApp on the phone" in halt.sentence
            assert driver.notice is not None
            assert driver.notice["name"] == "account_temporarily_banned"
            assert events_named(store, AutomationHalted.name) == 1
            outcome = await sender.send_next()
            assert outcome.kind != "sent", outcome
            assert store.messages.get(queued).status == "queued"
            assert page_sent(await asyncio.to_thread(control.state)) == []

    driver_runner.run(scenario)


def test_banned_account_screen_halts_with_banned(
    driver_runner: DriverRunner, store: Store, control: ImitationControl
) -> None:
    driver = driver_runner.driver()

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            await caught_up(driver)
            await asyncio.to_thread(control.notice, "banned")
            await driver.wait_until(lambda: halted(store) is not None, WAIT)
            halt = halted(store)
            assert halt is not None
            assert halt.code == BANNED
            assert "not allowed to use WhatsApp" in halt.sentence

    driver_runner.run(scenario)


def test_a_number_not_on_whatsapp_fails_with_its_own_reason(
    driver_runner: DriverRunner, store: Store, control: ImitationControl
) -> None:
    control.add_chat(ALICE, "Alice")
    control.not_on_whatsapp(DAN)
    alice = store_chat(store, ALICE, "Alice")
    dan = store_chat(store, DAN, "+6590000004")  # not in WhatsApp's chat list: opened through /send?phone=
    lost = automated(store, dan.id, "Welcome to our shop")
    after = automated(store, alice.id, "Thanks for your order")
    driver = driver_runner.driver()
    sender = Sender(driver, store, Humanizer(FAST, random.Random(7)), NO_QUIET)

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            await caught_up(driver)
            outcome = await sender.send_next()
            assert (outcome.kind, outcome.message_id, outcome.reason) == ("failed", lost, NOT_ON_WHATSAPP)
            failed = store.messages.get(lost)
            assert failed.status == "failed"
            assert not_on_whatsapp(failed.status_reason)
            assert halted(store) is None  # one unknown number is not a reason to stop the others
            # The modal was closed: the next message goes.
            assert await driver.page.locator("[data-animate-modal-popup]").count() == 0
            outcome = await sender.send_next()
            assert (outcome.kind, outcome.message_id) == ("sent", after), outcome

    driver_runner.run(scenario, timeout=40)


def test_a_customer_quoting_a_notice_does_not_stop_anything(
    driver_runner: DriverRunner, store: Store, control: ImitationControl
) -> None:
    """Notices are matched in WhatsApp's popups only: the same words in a chat (the open one or the list) are a
    customer's, not WhatsApp's."""
    control.add_chat(ALICE, "Alice")
    driver = driver_runner.driver()
    words = "Are you sending too many messages? You're temporarily banned from WhatsApp, haha"

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            await caught_up(driver)
            await asyncio.to_thread(control.incoming, ALICE, words, "Alice")
            await driver.wait_until(lambda: store.messages.count({"direction": "in"}) == 1 and driver.idle, WAIT)
            assert await driver.page.evaluate("() => window.__parleyScan().header") == "Alice"  # shown in #main
            assert driver.notice is None
            assert halted(store) is None

    driver_runner.run(scenario)
