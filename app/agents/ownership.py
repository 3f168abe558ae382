"""Who owns a conversation: *AI autopilot*, *AI drafts*, *paused* by a person's takeover, or *a person* (named).

Derived on every read, never declared on one path and forgotten on another (schema 13's header):

- The AI's mode on a chat is off while the acquisition agent is off (``app.agents.configs``); else ``chats.ai_mode``
  when the chat has its own, else the agent's mode. Off means a person owns the chat: the assigned user (named), or
  nobody assigned yet.
- **A takeover is any outgoing message not sent by an agent** — typed in Parley, on the phone or in WhatsApp Web
  (intake records those as outbound with no ``sent_by_agent``; the bots of the anchors could not see them) — whose
  ``sent_at`` is later than ``ai_handed_back_at``: the AI is paused on the chat until ``sent_at`` + the pause (the
  acquisition config's ``pause_hours``, 12 h by default). "Hand back to AI" (``app.store.ops.ownership.hand_back``)
  stamps ``ai_handed_back_at`` now, which ends the pause at once; the next customer message gets an answer (no
  "stay silent" memory to undo, fazer-ai #457).
- **"Take over"** (``app.store.ops.ownership.take_over``) is the explicit, open-ended form: ``ai_mode = 'off'`` and
  the chat assigned to the person who took it, until handed back.

``ownership`` is also what the guarded automated send re-checks inside its write transaction (reads made on the
writer's thread inside a transaction see that transaction), so a person's message committed between the agent's
decision and its send stops the send. ``owner_sentence`` is what the chat banner shows.

Captured phone messages carry WhatsApp's time to the minute: one typed in the same minute as a hand-back may count
as before it. The pause errs toward the person (a takeover is never missed), not toward the AI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.agents import configs
from app.core.ids import from_ms, to_ms, utc_now
from app.core.models import AgentMode, Chat
from app.store.store import Store

OwnerKind = Literal["autopilot", "draft", "paused", "person"]
OWNED_BY_PERSON = "owned_by_person"
DRAFTS_ONLY = "drafts_only"  # an automated send in a chat on AI drafts: the words stay a draft
PHONE = "someone on the phone or WhatsApp Web"


@dataclass(frozen=True)
class Ownership:
    kind: OwnerKind
    person_id: str | None = None  # the assigned user, or the user whose message paused the AI
    person_name: str | None = None  # None: nobody assigned, or a message from the phone / WhatsApp Web
    since: datetime | None = None  # when the person's message was sent (paused)
    until: datetime | None = None  # when the pause ends unless handed back earlier (paused)
    mode: AgentMode = "off"  # the AI's mode on the chat once no person holds it

    @property
    def ai_may_send(self) -> bool:
        return self.kind == "autopilot"

    @property
    def ai_may_draft(self) -> bool:
        return self.kind in ("autopilot", "draft")


def ai_mode(store: Store, chat: Chat, acquisition: configs.Current | None = None) -> AgentMode:
    """The AI's mode on ``chat``: off while the acquisition agent is off; else the chat's own, else the agent's
    (``acquisition``: its config in force when the caller has it already)."""
    agent = acquisition if acquisition is not None else configs.current(store, "acquisition")
    if not agent.enabled:
        return "off"
    return chat.ai_mode if chat.ai_mode is not None else agent.mode


def latest_human_message(store: Store, chat_id: str) -> tuple[datetime, str | None] | None:
    """(sent_at, author_user_id) of the chat's latest outgoing message not sent by an agent (the partial index)."""
    with store.db.read() as conn:
        row = conn.execute(
            "SELECT sent_at, author_user_id FROM messages WHERE chat_id = ? AND direction = 'out' "
            "AND sent_by_agent IS NULL AND org_id = ? AND deleted_at IS NULL ORDER BY sent_at DESC LIMIT 1",
            (chat_id, store.org_id),
        ).fetchone()
    return None if row is None else (from_ms(int(row[0])), row[1])


def ownership(
    store: Store,
    chat_id: str,
    *,
    now: datetime | None = None,
    pause: timedelta | None = None,
    acquisition: configs.Current | None = None,
) -> Ownership:
    """Who owns ``chat_id`` at ``now`` (default: the clock), with the pause in force unless ``pause`` is given
    (``acquisition``: the acquisition agent's config in force, when the caller read it already)."""
    at = now or utc_now()
    chat = store.chats.get(chat_id)
    mode = ai_mode(store, chat, acquisition)
    if mode == "off":
        return Ownership("person", chat.assigned_user_id, _user_name(store, chat.assigned_user_id), mode=mode)
    human = latest_human_message(store, chat_id)
    if human is not None:
        sent_at, author = human
        handed_back = chat.ai_handed_back_at
        if pause is not None:
            length = pause
        else:
            length = configs.limits_of((acquisition or configs.current(store, "acquisition")).config).pause
        if (handed_back is None or to_ms(sent_at) > to_ms(handed_back)) and at < sent_at + length:
            return Ownership("paused", author, _user_name(store, author), sent_at, sent_at + length, mode)
    return Ownership(mode, chat.assigned_user_id, _user_name(store, chat.assigned_user_id), mode=mode)


def skip_reason(owner: Ownership, *, sending: bool) -> str | None:
    """Why the AI may not act on the chat now: ``owned_by_person``, or ``drafts_only`` for a send in a chat on AI
    drafts (``sending`` False asks about drafting)."""
    if owner.kind in ("paused", "person"):
        return OWNED_BY_PERSON
    return DRAFTS_ONLY if sending and owner.kind == "draft" else None


def _user_name(store: Store, user_id: str | None) -> str | None:
    if user_id is None:
        return None
    user = store.users.find(user_id)
    return user.name if user is not None and user.name.strip() else None


def _zone(store: Store) -> tzinfo:
    org = store.orgs.find(store.org_id)
    try:
        return ZoneInfo(org.timezone) if org is not None and org.timezone else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def sentence(owner: Ownership, *, now: datetime, tz: tzinfo) -> str:
    """What the chat's banner says: "AI autopilot", "AI drafts", "Paused: Ana took over at 14:02 (until 02:02
    tomorrow)", "A person: Ana" (times in the business's zone)."""
    if owner.kind == "autopilot":
        return "AI autopilot"
    if owner.kind == "draft":
        return "AI drafts"
    if owner.kind == "person":
        return f"A person: {owner.person_name}" if owner.person_name else "A person (nobody assigned)"
    assert owner.since is not None
    assert owner.until is not None
    who = owner.person_name or PHONE
    today = now.astimezone(tz).date()

    def at(moment: datetime) -> str:
        local = moment.astimezone(tz)
        days = (local.date() - today).days
        day = "" if days == 0 else " tomorrow" if days == 1 else " yesterday" if days == -1 else f" {local:%d %b}"
        return f"{local:%H:%M}{day}"

    return f"Paused: {who} took over at {at(owner.since)} (until {at(owner.until)})"


def owner_sentence(store: Store, chat_id: str, *, now: datetime | None = None) -> tuple[Ownership, str]:
    """The chat's owner and its banner sentence (what the UI calls, on a worker: it reads the store)."""
    at = now or utc_now()
    owner = ownership(store, chat_id, now=at)
    return owner, sentence(owner, now=at, tz=_zone(store))
