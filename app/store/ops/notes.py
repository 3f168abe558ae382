"""Note operations: an internal note on a chat (seen by the team, never sent to the customer)."""

from __future__ import annotations

from app.core.models import Note
from app.store import messaging
from app.store.ops import Done, done, op_transaction
from app.store.store import Store


def add_note(store: Store, chat_id: str, body: str) -> Done[Note]:
    """Add ``body`` as a note on the chat (and its contact); refuses an empty note."""
    with op_transaction(store) as tx:
        note = messaging.add_note(store, chat_id, body)
    return done(tx, note)
