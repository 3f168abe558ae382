"""The acquisition agent on autopilot end to end: a customer writes in the WhatsApp Web imitation (real headless
Chromium), the driver records it, the orchestrator runs the agent against the local OpenAI-compatible server (a
scripted structured answer over HTTP), the guarded send queues the reply and the sender types it into the page.
Then the business answers on its *phone* (the imitation's control API): the driver records that outgoing message,
and the customer's next message gets no automatic answer (``owned_by_person``)."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable

from app.agents import configs
from app.agents.acquisition import AcquisitionAgent
from app.agents.orchestrator import Orchestrator
from app.ai.litellm_loader import LitellmLoader
from app.core.events import Event
from app.core.loops import LoopThread
from app.store.store import Store
from app.whatsapp.humanizer import Humanizer
from app.whatsapp.sender import Sender
from tests.ai.openai_server import Behaviour, OpenAIServer
from tests.support.ai_fixtures import byok
from tests.support.keyrings import InMemoryKeyring
from tests.support.whatsapp_fixtures import FAST, NO_QUIET, WAIT, DriverRunner, page_sent
from tests.whatsapp.imitation_server import ImitationControl

ALICE = "6590000001"
MODEL = "acq-e2e"
REPLY = "Hi Alice! The Canvas Tote Bag is $12.50."


async def until(store: Store, predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    """Wait until ``predicate()`` holds, re-checked after each event the store publishes (commits)."""
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()
    unsubscribe = store.bus.subscribe(Event, lambda _e: loop.call_soon_threadsafe(changed.set))
    try:
        async with asyncio.timeout(timeout):
            while not predicate():
                changed.clear()
                if predicate():
                    break
                await changed.wait()
    finally:
        unsubscribe()


def test_autopilot_reply_is_typed_and_a_phone_takeover_stops_it(
    driver_runner: DriverRunner,
    store: Store,
    control: ImitationControl,
    openai_server: OpenAIServer,
    keyring_backend: InMemoryKeyring,
    loader: LitellmLoader,
) -> None:
    store.orgs.update(store.org_id, business_hours={})
    store.products.create(name="Canvas Tote Bag", price_minor=1250, currency="USD")
    config = {"debounce_seconds": 0, "cooldown_seconds": 0, "rate_per_minute": 60}
    configs.save(store, "acquisition", enabled=True, mode="autopilot", config=config)
    structured = {"messages": [REPLY], "action": "continue", "reason": "price", "confidence": 0.9, "lead_score": 30}
    openai_server.always(MODEL, Behaviour(text=json.dumps(structured | {"stage": None, "sale": None})))
    provider = byok(openai_server, keyring_backend, loader, MODEL)
    agents_loop = LoopThread("parley-test-agents")
    orchestrator = Orchestrator(store, [AcquisitionAgent(lambda: provider)], loop=agents_loop)
    control.add_chat(ALICE, "Alice")
    driver = driver_runner.driver()
    sender = Sender(driver, store, Humanizer(FAST, random.Random(3)), NO_QUIET)

    def runs() -> list[str | None]:
        found = store.agent_executions.find_all({"agent": "acquisition"}, order_by="event_seq")
        return [r.action or r.skip_reason for r in found]

    def automated() -> list[str]:
        return [m.body or "" for m in store.messages.find_all() if m.sent_by_agent == "acquisition"]

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            orchestrator.start()
            try:
                await asyncio.to_thread(control.incoming, ALICE, "How much is the tote?", "Alice")
                await until(store, lambda: runs() == ["sent"])
                assert automated() == [REPLY]
                outcomes = await sender.run_until_empty()
                assert [o.kind for o in outcomes] == ["sent"]
                state = await asyncio.to_thread(control.state)
                assert [m["text"] for m in page_sent(state)] == [REPLY]  # typed into the page by the driver

                by_person = [m for m in store.messages.find_all() if m.direction == "out" and m.sent_by_agent is None]
                assert by_person == []  # the typed reply was recorded once, as the agent's
                phone = "Alice, Bia here: I'll help you myself"
                await asyncio.to_thread(control.phone_send, ALICE, phone)
                await until(
                    store,
                    lambda: any(m.body == phone and m.sent_by_agent is None for m in store.messages.find_all()),
                )
                await asyncio.to_thread(control.incoming, ALICE, "Great, and the mug?", "Alice")
                await until(store, lambda: len(runs()) == 2)
                assert runs() == ["sent", "owned_by_person"]
                assert automated() == [REPLY]
                assert await sender.run_until_empty() == []
            finally:
                orchestrator.close()

    try:
        driver_runner.run(scenario, timeout=120)
    finally:
        agents_loop.close()
