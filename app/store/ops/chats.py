"""Chat operations: assign a chat to a teammate, mark it read."""

from __future__ import annotations

from app.core.models import Chat
from app.store import messaging
from app.store.ops import Done, done, op_transaction
from app.store.store import Store


def assign_chat(store: Store, chat_id: str, user_id: str | None) -> Done[Chat]:
    """Give the chat to ``user_id`` (None: nobody); the user must exist in this workspace."""
    with op_transaction(store) as tx:
        if user_id is not None:
            store.users.get(user_id)
        chat = store.chats.update(chat_id, assigned_user_id=user_id)
    return done(tx, chat)


def mark_read(store: Store, chat_id: str) -> Done[None]:
    """Everything received in the chat up to now counts as read (its unread badge clears)."""
    with op_transaction(store) as tx:
        messaging.mark_read(store, chat_id)
    return done(tx, None)
