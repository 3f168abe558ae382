"""What a suggestion is built from, for one chat, and the prompt it becomes.

``gather`` reads the facts from the store (brand voice, products and prices, the contact's profile and open deals,
the latest messages, the knowledge passages for the customer's latest message); ``compose`` fits them to a token
budget and renders a template from ``resources/prompts/``. Both return plain data, so the panel and the benchmark
see exactly what went in (``ContextRecord``: tokens per part, passages and messages kept or dropped).

Budgeting: tokens are estimated as characters / 4 (no tokenizer import, good enough to stay under a model's
window). Fixed parts (instructions, products, profile, passages) are counted first; the conversation gets what is
left of ``Budget.total``, at least ``Budget.min_history``, filled newest first, so the oldest messages are the ones
dropped. Products: all active ones when there are at most ``Budget.max_products``; otherwise the ones named in the
conversation first, then the best sellers, up to that many.

Retrieval is a callable ``retrieve(query, limit)`` returning passages (with ``chunk_id``, ``source``, ``text``),
so this module does not depend on how the knowledge base searches; passages are numbered [1], [2]… in the prompt.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from app.ai.guardrails import format_money
from app.ai.prompts import TemplateName, load
from app.ai.types import ChatMessage
from app.core.models import Contact, Deal, Message, Product
from app.store.store import Store


class PassageLike(Protocol):
    """A knowledge-base passage as the context needs it (``app.ai.knowledge.retrieval.Passage`` is one): the chunk's
    id, what a citation names (article › section), and the text."""

    @property
    def chunk_id(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def text(self) -> str: ...


Retrieve = Callable[[str, int], Sequence[PassageLike]]


def no_retrieval(_query: str, _limit: int) -> list[PassageLike]:
    """The retriever when there is no knowledge base."""
    return []


@dataclass(frozen=True)
class Budget:
    total: int = 3000  # estimated prompt tokens, both messages
    min_history: int = 300  # the conversation always gets at least this much
    max_messages: int = 40  # read at most this many of the latest messages
    max_products: int = 25
    passages: int = 4
    passage_chars: int = 900  # a longer passage is cut


DEFAULT_BUDGET = Budget()


def estimate_tokens(text: str) -> int:
    return (len(text) + 3) // 4


@dataclass(frozen=True)
class Citation:
    number: int  # the n of [n]
    passage_id: str
    label: str


@dataclass(frozen=True)
class ChatFacts:
    """Everything the prompts of one chat may use, read from the store."""

    chat_id: str
    business: str
    brand_voice: str
    contact: Contact | None
    deals: list[tuple[Deal, str]]  # open deals with their stage name
    products: list[Product]  # shown to the model: the relevant subset of the active products
    price_list: list[Product]  # every active product (what the price check accepts)
    messages: list[Message]  # oldest first
    passages: list[PassageLike]
    query: str  # what the passages were retrieved for: the customer's latest message
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ContextRecord:
    """What went into a prompt, for the panel (citations) and the benchmark (sizes)."""

    template: str
    chat_id: str | None
    tokens: dict[str, int]  # per part, plus "total"
    messages_used: int
    messages_dropped: int
    products_used: int
    product_count: int
    citations: list[Citation]  # the passages the prompt carried, numbered as in it (the retrieval's ranking)
    # The texts the prompt carried that may quote a price (products, profile, passages, conversation): what the
    # price check accepts amounts from. Not the draft a regenerate is asked to differ from: an invented price must
    # not vouch for itself (a rewrite keeps the prices of the text it was given, which staff wrote or accepted).
    price_texts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prompt:
    messages: list[ChatMessage]
    record: ContextRecord


# ---- reading the facts -----------------------------------------------------------------------------------------
_WORD = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if len(w) >= 3 or w.isdigit()}


def _mention_score(product: Product, said: str, said_words: set[str]) -> float:
    """2 when the conversation names the product (or its SKU) outright, else the share of its name's words used."""
    name = " ".join(product.name.lower().split())
    if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", said) or (product.sku and product.sku.lower() in said):
        return 2.0
    words = _words(product.name)
    return len(words & said_words) / len(words) if words else 0.0


