"""Welcome and away messages: whether a customer's message gets one, and which.

**Welcome** greets a *first-time contact*: someone whose message is the start of their history in this workspace.
Catching up on old history (the backfill after connecting, a first link of a phone with years of chats) records
messages too, so "a contact we never saw" is not enough. A contact is first-time when all three hold:

- the message is *fresh* (sent within ``FRESH`` of now): backfilled history is old, and an old message never gets
  an automatic answer (skip reason ``old_message``; the complaint about stale jobs that still post, Chatwoot #13673);
- nobody ever wrote to them: no outgoing message at all (by a person, a campaign or an agent) in their chats;
- their *earliest* message in the workspace is itself fresh: a backfilled customer's history starts long ago.

**Away** answers outside business hours (``app.agents.hours``, the org's schedule and zone; no schedule means always
open, so never away) and at most once per contact per ``away_every_hours`` (default 12): derived from the messages,
not from a flag: any message the greetings sent (``messages.sent_by_agent`` = ``welcome`` or ``away``) to the contact
within that window counts. A first-time contact outside hours gets one message: the welcome followed by the away text.

Neither fires for our own messages, in groups, for an old message, or when a person owns the chat: they took it
over, or a message of theirs (typed in Parley, on the phone or in WhatsApp Web) is within the pause (the ownership
rule of ``app.agents.ownership``, applied even while the AI is off). Greetings' own messages carry ``sent_by_agent``
and so never count as a takeover, unlike open-bsp-api #19's welcome that paused its own chats.

**Where the switches live.** In the acquisition agent's config (``agent_configs``, under ``"greetings"``), not in
the per-device settings table: the device that holds the WhatsApp session is the one that sends, and a teammate who
edits the welcome text on another device must reach it through sync; versions also let an execution name the
config it ran with and let a change be rolled back (``app.agents.configs``).

``decide(config, facts)`` is pure (tests and the Agents page's dry run); ``gather`` reads the facts from the store;
``GreetingsAgent`` is the orchestrator's agent: it runs ``decide`` on ``MessageReceived`` and sends through the
guarded automated send, deciding again inside its write transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.agents import configs, ownership
from app.agents.context import AgentContext, Outcome
from app.agents.hours import BusinessHours
from app.agents.templates import Recipient, check_template, fill, format_opening, variables_for
from app.core.events import Event, MessageReceived
from app.core.ids import from_ms, to_ms, utc_now
from app.core.models import Message
from app.store.ops.agent_send import AutomatedSend, send_automated
from app.store.store import Store

AGENT = "greetings"  # the orchestrator's name for this agent; its messages say "welcome" or "away"
CONFIG_KEY = "greetings"  # under the acquisition agent's config
FRESH = timedelta(minutes=15)  # older messages are history being caught up on, not a customer waiting now
GreetingKind = Literal["welcome", "away"]
SkipReason = Literal[
    "disabled",
    "from_me",
    "from_agent",
    "group",
    "old_message",
    "owned_by_person",
    "not_first_time",
    "inside_hours",
    "recently_greeted",
    "no_chat",
    "superseded",
]

DEFAULT_WELCOME = "Hi {first_name}, thanks for writing to {business_name}! We'll get back to you shortly."
DEFAULT_AWAY = (
    "Hi {first_name}, thanks for your message. We're closed right now and open again {next_opening}; "
    "we'll answer you then."
)


class GreetingsConfig(BaseModel):
    """Both switches and texts, and how often the away message may repeat to one contact."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    welcome_enabled: bool = False
    welcome_text: str = DEFAULT_WELCOME
    away_enabled: bool = False
    away_text: str = DEFAULT_AWAY
    away_every_hours: int = Field(default=12, ge=1, le=24 * 7)

    @property
    def any_enabled(self) -> bool:
        return self.welcome_enabled or self.away_enabled


def check_config(config: GreetingsConfig) -> GreetingsConfig:
    """The config with its texts trimmed, or InvalidInput: a switched-on message must be valid; a switched-off one
    may be a draft but still may not use unknown variables."""
    welcome, away = config.welcome_text.strip(), config.away_text.strip()
    if config.welcome_enabled or welcome:
        welcome = check_template(config.welcome_text, "The welcome message")
    if config.away_enabled or away:
        away = check_template(config.away_text, "The away message")
    return config.model_copy(update={"welcome_text": welcome, "away_text": away})


def parse_config(raw: Any) -> GreetingsConfig:
    """The stored config; anything unreadable (a newer Parley's shape) reads as all off."""
    try:
        return GreetingsConfig.model_validate(raw or {})
    except ValidationError:
        return GreetingsConfig()


