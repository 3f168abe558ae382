"""Message operations: queue a reply, retry a failed one, cancel an unsent one.

Each goes through ``app.store.messaging``, which publishes ``MessageQueued`` (or ``MessageStatusChanged``) after
the commit; the WhatsApp sender drains the queue.
"""

from __future__ import annotations

from app.core.models import Message
from app.store import messaging
from app.store.ops import Done, done, op_transaction
from app.store.store import Store


def queue_message(store: Store, chat_id: str, body: str, *, quoted_message_id: str | None = None) -> Done[Message]:
    """Queue ``body`` for sending in the chat (as a reply to ``quoted_message_id`` when given)."""
    with op_transaction(store) as tx:
        message = messaging.queue_outbound(store, chat_id, body, quoted_message_id=quoted_message_id)
    return done(tx, message)


def retry_failed(store: Store, message_id: str) -> Done[Message]:
    with op_transaction(store) as tx:
        message = messaging.retry_failed(store, message_id)
    return done(tx, message)


def cancel_unsent(store: Store, message_id: str) -> Done[Message]:
    with op_transaction(store) as tx:
        message = messaging.cancel_unsent(store, message_id)
    return done(tx, message)
