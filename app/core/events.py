"""Core events and a small typed bus.

Services publish events after their transaction commits; agents (and later sync and the UI) subscribe by event
type. The store can also append events to its durable ``events`` table so a consumer that was not running when the
event happened (an agent switched on later, a crash) can still process it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from app.core.ids import utc_now

log = logging.getLogger(__name__)


class Event(BaseModel):
    """Base of every core event. ``name`` is the stable identifier used in the durable log."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ClassVar[str] = "event"
    org_id: str
    occurred_at: datetime = Field(default_factory=utc_now)
    # The envelope (issue 18): the agent execution whose action caused this event (None: a person or a customer),
    # and how many automated steps lie behind it. Events caused by automated sends never start automations, and a
    # chain stops at the orchestrator's depth limit.
    causation_id: str | None = None
    depth: int = Field(default=0, ge=0)


class MessageReceived(Event):
    name: ClassVar[str] = "message.received"
    chat_id: str
    message_id: str
    contact_id: str | None = None


class MessageQueued(Event):
    name: ClassVar[str] = "message.queued"
    chat_id: str
    message_id: str


class MessageStatusChanged(Event):
    name: ClassVar[str] = "message.status_changed"
    message_id: str
    status: str
    previous: str | None = None


class ChatStatusChanged(Event):
    """A conversation moved between open, pending and resolved (by a person, or re-opened by a new message)."""

    name: ClassVar[str] = "chat.status_changed"
    chat_id: str
    status: str
    previous: str


class ContactCreated(Event):
    name: ClassVar[str] = "contact.created"
    contact_id: str


class ContactErased(Event):
    name: ClassVar[str] = "contact.erased"
    contact_id: str


class DealStageChanged(Event):
    name: ClassVar[str] = "deal.stage_changed"
    deal_id: str
    from_stage_id: str | None
    to_stage_id: str


class SaleCompleted(Event):
    name: ClassVar[str] = "sale.completed"
    sale_id: str
    amount_minor: int
    currency: str
    contact_id: str | None = None


class SaleAgreed(Event):
    """The AI's analysis read a customer's message as agreeing to buy (not yet a recorded sale: agents or staff
    confirm it). ``product_id`` is set when the named product matched one in the catalogue."""

    name: ClassVar[str] = "sale.agreed"
    chat_id: str
    message_id: str | None = None
    contact_id: str | None = None
    product: str
    product_id: str | None = None
    amount_minor: int
    currency: str


class RevenueDropped(Event):
    """The finance agent's daily check: a finished day's revenue in one currency fell against the trailing average
    of the same weekday (``sentence`` says it with the figures). Shown as a notification; kept on its job too."""

    name: ClassVar[str] = "finance.revenue_dropped"
    day: str  # ISO date, the business's local day
    currency: str
    sentence: str


class ChatHandedOff(Event):
    """The acquisition agent handed a chat to a person (the AI stops on it until handed back): ``user_id`` is the
    person assigned, ``reason`` the code on its execution row, ``sentence`` what the notification says (no customer
    text)."""

    name: ClassVar[str] = "agent.chat_handed_off"
    chat_id: str
    user_id: str | None = None
    reason: str
    sentence: str


class AutomationHalted(Event):
    """All automated sending on the WhatsApp number stopped at once (``app.store.ops.automation``): WhatsApp showed
    a rate-limit or ban notice, or a person stopped it. ``code`` says why (``rate_limited``, ``banned``, ``manual``);
    ``sentence`` is what the alert says. A person's own messages still go; automated ones wait until resumed."""

    name: ClassVar[str] = "automation.halted"
    code: str
    sentence: str


class AutomationResumed(Event):
    """A person resumed automated sending after a halt."""

    name: ClassVar[str] = "automation.resumed"


class ScheduleTick(Event):
    name: ClassVar[str] = "schedule.tick"


class TablesChanged(Event):
    """A write transaction committed changes to ``tables`` (derived by the store, never announced by hand).

    Published once per commit after it, never for a rollback; ``origin`` says whether the rows were written here,
    pulled from the team server, or came with a restored backup. ``chat_ids`` names the chats whose chat, message
    or note rows changed (``None``: too many to list, or a restore: any chat). Not kept in the durable log: it
    describes the file, not the business, and a view that was not running reads the file anyway.
    """

    name: ClassVar[str] = "store.tables_changed"
    tables: frozenset[str]
    chat_ids: frozenset[str] | None = frozenset()
    origin: Literal["local", "remote", "restore"] = "local"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.name: cls
    for cls in (
        MessageReceived,
        MessageQueued,
        MessageStatusChanged,
        ChatStatusChanged,
        ContactCreated,
        ContactErased,
        DealStageChanged,
        SaleCompleted,
        SaleAgreed,
        RevenueDropped,
        ChatHandedOff,
        AutomationHalted,
        AutomationResumed,
        ScheduleTick,
    )
}

E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None]


def event_from_payload(name: str, payload: dict[str, Any]) -> Event:
    """Rebuild an event from the durable log."""
    try:
        cls = EVENT_TYPES[name]
    except KeyError:
        raise ValueError(f"unknown event {name!r}") from None
    return cls.model_validate(payload)


class EventBus:
    """Synchronous in-process publish/subscribe keyed by event class.

    A failing handler is logged and does not stop the others: one broken agent must not break message intake.
    """

    def __init__(self) -> None:
        self._handlers: defaultdict[type[Event], list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> Callable[[], None]:
        """Register ``handler``; returns a function that unsubscribes it."""
        self._handlers[event_type].append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers[event_type]:
                self._handlers[event_type].remove(handler)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for event_type, handlers in list(self._handlers.items()):
            if isinstance(event, event_type):
                for handler in list(handlers):
                    try:
                        handler(event)
                    except Exception:
                        log.exception("event handler %r failed on %s", handler, event.name)
