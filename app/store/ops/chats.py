"""Chat operations: who has it, where it stands (open / pending / resolved, snoozed), and how it shows in the list
(read or marked unread, pinned, muted, archived) — the same choices as Chatwoot's and WhatsApp's inboxes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.core.errors import InvalidInput
from app.core.ids import utc_now
from app.core.models import Chat, ChatStatus
from app.store import messaging
from app.store.ops import Done, done, op_transaction
from app.store.store import Store

# "Mute: always" is a time no one will reach; WhatsApp offers 8 hours, 1 week and always.
MUTED_FOREVER = datetime(9999, 1, 1, tzinfo=UTC)


def assign_chat(store: Store, chat_id: str, user_id: str | None) -> Done[Chat]:
    """Give the chat to ``user_id`` (None: nobody); the user must exist in this workspace."""
    with op_transaction(store) as tx:
        if user_id is not None:
            store.users.get(user_id)
        chat = store.chats.update(chat_id, assigned_user_id=user_id)
    return done(tx, chat)


def mark_read(store: Store, chat_id: str) -> Done[None]:
    """Everything received in the chat up to now counts as read (its unread badge clears, and a mark of unread)."""
    with op_transaction(store) as tx:
        messaging.mark_read(store, chat_id)
    return done(tx, None)


def mark_unread(store: Store, chat_id: str) -> Done[Chat]:
    """Show the chat as unread until it is opened again (WhatsApp's "Mark as unread")."""
    with op_transaction(store) as tx:
        chat = store.chats.update(chat_id, marked_unread=True)
    return done(tx, chat)


def set_status(store: Store, chat_id: str, status: ChatStatus) -> Done[Chat]:
    """Open, pending or resolved; resolving or re-opening ends a snooze."""
    if status not in ("open", "pending", "resolved"):
        raise InvalidInput(f"A conversation is open, pending or resolved, not {status!r}.")
    with op_transaction(store) as tx:
        chat = messaging.set_status(store, chat_id, status)
    return done(tx, chat)


def snooze(store: Store, chat_id: str, until: datetime) -> Done[Chat]:
    """Hide the chat from the Open and Pending views until ``until`` (or until the customer writes again)."""
    if until <= utc_now():
        raise InvalidInput("Pick a time in the future to snooze until.")
    with op_transaction(store) as tx:
        chat = store.chats.get(chat_id)
        if chat.status == "resolved":
            messaging.set_status(store, chat_id, "open")
        chat = store.chats.update(chat_id, snoozed_until=until)
    return done(tx, chat)


def unsnooze(store: Store, chat_id: str) -> Done[Chat]:
    with op_transaction(store) as tx:
        chat = store.chats.update(chat_id, snoozed_until=None)
    return done(tx, chat)


def set_pinned(store: Store, chat_id: str, pinned: bool) -> Done[Chat]:
    """Keep the chat at the top of the list (above newer chats) or let it go back to its place."""
    with op_transaction(store) as tx:
        chat = store.chats.update(chat_id, pinned=pinned)
    return done(tx, chat)


def set_archived(store: Store, chat_id: str, archived: bool) -> Done[Chat]:
    """Move the chat out of the inbox into Archived (it comes back when the customer writes again)."""
    with op_transaction(store) as tx:
        changes: dict[str, object] = {"archived": archived}
        if archived:
            changes["pinned"] = False  # as in WhatsApp: an archived chat is not pinned
        chat = store.chats.update(chat_id, **changes)
    return done(tx, chat)


def mute(store: Store, chat_id: str, duration: timedelta | None) -> Done[Chat]:
    """No desktop notification for the chat for ``duration`` (None: until unmuted); its messages still arrive."""
    until = MUTED_FOREVER if duration is None else utc_now() + duration
    with op_transaction(store) as tx:
        chat = store.chats.update(chat_id, muted_until=until)
    return done(tx, chat)


def unmute(store: Store, chat_id: str) -> Done[Chat]:
    with op_transaction(store) as tx:
        chat = store.chats.update(chat_id, muted_until=None)
    return done(tx, chat)
