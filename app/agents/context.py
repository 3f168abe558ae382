"""What an agent is to the orchestrator, what one run returns, and what a run is given to work with.

An agent is any object with a ``name``, the event names it ``wants``, whether it ``replies`` to customers in chats
(then the orchestrator applies the conversation rules to it: ownership, debounce, cooldown, rate cap), and an async
``run(event, ctx)`` returning an ``Outcome``: the action taken, or a skip reason code, and the model, tokens and cost
when it used AI. The orchestrator turns every run into one ``agent_executions`` row; an agent never writes its own.

The ``AgentContext`` gives a run the store, the config version in force, the orchestrator's clock, the execution id
(the causation of whatever the run causes), and the only way an agent sends: ``send``, the guarded automated send
(``app.store.ops.agent_send``) with the ownership re-check bound in. Store calls from a run go through
``ctx.call`` (a worker thread: the service loop never blocks on the database).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ParamSpec, Protocol, TypeVar

from app.agents import ownership
from app.agents.configs import Current, Limits
from app.core.events import Event
from app.store.ops import agent_send
from app.store.ops.agent_send import AutomatedSend, SendResult
from app.store.store import Store

P = ParamSpec("P")
T = TypeVar("T")

# Skip reason codes the orchestrator writes itself (agents add their own: outside_hours, no_whatsapp, budget, …).
FROM_ME = "from_me"  # a message event caused by an automated send: automations never start from one
DEPTH = "depth"  # the chain of automated causes reached the limit
COOLDOWN = "cooldown"
RATE_LIMITED = "rate_limited"
DEBOUNCED = "debounced"  # a later message of the same burst carries the turn
OWNED_BY_PERSON = ownership.OWNED_BY_PERSON
STALE = agent_send.STALE
NOT_SENDING_DEVICE = agent_send.NOT_SENDING_DEVICE

SENT = "sent"
DRAFTED = "drafted"


@dataclass(frozen=True)
class Outcome:
    """What one run did: ``action`` (``sent``, ``drafted``, ``recorded_sale``…) or ``skip_reason``, never both."""

    action: str | None = None
    skip_reason: str | None = None
    chat_id: str | None = None
    model: str | None = None
    tokens: int | None = None
    cost_usd: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # conditions matched, figures; never secrets

    @classmethod
    def skip(cls, reason: str, **kw: Any) -> Outcome:
        return cls(skip_reason=reason, **kw)

    @classmethod
    def acted(cls, action: str, **kw: Any) -> Outcome:
        return cls(action=action, **kw)


class Agent(Protocol):
    name: str
    wants: frozenset[str]  # event names (``MessageReceived.name``…)
    replies: bool  # answers customers in chats: ownership, debounce, cooldown and the rate cap apply

    async def run(self, event: Event, ctx: AgentContext) -> Outcome: ...


@dataclass
class AgentContext:
    store: Store
    agent: str
    execution_id: str
    event: Event
    config: Current | None  # None: an agent without a versioned config
    limits: Limits
    clock: Callable[[], datetime]
    dry_run: bool = False
    # What the run did through the context (the orchestrator reads it when writing the execution):
    queued: list[str] = field(default_factory=list)  # message ids queued by ``send``
    dropped: str | None = None  # why the last ``send`` queued nothing
    drafts: list[str] = field(default_factory=list)

    @property
    def config_version(self) -> int | None:
        return None if self.config is None else self.config.version

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a blocking store call on a worker thread."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    def owner(self, chat_id: str) -> ownership.Ownership:
        """Who owns the chat now (blocking: call it through ``ctx.call``)."""
        return ownership.ownership(self.store, chat_id, now=self.clock(), pause=self.limits.pause)

    def draft(self, bodies: Sequence[str]) -> None:
        """Keep ``bodies`` as this run's draft (in the execution's detail, which syncs to teammates)."""
        self.drafts.extend(b.strip() for b in bodies if b.strip())

    async def send(self, chat_id: str, bodies: Sequence[str], *, answering: str | None) -> SendResult:
        """Queue ``bodies`` in the chat as this agent, unless, inside the write: a person owns the chat, its latest
        message is no longer ``answering``, or this device does not hold the WhatsApp session. Whatever is not sent
        stays as the run's draft. A dry run queues nothing. Give all of a turn's messages in one call: after a send
        the chat's latest message is the agent's own, so a second send answering the same message is ``stale``."""
        if self.dry_run:
            self.draft(bodies)
            return SendResult(reason="dry_run")

        def recheck() -> str | None:
            return ownership.skip_reason(self.owner(chat_id), sending=True)

        request = AutomatedSend(chat_id, tuple(bodies), self.agent, self.execution_id, answering, self.event.depth)
        done = await asyncio.to_thread(agent_send.send_automated, self.store, request, recheck=recheck)
        result = done.value
        if result.queued:
            self.queued.extend(m.id for m in result.queued)
        else:
            self.dropped = result.reason
            self.draft(bodies)
        return result

    async def emit(self, event: Event) -> Event:
        """Publish an event this run caused (in the durable log): it carries the execution as its cause and the
        chain's depth + 1, so a chain of agents triggering each other stops at the depth limit."""
        caused = event.model_copy(update={"causation_id": self.execution_id, "depth": self.event.depth + 1})
        if not self.dry_run:
            await asyncio.to_thread(self.store.emit, caused)
        return caused
