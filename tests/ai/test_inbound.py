"""Analysis of incoming messages as they arrive: one call per quiet burst, a validated sale published for the
agents, recorded in the AI log — and nothing at all while the setting is off. Real litellm, real local server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app.ai.config import save_entries
from app.ai.inbound import InboundAnalysis
from app.ai.keys import ProviderKeys
from app.ai.litellm_loader import LitellmLoader
from app.ai.service import AiService
from app.core.events import SaleAgreed
from app.store.intake import CapturedMessage, record_messages
from app.store.store import Store
from tests.ai.openai_server import OpenAIServer
from tests.support.ai_fixtures import KEY, POLICY, entry
from tests.support.keyrings import InMemoryKeyring
from tests.support.waiting import assert_stays

AGREED = {
    "intent": "purchase",
    "sentiment": "positive",
    "language": "en",
    "sale_agreed": {"product": "canvas tote bag", "amount": 25.0, "currency": "USD"},
}
QUIET = 0.3


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    running = OpenAIServer(keys={KEY}).start()
    running.reply = lambda body: json.dumps(AGREED)
    yield running
    running.stop()


@pytest.fixture
def analysis(
    store: Store, server: OpenAIServer, keyring_backend: InMemoryKeyring, loader: LitellmLoader
) -> Iterator[InboundAnalysis]:
    store.products.create(name="Canvas Tote Bag", price_minor=1250, currency="USD")
    keys = ProviderKeys(keyring_backend)
    keys.set("main", KEY)
    save_entries(store.settings, [entry(server, "main", "analysis-model")])
    settings = store.settings
    settings.ai.mode = "byok"
    runner = InboundAnalysis(AiService(store, settings, keys, loader=loader, policy=POLICY), quiet_seconds=QUIET)
    runner.start()
    yield runner
    runner.close()


def customer_writes(store: Store, *texts: str) -> None:
    record_messages(
        store,
        [
            CapturedMessage(
                wa_id=f"3A{n:018X}", chat_jid="6590000001@c.us", from_me=False, body=text, timestamp=datetime.now(UTC)
            )
            for n, text in enumerate(texts, start=len(store.messages.find_all()))
        ],
    )


def test_a_burst_is_analysed_once_and_a_sale_is_published(
    store: Store, server: OpenAIServer, analysis: InboundAnalysis
) -> None:
    analysis.ai.settings.ai.analyze_inbound = True
    agreed = threading.Event()
    seen: list[SaleAgreed] = []
    store.bus.subscribe(SaleAgreed, lambda event: (seen.append(event), agreed.set()))
    customer_writes(store, "Hi!")
    customer_writes(store, "I'll take two canvas tote bags")
    customer_writes(store, "$25 total is fine")
    assert agreed.wait(20), "the sale was published"
    assert len(server.calls(model="analysis-model")) == 1, "one call for the burst"
    assert (seen[0].amount_minor, seen[0].currency, seen[0].product) == (2500, "USD", "Canvas Tote Bag")
    with store.db.read() as conn:
        logged = conn.execute("SELECT purpose, completion_tokens FROM ai_interactions").fetchall()
    assert [row[0] for row in logged] == ["analyze"]
    assert logged[0][1] > 0


def test_nothing_is_sent_while_the_setting_is_off(
    store: Store, server: OpenAIServer, analysis: InboundAnalysis
) -> None:
    customer_writes(store, "I'll take two canvas tote bags")
    # Four quiet times: an analysis would have started (and called the server) well within that.
    assert_stays(
        lambda: server.calls(model="analysis-model") == [],
        QUIET * 4,
        lambda: f"the analysis called the model: {server.calls(model='analysis-model')}",
    )
    assert analysis.analysed == 0
