"""The context of a suggestion: what goes in, within the budget, on a real (SQLCipher) store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.ai.grounding import Budget, compose, estimate_tokens, gather, rewrite_prompt
from app.ai.prompts import TemplateError, load, parse
from app.core.ids import utc_now
from app.store.store import Store
from tests.support.ai_chat import RETURNS, SHIPPING, Passage, shop_chat


def test_products_profile_deals_and_history_are_in_the_prompt(store: Store) -> None:
    shop = shop_chat(store)
    store.settings.ai.brand_voice = "Warm, uses the customer's first name."
    prompt = compose(gather(store, shop.chat.id))
    system, user = prompt.messages[0].content, prompt.messages[1].content
    assert [m.role for m in prompt.messages] == ["system", "user"]
    assert "Acme Boutique" in system
    assert "Warm, uses the customer's first name." in system
    assert "- Canvas Tote Bag: $12.50 (SKU TOTE-1), 8 in stock" in system
    assert "- Linen Shirt: $45.00" in system
    assert "Silk Scarf" not in system  # inactive
    assert "Name: Maya Putri" in user
    assert "Stage: lead" in user
    assert "Tags: vip" in user
    assert "size: M" in user
    assert "Lifetime value: $99.00" in user
    assert "Open deal: Two totes ($24.00, stage" in user
    assert "Customer: How much is it, and can I return it" in user
    assert prompt.record.messages_used == 3
    assert prompt.record.messages_dropped == 0
    assert prompt.record.tokens["total"] == sum(estimate_tokens(m.content) for m in prompt.messages)
    assert {"products", "contact", "passages", "history", "instructions"} <= prompt.record.tokens.keys()


def test_budget_keeps_the_newest_messages_and_drops_the_oldest(store: Store) -> None:
    script = [("in" if i % 2 == 0 else "out", f"message number {i:02d} " + "words " * 40) for i in range(30)]
    shop = shop_chat(store, script)
    budget = Budget(total=1200, min_history=200)
    prompt = compose(gather(store, shop.chat.id, budget=budget), budget=budget)
    user = prompt.messages[1].content
    record = prompt.record
    assert 0 < record.messages_used < 30
    assert record.messages_used + record.messages_dropped == 30
    assert "message number 29" in user  # the newest is kept
    assert "message number 00" not in user  # the oldest is dropped first
    kept = [i for i in range(30) if f"message number {i:02d}" in user]
    assert kept == list(range(30 - record.messages_used, 30))  # a contiguous tail, nothing skipped
    assert record.tokens["history"] <= budget.total


def test_a_huge_budget_keeps_everything_and_a_tiny_one_still_keeps_the_latest(store: Store) -> None:
    shop = shop_chat(store, [("in", "x " * 2000), ("in", "latest question " * 200)])
    tiny = Budget(total=10, min_history=50)
    prompt = compose(gather(store, shop.chat.id, budget=tiny), budget=tiny)
    assert prompt.record.messages_used == 1
    assert "latest question" in prompt.messages[1].content
    assert prompt.record.tokens["history"] <= 60


def test_passages_for_the_latest_inbound_message_are_numbered_and_recorded(store: Store) -> None:
    shop = shop_chat(store)
    asked: list[tuple[str, int]] = []

    def retrieve(query: str, limit: int) -> list[Passage]:
        asked.append((query, limit))
        return [RETURNS, SHIPPING]

    facts = gather(store, shop.chat.id, retrieve=retrieve, budget=Budget(passages=3))
    assert asked == [(facts.query, 3)]
    assert facts.query.startswith("How much is it, and can I return it")
    prompt = compose(facts)
    system = prompt.messages[0].content
    assert "[1] Returns policy › Refunds\nReturns are free within 30 days of delivery." in system
    assert "[2] Shipping\nOrders ship in 2 business days" in system
    assert [(c.number, c.passage_id, c.label) for c in prompt.record.citations] == [
        (1, "chunk-returns", "Returns policy › Refunds"),
        (2, "chunk-shipping", "Shipping"),
    ]


def test_the_retrieval_query_is_the_customers_last_turn(store: Store) -> None:
    script = [("in", "old question"), ("out", "answer"), ("in", "do you ship"), ("in", "to Bali?")]
    shop = shop_chat(store, script)
    assert gather(store, shop.chat.id).query == "do you ship to Bali?"


def test_many_products_named_ones_first_then_capped(store: Store) -> None:
    shop = shop_chat(store, [("in", "Is the Blue Widget 77 in stock?")])
    for i in range(60):
        store.products.create(name=f"Blue Widget {i}", price_minor=100 + i, currency="USD")
    budget = Budget(max_products=10)
    facts = gather(store, shop.chat.id, budget=budget)
    names = {p.name for p in facts.products}
    assert len(facts.products) == 10
    assert "Blue Widget 77" not in names
    store.products.create(name="Blue Widget 77", price_minor=777, currency="USD")
    facts = gather(store, shop.chat.id, budget=budget)
    assert "Blue Widget 77" in {p.name for p in facts.products}
    assert len(facts.price_list) == 63  # the price check still knows every active product
    system = compose(facts, budget=budget).messages[0].content
    assert "(53 other products not listed here" in system


def test_rewrite_summarize_and_analyze_templates_render(store: Store) -> None:
    shop = shop_chat(store)
    facts = gather(store, shop.chat.id)
    assert "Fix spelling" in rewrite_prompt("grammar", "helo", language="id").messages[0].content
    assert "Customer's language: id" in rewrite_prompt("translate", "Hello", language="id").messages[1].content
    with pytest.raises(ValueError, match="unknown rewrite action"):
        rewrite_prompt("louder", "hi", language="en")
    assert "bullet points" in compose(facts, "summarize").messages[0].content
    assert compose(facts, "summarize").record.citations == []
    assert "JSON" in compose(facts, "analyze").messages[0].content


def test_templates_check_their_fields() -> None:
    with pytest.raises(TemplateError):
        load("suggest").render({"business": "x"})
    with pytest.raises(TemplateError):
        parse("broken", "no sections here {{x}}")
    template = parse("t", "# system\nS {{a}}\n# user\nU {{b}}\n")
    # Values are substituted once: a customer's "{{b}}" or "$5" stays as typed.
    messages = template.render({"a": "{{b}} $5", "b": "two"})
    assert [m.content for m in messages] == ["S {{b}} $5", "U two"]


def test_a_chat_without_contact_or_messages_still_builds(store: Store) -> None:
    chat = store.chats.create(title="Group")
    prompt = compose(gather(store, chat.id))
    assert "(unknown contact)" in prompt.messages[1].content
    assert "(no messages yet)" in prompt.messages[1].content
    assert "(no products listed" in prompt.messages[0].content
    store.messages.create(chat_id=chat.id, direction="in", kind="image", sent_at=utc_now() - timedelta(seconds=1))
    assert "Customer: (image)" in compose(gather(store, chat.id)).messages[1].content
