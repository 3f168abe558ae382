"""AI-drafted follow-ups (app/agents/retention.py with ``ai_draft`` on): through the app's AiService in BYOK mode,
real litellm against the local OpenAI-compatible server; an answer the guardrails refuse, or no AI at all, falls
back to the template. The prompt carries the first name, the product and the business, never the phone number."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from app.agents import configs
from app.agents.retention import FOLLOWUP_KIND
from app.ai.config import save_entries
from app.ai.keys import ProviderKeys
from app.ai.litellm_loader import LitellmLoader
from app.ai.service import AiService
from app.core.ids import utc_now
from app.core.loops import LoopThread
from app.core.models import AgentExecution, Message, Sale
from app.store.store import Store
from tests.ai.openai_server import Behaviour, OpenAIServer
from tests.support.ai_fixtures import KEY, POLICY, entry
from tests.support.keyrings import InMemoryKeyring
from tests.unit.agents.test_retention import Harness, customer, runs, sell, sent_in

MODEL = "retention-model"
TEMPLATE = "Hi {first_name}, how are the {product}?"


class AiHarness(Harness):
    def __init__(self, store: Store, ai: AiService | None) -> None:
        self.ai = ai
        super().__init__(store)
        self.agent.ai = ai


@pytest.fixture
def service(
    store: Store, openai_server: OpenAIServer, keyring_backend: InMemoryKeyring, loader: LitellmLoader
) -> Iterator[AiService]:
    keys = ProviderKeys(keyring_backend)
    keys.set("main", KEY)
    save_entries(store.settings, [entry(openai_server, "main", MODEL)])
    store.settings.ai.mode = "byok"
    loop = LoopThread("parley-test-ai")
    yield AiService(store, store.settings, keys, loader=loader, policy=POLICY, loop=loop)
    loop.close()


def follow_up(store: Store, ai: AiService | None) -> tuple[Sale, Message | None, AgentExecution]:
    store.orgs.update(store.org_id, name="Casa Verde")
    configs.save(store, "retention", enabled=True, mode="autopilot", config={"template": TEMPLATE, "ai_draft": True})
    harness = AiHarness(store, ai)
    try:
        sold_at = utc_now().replace(microsecond=0) - timedelta(days=5)
        chat = store.chats.get(customer(store, sold_at - timedelta(hours=1)).chat_id)
        sale = sell(store, chat, sold_at)
        harness.events()
        assert len(harness.due()) == 1
    finally:
        harness.close()
    messages = sent_in(store, chat.id)
    (run,) = runs(store, FOLLOWUP_KIND)
    return sale, messages[0] if messages else None, run


def test_an_ai_drafted_follow_up_is_sent_with_its_usage(
    store: Store, service: AiService, openai_server: OpenAIServer
) -> None:
    drafted = "Hi Ana! Are the wool gloves keeping you warm? Tell us if anything is off."
    openai_server.always(MODEL, Behaviour(text=drafted))
    _sale, message, run = follow_up(store, service)
    assert message is not None
    assert message.body == drafted
    assert (run.action, run.model, run.detail["ai"]) == ("sent", MODEL, "drafted")
    assert run.tokens is not None
    assert run.tokens > 0
    (call,) = openai_server.calls(model=MODEL)
    prompt = " ".join(m["content"] for m in call.body["messages"])
    assert "Ana" in prompt
    assert "wool gloves" in prompt
    assert "Casa Verde" in prompt
    assert "5511912345678" not in prompt


def test_an_answer_with_a_price_falls_back_to_the_template(
    store: Store, service: AiService, openai_server: OpenAIServer
) -> None:
    openai_server.always(MODEL, Behaviour(text="Hi Ana! Buy a second pair for just $5.00 today!"))
    _sale, message, run = follow_up(store, service)
    assert message is not None
    assert message.body == "Hi Ana, how are the wool gloves?"
    assert run.detail["ai"] == "the answer was a price not in your products: the template was used"


def test_with_the_ai_off_the_template_goes(store: Store, service: AiService) -> None:
    store.settings.ai.mode = "off"
    _sale, message, run = follow_up(store, service)
    assert message is not None
    assert message.body == "Hi Ana, how are the wool gloves?"
    assert run.detail["ai"] == "no_provider: the template was used"
