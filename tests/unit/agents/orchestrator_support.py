"""Agents for the orchestrator's tests (the app registers none of these), a clock the tests move, and a store
with chats fed the way WhatsApp feeds them (intake: customer messages, and our own messages typed on the phone)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from app.agents.context import AgentContext, Outcome
from app.core.events import Event, MessageReceived, SaleAgreed, SaleCompleted
from app.core.ids import utc_now
from app.core.models import Chat, Message
from app.store import intake
from app.store.intake import CapturedMessage
from app.store.store import Store

_ids = itertools.count(1)


class Clock:
    """The orchestrator's clock, moved by the test (never slept on)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def catch_up(self) -> None:
        """At least the real time (events logged by intake carry it as ``occurred_at``)."""
        self.now = max(self.now, utc_now())


class Recorder:
    """Notes each event it gets."""

    replies = False

    def __init__(self, name: str, wants: set[str]) -> None:
        self.name = name
        self.wants = frozenset(wants)
        self.seen: list[Event] = []

    async def run(self, event: Event, ctx: AgentContext) -> Outcome:
        self.seen.append(event)
        return Outcome.acted("noted")


class Boom:
    """Always fails, with customer text in its exception (which must never reach the execution row)."""

    replies = False

    def __init__(self, name: str, wants: set[str]) -> None:
        self.name = name
        self.wants = frozenset(wants)

    async def run(self, event: Event, ctx: AgentContext) -> Outcome:
        raise RuntimeError("customer said: my card is 4111 1111")


Hook = Callable[[MessageReceived], Awaitable[None]]


class Replier:
    """Answers each customer turn through the guarded send; ``before_send`` runs between its decision and its send
    (where a person's message may land)."""

    replies = True
    wants = frozenset({MessageReceived.name})

    def __init__(self, name: str = "acquisition", before_send: Hook | None = None) -> None:
        self.name = name
        self.before_send = before_send
        self.answered: list[str] = []

    async def run(self, event: Event, ctx: AgentContext) -> Outcome:
        assert isinstance(event, MessageReceived)
        self.answered.append(event.message_id)
        if self.before_send is not None:
            await self.before_send(event)
        result = await ctx.send(event.chat_id, ["Thanks, on it!"], answering=event.message_id)
        return Outcome(model="test-model", tokens=42, cost_usd=0.0001, detail={"sent": bool(result.queued)})


class Ping:
    """On a sale agreed, records it as completed (an event it causes); Pong does the reverse: a loop on purpose."""

    replies = False
    wants = frozenset({SaleAgreed.name})

    def __init__(self, name: str = "ping") -> None:
        self.name = name

    async def run(self, event: Event, ctx: AgentContext) -> Outcome:
        await ctx.emit(SaleCompleted(org_id=event.org_id, sale_id=f"s{next(_ids)}", amount_minor=100, currency="EUR"))
        return Outcome.acted("completed_sale")


class Pong:
    replies = False
    wants = frozenset({SaleCompleted.name})

    def __init__(self, name: str = "pong") -> None:
        self.name = name

    async def run(self, event: Event, ctx: AgentContext) -> Outcome:
        await ctx.emit(SaleAgreed(org_id=event.org_id, chat_id="c", product="Tea", amount_minor=100, currency="EUR"))
        return Outcome.acted("agreed_sale")


def customer_says(store: Store, phone: str, body: str, *, at: datetime | None = None) -> Message:
    """A customer's message as WhatsApp Web reports it (intake logs ``MessageReceived``)."""
    captured = CapturedMessage(
        wa_id=f"in-{next(_ids)}", chat_jid=f"{phone}@c.us", from_me=False, body=body, timestamp=at or utc_now()
    )
    return intake.record_message(store, captured).message


def typed_on_phone(store: Store, phone: str, body: str, *, at: datetime | None = None) -> Message:
    """Our own message typed on the phone (or in WhatsApp Web): intake records it outbound, no agent on it."""
    captured = CapturedMessage(
        wa_id=f"out-{next(_ids)}", chat_jid=f"{phone}@c.us", from_me=True, body=body, timestamp=at or utc_now(), ack=1
    )
    return intake.record_message(store, captured).message


def chat_of(store: Store, phone: str) -> Chat:
    chat = store.chats.find_by_wa_chat_id(f"{phone}@c.us")
    assert chat is not None
    return chat


async def in_thread(fn: Callable[[], object]) -> None:
    await asyncio.to_thread(fn)
