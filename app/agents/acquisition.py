"""The acquisition agent: answers customers with the AI, drafts (suggest) or sends (autopilot) inside limits, hands
the chat to a person when it should, qualifies the lead and notices an agreed sale.

**Mode.** The orchestrator's conversation gate runs it only on chats the AI owns (``app.agents.ownership``: the
acquisition config's mode, or the chat's own ``ai_mode``; a person's takeover or message pauses it). On a chat in
*AI drafts* (the config's mode ``draft``, "suggest") the answer is kept as the run's draft (``AgentContext.draft``,
the execution's ``detail["draft"]``: the one place an agent's unsent words live, synced to teammates); nothing is
sent. On *AI autopilot* it sends through the guarded send (``AgentContext.send``) only inside the limits, each
checked in this order with its reason code on the execution row; a limit that stops a send keeps the words as the
draft:

- ``outside_hours``: the business is closed (``app.agents.hours``, the org's schedule). The greetings agent's away
  message is the answer then; the acquisition agent only drafts.
- ``daily_cap``: this contact already got ``max_replies_per_day`` automatic replies since the business's midnight.
- ``low_confidence``: the model's confidence is below ``min_confidence`` (below ``handoff_below_confidence`` it is a
  hand-off instead).
- ``model_draft_only``: the model asked for a person to check its words (action ``draft_only``).
- ``price_check``: a price in the words is in none of the prompt's sources (``app.ai.guardrails.PriceSources``).
- ``conversation_length``: ``max_replies_in_a_row`` automatic replies since a person last wrote: a hand-off.

**The answer** is JSON of ``AgentAnswer`` (asked for with ``CallOptions.json_schema``: the provider's JSON mode),
validated by pydantic with no extra keys; an answer that does not parse fails the run (``MalformedAnswer``: the
execution is ``failed`` with a sentence) and nothing is sent. The prompt is the suggestion prompt
(``app.ai.grounding.compose``: products, the contact, the knowledge passages, the conversation) with the structured
instructions added, so prices and policies come only from the products and the knowledge base.

**Hand-off** (``handoff_words`` in the customer's message — checked before any model call —, action ``handoff``,
confidence below ``handoff_below_confidence``, or the conversation-length cap): the chat is taken over for a person
(``app.store.ops.ownership.take_over``: the AI stops on it until handed back) chosen round-robin among the staff
(the one after the person the previous hand-off went to), else the owner, else this device's user. Whether a person
is online is not known locally, so it is not used; the execution's detail says how the person was chosen. A
``ChatHandedOff`` event tells the app (the tray shows it).

**Qualifying.** ``lead_score`` is written to the contact when it differs (old and new kept in the detail); a
``stage`` the model names moves the contact's open deal only forward in its pipeline (a later position), never back.

**An agreed sale** is published as ``SaleAgreed`` (the product matched to the catalogue). ``confirm_sale`` records
it (``SaleCompleted`` through ``app.store.ops.sales.record_sale``): in autopilot the agent does so itself when the
product matched and the amount is its price times the quantity; otherwise staff confirm it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.agents import ownership
from app.agents.context import SENT, AgentContext, Outcome
from app.agents.hours import BusinessHours
from app.ai.analysis import match_product
from app.ai.grounding import DEFAULT_BUDGET, Budget, Retrieve, compose, gather, no_retrieval
from app.ai.guardrails import PriceSources, minor_exponent
from app.ai.interactions import CallMode, InteractionLog
from app.ai.types import AIError, CallOptions, Done, Provider, Usage
from app.core.events import ChatHandedOff, Event, MessageReceived, SaleAgreed
from app.core.ids import to_ms
from app.core.models import Sale
from app.store.ops import contacts as contact_ops
from app.store.ops import deals as deal_ops
from app.store.ops import ownership as ownership_ops
from app.store.ops.agreed_sales import record_agreed_sale
from app.store.store import Store

if TYPE_CHECKING:
    from app.ai.service import AiService

log = logging.getLogger(__name__)

AGENT = "acquisition"
CONFIG_KEY = "autopilot_limits"  # under the acquisition config (versioned, synced)

# Reason codes (skip_reason on the execution row).
OUTSIDE_HOURS = "outside_hours"
DAILY_CAP = "daily_cap"
LOW_CONFIDENCE = "low_confidence"
MODEL_DRAFT_ONLY = "model_draft_only"
PRICE_CHECK = "price_check"
CONVERSATION_LENGTH = "conversation_length"
HANDOFF_WORDS = "handoff_words"
MODEL_HANDOFF = "model_handoff"
NO_AI = "no_ai"
NOT_A_CUSTOMER_MESSAGE = "from_me"
GROUP = "group"
HANDED_OFF = "handed_off"

MALFORMED = "The AI's answer was not in the form Parley asked for, so nothing was sent."

DEFAULT_HANDOFF_WORDS = (
    "human",
    "person",
    "manager",
    "real person",
    "humano",
    "pessoa",
    "gerente",
    "atendente",
    "persona",
    "humain",
    "Mensch",
)


class Limits(BaseModel):
    """The autopilot's limits and the hand-off words (``autopilot_limits`` in the acquisition config)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    max_replies_per_day: int = Field(default=20, ge=0)  # per contact, since the business's midnight
    min_confidence: float = Field(default=0.7, ge=0, le=1)  # below: a draft, not a send
    handoff_below_confidence: float = Field(default=0.3, ge=0, le=1)  # below: a person takes the chat
    max_replies_in_a_row: int = Field(default=6, ge=1)  # automatic replies since a person last wrote
    handoff_words: tuple[str, ...] = DEFAULT_HANDOFF_WORDS