def relevant_products(store: Store, messages: Sequence[Message], limit: int) -> tuple[list[Product], list[Product]]:
    """Active products to show the model (all when few, else those named in the conversation, then best sellers)
    and every active product (the price check's list)."""
    products = store.products.find_all({"active": True}, order_by="name")
    if len(products) <= limit:
        return products, products
    said = " ".join(" ".join(m.body.lower().split()) for m in messages)
    said_words = _words(said)
    scored = sorted(((_mention_score(p, said, said_words), i) for i, p in enumerate(products)), reverse=True)
    named = [products[i] for score, i in scored if score >= 1.0]  # named outright, or every word of its name used
    chosen = {p.id: p for p in named[:limit]}
    if len(chosen) < limit:
        with store.db.read() as conn:
            rows = conn.execute(
                "SELECT product_id, count(*) AS n FROM sale_items WHERE org_id = ? AND deleted_at IS NULL "
                "AND product_id IS NOT NULL GROUP BY product_id ORDER BY n DESC LIMIT ?",
                (store.org_id, limit * 2),
            ).fetchall()
        by_id = {p.id: p for p in products}
        for product_id, _n in rows:
            if len(chosen) >= limit:
                break
            if product_id in by_id:
                chosen.setdefault(product_id, by_id[product_id])
        for p in products:
            if len(chosen) >= limit:
                break
            chosen.setdefault(p.id, p)
    return sorted(chosen.values(), key=lambda p: p.name.lower()), products


def latest_inbound(messages: Sequence[Message]) -> str:
    """The customer's latest message (with the ones right before it in the same turn), the retrieval query."""
    turn: list[str] = []
    for message in reversed(messages):
        if message.direction == "in":
            if message.body:
                turn.append(message.body)
        elif turn:
            break
    return " ".join(reversed(turn))


