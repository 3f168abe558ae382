"""Suggestions, rewrites and summaries end to end: the real BYOK provider (litellm) against the local
OpenAI-compatible server, over a real store. Nothing of litellm or of our layers is mocked."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from app.ai.byok import ByokProvider
from app.ai.grounding import Budget
from app.ai.interactions import InteractionLog
from app.ai.suggest import Suggester, SuggestEvent, Suggestion
from app.ai.types import AIError
from app.store.store import Store
from tests.ai.openai_server import Behaviour, OpenAIServer
from tests.support.ai_chat import RETURNS, SHIPPING, Passage, ShopChat, shop_chat
from tests.support.ai_fixtures import KEY, byok, run
from tests.support.keyrings import InMemoryKeyring

MODEL = "shop-model"


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
    return shop_chat(store)


def answers(server: OpenAIServer, text: str) -> None:
    server.reply = lambda body: text


def retrieve(query: str, limit: int) -> list[Passage]:
    return [RETURNS, SHIPPING][:limit]


async def collect(stream: AsyncIterator[SuggestEvent]) -> tuple[list[str], Suggestion]:
    deltas: list[str] = []
    final: Suggestion | None = None
    async for event in stream:
        if isinstance(event, Suggestion):
            assert final is None, "exactly one Suggestion"
            final = event
        else:
            assert final is None, "no text after the Suggestion"
            deltas.append(event)
    assert final is not None
    return deltas, final


def sent(server: OpenAIServer) -> dict[str, Any]:
    return server.calls(model=MODEL)[-1].body


def test_suggestion_streams_and_cites_the_passage_it_used(
    store: Store,
    shop: ShopChat,
    ai_server: OpenAIServer,
    provider: ByokProvider,
) -> None:
    answers(ai_server, "Hi Maya! The Canvas Tote Bag is $12.50, and returns are free within 30 days [1].")
    suggester = Suggester(provider, store, retrieve=retrieve)
    deltas, suggestion = run(collect(suggester.suggest(shop.chat.id)))
    assert len(deltas) > 5  # streamed word by word
    assert "".join(deltas) == suggestion.text
    # Under the draft: the passages the prompt carried, as numbered there; [2] was offered, not used.
    assert suggestion.citations == suggestion.record.citations
    assert [c.passage_id for c in suggestion.citations] == ["chunk-returns", "chunk-shipping"]
    assert [c.passage_id for c in suggestion.cited] == ["chunk-returns"]
    assert suggestion.clean_text == "Hi Maya! The Canvas Tote Bag is $12.50, and returns are free within 30 days."
    assert suggestion.price_violations == []
    assert suggestion.handoff is None
    assert suggestion.usage.model == MODEL
    assert suggestion.usage.completion_tokens > 0
    assert suggestion.record.citations[1].passage_id == "chunk-shipping"
    assert {"store", "retrieval", "prompt", "first_token", "total"} <= suggestion.timings_ms.keys()
    system = sent(ai_server)["messages"][0]["content"]
    assert "[1] Returns policy › Refunds" in system
    assert "Canvas Tote Bag: $12.50" in system


def test_an_invented_price_is_caught(
    store: Store,
    shop: ShopChat,
    ai_server: OpenAIServer,
    provider: ByokProvider,
) -> None:
    answers(ai_server, "The tote is $14 today, or two for $25.00.")
    _, suggestion = run(collect(Suggester(provider, store).suggest(shop.chat.id)))
    assert [v.message for v in suggestion.price_violations] == [
        "Price $14 is not in your products, knowledge base or this chat"
    ]


def test_prices_from_the_knowledge_base_and_the_chat_are_not_flagged(
    store: Store, ai_server: OpenAIServer, provider: ByokProvider
) -> None:
    shop = shop_chat(store, [("in", "Hi! I saw express delivery for US$ 9.99 on your site. How much is it really?")])
    courier = Passage("chunk-courier", "Shipping › Express", "Express courier: SGD 15 (1,250.00 IDR for Batam).")
    answers(
        ai_server,
        "Express delivery is S$15.00 [1], not the $9.99 you saw; standard shipping is $0.00. The tote is $14.",
    )
    suggester = Suggester(provider, store, retrieve=lambda query, limit: [courier])
    _, suggestion = run(collect(suggester.suggest(shop.chat.id)))
    assert [v.amount for v in suggestion.price_violations] == ["$14"]  # only the price no source has
    assert "SGD 15" in sent(ai_server)["messages"][0]["content"]  # the passage's price was in the prompt


def test_a_summary_is_for_the_staff_and_so_is_its_rewrite(
    store: Store, shop: ShopChat, ai_server: OpenAIServer, provider: ByokProvider
) -> None:
    answers(ai_server, "- Maya wants the tote")
    suggester = Suggester(provider, store)
    _, summary = run(collect(suggester.summarize(shop.chat.id)))
    assert summary.for_staff
    _, shorter = run(collect(suggester.rewrite("shorter", summary.text, chat_id=shop.chat.id, for_staff=True)))
    assert shorter.for_staff
    _, draft = run(collect(suggester.suggest(shop.chat.id)))
    assert not draft.for_staff


def test_a_rewrite_keeps_the_passages_its_markers_refer_to(
    store: Store, shop: ShopChat, ai_server: OpenAIServer, provider: ByokProvider
) -> None:
    answers(ai_server, "Returns are free for 30 days [1].")
    suggester = Suggester(provider, store, retrieve=retrieve)
    _, draft = run(collect(suggester.suggest(shop.chat.id)))
    answers(ai_server, "Free returns, 30 days [1].")
    _, shorter = run(collect(suggester.rewrite("shorter", draft.text, chat_id=shop.chat.id, citations=draft.citations)))
    assert shorter.citations == draft.citations
    assert [c.passage_id for c in shorter.cited] == ["chunk-returns"]


def test_handoff_is_never_shown_as_a_draft(
    store: Store,
    shop: ShopChat,
    ai_server: OpenAIServer,
    provider: ByokProvider,
) -> None:
    answers(ai_server, "HANDOFF: the return window for sale items is not in the knowledge base")
    deltas, suggestion = run(collect(Suggester(provider, store).suggest(shop.chat.id)))
    assert deltas == []
    assert suggestion.handoff == "the return window for sale items is not in the knowledge base"
    assert suggestion.text == ""
    assert suggestion.citations == []
    # The prompt told the model how to hand off.
    assert "HANDOFF:" in sent(ai_server)["messages"][0]["content"]


def test_redaction_in_cloud_mode_hides_phones_and_emails_and_restores_them(
    store: Store,
    shop: ShopChat,
    ai_server: OpenAIServer,
    provider: ByokProvider,
) -> None:
    ai_server.reply = lambda body: "Noted, we will call " + body["messages"][1]["content"].split("Call me on ")[1][:9]
    deltas, suggestion = run(collect(Suggester(provider, store, redact=True).suggest(shop.chat.id)))
    wire = json.dumps(sent(ai_server))
    assert "3456" not in wire
    assert "maya@example.com" not in wire
    assert "[PHONE_1]" in wire
    assert suggestion.text == "Noted, we will call +62 812 3456 7890"
    assert "".join(deltas) == suggestion.text  # restored in the stream too


def test_byok_mode_sends_the_prompt_as_is(
    store: Store,
    shop: ShopChat,
    ai_server: OpenAIServer,
    provider: ByokProvider,
) -> None:
    answers(ai_server, "Sure.")
    run(collect(Suggester(provider, store, redact=False).suggest(shop.chat.id)))
    assert "+62 812 3456 7890" in json.dumps(sent(ai_server), ensure_ascii=False)


def test_regenerate_asks_for_a_different_reply_a_little_warmer(
    store: Store,
    shop: ShopChat,
    ai_server: OpenAIServer,
    provider: ByokProvider,
) -> None:
    answers(ai_server, "Another one.")
    suggester = Suggester(provider, store)
    _, suggestion = run(collect(suggester.regenerate(shop.chat.id, "First draft text")))
    body = sent(ai_server)
    assert suggestion.kind == "regenerate"
    assert suggestion.text == "Another one."
    assert "write a different one:\nFirst draft text" in body["messages"][1]["content"]
    assert body["temperature"] == pytest.approx(0.7)


@pytest.mark.parametrize(
    ("action", "instruction"),
    [
        ("shorter", "shorter"),
        ("friendlier", "friendlier"),
        ("formal", "more formal"),
        ("grammar", "Fix spelling"),
        ("translate", "Translate"),
    ],
)
def test_rewrite_actions(
    store: Store,
    shop: ShopChat,
    ai_server: OpenAIServer,
    provider: ByokProvider,
    action: Any,
    instruction: str,
) -> None:
    answers(ai_server, "Tas kanvas harganya $12.50 [1].")
    deltas, suggestion = run(
        collect(Suggester(provider, store).rewrite(action, "The tote is $12.50.", chat_id=shop.chat.id))
    )
    body = sent(ai_server)
    assert instruction in body["messages"][0]["content"]
    assert "The tote is $12.50." in body["messages"][1]["content"]
    assert "Customer's language: id" in body["messages"][1]["content"]
    assert suggestion.kind == "rewrite"
    assert "".join(deltas) == suggestion.text
    assert suggestion.price_violations == []


def test_a_rewrite_that_changes_a_price_is_flagged(
    store: Store,
    shop: ShopChat,
    ai_server: OpenAIServer,
    provider: ByokProvider,
) -> None:
    answers(ai_server, "Tote: $10.")
    _, suggestion = run(collect(Suggester(provider, store).rewrite("shorter", "The tote costs $12.50.")))
    assert [v.amount for v in suggestion.price_violations] == ["$10"]


def test_summarize(store: Store, shop: ShopChat, ai_server: OpenAIServer, provider: ByokProvider) -> None:
    answers(ai_server, "- Maya wants the canvas tote ($12.50)\n- Asks about returns")
    _, suggestion = run(collect(Suggester(provider, store).summarize(shop.chat.id)))
    assert suggestion.kind == "summarize"
    assert suggestion.text.startswith("- Maya wants")
    assert "Customer: Hi! Do you still have the canvas tote bag?" in sent(ai_server)["messages"][1]["content"]


def test_provider_errors_reach_the_caller_as_ai_errors(
    store: Store,
    shop: ShopChat,
    ai_server: OpenAIServer,
    provider: ByokProvider,
) -> None:
    ai_server.always(MODEL, Behaviour(status=401))
    with pytest.raises(AIError) as caught:
        run(collect(Suggester(provider, store).suggest(shop.chat.id)))
    assert caught.value.kind == "invalid_key"
    assert str(caught.value)


def test_budget_reaches_the_wire(
    store: Store,
    shop: ShopChat,
    ai_server: OpenAIServer,
    provider: ByokProvider,
) -> None:
    answers(ai_server, "ok")
    budget = Budget(total=10, min_history=12)
    _, suggestion = run(collect(Suggester(provider, store, budget=budget).suggest(shop.chat.id)))
    user = sent(ai_server)["messages"][1]["content"]
    assert suggestion.record.messages_used == 1
    assert "Hi! Do you still have" not in user


def test_with_a_log_each_call_is_recorded_without_its_text(
    store: Store, shop: ShopChat, ai_server: OpenAIServer, provider: ByokProvider
) -> None:
    answers(ai_server, "The tote is $12.50.")
    log = InteractionLog(store, store.settings)
    suggester = Suggester(provider, store, log=log, mode="byok")
    _, suggestion = run(collect(suggester.rewrite("shorter", "The tote costs $12.50.", chat_id=shop.chat.id)))
    assert suggestion.interaction_id is not None
    row = store.ai_interactions.get(suggestion.interaction_id)
    assert (row.purpose, row.mode, row.chat_id, row.outcome) == ("rewrite", "byok", shop.chat.id, "pending")
    assert row.completion_tokens > 0
    assert log.transcript(row.id) is None  # BYOK keeps no text unless the user opted in
