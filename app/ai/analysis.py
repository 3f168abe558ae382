"""Structured analysis of a customer's latest messages: intent, sentiment, language, and "sale agreed".

The provider is asked for JSON of ``MessageAnalysis``'s schema (``CallOptions.json_schema``: litellm turns it into
the provider's JSON / structured-output mode) and the answer is validated with pydantic, never trusted. An answer
that is not valid JSON of that shape is asked for once more; a second bad answer is ``AIError("malformed")``.

A validated "sale agreed" becomes a ``SaleAgreed`` core event (logged durably and published on the store's bus
after commit) for the agents: the amount in minor units, and the product matched to the catalogue when its name
matches an active product's.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.ai.grounding import DEFAULT_BUDGET, Budget, compose, gather
from app.ai.guardrails import minor_exponent
from app.ai.types import AIError, CallOptions, Done, Provider, Usage
from app.core.events import SaleAgreed
from app.core.models import Product
from app.store.store import Store

Intent = Literal["question", "purchase", "order_status", "complaint", "support", "greeting", "other"]
Sentiment = Literal["positive", "neutral", "negative"]


class SaleTerms(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product: str = Field(min_length=1, description="the product as named in the products list")
    amount: float = Field(gt=0, description="the total in major units, e.g. 12.5")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. USD")


class MessageAnalysis(BaseModel):
    model_config = ConfigDict(extra="forbid")

    intent: Intent
    sentiment: Sentiment
    language: str = Field(min_length=2, max_length=8, description="ISO 639-1 code of the customer's language")
    sale_agreed: SaleTerms | None = Field(description="set only when the customer clearly agreed to buy")


ANALYSIS_SCHEMA: dict[str, object] = MessageAnalysis.model_json_schema()
ANALYSIS_OPTIONS = CallOptions(temperature=0.0, max_tokens=300, json_schema=ANALYSIS_SCHEMA)
MALFORMED = "The AI's analysis came back in a form Parley could not read. It will try again with the next message."


@dataclass(frozen=True)
class AnalysisResult:
    analysis: MessageAnalysis
    usage: Usage
    attempts: int  # 1, or 2 after a malformed first answer
    event: SaleAgreed | None  # published when a sale was agreed


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


def parse_analysis(text: str) -> MessageAnalysis:
    """Validate a model's answer; ``AIError("malformed")`` when it is not JSON of the schema."""
    body = _FENCE.sub("", text.strip())
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end < start:
        raise AIError("malformed", MALFORMED)
    try:
        return MessageAnalysis.model_validate(json.loads(body[start : end + 1]))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise AIError("malformed", MALFORMED) from exc


def match_product(name: str, products: list[Product]) -> Product | None:
    wanted = name.strip().lower()
    exact = [p for p in products if p.name.lower() == wanted]
    if exact:
        return exact[0]
    partial = [p for p in products if wanted in p.name.lower() or p.name.lower() in wanted]
    return partial[0] if len(partial) == 1 else None


class Analyzer:
    def __init__(self, provider: Provider, store: Store, *, budget: Budget = DEFAULT_BUDGET, retries: int = 1) -> None:
        self.provider = provider
        self.store = store
        self.budget = budget
        self.retries = retries

    async def _ask(self, chat_id: str) -> tuple[str, Usage, list[Product], str | None, str | None]:
        facts = await asyncio.to_thread(gather, self.store, chat_id, budget=self.budget)
        prompt = compose(facts, "analyze", budget=self.budget)
        done: Done | None = None
        async for event in self.provider.stream(prompt.messages, ANALYSIS_OPTIONS, purpose="analyze"):
            if isinstance(event, Done):
                done = event  # the deltas of a JSON answer are not shown: only the whole is parsed
        if done is None:
            raise AIError("malformed", MALFORMED)
        last_in = next((m for m in reversed(facts.messages) if m.direction == "in"), None)
        contact_id = facts.contact.id if facts.contact else None
        return done.text, done.usage, facts.price_list, last_in.id if last_in else None, contact_id

    async def analyze(self, chat_id: str, *, publish: bool = True) -> AnalysisResult:
        """Analyse the chat's latest customer messages; publish ``SaleAgreed`` when a sale was agreed."""
        attempts = 0
        while True:
            attempts += 1
            text, usage, products, message_id, contact_id = await self._ask(chat_id)
            try:
                analysis = parse_analysis(text)
                break
            except AIError:
                if attempts > self.retries:
                    raise
        event = None
        terms = analysis.sale_agreed
        if terms is not None:
            product = match_product(terms.product, products)
            minor = int(Decimal(str(terms.amount)).scaleb(minor_exponent(terms.currency)).to_integral_value())
            event = SaleAgreed(
                org_id=self.store.org_id,
                chat_id=chat_id,
                message_id=message_id,
                contact_id=contact_id,
                product=product.name if product else terms.product,
                product_id=product.id if product else None,
                amount_minor=minor,
                currency=terms.currency,
            )
            if publish:
                await asyncio.to_thread(self.store.emit, event)
        return AnalysisResult(analysis, usage, attempts, event)
