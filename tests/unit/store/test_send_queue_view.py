"""The send queue as the WhatsApp page lists it: queued, typing and failed own messages, oldest first, chats named."""

from __future__ import annotations

from datetime import timedelta

from app.store.messaging import cancel_unsent, queue_outbound, retry_failed
from app.store.send_queue_view import unsent_messages
from app.store.store import Store
from tests.support.graph import AT


def test_lists_every_unsent_own_message_oldest_first_with_the_chat_name(store: Store) -> None:
    named = store.chats.create(contact_id=store.contacts.create(name="Lucía Gómez", phone="+34600000001").id)
    phone_only = store.chats.create(contact_id=store.contacts.create(phone="+34600000002").id)
    titled = store.chats.create(title="Wholesale group")
    first = queue_outbound(store, named.id, "first")
    typing = queue_outbound(store, phone_only.id, "being typed")
    failed = queue_outbound(store, titled.id, "did not go")
    sent = queue_outbound(store, named.id, "went out")
    store.messages.update(typing.id, status="typing")
    store.messages.update(failed.id, status="failed", status_reason="The number is not on WhatsApp.")
    store.messages.update(sent.id, status="sent")
    store.messages.create(chat_id=named.id, direction="in", body="received", sent_at=AT)

    rows = unsent_messages(store)
    assert [(r.message_id, r.status, r.chat_name) for r in rows] == [
        (first.id, "queued", "Lucía Gómez"),
        (typing.id, "typing", "+34600000002"),
        (failed.id, "failed", "Wholesale group"),
    ]
    assert rows[2].reason == "The number is not on WhatsApp."
    assert rows[0].body == "first"
    assert rows[0].queued_at == first.created_at


def test_follows_retry_and_cancel(store: Store) -> None:
    chat = store.chats.create(title="Shop")
    message = queue_outbound(store, chat.id, "hello")
    store.messages.update(message.id, status="failed", status_reason="x")
    retry_failed(store, message.id)
    assert [(r.message_id, r.status, r.reason) for r in unsent_messages(store)] == [(message.id, "queued", None)]
    cancel_unsent(store, message.id)
    assert unsent_messages(store) == []


def test_keeps_only_the_newest_failed_ones(store: Store) -> None:
    chat = store.chats.create(title="Shop")
    ids = []
    for i in range(5):
        message = store.messages.create(
            chat_id=chat.id, direction="out", body=str(i), status="failed", sent_at=AT + timedelta(minutes=i)
        )
        ids.append(message.id)
    waiting = queue_outbound(store, chat.id, "waiting")
    rows = unsent_messages(store, failed_limit=2)
    assert [r.message_id for r in rows] == [ids[3], ids[4], waiting.id]
