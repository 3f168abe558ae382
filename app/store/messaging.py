"""Conversation writes the UI and the WhatsApp driver share: queue a reply, mark a chat read, add an internal note.

Queuing only records the message as ``queued`` in the store's send queue (with its event); the WhatsApp driver
drains the queue and moves each message through typing → sent → delivered → read.
"""

from __future__ import annotations

from app.core.errors import InvalidInput
from app.core.events import ChatStatusChanged, MessageQueued, MessageStatusChanged
from app.core.ids import utc_now
from app.core.models import Chat, ChatStatus, Message, Note
from app.store.store import Store


class EmptyMessage(InvalidInput):
    pass


class NotRetryable(InvalidInput):
    """The message is not a failed (or waiting) outbound one, e.g. it went out meanwhile."""


def queue_outbound(store: Store, chat_id: str, body: str, *, quoted_message_id: str | None = None) -> Message:
    text = body.strip()
    if not text:
        raise EmptyMessage("Type a message first.")
    with store.db.transaction():
        chat = store.chats.get(chat_id)
        quoted_wa_id = None
        if quoted_message_id:
            quoted_wa_id = store.messages.get(quoted_message_id).wa_id
        message = store.messages.create(
            chat_id=chat.id,
            direction="out",
            body=text,
            status="queued",
            author_user_id=store.local_user_id,
            quoted_message_id=quoted_message_id,
            quoted_wa_id=quoted_wa_id,
            sent_at=utc_now(),
            # At the bottom of the chat, whatever the (minute-rounded) times of the messages above it say; once
            # WhatsApp has it, intake moves it to where the page shows it.
            position=store.messages.between(chat.id, store.messages.last_position(chat.id), None),
        )
        if chat.contact_id:
            store.contacts.update(chat.contact_id, last_contacted_at=message.sent_at)
        store.emit(MessageQueued(org_id=store.org_id, chat_id=chat.id, message_id=message.id))
    return message


def retry_failed(store: Store, message_id: str) -> Message:
    """Put a failed outbound message back in the send queue (at its original place: the queue is oldest first)."""
    with store.db.transaction():
        message = store.messages.get(message_id)
        if message.direction != "out" or message.status != "failed":
            raise NotRetryable("Only a message that failed to send can be tried again.")
        updated = store.messages.update(message_id, status="queued", status_reason=None)
        store.emit(MessageStatusChanged(org_id=store.org_id, message_id=message_id, status="queued", previous="failed"))
    return updated


def cancel_unsent(store: Store, message_id: str) -> Message:
    """Withdraw an outbound message that has not reached WhatsApp (queued or failed): it is deleted, not sent.

    A message being typed cannot be cancelled: WhatsApp may already hold it.
    """
    with store.db.transaction():
        message = store.messages.get(message_id)
        if message.direction != "out" or message.status not in ("queued", "failed"):
            raise NotRetryable(
                "This message is already being sent or has gone out, so it cannot be cancelled."
                if message.direction == "out"
                else "Only your own unsent messages can be cancelled."
            )
        store.messages.delete(message_id)
        cancelled = MessageStatusChanged(
            org_id=store.org_id, message_id=message_id, status="cancelled", previous=message.status
        )
        store.emit(cancelled)
    return message


def mark_read(store: Store, chat_id: str) -> None:
    """Everything received in the chat up to now counts as read (unread badge and a mark of unread clear)."""
    store.chats.update(chat_id, last_read_at=utc_now(), marked_unread=False)


def set_status(store: Store, chat_id: str, status: ChatStatus) -> Chat:
    """Move the conversation to ``status`` (a snooze ends with it), with its event when the status changed."""
    chat = store.chats.get(chat_id)
    updated = store.chats.update(chat_id, status=status, snoozed_until=None)
    if chat.status != status:
        store.emit(ChatStatusChanged(org_id=store.org_id, chat_id=chat_id, status=status, previous=chat.status))
    return updated


def customer_wrote(store: Store, chat: Chat) -> None:
    """A new message from the customer: a resolved, snoozed or archived conversation is back in the inbox."""
    if chat.status == "resolved":
        set_status(store, chat.id, "open")
    elif chat.snoozed_until is not None:
        store.chats.update(chat.id, snoozed_until=None)
    if chat.archived:
        store.chats.update(chat.id, archived=False)


def add_note(store: Store, chat_id: str, body: str) -> Note:
    text = body.strip()
    if not text:
        raise EmptyMessage("Type the note first.")
    chat = store.chats.get(chat_id)
    return store.notes.create(
        body=text, chat_id=chat.id, contact_id=chat.contact_id, author_user_id=store.local_user_id
    )