def limits_of(config: dict[str, Any]) -> Limits:
    try:
        return Limits.model_validate(config.get(CONFIG_KEY) or {})
    except ValidationError:
        return Limits()


class AgreedSale(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product: str = Field(min_length=1, description="the product as named in the products list")
    quantity: int = Field(default=1, ge=1)
    amount_minor: int = Field(gt=0, description="the total in minor units (cents)")
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class AgentAnswer(BaseModel):
    """What the model must answer: JSON of this schema, nothing else."""

    model_config = ConfigDict(extra="forbid")

    messages: list[str] = Field(description="the WhatsApp messages to send to the customer, in order")
    action: Literal["continue", "handoff", "draft_only"]
    reason: str = Field(description="why, in one short sentence for the staff")
    confidence: float = Field(ge=0, le=1)
    lead_score: int = Field(ge=0, le=100)
    stage: str | None = Field(default=None, description="the pipeline stage the deal has reached, by name")
    sale: AgreedSale | None = Field(description="set only when the customer clearly agreed to buy")


ANSWER_SCHEMA: dict[str, object] = AgentAnswer.model_json_schema()
OPTIONS = CallOptions(temperature=0.3, max_tokens=700, json_schema=ANSWER_SCHEMA)
INSTRUCTIONS = (
    "\nAnswer ONLY with a JSON object of this shape (no prose, no code fence): "
    '{"messages": [texts for the customer], "action": "continue" | "handoff" | "draft_only", '
    '"reason": short reason for the staff, "confidence": 0..1, "lead_score": 0..100, '
    '"stage": pipeline stage name or null, "sale": {"product", "quantity", "amount_minor", "currency"} or null}. '
    'Use "handoff" (with no messages) when a person should answer, "draft_only" when a person should check your '
    "words first. Quote prices and policies only from the products and passages above.\n"
)


class MalformedAnswer(AIError):
    def __init__(self) -> None:
        super().__init__("malformed", MALFORMED)


def parse_answer(text: str) -> AgentAnswer:
    """Validate the model's JSON strictly; ``MalformedAnswer`` otherwise."""
    try:
        answer = AgentAnswer.model_validate(json.loads(text))
    except (json.JSONDecodeError, ValidationError, TypeError) as exc:
        raise MalformedAnswer() from exc
    return answer.model_copy(update={"messages": [m.strip() for m in answer.messages if m.strip()]})


def handoff_word(text: str, words: tuple[str, ...]) -> str | None:
    """The first hand-off word ``text`` contains as a whole word (any case)."""
    for word in words:
        if word.strip() and re.search(rf"(?<!\w){re.escape(word.strip())}(?!\w)", text, re.IGNORECASE):
            return word.strip()
    return None


# ---- facts read from the store --------------------------------------------------------------------------------------
def _hours(store: Store) -> BusinessHours:
    org = store.orgs.get(store.org_id)
    return BusinessHours.from_org(org.business_hours, org.timezone)


def replies_today(store: Store, chat_id: str, now: datetime) -> int:
    """Automatic replies of this agent to the chat's contact since the business's local midnight."""
    hours = _hours(store)
    midnight = now.astimezone(hours.tz).replace(hour=0, minute=0, second=0, microsecond=0)
    chat = store.chats.get(chat_id)
    with store.db.read() as conn:
        if chat.contact_id is not None:
            row = conn.execute(
                "SELECT count(*) FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.contact_id = ? "
                "AND m.direction = 'out' AND m.sent_by_agent = ? AND m.sent_at >= ? AND m.deleted_at IS NULL",
                (chat.contact_id, AGENT, to_ms(midnight)),
            ).fetchone()
        else:
            row = conn.execute(
                "SELECT count(*) FROM messages WHERE chat_id = ? AND direction = 'out' AND sent_by_agent = ? "
                "AND sent_at >= ? AND deleted_at IS NULL",
                (chat_id, AGENT, to_ms(midnight)),
            ).fetchone()
    return int(row[0])


def replies_in_a_row(store: Store, chat_id: str) -> int:
    """Automatic turns of this agent since a person last wrote in the chat or handed it back to the AI (one turn:
    one execution)."""
    handed_back = store.chats.get(chat_id).ai_handed_back_at
    with store.db.read() as conn:
        human = conn.execute(
            "SELECT coalesce(max(sent_at), 0) FROM messages WHERE chat_id = ? AND direction = 'out' "
            "AND sent_by_agent IS NULL AND deleted_at IS NULL",
            (chat_id,),
        ).fetchone()[0]
        row = conn.execute(
            "SELECT count(DISTINCT agent_execution_id) FROM messages WHERE chat_id = ? AND direction = 'out' "
            "AND sent_by_agent = ? AND sent_at > ? AND deleted_at IS NULL",
            (chat_id, AGENT, max(int(human), to_ms(handed_back) if handed_back is not None else 0)),
        ).fetchone()
    return int(row[0])


@dataclass(frozen=True)
class Person:
    user_id: str | None
    name: str | None
    chosen_by: str  # round_robin_staff / owner / this_device


def next_person(store: Store) -> Person:
    """Round-robin among the staff (after the one the previous hand-off went to), else the owner, else this device's
    user. Whether someone is online is not known locally: not used."""
    users = sorted(store.users.find_all(), key=lambda u: (u.name.lower(), u.id))
    staff = [u for u in users if u.role in ("staff", "admin")]
    if staff:
        last: str | None = None
        for run in store.agent_executions.find_all(
            {"agent": AGENT, "action": HANDED_OFF}, order_by="started_at", descending=True, limit=1
        ):
            last = run.detail.get("assigned_to")
        ids = [u.id for u in staff]
        pick = staff[(ids.index(last) + 1) % len(staff)] if last in ids else staff[0]
        return Person(pick.id, pick.name, "round_robin_staff")
    owners = [u for u in users if u.role == "owner"]
    if owners:
        return Person(owners[0].id, owners[0].name, "owner")
    local = store.users.find(store.local_user_id) if store.local_user_id else None
    return Person(store.local_user_id, local.name if local else None, "this_device")


def hand_off(store: Store, chat_id: str) -> Person:
    """Take the chat over for the next person (the AI stops on it until handed back)."""
    person = next_person(store)
    ownership_ops.take_over(store, chat_id, user_id=person.user_id)
    return person


def qualify(store: Store, chat_id: str, answer: AgentAnswer) -> dict[str, Any]:
    """Write the lead score, and move the contact's open deal forward to ``answer.stage``; what changed."""
    changed: dict[str, Any] = {}
    chat = store.chats.get(chat_id)
    if chat.contact_id is None:
        return changed
    contact = store.contacts.get(chat.contact_id)
    if contact.lead_score != answer.lead_score:
        contact_ops.update_contact(store, contact.id, {"lead_score": answer.lead_score})
        changed["lead_score_change"] = [contact.lead_score, answer.lead_score]
    if answer.stage:
        wanted = answer.stage.strip().lower()
        for deal in store.deals.find_all({"contact_id": contact.id, "status": "open"}, limit=10):
            stages = store.pipeline_stages.find_all({"pipeline_id": deal.pipeline_id})
            now = next((s for s in stages if s.id == deal.stage_id), None)
            target = next((s for s in stages if s.name.strip().lower() == wanted), None)
            if now is None or target is None:
                continue
            if target.position > now.position:
                deal_ops.move_deal(store, deal.id, target.id)
                changed["stage"] = [now.name, target.name]
            elif target.id != now.id:
                changed["stage_not_moved_back"] = [now.name, target.name]
            break
    return changed


def agreed(store: Store, event: MessageReceived, sale: AgreedSale) -> tuple[SaleAgreed, bool]:
    """The ``SaleAgreed`` for ``sale`` (product matched to the catalogue), and whether the amount is exactly the
    matched product's price times the quantity (then it may be recorded without a person)."""
    products = store.products.find_all({"active": True})
    product = match_product(sale.product, products)
    exact = (
        product is not None
        and product.currency == sale.currency
        and product.price_minor * sale.quantity == sale.amount_minor
    )
    return (
        SaleAgreed(
            org_id=store.org_id,
            chat_id=event.chat_id,
            message_id=event.message_id,
            contact_id=event.contact_id,
            product=product.name if product else sale.product,
            product_id=product.id if product else None,
            amount_minor=sale.amount_minor,
            currency=sale.currency,
        ),
        exact,
    )


def confirm_sale(store: Store, event: SaleAgreed, *, quantity: int = 1, source: str = "agent") -> Sale:
    """Record an agreed sale (``SaleCompleted``): autopilot for an exact match (the person's click goes through
    ``app.store.ops.agreed_sales.confirm_agreed_sale``, the same recording)."""
    return record_agreed_sale(store, event, quantity=quantity, source=source)


def _major(minor: int, currency: str) -> str:
    return str(minor / 10 ** minor_exponent(currency))


# ---- the agent ------------------------------------------------------------------------------------------------------
class AcquisitionAgent:
    """The orchestrator's acquisition agent (``app.agents.context.Agent``). ``provider``: the AI service's provider
    for the current mode, read at each run (``AiService.provider``; raises ``AIError`` while AI is off)."""

    name = AGENT
    wants = frozenset({MessageReceived.name})
    replies = True

    def __init__(
        self,
        provider: Callable[[], Provider],
        *,
        retrieve: Retrieve = no_retrieval,
        log: InteractionLog | None = None,
        budget: Budget = DEFAULT_BUDGET,
    ) -> None:
        self.provider = provider
        self.retrieve = retrieve
        self.log = log
        self.budget = budget
        self.mode: Callable[[], CallMode] = lambda: "byok"  # how the AI log names the call

    async def _ask(self, store: Store, chat_id: str) -> tuple[AgentAnswer, Usage, PriceSources]:
        facts = await asyncio.to_thread(gather, store, chat_id, retrieve=self.retrieve, budget=self.budget)
        prompt = compose(facts, "suggest", budget=self.budget, extra=INSTRUCTIONS)
        provider = self.provider()
        if self.log is not None:
            stream = self.log.stream(
                provider, prompt.messages, OPTIONS, purpose="suggest", mode=self.mode(), chat_id=chat_id
            )
        else:
            stream = provider.stream(prompt.messages, OPTIONS, purpose="suggest")
        done: Done | None = None
        async for event in stream:
            if isinstance(event, Done):
                done = event  # a JSON answer is read whole, never shown in pieces
        if done is None:
            raise MalformedAnswer()
        also = [(deal.value_minor, deal.currency) for deal, _stage in facts.deals]
        prices = PriceSources.of(facts.price_list, texts=prompt.record.price_texts, also_allowed=also)
        return parse_answer(done.text), done.usage, prices

    async def run(self, event: Event, ctx: AgentContext) -> Outcome:
        if not isinstance(event, MessageReceived):
            return Outcome.skip(NOT_A_CUSTOMER_MESSAGE)
        store, chat_id = ctx.store, event.chat_id
        message = await ctx.call(store.messages.get, event.message_id)
        chat = await ctx.call(store.chats.get, chat_id)
        if message.direction != "in" or message.sent_by_agent is not None:
            return Outcome.skip(NOT_A_CUSTOMER_MESSAGE, chat_id=chat_id)
        if chat.kind == "group":
            return Outcome.skip(GROUP, chat_id=chat_id)
        limits = limits_of(ctx.config.config if ctx.config is not None else {})
        word = handoff_word(message.body or "", limits.handoff_words)
        if word is not None:
            return await self._hand_off(ctx, chat_id, HANDOFF_WORDS, {"word": word})

        try:
            answer, usage, prices = await self._ask(store, chat_id)
        except AIError as exc:
            if exc.kind == "no_provider" and not isinstance(exc, MalformedAnswer):
                return Outcome.skip(NO_AI, chat_id=chat_id, detail={"why": str(exc)})
            raise
        used: dict[str, Any] = {
            "model": usage.model,
            "tokens": usage.prompt_tokens + usage.completion_tokens,
            "cost_usd": usage.cost_usd,
        }
        detail: dict[str, Any] = {
            "confidence": answer.confidence,
            "lead_score": answer.lead_score,
            "model_action": answer.action,
            "reason": answer.reason,
        }
        if not ctx.dry_run:
            detail |= await ctx.call(qualify, store, chat_id, answer)
        sale_event: SaleAgreed | None = None
        if answer.sale is not None:
            found, exact = await ctx.call(agreed, store, event, answer.sale)
            detail["sale"] = {  # the whole agreed sale: staff confirm it from the chat's AI panel
                "product": found.product,
                "amount": _major(found.amount_minor, found.currency),
                "product_id": found.product_id,
                "quantity": answer.sale.quantity,
                "amount_minor": found.amount_minor,
                "currency": found.currency,
                "message_id": found.message_id,
                "contact_id": found.contact_id,
            }
            await ctx.emit(found)
            sale_event = found
            detail["sale_exact"] = exact

        if answer.action == "handoff":
            return await self._hand_off(ctx, chat_id, MODEL_HANDOFF, detail, used)
        if answer.confidence < limits.handoff_below_confidence:
            return await self._hand_off(ctx, chat_id, LOW_CONFIDENCE, detail, used)
        if not answer.messages:
            return Outcome.skip(MODEL_DRAFT_ONLY, chat_id=chat_id, detail=detail, **used)

        owner = await ctx.call(ctx.owner, chat_id)
        held = ownership.skip_reason(owner, sending=False)
        if held is not None:  # a person took the chat while the model was answering: their words, not the AI's
            ctx.draft(answer.messages)
            return Outcome.skip(held, chat_id=chat_id, detail=detail, **used)
        if not owner.ai_may_send:  # AI drafts (suggest): the words wait for a person
            ctx.draft(answer.messages)
            return Outcome.acted("drafted", chat_id=chat_id, detail=detail, **used)

        stop = await ctx.call(self._limit, ctx, chat_id, answer, limits, prices)
        if stop == CONVERSATION_LENGTH:
            ctx.draft(answer.messages)
            return await self._hand_off(ctx, chat_id, CONVERSATION_LENGTH, detail, used)
        if stop is not None:
            ctx.draft(answer.messages)
            return Outcome.skip(stop, chat_id=chat_id, detail=detail, **used)
        result = await ctx.send(chat_id, answer.messages, answering=event.message_id)
        if result.queued and sale_event is not None and answer.sale is not None and detail.get("sale_exact"):
            sale = await ctx.call(confirm_sale, store, sale_event, quantity=answer.sale.quantity)
            detail["recorded_sale"] = sale.id
        if not result.queued:
            return Outcome.skip(result.reason or "dropped", chat_id=chat_id, detail=detail, **used)
        return Outcome.acted(SENT, chat_id=chat_id, detail=detail, **used)

    @staticmethod
    def _limit(
        ctx: AgentContext, chat_id: str, answer: AgentAnswer, limits: Limits, prices: PriceSources
    ) -> str | None:
        """The first autopilot limit that stops this send (blocking: reads the store)."""
        now = ctx.clock()
        if not _hours(ctx.store).is_open(now):
            return OUTSIDE_HOURS
        if replies_today(ctx.store, chat_id, now) >= limits.max_replies_per_day:
            return DAILY_CAP
        if answer.confidence < limits.min_confidence:
            return LOW_CONFIDENCE
        if answer.action == "draft_only":
            return MODEL_DRAFT_ONLY
        if any(prices.check(text) for text in answer.messages):
            return PRICE_CHECK
        if replies_in_a_row(ctx.store, chat_id) >= limits.max_replies_in_a_row:
            return CONVERSATION_LENGTH
        return None

    async def _hand_off(
        self,
        ctx: AgentContext,
        chat_id: str,
        reason: str,
        detail: dict[str, Any],
        used: dict[str, Any] | None = None,
    ) -> Outcome:
        if ctx.dry_run:
            return Outcome(action=HANDED_OFF, skip_reason=reason, chat_id=chat_id, detail=detail, **(used or {}))
        person = await ctx.call(hand_off, ctx.store, chat_id)
        who = person.name or "a person"
        await ctx.emit(
            ChatHandedOff(
                org_id=ctx.store.org_id,
                chat_id=chat_id,
                user_id=person.user_id,
                reason=reason,
                sentence=f"The AI handed a chat to {who} ({REASONS.get(reason, reason)}).",
            )
        )
        detail = detail | {"assigned_to": person.user_id, "chosen_by": person.chosen_by}
        return Outcome(action=HANDED_OFF, skip_reason=reason, chat_id=chat_id, detail=detail, **(used or {}))


REASONS = {
    HANDOFF_WORDS: "the customer asked for a person",
    MODEL_HANDOFF: "the AI asked for a person",
    LOW_CONFIDENCE: "the AI was unsure",
    CONVERSATION_LENGTH: "too many automatic replies in a row",
}


def build(ai: AiService) -> AcquisitionAgent:
    """The agent on the app's AI service (``AiService``): its provider per mode, the knowledge base's retrieval (the
    panel's search) and the AI log."""
    from app.ai.knowledge import assist
    from app.ai.knowledge.embedding import VectorIndex

    def mode() -> CallMode:
        return "cloud" if ai.config().mode == "cloud" else "byok"

    agent = AcquisitionAgent(ai.provider, retrieve=assist.retriever(ai, ai.store, VectorIndex()), log=ai.log)
    agent.mode = mode
    return agent


def agents(ai: AiService | None) -> list[AcquisitionAgent]:
    """What bootstrap registers: the agent when the app has an AI service (none without one)."""
    return [] if ai is None else [build(ai)]
