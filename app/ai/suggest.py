"""Reply suggestions, rewrites and summaries over any ``Provider``.

Every action is an async iterator: text deltas (``str``) as the model writes, then exactly one ``Suggestion`` with
the whole text, the passages the prompt carried (``citations``: taken from that call's ``ContextRecord``, numbered
and ordered as in the prompt, which is the knowledge search's ranking) and those its ``[n]`` markers use
(``cited``), the guardrail findings (prices that appear in none of the prompt's sources, a hand-off) and the usage.
Provider failures surface as ``AIError`` unchanged.

A summary is for the staff, never for the customer: its ``Suggestion`` says so (``for_staff``), and the panel adds
it to the chat as an internal note instead of putting it in the composer.

The store is read on a worker thread (``asyncio.to_thread``), so the loop that runs a suggestion — the UI's worker
loop — never waits on the disk. With ``redact`` on (the caller decides, by ``guardrails.should_redact``: cloud mode
only), phone numbers and e-mail addresses leave as placeholders and come back in the deltas and the final text.

A suggestion whose answer starts like ``HANDOFF`` is held back until it is clear: the deltas of a hand-off are never
shown as a draft; the final ``Suggestion`` carries ``handoff`` (the reason) instead.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from app.ai.grounding import (
    DEFAULT_BUDGET,
    Budget,
    ChatFacts,
    Citation,
    ContextRecord,
    Prompt,
    Retrieve,
    compose,
    gather,
    no_retrieval,
    rewrite_prompt,
)
from app.ai.guardrails import (
    PriceSources,
    PriceViolation,
    Redactor,
    StreamRestorer,
    handoff_reason,
    may_be_handoff,
)
from app.ai.interactions import CallMode, InteractionLog
from app.ai.types import AIError, CallOptions, ChatMessage, Delta, Done, Provider, Purpose, StreamEvent, Usage
from app.core.models import AiInteraction, Product
from app.store.store import Store

SuggestionKind = Literal["suggest", "regenerate", "rewrite", "summarize"]
RewriteAction = Literal["shorter", "friendlier", "formal", "grammar", "translate"]
REWRITE_LABELS: dict[RewriteAction, str] = {
    "shorter": "Shorter",
    "friendlier": "Friendlier",
    "formal": "More formal",
    "grammar": "Fix grammar",
    "translate": "Translate",
}
_MARKER = re.compile(r"\[(\d{1,2})\]")
_MARKER_SPACE = re.compile(r"\s*\[\d{1,2}\]")


@dataclass(frozen=True)
class Suggestion:
    kind: SuggestionKind
    text: str  # as the model wrote it (placeholders restored), [n] markers included
    citations: list[Citation]  # the passages the prompt carried, in its numbering (the retrieval's ranking)
    price_violations: list[PriceViolation]
    handoff: str | None  # the reason when the model handed off; None for a draft
    usage: Usage
    record: ContextRecord
    timings_ms: dict[str, float] = field(default_factory=dict)  # store, retrieval, prompt, first_token, total
    interaction_id: str | None = None  # the AI log's row, when the Suggester logs (for the outcome)
    cited: list[Citation] = field(default_factory=list)  # those of ``citations`` the text marks with [n], in order
    for_staff: bool = False  # a summary (or a rewrite of one): an internal note, never text for the customer

    @property
    def clean_text(self) -> str:
        """The text to put in the composer: without the [n] citation markers (the customer has no sources list)."""
        return _MARKER_SPACE.sub("", self.text).strip()


SuggestEvent = str | Suggestion


def cited(text: str, available: Sequence[Citation]) -> list[Citation]:
    """The passages of ``available`` that ``text`` marks with ``[n]``, in ``available``'s order (a marker that
    names no passage of the prompt cites nothing)."""
    used = {int(match.group(1)) for match in _MARKER.finditer(text)}
    return [c for c in available if c.number in used]


class Suggester:
    def __init__(
        self,
        provider: Provider,
        store: Store,
        *,
        retrieve: Retrieve = no_retrieval,
        brand_voice: str | None = None,
        redact: bool = False,
        budget: Budget = DEFAULT_BUDGET,
        options: CallOptions | None = None,
        log: InteractionLog | None = None,
        mode: CallMode = "byok",
    ) -> None:
        self.provider = provider
        self.log = log  # with a log, every call is recorded (metadata; text only when the user opted in)
        self.mode = mode
        self.store = store
        self.retrieve = retrieve
        self.brand_voice = brand_voice
        self.redact = redact
        self.budget = budget
        self.options = options or CallOptions()

    # ---- facts -------------------------------------------------------------------------------------------------
    async def facts(self, chat_id: str) -> ChatFacts:
        return await asyncio.to_thread(
            gather, self.store, chat_id, retrieve=self.retrieve, brand_voice=self.brand_voice, budget=self.budget
        )

    def _also_allowed(self, facts: ChatFacts) -> list[tuple[int, str]]:
        return [(deal.value_minor, deal.currency) for deal, _stage in facts.deals]

    def _sources(self, facts: ChatFacts, prompt: Prompt) -> PriceSources:
        """Every price the prompt was given: all active products, the open deals, and the texts it carried."""
        return PriceSources.of(
            facts.price_list, texts=prompt.record.price_texts, also_allowed=self._also_allowed(facts)
        )

    # ---- actions -----------------------------------------------------------------------------------------------
    async def suggest(self, chat_id: str) -> AsyncIterator[SuggestEvent]:
        """A reply for the customer's latest messages."""
        async for event in self._suggest(chat_id, "suggest", previous=None):
            yield event

    async def regenerate(self, chat_id: str, previous: str | None = None) -> AsyncIterator[SuggestEvent]:
        """Another reply, different from ``previous``, a little more freely worded."""
        async for event in self._suggest(chat_id, "regenerate", previous=previous):
            yield event

    async def _suggest(self, chat_id: str, kind: SuggestionKind, previous: str | None) -> AsyncIterator[SuggestEvent]:
        facts = await self.facts(chat_id)
        started = time.perf_counter()
        extra = ""
        options = self.options
        if previous:
            extra = f"\nA colleague already drafted this reply; write a different one:\n{previous.strip()}\n"
            options = options.model_copy(update={"temperature": min(2.0, options.temperature + 0.3)})
        prompt = compose(facts, "suggest", budget=self.budget, extra=extra)
        timings = dict(facts.timings_ms, prompt=(time.perf_counter() - started) * 1000)
        async for event in self._run(
            prompt, kind, "suggest", options, prices=self._sources(facts, prompt), handoff_allowed=True, timings=timings
        ):
            yield event

    async def rewrite(
        self,
        action: RewriteAction,
        text: str,
        *,
        chat_id: str | None = None,
        citations: Sequence[Citation] = (),
        for_staff: bool = False,
    ) -> AsyncIterator[SuggestEvent]:
        """``text`` rewritten by ``action``; with a chat, translation targets its customer's language.

        ``citations``: the passages ``text``'s ``[n]`` markers refer to (the prompt that wrote it), kept with the
        rewrite; ``for_staff``: ``text`` is a summary, and so is its rewrite."""
        language = "the language the customer writes in"
        price_list: list[Product] = []
        also: list[tuple[int, str]] = []
        timings: dict[str, float] = {}
        if chat_id is not None:
            facts = await self.facts(chat_id)
            timings.update(facts.timings_ms)
            price_list, also = facts.price_list, self._also_allowed(facts)
            if facts.contact is not None and facts.contact.language:
                language = facts.contact.language
            elif facts.query:
                language = f"the language of this customer message: {facts.query[:300]!r}"
        else:
            price_list = await asyncio.to_thread(self.store.products.find_all, {"active": True})
        started = time.perf_counter()
        products = price_list[: self.budget.max_products]
        prompt = rewrite_prompt(
            action, text, language=language, products=products, chat_id=chat_id, citations=citations
        )
        timings["prompt"] = (time.perf_counter() - started) * 1000
        # The prices the draft already had are allowed to stay (the staff wrote or accepted them): the prompt's
        # texts include the draft.
        prices = PriceSources.of(price_list, texts=prompt.record.price_texts, also_allowed=also)
        async for event in self._run(
            prompt, "rewrite", "rewrite", self.options, prices=prices, timings=timings, for_staff=for_staff
        ):
            yield event

    async def summarize(self, chat_id: str) -> AsyncIterator[SuggestEvent]:
        facts = await self.facts(chat_id)
        started = time.perf_counter()
        prompt = compose(facts, "summarize", budget=self.budget)
        timings = dict(facts.timings_ms, prompt=(time.perf_counter() - started) * 1000)
        async for event in self._run(
            prompt,
            "summarize",
            "summarize",
            self.options,
            prices=self._sources(facts, prompt),
            timings=timings,
            for_staff=True,
        ):
            yield event

    # ---- the call ----------------------------------------------------------------------------------------------
    async def _run(
        self,
        prompt: Prompt,
        kind: SuggestionKind,
        purpose: Purpose,
        options: CallOptions,
        *,
        prices: PriceSources,
        handoff_allowed: bool = False,
        timings: dict[str, float],
        for_staff: bool = False,
    ) -> AsyncIterator[SuggestEvent]:
        started = time.perf_counter()
        redactor = Redactor()
        messages = prompt.messages
        if self.redact:
            messages = [ChatMessage(role=m.role, content=redactor.redact(m.content)) for m in messages]
        restorer = StreamRestorer(redactor)
        held = ""  # the start of an answer that may still be a hand-off
        deciding = handoff_allowed
        shown = False
        done: Done | None = None
        recorded: list[AiInteraction] = []
        chat_id = prompt.record.chat_id
        stream: AsyncIterator[StreamEvent]
        if self.log is not None:
            stream = self.log.stream(
                self.provider, messages, options, purpose=purpose, mode=self.mode, chat_id=chat_id, recorded=recorded
            )
        else:
            stream = self.provider.stream(messages, options, purpose=purpose)
        async for event in stream:
            if isinstance(event, Delta):
                if "first_token" not in timings:
                    timings["first_token"] = (time.perf_counter() - started) * 1000
                text = restorer.feed(event.text)
                if deciding:
                    held += text
                    if may_be_handoff(held):
                        continue  # still undecided, or a hand-off: nothing of it is shown as a draft
                    deciding = False
                    text, held = held, ""
                if text:
                    shown = True
                    yield text
            elif isinstance(event, Done):
                done = event
        if done is None:  # a provider that broke the contract; say so rather than hang the panel
            raise AIError("malformed", "The AI stopped before finishing its answer. Try again.")
        tail = restorer.flush()
        full = redactor.restore(done.text)
        reason = handoff_reason(full) if handoff_allowed else None
        if reason is None:
            if not shown and full:
                yield full  # a provider that did not stream: the whole text at once
            elif tail:
                yield tail
        citations = list(prompt.record.citations) if reason is None else []
        violations = prices.check(full) if reason is None else []
        timings["total"] = timings.get("store", 0) + timings.get("retrieval", 0) + timings.get("prompt", 0)
        timings["total"] += (time.perf_counter() - started) * 1000  # the call, its stream and the guardrails
        yield Suggestion(
            kind=kind,
            text=full.strip() if reason is None else "",
            citations=citations,
            price_violations=violations,
            handoff=reason,
            usage=done.usage,
            record=prompt.record,
            timings_ms=timings,
            interaction_id=recorded[0].id if recorded else None,
            cited=cited(full, citations),
            for_staff=for_staff,
        )