def load_config(store: Store) -> tuple[GreetingsConfig, int]:
    """The config in force and the acquisition config version it belongs to."""
    now = configs.current(store, "acquisition")
    return parse_config(now.config.get(CONFIG_KEY)), now.version


@dataclass(frozen=True)
class Facts:
    """What a decision is made from (all read at ``now``)."""

    now: datetime
    chat_id: str
    message_sent_at: datetime
    direction: Literal["in", "out"]
    from_agent: bool
    is_group: bool
    owned_by_person: bool
    first_time: bool
    last_greeting_at: datetime | None
    contact_name: str
    business_name: str
    hours: BusinessHours


@dataclass(frozen=True)
class Greeting:
    kind: GreetingKind
    chat_id: str
    text: str

    @property
    def action(self) -> str:
        return f"send_{self.kind}"


@dataclass(frozen=True)
class Skip:
    reason: SkipReason
    detail: str = ""


def decide(config: GreetingsConfig, facts: Facts) -> Greeting | Skip:
    """Welcome, away, or why neither."""
    if not config.any_enabled:
        return Skip("disabled", "Welcome and away messages are off.")
    if facts.direction != "in":
        return Skip("from_me")
    if facts.from_agent:
        return Skip("from_agent")
    if facts.is_group:
        return Skip("group", "Greetings are for one-to-one chats.")
    if facts.now - facts.message_sent_at > FRESH:
        return Skip("old_message", "The message is older than 15 minutes (history being caught up on).")
    if facts.owned_by_person:
        return Skip("owned_by_person", "A person is answering this chat.")
    closed = not facts.hours.is_open(facts.now)
    recipient = Recipient(facts.contact_name)
    opening = format_opening(facts.hours.next_opening(facts.now), facts.now, facts.hours.tz)
    values = variables_for(recipient, facts.business_name, opening)
    if config.welcome_enabled and facts.first_time:
        text = fill(config.welcome_text, values)
        if config.away_enabled and closed:
            text = f"{text}\n\n{fill(config.away_text, values)}"
        return Greeting("welcome", facts.chat_id, text)
    if config.away_enabled and closed:
        window = timedelta(hours=config.away_every_hours)
        if facts.last_greeting_at is not None and facts.now - facts.last_greeting_at < window:
            return Skip("recently_greeted", f"Greeted less than {config.away_every_hours} h ago.")
        return Greeting("away", facts.chat_id, fill(config.away_text, values))
    if config.away_enabled:
        return Skip("inside_hours")
    return Skip("not_first_time")


# ---- reading the facts from the store ------------------------------------------------------------------------------
def _contact_chats(conn: Any, chat_id: str, contact_id: str | None) -> list[str]:
    if contact_id is None:
        return [chat_id]
    rows = conn.execute(
        "SELECT id FROM chats WHERE contact_id = ? AND kind = 'direct' AND deleted_at IS NULL", (contact_id,)
    ).fetchall()
    return sorted({chat_id, *(str(r[0]) for r in rows)})


def person_owns(store: Store, chat_id: str, now: datetime) -> bool:
    """A person holds the chat: they took it over (the chat's own AI mode is off), or their message paused it (any
    outgoing message not sent by an agent, within the pause, not handed back since: ``app.agents.ownership``'s
    rule). Unlike ``ownership.ownership``, the acquisition agent being off altogether is not a person owning every
    chat: greetings work for a business that does not use the AI."""
    chat = store.chats.find(chat_id)
    if chat is None:
        return False
    if chat.ai_mode == "off":
        return True
    human = ownership.latest_human_message(store, chat_id)
    if human is None:
        return False
    sent_at, _ = human
    handed_back = chat.ai_handed_back_at
    if handed_back is not None and to_ms(sent_at) <= to_ms(handed_back):
        return False
    return now < sent_at + configs.limits(store).pause


