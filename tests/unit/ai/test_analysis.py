"""Structured analysis end to end: JSON mode through the real BYOK provider to the local OpenAI-compatible server,
validated with pydantic; a malformed answer is retried once; an agreed sale becomes a core event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from app.ai.analysis import ANALYSIS_SCHEMA, Analyzer, match_product, parse_analysis
from app.ai.byok import ByokProvider
from app.ai.types import AIError
from app.core.events import EVENT_TYPES, SaleAgreed
from app.store.store import Store
from tests.ai.openai_server import Behaviour, OpenAIServer
from tests.support.ai_chat import ShopChat, shop_chat
from tests.support.ai_fixtures import KEY, byok, run
from tests.support.keyrings import InMemoryKeyring

MODEL = "analysis-model"
AGREED = {
    "intent": "purchase",
    "sentiment": "positive",
    "language": "en",
    "sale_agreed": {"product": "canvas tote bag", "amount": 25.0, "currency": "USD"},
}


@pytest.fixture
def ai_server() -> Iterator[OpenAIServer]:
    server = OpenAIServer(keys={KEY}).start()
    yield server
    server.stop()


@pytest.fixture
def provider(ai_server: OpenAIServer, keyring_backend: InMemoryKeyring, request: pytest.FixtureRequest) -> ByokProvider:
    return byok(ai_server, keyring_backend, request.getfixturevalue("loader"), MODEL)


@pytest.fixture
def shop(store: Store) -> ShopChat:
    return shop_chat(store, [("in", "Great, I'll take two canvas tote bags please, $25 total is fine")])


def reply_json(server: OpenAIServer, payload: dict[str, Any]) -> None:
    server.reply = lambda body: json.dumps(payload)


def test_a_sale_agreed_is_validated_and_published(
    store: Store,
    shop: ShopChat,
    ai_server: OpenAIServer,
    provider: ByokProvider,
) -> None:
    reply_json(ai_server, AGREED)
    seen: list[SaleAgreed] = []
    store.bus.subscribe(SaleAgreed, seen.append)
    result = run(Analyzer(provider, store).analyze(shop.chat.id))
    assert result.analysis.intent == "purchase"
    assert result.attempts == 1
    assert result.event is not None
    assert seen == [result.event]
    event = seen[0]
    assert (event.amount_minor, event.currency, event.product) == (2500, "USD", "Canvas Tote Bag")
    assert event.product_id == shop.products[0].id
    assert event.contact_id == shop.contact.id
    assert event.message_id is not None
    assert event.chat_id == shop.chat.id
    assert [e.name for e in store.events.pending()][-1] == "sale.agreed"  # logged durably for the agents
    assert EVENT_TYPES["sale.agreed"] is SaleAgreed
    # JSON mode with the schema reached the wire.
    body = ai_server.calls(model=MODEL)[-1].body
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == ANALYSIS_SCHEMA


def test_no_sale_publishes_nothing(
    store: Store,
    shop: ShopChat,
    ai_server: OpenAIServer,
    provider: ByokProvider,
) -> None:
    reply_json(ai_server, {"intent": "question", "sentiment": "neutral", "language": "id", "sale_agreed": None})
    seen: list[SaleAgreed] = []
    store.bus.subscribe(SaleAgreed, seen.append)
    result = run(Analyzer(provider, store).analyze(shop.chat.id))
    assert result.analysis.language == "id"
    assert result.event is None
    assert seen == []


def test_malformed_json_is_retried_once(
    store: Store,
    shop: ShopChat,
    ai_server: OpenAIServer,
    provider: ByokProvider,
) -> None:
    reply_json(ai_server, AGREED)
    ai_server.script(MODEL, Behaviour(malformed_json=True))
    result = run(Analyzer(provider, store).analyze(shop.chat.id, publish=False))
    assert result.attempts == 2
    assert result.analysis.sale_agreed is not None
    assert len(ai_server.calls(model=MODEL)) == 2


def test_malformed_twice_is_a_malformed_error(
    store: Store,
    shop: ShopChat,
    ai_server: OpenAIServer,
    provider: ByokProvider,
) -> None:
    reply_json(ai_server, AGREED)
    ai_server.always(MODEL, Behaviour(malformed_json=True))
    with pytest.raises(AIError) as caught:
        run(Analyzer(provider, store).analyze(shop.chat.id))
    assert caught.value.kind == "malformed"
    assert str(caught.value)
    assert len(ai_server.calls(model=MODEL)) == 2


def test_json_of_the_wrong_shape_is_malformed(
    store: Store,
    shop: ShopChat,
    ai_server: OpenAIServer,
    provider: ByokProvider,
) -> None:
    reply_json(ai_server, {"intent": "buy", "sentiment": "ecstatic", "language": "en", "sale_agreed": None})
    with pytest.raises(AIError) as caught:
        run(Analyzer(provider, store).analyze(shop.chat.id))
    assert caught.value.kind == "malformed"


def test_parse_accepts_fenced_json_and_refuses_the_rest() -> None:
    fenced = "```json\n" + json.dumps(AGREED) + "\n```"
    assert parse_analysis(fenced).sale_agreed is not None
    for bad in ["", "not json", '{"intent": "purchase"}', json.dumps({**AGREED, "extra": 1})]:
        with pytest.raises(AIError):
            parse_analysis(bad)
    negative = {**AGREED, "sale_agreed": {"product": "x", "amount": -5, "currency": "USD"}}
    with pytest.raises(AIError):
        parse_analysis(json.dumps(negative))


def test_match_product(store: Store) -> None:
    products = shop_chat(store).products
    assert match_product("LINEN SHIRT", products) is products[1]
    assert match_product("tote", products) is products[0]
    assert match_product("hat", products) is None