def gather(
    store: Store,
    chat_id: str,
    *,
    retrieve: Retrieve = no_retrieval,
    brand_voice: str | None = None,
    business: str | None = None,
    budget: Budget = DEFAULT_BUDGET,
) -> ChatFacts:
    """Read the facts of ``chat_id`` (a few indexed queries; runs on a worker thread, never the UI's)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    chat = store.chats.get(chat_id)
    contact = store.contacts.find(chat.contact_id) if chat.contact_id else None
    messages = store.messages.for_chat(chat_id, limit=budget.max_messages)
    deals: list[tuple[Deal, str]] = []
    if contact is not None:
        for deal in store.deals.find_all({"contact_id": contact.id, "status": "open"}, limit=10):
            stage = store.pipeline_stages.find(deal.stage_id)
            deals.append((deal, stage.name if stage else ""))
    products, price_list = relevant_products(store, messages, budget.max_products)
    if brand_voice is None:
        brand_voice = store.settings.ai.brand_voice
    if business is None:
        orgs = store.orgs.find_all(limit=1)
        business = orgs[0].name if orgs else "the business"
    timings["store"] = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    query = latest_inbound(messages)
    passages = list(retrieve(query, budget.passages)) if query.strip() else []
    timings["retrieval"] = (time.perf_counter() - started) * 1000
    return ChatFacts(
        chat_id=chat_id,
        business=business,
        brand_voice=brand_voice.strip() or "Friendly, clear and brief.",
        contact=contact,
        deals=deals,
        products=products,
        price_list=price_list,
        messages=messages,
        passages=passages,
        query=query,
        timings_ms=timings,
    )


# ---- rendering the parts ---------------------------------------------------------------------------------------
def products_text(products: Sequence[Product], total: int) -> str:
    if not products:
        return "(no products listed: do not quote any price)"
    lines = []
    for p in products:
        line = f"- {p.name}: {format_money(p.price_minor, p.currency)}"
        if p.sku:
            line += f" (SKU {p.sku})"
        if p.stock is not None:
            line += f", {p.stock} in stock" if p.stock > 0 else ", out of stock"
        if p.description:
            line += f" — {p.description[:160]}"
        lines.append(line)
    if total > len(products):
        lines.append(f"({total - len(products)} other products not listed here: hand off if asked about them)")
    return "\n".join(lines)


def contact_text(contact: Contact | None, deals: Sequence[tuple[Deal, str]]) -> str:
    if contact is None:
        return "(unknown contact)"
    lines = [f"Name: {contact.name or 'not known'}", f"Stage: {contact.lifecycle}"]
    if contact.language:
        lines.append(f"Language: {contact.language}")
    if contact.tags:
        lines.append("Tags: " + ", ".join(contact.tags))
    for key, value in contact.custom_fields.items():
        lines.append(f"{key}: {value}")
    lines.append(f"Lifetime value: {format_money(contact.lifetime_value_minor, contact.currency)}")
    for deal, stage in deals:
        where = f", stage {stage}" if stage else ""
        lines.append(f"Open deal: {deal.title} ({format_money(deal.value_minor, deal.currency)}{where})")
    return "\n".join(lines)


def passages_text(passages: Sequence[PassageLike], max_chars: int) -> tuple[str, list[Citation]]:
    if not passages:
        return "(none found: answer only from the products and the profile, or hand off)", []
    blocks, citations = [], []
    for n, passage in enumerate(passages, start=1):
        text = " ".join(passage.text.split())
        if len(text) > max_chars:
            text = text[:max_chars].rsplit(" ", 1)[0] + " …"
        blocks.append(f"[{n}] {passage.source}\n{text}")
        citations.append(Citation(n, passage.chunk_id, passage.source))
    return "\n\n".join(blocks), citations


def message_line(message: Message) -> str:
    who = "Customer" if message.direction == "in" else "Business"
    body = message.body if message.kind == "text" or message.body else f"({message.kind})"
    return f"{who}: {body}"


def fit_history(messages: Sequence[Message], budget_tokens: int) -> tuple[list[str], int]:
    """The newest lines that fit ``budget_tokens`` (oldest first) and how many older messages were dropped."""
    kept: list[str] = []
    used = 0
    for message in reversed(messages):
        line = message_line(message)
        cost = estimate_tokens(line) + 1
        if used + cost > budget_tokens and kept:
            break
        if used + cost > budget_tokens:  # the latest message alone is over budget: keep its end
            line = line[: budget_tokens * 4]
            cost = budget_tokens
        kept.append(line)
        used += cost
    return list(reversed(kept)), len(messages) - len(kept)


def compose(
    facts: ChatFacts, template: TemplateName = "suggest", *, budget: Budget = DEFAULT_BUDGET, extra: str = ""
) -> Prompt:
    """Render ``template`` over ``facts`` within ``budget``."""
    tpl = load(template)
    products = products_text(facts.products, len(facts.price_list))
    contact = contact_text(facts.contact, facts.deals)
    passages, citations = passages_text(facts.passages, budget.passage_chars)
    if template == "suggest":
        fixed = {
            "business": facts.business,
            "brand_voice": facts.brand_voice,
            "products": products,
            "contact": contact,
            "passages": passages,
            "extra": extra,
        }
        price_parts = [facts.brand_voice, products, contact, passages]
    elif template == "summarize":
        fixed = {"contact": contact}
        citations = []
        price_parts = [contact]
    elif template == "analyze":
        fixed = {"products": products}
        citations = []
        price_parts = [products]
    else:
        raise ValueError("rewrite prompts are built by rewrite_prompt")
    tokens = {k: estimate_tokens(v) for k, v in fixed.items()}
    tokens["instructions"] = estimate_tokens(tpl.system + tpl.user)
    room = max(budget.min_history, budget.total - sum(tokens.values()))
    lines, dropped = fit_history(facts.messages, room)
    history = "\n".join(lines) if lines else "(no messages yet)"
    tokens["history"] = estimate_tokens(history)
    messages = tpl.render({**fixed, "history": history})
    tokens["total"] = sum(estimate_tokens(m.content) for m in messages)
    record = ContextRecord(
        template=template,
        chat_id=facts.chat_id,
        tokens=tokens,
        messages_used=len(lines),
        messages_dropped=dropped,
        products_used=len(facts.products) if template != "summarize" else 0,
        product_count=len(facts.price_list),
        citations=citations,
        price_texts=(*price_parts, history),
    )
    return Prompt(messages, record)


REWRITE_INSTRUCTIONS = {
    "shorter": "Make the message shorter: keep what matters, drop filler.",
    "friendlier": "Make the message warmer and friendlier, without overdoing it.",
    "formal": "Make the message more formal and polite.",
    "grammar": "Fix spelling, grammar and punctuation only; change nothing else.",
    "translate": "Translate the message into the customer's language (given below).",
}


def rewrite_prompt(
    action: str,
    text: str,
    *,
    language: str,
    products: Sequence[Product] = (),
    chat_id: str | None = None,
    citations: Sequence[Citation] = (),
) -> Prompt:
    """The prompt of a rewrite action (``REWRITE_INSTRUCTIONS`` keys) over a draft. ``citations``: the passages the
    draft's ``[n]`` markers refer to (from the prompt that wrote it); the rewrite keeps the markers, so its record
    keeps the passages."""
    try:
        instruction = REWRITE_INSTRUCTIONS[action]
    except KeyError:
        raise ValueError(f"unknown rewrite action {action!r}") from None
    listed = products_text(products, len(products)) if products else "(none)"
    values = {"instruction": instruction, "language": language, "text": text, "products": listed}
    messages = load("rewrite").render(values)
    tokens = {k: estimate_tokens(v) for k, v in values.items()}
    tokens["total"] = sum(estimate_tokens(m.content) for m in messages)
    record = ContextRecord(
        "rewrite", chat_id, tokens, 0, 0, len(products), len(products), list(citations), price_texts=(listed, text)
    )
    return Prompt(messages, record)
