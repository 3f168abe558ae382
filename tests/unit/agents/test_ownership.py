"""Who owns a conversation (app/agents/ownership.py, app/store/ops/ownership.py) and the guarded automated send
(app/store/ops/agent_send.py), through the orchestrator on a real SQLCipher store: a message typed on the phone
(recorded by intake, no agent on it) pauses the AI, "Hand back" resumes it, a person's message committed between the
agent's decision and its send drops the send, and a device that does not hold the WhatsApp session only drafts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.agents import configs
from app.agents.context import NOT_SENDING_DEVICE, OWNED_BY_PERSON, STALE
from app.agents.orchestrator import Orchestrator
from app.agents.ownership import owner_sentence, ownership
from app.core.events import MessageReceived
from app.core.loops import LoopThread
from app.core.models import AgentExecution
from app.store import keys
from app.store.database import Database
from app.store.ops import messages as message_ops
from app.store.ops import ownership as ownership_ops
from app.store.store import Store
from tests.unit.agents.orchestrator_support import Clock, Replier, chat_of, customer_says, typed_on_phone
from tests.unit.store.test_sending_device import pull_claim

ORG = "0190a000-0000-7000-8000-0000000000dd"
PHONE = "34611111111"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(Database.open(tmp_path / "w.db", keys.random_key()), ORG)
    store.orgs.create(id=ORG, name="Tea shop", timezone="Europe/Madrid")
    configs.save(
        store,
        "acquisition",
        enabled=True,
        mode="autopilot",
        config={"debounce_seconds": 0, "cooldown_seconds": 0, "rate_per_minute": 60},
    )
    yield store
    store.close()


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    loop = LoopThread("parley-service")
    yield loop
    loop.close()


def rows(store: Store) -> list[AgentExecution]:
    return store.agent_executions.find_all({"agent": "acquisition"})


def automated(store: Store, chat_id: str) -> list[str]:
    return [m.body for m in store.messages.for_chat(chat_id) if m.sent_by_agent is not None]


def pump(loop: LoopThread, orchestrator: Orchestrator, clock: Clock) -> None:
    clock.catch_up()
    loop.run(orchestrator.run_pending(), timeout=30)


def test_the_owner_is_derived_and_said(store: Store) -> None:
    customer_says(store, PHONE, "hi")
    chat = chat_of(store, PHONE)
    assert ownership(store, chat.id).kind == "autopilot"
    configs.save(store, "acquisition", mode="draft")
    assert owner_sentence(store, chat.id)[1] == "AI drafts"
    ownership_ops.hand_back(store, chat.id, mode="autopilot")  # the chat's own mode wins over the agent's
    assert owner_sentence(store, chat.id)[1] == "AI autopilot"

    ana = store.users.create(name="Ana")
    ownership_ops.take_over(store, chat.id, user_id=ana.id)
    owner, said = owner_sentence(store, chat.id)
    assert (owner.kind, owner.person_name, said) == ("person", "Ana", "A person: Ana")
    ownership_ops.hand_back(store, chat.id)
    assert ownership(store, chat.id).kind == "draft"  # back to the agent's mode (the takeover's 'off' cleared)


def test_a_message_typed_on_the_phone_pauses_the_ai_and_hand_back_resumes_it(store: Store, loop: LoopThread) -> None:
    clock = Clock()
    orchestrator = Orchestrator(store, [Replier()], loop=loop, clock=clock)
    pump(loop, orchestrator, clock)
    customer_says(store, PHONE, "is the green tea in stock?")
    chat = chat_of(store, PHONE)
    typed_on_phone(store, PHONE, "yes! I'll bring it tomorrow")  # recorded by intake: outbound, no agent on it
    clock.catch_up()
    assert ownership(store, chat.id, now=clock.now).kind == "paused"

    loop.run(orchestrator.run_pending(), timeout=30)  # the customer's turn: a person owns the chat now
    customer_says(store, PHONE, "thanks")
    pump(loop, orchestrator, clock)
    assert [r.skip_reason for r in rows(store)] == [OWNED_BY_PERSON, OWNED_BY_PERSON]
    assert automated(store, chat.id) == []

    ownership_ops.hand_back(store, chat.id)
    assert ownership(store, chat.id).kind == "autopilot"
    customer_says(store, PHONE, "and the black one?")
    pump(loop, orchestrator, clock)
    assert rows(store)[-1].action == "sent"
    assert automated(store, chat.id) == ["Thanks, on it!"]


def test_the_pause_ends_by_itself(store: Store) -> None:
    customer_says(store, PHONE, "hi")
    chat = chat_of(store, PHONE)
    at = datetime(2026, 12, 7, 13, 2, tzinfo=UTC)
    typed_on_phone(store, PHONE, "hello", at=at)
    owner, said = owner_sentence(store, chat.id, now=at + timedelta(minutes=3))
    assert owner.until == datetime(2026, 12, 8, 1, 2, tzinfo=UTC)  # the pause: 12 h by default
    assert said == "Paused: someone on the phone or WhatsApp Web took over at 14:02 (until 02:02 tomorrow)"  # Madrid
    assert ownership(store, chat.id, now=at + timedelta(hours=11)).kind == "paused"
    assert ownership(store, chat.id, now=at + timedelta(hours=12, seconds=1)).kind == "autopilot"
    configs.save(store, "acquisition", config={"pause_hours": 2})
    assert ownership(store, chat.id, now=at + timedelta(hours=3)).kind == "autopilot"


def test_a_reply_typed_in_parley_pauses_the_ai_with_the_persons_name(store: Store) -> None:
    bea = store.users.create(name="Bea")
    store.set_meta("user_id", bea.id)
    customer_says(store, PHONE, "hi")
    chat = chat_of(store, PHONE)
    message_ops.queue_message(store, chat.id, "Hi! Bea here")
    owner, said = owner_sentence(store, chat.id)
    assert (owner.kind, owner.person_name) == ("paused", "Bea")
    assert said.startswith("Paused: Bea took over at ")


def test_a_takeover_between_decision_and_send_drops_the_send(store: Store, loop: LoopThread) -> None:
    async def person_replies_on_the_phone(event: MessageReceived) -> None:
        await asyncio.to_thread(typed_on_phone, store, PHONE, "I'll handle this one")

    clock = Clock()
    orchestrator = Orchestrator(store, [Replier(before_send=person_replies_on_the_phone)], loop=loop, clock=clock)
    pump(loop, orchestrator, clock)
    customer_says(store, PHONE, "can I pay on delivery?")
    chat = chat_of(store, PHONE)
    pump(loop, orchestrator, clock)

    [row] = rows(store)
    assert (row.skip_reason, row.action) == (OWNED_BY_PERSON, "drafted")
    assert row.detail["draft"] == ["Thanks, on it!"]
    assert automated(store, chat.id) == []
    assert [m for m in store.messages.send_queue() if m.chat_id == chat.id] == []


def test_a_newer_customer_message_makes_the_send_stale(store: Store, loop: LoopThread) -> None:
    async def customer_writes_again(event: MessageReceived) -> None:
        await asyncio.to_thread(customer_says, store, PHONE, "actually, two of them")

    clock = Clock()
    replier = Replier(before_send=customer_writes_again)
    orchestrator = Orchestrator(store, [replier], loop=loop, clock=clock)
    pump(loop, orchestrator, clock)
    customer_says(store, PHONE, "one green tea please")
    chat = chat_of(store, PHONE)
    replier_runs_once = Replier()  # the second turn, answered by an agent that does not interfere
    pump(loop, orchestrator, clock)
    assert [r.skip_reason for r in rows(store)] == [STALE]
    assert automated(store, chat.id) == []

    orchestrator = Orchestrator(store, [replier_runs_once], loop=loop, clock=clock)
    pump(loop, orchestrator, clock)
    assert rows(store)[-1].action == "sent"  # the newer message got its own turn
    assert automated(store, chat.id) == ["Thanks, on it!"]


def test_a_device_that_does_not_hold_the_number_only_drafts(store: Store, loop: LoopThread) -> None:
    pull_claim(store, linked_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC))  # a teammate's laptop holds WhatsApp
    clock = Clock()
    orchestrator = Orchestrator(store, [Replier()], loop=loop, clock=clock)
    pump(loop, orchestrator, clock)
    customer_says(store, PHONE, "hello?")
    chat = chat_of(store, PHONE)
    pump(loop, orchestrator, clock)
    [row] = rows(store)
    assert (row.skip_reason, row.action, row.detail["draft"]) == (NOT_SENDING_DEVICE, "drafted", ["Thanks, on it!"])
    assert automated(store, chat.id) == []


def test_drafts_only_and_an_agent_switched_off(store: Store, loop: LoopThread) -> None:
    customer_says(store, PHONE, "hi")
    chat = chat_of(store, PHONE)
    ownership_ops.hand_back(store, chat.id, mode="draft")  # this chat: AI drafts, the agent on autopilot
    clock = Clock()
    orchestrator = Orchestrator(store, [Replier()], loop=loop, clock=clock)
    pump(loop, orchestrator, clock)
    customer_says(store, PHONE, "how much is the green tea?")
    pump(loop, orchestrator, clock)
    [row] = rows(store)
    assert (row.skip_reason, row.action, row.detail["draft"]) == ("drafts_only", "drafted", ["Thanks, on it!"])
    assert automated(store, chat.id) == []

    configs.save(store, "acquisition", enabled=False)  # the chat's own mode means nothing while the agent is off
    assert owner_sentence(store, chat.id)[1] == "A person (nobody assigned)"
