"""The acquisition agent driven by real customer messages (intake) through the real orchestrator, against a real
SQLCipher store and the local OpenAI-compatible server answering with scripted structured answers over HTTP
(litellm, the BYOK provider): suggest drafts and sends nothing; autopilot sends only inside its limits, each limit
naming its reason; hand-offs give the chat to a person and stop the AI; a takeover on the phone stops it, also
between its decision and its send; an answer that does not parse sends nothing; the lead is qualified and an agreed
sale is published."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.agents import configs
from app.agents.acquisition import AcquisitionAgent, confirm_sale
from app.agents.hours import WEEKDAYS
from app.agents.orchestrator import Orchestrator
from app.ai.byok import ByokProvider
from app.ai.litellm_loader import LitellmLoader
from app.core.events import ChatHandedOff, SaleAgreed, event_from_payload
from app.core.loops import LoopThread
from app.core.models import AgentExecution, Chat, Message
from app.store.ops.ownership import hand_back
from app.store.store import Store
from tests.ai.openai_server import Behaviour, OpenAIServer
from tests.support.ai_fixtures import byok
from tests.support.keyrings import InMemoryKeyring
from tests.unit.agents.orchestrator_support import Clock, chat_of, customer_says, typed_on_phone

MODEL = "acq-model"
ANA = "5511912345678"
BRUNO = "5511987654321"


def answer(**fields: Any) -> str:
    base: dict[str, Any] = {
        "messages": ["Hi! The Canvas Tote Bag is $12.50."],
        "action": "continue",
        "reason": "price question",
        "confidence": 0.9,
        "lead_score": 40,
        "stage": None,
        "sale": None,
    }
    return json.dumps(base | fields)


class Harness:
    def __init__(self, store: Store, provider: ByokProvider, server: OpenAIServer) -> None:
        self.store = store
        self.server = server
        self.clock = Clock()
        self.loop = LoopThread("parley-test-acquisition")
        self.orchestrator = Orchestrator(store, [AcquisitionAgent(lambda: provider)], loop=self.loop, clock=self.clock)
        self.loop.run(self.orchestrator.run_pending(), 60)  # the cursor starts here
        self.seen = 0

    def says(self, model_answer: str | Behaviour, body: str = "How much is the tote?", phone: str = ANA) -> Message:
        behaviour = model_answer if isinstance(model_answer, Behaviour) else Behaviour(text=model_answer)
        self.server.script(MODEL, behaviour)
        return customer_says(self.store, phone, body)

    def run(self) -> AgentExecution:
        self.clock.catch_up()
        self.loop.run(self.orchestrator.run_pending(), 60)
        runs = self.store.agent_executions.find_all({"agent": "acquisition"}, order_by="event_seq")
        assert len(runs) > self.seen
        self.seen = len(runs)
        return runs[-1]

    def close(self) -> None:
        self.orchestrator.close()
        self.loop.close()


def mode(store: Store, agent_mode: str, **limits: Any) -> None:
    config: dict[str, Any] = {"debounce_seconds": 0, "cooldown_seconds": 0, "rate_per_minute": 60}
    config["autopilot_limits"] = limits
    configs.save(store, "acquisition", enabled=True, mode=agent_mode, config=config)  # type: ignore[arg-type]


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    from tests.support.ai_fixtures import KEY

    running = OpenAIServer(keys={KEY}).start()
    yield running
    running.stop()


@pytest.fixture
def agent(
    store: Store, server: OpenAIServer, keyring_backend: InMemoryKeyring, loader: LitellmLoader
) -> Iterator[Harness]:
    store.orgs.update(store.org_id, timezone="Europe/Berlin", name="Casa Verde", business_hours={})
    store.products.create(name="Canvas Tote Bag", price_minor=1250, currency="USD")
    harness = Harness(store, byok(server, keyring_backend, loader, MODEL), server)
    try:
        yield harness
    finally:
        harness.close()


def automated(store: Store, chat_id: str) -> list[str]:
    return [m.body or "" for m in store.messages.for_chat(chat_id) if m.sent_by_agent == "acquisition"]


def logged(store: Store, name: str) -> list[Any]:
    with store.db.read() as conn:
        rows = conn.execute("SELECT name, payload FROM events WHERE name = ? ORDER BY seq", (name,)).fetchall()
    return [event_from_payload(n, json.loads(p)) for n, p in rows]


def staff(store: Store, *names: str) -> list[str]:
    return [store.users.create(name=n, role="staff").id for n in names]


def handed_to_a_person(chat: Chat, user_id: str) -> bool:
    return chat.ai_mode == "off" and chat.assigned_user_id == user_id


# ---- modes ---------------------------------------------------------------------------------------------------------
def test_suggest_writes_a_draft_and_sends_nothing(agent: Harness, store: Store) -> None:
    mode(store, "draft")
    message = agent.says(answer())
    run = agent.run()
    assert (run.status, run.action, run.skip_reason) == ("succeeded", "drafted", None)
    assert run.detail["draft"] == ["Hi! The Canvas Tote Bag is $12.50."]
    assert run.model
    assert run.tokens
    assert automated(store, message.chat_id) == []
    request = agent.server.calls(model=MODEL)[-1].body
    assert request["response_format"]["type"] == "json_schema"  # the structured mode, not a magic string
    assert "Canvas Tote Bag" in json.dumps(request["messages"])  # the products went into the prompt


def test_autopilot_sends_within_its_limits(agent: Harness, store: Store) -> None:
    mode(store, "autopilot")
    message = agent.says(answer())
    run = agent.run()
    assert (run.status, run.action) == ("succeeded", "sent")
    assert automated(store, message.chat_id) == ["Hi! The Canvas Tote Bag is $12.50."]


# ---- limits --------------------------------------------------------------------------------------------------------
def test_outside_hours_autopilot_only_drafts(agent: Harness, store: Store) -> None:
    day = WEEKDAYS[(datetime.now(ZoneInfo("Europe/Berlin")).weekday() + 3) % 7]
    store.orgs.update(store.org_id, business_hours={"week": {day: [{"start": "09:00", "end": "18:00"}]}})
    mode(store, "autopilot")
    message = agent.says(answer())
    run = agent.run()
    assert run.skip_reason == "outside_hours"
    assert run.detail["draft"] == ["Hi! The Canvas Tote Bag is $12.50."]
    assert automated(store, message.chat_id) == []


def test_the_daily_cap_per_contact(agent: Harness, store: Store) -> None:
    mode(store, "autopilot", max_replies_per_day=1)
    first = agent.says(answer())
    assert agent.run().action == "sent"
    agent.says(answer(messages=["Anything else?"]), body="and the mug?")
    run = agent.run()
    assert run.skip_reason == "daily_cap"
    assert automated(store, first.chat_id) == ["Hi! The Canvas Tote Bag is $12.50."]


def test_low_confidence_drafts_and_very_low_hands_off(agent: Harness, store: Store) -> None:
    mode(store, "autopilot", min_confidence=0.7, handoff_below_confidence=0.3)
    [bia] = staff(store, "Bia")
    message = agent.says(answer(confidence=0.5))
    run = agent.run()
    assert (run.skip_reason, run.action) == ("low_confidence", "drafted")
    assert automated(store, message.chat_id) == []
    agent.says(answer(confidence=0.1), body="hm?")
    run = agent.run()
    assert (run.action, run.skip_reason) == ("handed_off", "low_confidence")
    assert handed_to_a_person(store.chats.get(message.chat_id), bia)


def test_the_conversation_length_cap_hands_off(agent: Harness, store: Store) -> None:
    mode(store, "autopilot", max_replies_in_a_row=2)
    [bia] = staff(store, "Bia")
    for n in range(2):
        message = agent.says(answer(messages=[f"reply {n}"]), body=f"question {n}")
        assert agent.run().action == "sent"
    agent.says(answer(messages=["reply 2"]), body="question 2")
    run = agent.run()
    assert (run.action, run.skip_reason) == ("handed_off", "conversation_length")
    assert automated(store, message.chat_id) == ["reply 0", "reply 1"]
    assert handed_to_a_person(store.chats.get(message.chat_id), bia)


def test_an_invented_price_is_not_sent(agent: Harness, store: Store) -> None:
    mode(store, "autopilot")
    message = agent.says(answer(messages=["The tote is $99.00 today."]))
    run = agent.run()
    assert run.skip_reason == "price_check"
    assert automated(store, message.chat_id) == []


# ---- hand-off ------------------------------------------------------------------------------------------------------
def test_handoff_words_give_the_chat_to_staff_round_robin_and_stop_the_ai(agent: Harness, store: Store) -> None:
    mode(store, "autopilot")
    bia, caio = staff(store, "Bia", "Caio")
    calls = len(agent.server.calls(model=MODEL))
    first = customer_says(store, ANA, "Can I talk to a human please?")
    run = agent.run()
    assert (run.action, run.skip_reason, run.detail["assigned_to"]) == ("handed_off", "handoff_words", bia)
    assert run.detail["chosen_by"] == "round_robin_staff"
    assert len(agent.server.calls(model=MODEL)) == calls  # no model call
    assert handed_to_a_person(store.chats.get(first.chat_id), bia)
    told = logged(store, ChatHandedOff.name)
    assert [(e.chat_id, e.user_id, e.reason) for e in told] == [(first.chat_id, bia, "handoff_words")]
    assert "Bia" in told[0].sentence
    assert "human" not in told[0].sentence
    second = customer_says(store, BRUNO, "quero falar com um gerente")
    assert agent.run().detail["assigned_to"] == caio
    agent.says(answer(), body="hello?")  # Ana again: a person owns her chat now
    assert agent.run().skip_reason == "owned_by_person"
    assert automated(store, first.chat_id) == automated(store, second.chat_id) == []


def test_the_model_asking_for_a_person_hands_off(agent: Harness, store: Store) -> None:
    mode(store, "draft")
    message = agent.says(answer(messages=[], action="handoff", reason="custom order"))
    run = agent.run()
    assert (run.action, run.skip_reason) == ("handed_off", "model_handoff")
    assert run.detail["chosen_by"] == "owner"  # no staff: the owner (the workspace's own user)
    chat = store.chats.get(message.chat_id)
    assert chat.ai_mode == "off"
    assert chat.assigned_user_id is not None
    assert store.users.get(chat.assigned_user_id).role == "owner"


# ---- takeovers -----------------------------------------------------------------------------------------------------
def test_a_takeover_typed_on_the_phone_stops_it(agent: Harness, store: Store) -> None:
    mode(store, "autopilot")
    calls = len(agent.server.calls(model=MODEL))
    customer_says(store, ANA, "hi")
    typed_on_phone(store, ANA, "Hi Ana, Bia here")
    agent.says(answer(), body="how much?")
    runs = [agent.run()]
    assert runs[-1].skip_reason == "owned_by_person"
    assert len(agent.server.calls(model=MODEL)) == calls
    assert automated(store, chat_of(store, ANA).id) == []


def test_a_send_after_a_takeover_during_the_model_call_is_dropped(agent: Harness, store: Store) -> None:
    mode(store, "autopilot")

    def reply(_body: dict[str, Any]) -> str:  # the person answers on the phone while the model thinks
        typed_on_phone(store, ANA, "I'll handle this one")
        return answer()

    agent.server.reply = reply
    customer_says(store, ANA, "how much is the tote?")
    run = agent.run()
    assert run.skip_reason == "owned_by_person", (run.status, run.action, run.detail, run.error)
    assert run.detail["draft"] == ["Hi! The Canvas Tote Bag is $12.50."]
    assert automated(store, chat_of(store, ANA).id) == []


# ---- the answer ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [Behaviour(text="Sure, the tote is $12.50!"), Behaviour(malformed_json=True)])
def test_an_answer_that_does_not_parse_sends_nothing(agent: Harness, store: Store, bad: Behaviour) -> None:
    mode(store, "autopilot")
    message = agent.says(bad)
    run = agent.run()
    assert run.status == "failed"
    assert run.error
    assert automated(store, message.chat_id) == []


def test_an_answer_with_extra_keys_or_a_confidence_out_of_range_is_refused(agent: Harness, store: Store) -> None:
    mode(store, "autopilot")
    message = agent.says(answer(confidence=1.5))
    assert agent.run().status == "failed"
    agent.says(json.dumps(json.loads(answer()) | {"send_now": True}), body="again")
    assert agent.run().status == "failed"
    assert automated(store, message.chat_id) == []


def test_the_lead_score_and_the_deal_stage_move_forward_only(agent: Harness, store: Store) -> None:
    mode(store, "draft")
    message = agent.says(answer(lead_score=80))
    agent.run()
    chat = store.chats.get(message.chat_id)
    assert chat.contact_id is not None
    assert store.contacts.get(chat.contact_id).lead_score == 80
    pipeline = store.pipelines.create(name="Sales")
    new, talking, proposal = (
        store.pipeline_stages.create(pipeline_id=pipeline.id, name=name, position=n)
        for n, name in enumerate(["New", "Talking", "Proposal"])
    )
    deal = store.deals.create(pipeline_id=pipeline.id, stage_id=talking.id, title="Totes", contact_id=chat.contact_id)
    agent.says(answer(lead_score=85, stage="Proposal"), body="send me a quote")
    run = agent.run()
    assert store.deals.get(deal.id).stage_id == proposal.id
    assert run.detail["stage"] == ["Talking", "Proposal"]
    agent.says(answer(lead_score=85, stage="New"), body="hmm")
    run = agent.run()
    assert store.deals.get(deal.id).stage_id == proposal.id  # never silently backwards
    assert run.detail["stage_not_moved_back"] == ["Proposal", "New"]
    assert new.id != proposal.id


def test_an_agreed_sale_is_published_and_staff_confirm_it(agent: Harness, store: Store) -> None:
    mode(store, "draft")
    sale = {"product": "canvas tote", "quantity": 2, "amount_minor": 2500, "currency": "USD"}
    message = agent.says(answer(messages=["Great, two totes!"], sale=sale), body="I'll take two")
    run = agent.run()
    [agreed] = logged(store, SaleAgreed.name)
    product = store.products.find_all({"name": "Canvas Tote Bag"})[0]
    assert isinstance(agreed, SaleAgreed)
    assert (agreed.product_id, agreed.amount_minor, agreed.chat_id) == (product.id, 2500, message.chat_id)
    assert agreed.causation_id == run.id
    assert store.sales.find_all() == []  # suggest mode: staff confirm it
    recorded = confirm_sale(store, agreed, quantity=2, source="manual")
    assert (recorded.amount_minor, recorded.currency) == (2500, "USD")
    assert [e.sale_id for e in logged(store, "sale.completed")] == [recorded.id]


def test_autopilot_records_an_exact_agreed_sale(agent: Harness, store: Store) -> None:
    mode(store, "autopilot")
    sale = {"product": "Canvas Tote Bag", "quantity": 1, "amount_minor": 1250, "currency": "USD"}
    agent.says(answer(messages=["Done, one tote for $12.50."], sale=sale), body="ok I'll buy one")
    run = agent.run()
    assert run.action == "sent"
    assert run.detail["recorded_sale"]
    [recorded] = store.sales.find_all()
    assert recorded.amount_minor == 1250


def test_a_send_made_stale_by_a_new_customer_message_during_the_model_call_is_dropped(
    agent: Harness, store: Store
) -> None:
    mode(store, "autopilot")
    replies = iter([answer(messages=["first answer"]), answer(messages=["second answer"])])

    def reply(_body: dict[str, Any]) -> str:
        text = next(replies)
        if text == answer(messages=["first answer"]):  # the customer writes again while the model thinks
            customer_says(store, ANA, "also, do you ship?")
        return text

    agent.server.reply = reply
    customer_says(store, ANA, "how much is the tote?")
    first = agent.run()
    assert first.skip_reason == "stale"  # the guarded send, inside its write transaction
    assert first.detail["draft"] == ["first answer"]
    assert agent.run().action == "sent"
    assert automated(store, chat_of(store, ANA).id) == ["second answer"]


def test_handing_back_after_the_length_cap_lets_it_answer_again(agent: Harness, store: Store) -> None:
    mode(store, "autopilot", max_replies_in_a_row=1)
    staff(store, "Bia")
    message = agent.says(answer(messages=["reply 0"]), body="question 0")
    assert agent.run().action == "sent"
    agent.says(answer(messages=["reply 1"]), body="question 1")
    assert agent.run().skip_reason == "conversation_length"
    hand_back(store, message.chat_id)
    agent.says(answer(messages=["reply 2"]), body="question 2")
    assert agent.run().action == "sent"
    assert automated(store, message.chat_id) == ["reply 0", "reply 2"]
