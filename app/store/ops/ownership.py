"""Who owns a conversation, the two writes a person makes: "Take over" and "Hand back to AI".

The owner itself is derived (``app.agents.ownership``): these only move the facts it reads.

- ``take_over``: ``ai_mode = 'off'`` and the chat assigned to the person taking it — an open-ended takeover with a
  name on it, until handed back (a message typed by a person pauses the AI only for the pause, 12 h by default).
- ``hand_back``: ``ai_handed_back_at = now`` (a person's earlier messages no longer pause the AI), and a chat taken
  over (``ai_mode = 'off'``) follows the acquisition agent's mode again; a chat's own 'draft' or 'autopilot' stays.
  ``mode`` sets the chat's own mode at the same time.

Both sync (the columns are synced), so every teammate sees the same owner.
"""

from __future__ import annotations

from datetime import datetime

from app.core.errors import InvalidInput
from app.core.ids import utc_now
from app.core.models import AgentMode, Chat
from app.store.ops import Done, done, op_transaction
from app.store.store import Store


def take_over(store: Store, chat_id: str, *, user_id: str | None = None) -> Done[Chat]:
    """The AI stops on the chat until handed back; the chat is assigned to ``user_id`` (default: this user)."""
    with op_transaction(store) as tx:
        chat = store.chats.get(chat_id)
        person = user_id if user_id is not None else store.local_user_id
        changes: dict[str, object] = {"ai_mode": "off"}
        if person is not None:
            changes["assigned_user_id"] = person
        chat = store.chats.update(chat.id, **changes)
    return done(tx, chat)


def hand_back(store: Store, chat_id: str, *, mode: AgentMode | None = None, now: datetime | None = None) -> Done[Chat]:
    """The AI owns the chat again from ``now``: earlier messages of a person no longer pause it."""
    if mode == "off":
        raise InvalidInput("Handing back to the AI needs a mode that lets it work (drafts or autopilot).")
    with op_transaction(store) as tx:
        chat = store.chats.get(chat_id)
        changes: dict[str, object] = {"ai_handed_back_at": now or utc_now()}
        if mode is not None:
            changes["ai_mode"] = mode
        elif chat.ai_mode == "off":
            changes["ai_mode"] = None
        chat = store.chats.update(chat.id, **changes)
    return done(tx, chat)
