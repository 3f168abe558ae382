"""The number's one budget for automated messages, against the imitation (real headless Chromium, real SQLCipher):
retention-like and autopilot-like messages queued with ``sent_by_agent`` and a person's reply queued behind them →
the person's goes first; the automated ones keep the random gap and pause after each batch; while automated sending
is halted they wait and a person's reply still goes.

The sender's clock is the test's: when the sender answers ``waiting`` the clock moves to the ``not_before`` it gives,
so the pace is checked exactly (no sleeps, no timed assertions) while the page is typed into for real.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from app.store.messaging import queue_outbound
from app.store.ops.agent_send import AutomatedSend, send_automated
from app.store.ops.automation import RATE_LIMITED, halt
from app.store.store import Store
from app.whatsapp.humanizer import Humanizer
from app.whatsapp.pacing import Pace
from app.whatsapp.sender import Sender, SendOutcome
from tests.support.whatsapp_fixtures import FAST, NO_QUIET, DriverRunner, caught_up, page_sent, store_chat
from tests.whatsapp.imitation_server import ImitationControl

PEOPLE = {"6590000011": "Alice", "6590000012": "Bob", "6590000013": "Cara", "6590000014": "Dan", "6590000015": "Eve"}
PACE = Pace(gap_min_seconds=0.3, gap_max_seconds=0.6, windows=(), batch_size=2, batch_pause_seconds=2.0)


class Clock:
    """To the millisecond, as the store keeps times, so a send's ``sent_at`` is exactly the clock's time."""

    def __init__(self) -> None:
        self.now = whole_ms(datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now


def automated(store: Store, chat_id: str, text: str, agent: str) -> str:
    """Queued the way the agents queue (no human author, ``sent_by_agent`` set)."""
    send = AutomatedSend(chat_id=chat_id, bodies=[text], agent=agent, execution_id=f"run-{agent}", answering=None)
    result = send_automated(store, send, recheck=lambda: None, holds=lambda _store: True).value
    assert len(result.queued) == 1, result
    return result.queued[0].id


def whole_ms(moment: datetime) -> datetime:
    ms = -(-moment.microsecond // 1000)
    return moment.replace(microsecond=0) + timedelta(milliseconds=ms)


async def drain(sender: Sender, clock: Clock, limit: int = 20) -> list[SendOutcome]:
    """Send until idle, moving the clock to each ``waiting`` outcome's time; stop at a halt's wait."""
    outcomes: list[SendOutcome] = []
    for _ in range(limit):
        outcome = await sender.send_next()
        if outcome.kind == "idle":
            break
        outcomes.append(outcome)
        assert outcome.kind in ("sent", "waiting"), outcome
        if outcome.kind == "waiting":
            if outcome.reason.startswith("automated sending is stopped"):
                break
            assert outcome.not_before is not None
            clock.now = max(clock.now, whole_ms(outcome.not_before))
    return outcomes


def test_a_persons_reply_goes_first_and_automated_messages_keep_the_pace(
    driver_runner: DriverRunner, store: Store, control: ImitationControl
) -> None:
    chats = {}
    for phone, name in PEOPLE.items():
        control.add_chat(phone, name)
        chats[name] = store_chat(store, phone, name)
    queued = [
        automated(store, chats["Alice"].id, "Time for a refill of your coffee beans?", "retention"),
        automated(store, chats["Bob"].id, "Yes, the blue one is in stock.", "autopilot"),
        automated(store, chats["Cara"].id, "How is the grinder working out?", "retention"),
        automated(store, chats["Dan"].id, "We open at nine tomorrow.", "autopilot"),
    ]
    reply = queue_outbound(store, chats["Eve"].id, "Hi Eve, I'll bring it by myself").id  # a person's, queued last
    clock = Clock()
    driver = driver_runner.driver()
    sender = Sender(driver, store, Humanizer(FAST, random.Random(11)), NO_QUIET, clock=clock, pace=PACE)

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            await caught_up(driver)
            outcomes = await drain(sender, clock)
            sent = [o.message_id for o in outcomes if o.kind == "sent"]
            assert sent == [reply, *queued], outcomes
            typed = [m["text"] for m in page_sent(await asyncio.to_thread(control.state))]
            assert len(typed) == 5, typed  # each typed into the page once (page_sent groups them by chat)

            at = {m: store.messages.get(m).sent_at for m in sent}
            waits = [o for o in outcomes if o.kind == "waiting"]
            gaps = [o for o in waits if o.reason == "pause between automated messages"]
            batch = [o for o in waits if o.reason == "pause after 2 automated messages"]
            assert len(gaps) == 2, waits  # Alice → Bob and Cara → Dan: a random gap each
            assert len(batch) == 1, waits  # after Alice and Bob: the batch of two is over
            for before, after in ((queued[0], queued[1]), (queued[2], queued[3])):
                gap = at[after] - at[before]
                assert timedelta(seconds=0.3) <= gap <= timedelta(seconds=0.601), (before, after, gap)
            assert at[queued[2]] - at[queued[1]] >= timedelta(seconds=2), "the pause after the batch"
            assert batch[0].not_before == at[queued[1]] + timedelta(seconds=2)

    driver_runner.run(scenario, timeout=90)


def test_while_halted_automated_messages_wait_and_a_persons_reply_goes(
    driver_runner: DriverRunner, store: Store, control: ImitationControl
) -> None:
    for phone, name in list(PEOPLE.items())[:2]:
        control.add_chat(phone, name)
    alice, bob = (store_chat(store, p, n) for p, n in list(PEOPLE.items())[:2])
    follow_up = automated(store, alice.id, "Time for a refill of your coffee beans?", "retention")
    answer = automated(store, bob.id, "Yes, the blue one is in stock.", "autopilot")
    reply = queue_outbound(store, bob.id, "Bob, I'll call you in five minutes").id
    halt(store, RATE_LIMITED, "WhatsApp says this number is sending too many messages.")
    clock = Clock()
    driver = driver_runner.driver()
    sender = Sender(driver, store, Humanizer(FAST, random.Random(5)), NO_QUIET, clock=clock, pace=PACE)

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            await caught_up(driver)
            outcomes = await drain(sender, clock)
            assert next((o.kind, o.message_id) for o in outcomes) == ("sent", reply), outcomes
            assert outcomes[-1].kind == "waiting", outcomes
            assert "too many messages" in outcomes[-1].reason
            assert [store.messages.get(m).status for m in (follow_up, answer)] == ["queued", "queued"]
            typed = [m["text"] for m in page_sent(await asyncio.to_thread(control.state))]
            assert typed == ["Bob, I'll call you in five minutes"]

    driver_runner.run(scenario, timeout=60)