def gather(store: Store, message: Message, *, now: datetime, owned_by_person: bool | None = None) -> Facts | None:
    """The facts about ``message`` at ``now`` (None when its chat is gone). ``owned_by_person`` None: derived here
    from the chat's messages (the orchestrator passes its own answer when it has one)."""
    chat = store.chats.find(message.chat_id)
    if chat is None:
        return None
    contact = store.contacts.find(chat.contact_id) if chat.contact_id else None
    org = store.orgs.get(store.org_id)
    with store.db.read() as conn:
        chats = _contact_chats(conn, chat.id, chat.contact_id)
        marks = ",".join("?" * len(chats))
        wrote_to_them, earliest = conn.execute(
            f"SELECT COALESCE(SUM(direction = 'out'), 0), MIN(sent_at) FROM messages "
            f"WHERE chat_id IN ({marks}) AND deleted_at IS NULL",
            chats,
        ).fetchone()
        last_greeting = conn.execute(
            f"SELECT MAX(sent_at) FROM messages WHERE chat_id IN ({marks}) AND direction = 'out' "
            f"AND sent_by_agent IN ('welcome', 'away') AND deleted_at IS NULL",
            chats,
        ).fetchone()[0]
    owned = person_owns(store, chat.id, now) if owned_by_person is None else owned_by_person
    first_time = int(wrote_to_them) == 0 and earliest is not None and now - from_ms(int(earliest)) <= FRESH
    return Facts(
        now=now,
        chat_id=chat.id,
        message_sent_at=message.sent_at,
        direction=message.direction,
        from_agent=message.sent_by_agent is not None,
        is_group=chat.kind == "group",
        owned_by_person=owned,
        first_time=first_time,
        last_greeting_at=None if last_greeting is None else from_ms(int(last_greeting)),
        contact_name=contact.name if contact is not None else "",
        business_name=org.name,
        hours=BusinessHours.from_org(org.business_hours, org.timezone),
    )


def decide_for(
    store: Store,
    message_id: str,
    *,
    now: datetime | None = None,
    owned_by_person: bool | None = None,
    config: GreetingsConfig | None = None,
) -> Greeting | Skip:
    """``decide`` for a stored message, with ``config`` (default: the config in force)."""
    at = now or utc_now()
    message = store.messages.find(message_id)
    if message is None:
        return Skip("no_chat", "The message is gone.")
    if config is None:
        config, _ = load_config(store)
    if not config.any_enabled:
        return Skip("disabled", "Welcome and away messages are off.")
    facts = gather(store, message, now=at, owned_by_person=owned_by_person)
    return Skip("no_chat") if facts is None else decide(config, facts)


class GreetingsAgent:
    """The welcome and away messages as an orchestrator agent (``app.agents.context.Agent``).

    ``replies`` is False on purpose: the orchestrator's conversation gate lets only chats on AI autopilot through,
    while greetings must work for a business with the AI off; they apply their own ownership rule (``person_owns``)
    and their own pacing (once per contact per N hours). A burst is handled by the guarded send: a greeting answers
    the message it was decided on, so an earlier message of a burst is dropped as ``stale`` and the burst's last one
    is greeted. The send is ``app.store.ops.agent_send``'s (the sending device only), marked ``sent_by_agent`` =
    ``welcome`` / ``away``, with the decision taken again inside its write transaction: a person's reply or another
    greeting committed meanwhile drops it."""

    name = AGENT
    wants = frozenset({MessageReceived.name})
    replies = False

    async def run(self, event: Event, ctx: AgentContext) -> Outcome:
        if not isinstance(event, MessageReceived):
            return Outcome.skip("from_me")
        now = ctx.clock()
        config, version = await ctx.call(load_config, ctx.store)
        # the acquisition config version the greetings ran with (this agent has no versioned config of its own)
        detail: dict[str, Any] = {"acquisition_config_version": version}
        decision = await ctx.call(decide_for, ctx.store, event.message_id, now=now, config=config)
        if isinstance(decision, Skip):
            why = {"why": decision.detail} if decision.detail else {}
            return Outcome.skip(decision.reason, chat_id=event.chat_id, detail=detail | why)
        if ctx.dry_run:
            ctx.draft([decision.text])
            return Outcome.acted(decision.action, chat_id=decision.chat_id, detail=detail | {"dry_run": True})

        def recheck() -> str | None:  # inside the send's write transaction
            again = decide_for(ctx.store, event.message_id, now=now)
            if isinstance(again, Skip):
                return again.reason
            return None if again.kind == decision.kind else "superseded"

        request = AutomatedSend(
            decision.chat_id, (decision.text,), decision.kind, ctx.execution_id, event.message_id, event.depth
        )
        result = (await ctx.call(send_automated, ctx.store, request, recheck=recheck)).value
        if not result.queued:
            ctx.dropped = result.reason
            return Outcome.skip(result.reason or "dropped", chat_id=decision.chat_id, detail=detail)
        ctx.queued.extend(m.id for m in result.queued)
        return Outcome.acted(decision.action, chat_id=decision.chat_id, detail=detail)


def save_config_version(store: Store, config: GreetingsConfig, *, note: str = "") -> GreetingsConfig:
    """Check ``config`` and store it as a new acquisition config version, the agent's other settings kept (the
    operation ``app.store.ops.business_hours.save_greetings`` calls this)."""
    checked = check_config(config)
    configs.save(store, "acquisition", config={CONFIG_KEY: checked.model_dump()}, note=note or "Greetings")
    return checked
