"""Message intake from the WhatsApp page: idempotent by wa_id, contacts and chats found or made, queued sends
adopted after a crash, acks only forward, events only after commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from app.core.events import ContactCreated, Event, MessageReceived, MessageStatusChanged, TablesChanged
from app.store.intake import (
    CapturedAck,
    CapturedChat,
    CapturedMessage,
    phone_of,
    record_ack,
    record_chat,
    record_message,
    record_messages,
)
from app.store.messaging import queue_outbound
from app.store.store import Store

T0 = datetime(2026, 3, 22, 13, 52, tzinfo=UTC)
ANA = "6590000001@c.us"
ANA_LID = "123456789012345@lid"
GROUP = "120363000000000001@g.us"


def captured(wa_id: str, **fields: Any) -> CapturedMessage:
    base: dict[str, Any] = {"chat_jid": ANA, "from_me": False, "body": f"hello {wa_id}", "timestamp": T0}
    return CapturedMessage.model_validate(base | {"wa_id": wa_id} | fields)


def events(store: Store) -> list[Event]:
    """The domain events published (not the store's derived ``TablesChanged`` after each commit)."""
    got: list[Event] = []
    store.bus.subscribe(Event, lambda event: None if isinstance(event, TablesChanged) else got.append(event))
    return got


def test_wire_model_refuses_naive_times_and_maps_whatsapp_kinds() -> None:
    with pytest.raises(ValidationError):
        captured("X1", timestamp=datetime(2026, 3, 22, 13, 52))
    assert captured("X1", kind="ptt").kind == "voice"
    assert captured("X1", kind="chat").kind == "text"
    assert captured("X1", kind="image").kind == "image"
    assert captured("X1", kind="poll_creation").kind == "text"
    assert phone_of("6590000001:12@s.whatsapp.net") == "+6590000001"
    assert phone_of(ANA_LID) is None


def test_inbound_direct_message_creates_contact_chat_and_events(store: Store) -> None:
    got = events(store)
    result = record_message(store, captured("3A01", push_name="Ana Lim", sender_lid=ANA_LID))
    assert result.created
    message = result.message
    assert (message.direction, message.status, message.wa_id, message.sender_wa_id) == ("in", "received", "3A01", ANA)
    chat = store.chats.get(message.chat_id)
    assert (chat.wa_chat_id, chat.kind, chat.title) == (ANA, "direct", "Ana Lim")
    assert chat.contact_id is not None
    contact = store.contacts.get(chat.contact_id)
    assert (contact.name, contact.phone, contact.wa_id, contact.lid) == ("Ana Lim", "+6590000001", ANA, ANA_LID)
    assert contact.last_contacted_at == T0
    assert [type(e) for e in got] == [ContactCreated, MessageReceived]
    received = got[1]
    assert isinstance(received, MessageReceived)
    assert (received.message_id, received.chat_id, received.contact_id) == (message.id, chat.id, contact.id)


def test_replays_write_nothing(store: Store) -> None:
    first = record_message(store, captured("3A01"))
    got = events(store)
    outbox_before = store.outbox.count()
    for _ in range(3):
        again = record_message(store, captured("3A01", body="edited on reload?"))
        assert not again.created
        assert again.message.id == first.message.id
        assert again.message.body == "hello 3A01"
    assert store.messages.count() == 1
    assert store.contacts.count({"wa_id": ANA}) == 1
    assert store.chats.count({"wa_chat_id": ANA}) == 1
    assert got == []
    assert store.outbox.count() == outbox_before, "nothing to sync either"


def test_burst_of_100_with_duplicates(store: Store) -> None:
    record_message(store, captured("M0005"))  # already known before the burst
    got = events(store)
    ids = [f"M{i % 70:04d}" for i in range(100)]  # 70 distinct ids, 30 repeats inside the burst
    msgs = [captured(wa_id, timestamp=T0 + timedelta(seconds=i)) for i, wa_id in enumerate(ids)]
    results = record_messages(store, msgs)
    assert len(results) == 100
    assert sum(r.created for r in results) == 69
    assert store.messages.count() == 70
    assert len({r.message.id for r in results}) == 70
    assert sum(isinstance(e, MessageReceived) for e in got) == 69
    assert not any(isinstance(e, ContactCreated) for e in got)
    contact = store.contacts.find_by_whatsapp(wa_id=ANA)
    assert contact is not None
    assert contact.last_contacted_at == T0 + timedelta(seconds=69)


def test_backfill_does_not_move_last_contacted_back(store: Store) -> None:
    record_message(store, captured("NEW", timestamp=T0))
    record_message(store, captured("OLD", timestamp=T0 - timedelta(days=30)))
    contact = store.contacts.find_by_whatsapp(wa_id=ANA)
    assert contact is not None
    assert contact.last_contacted_at == T0


def test_group_message_with_lid_participant(store: Store) -> None:
    got = events(store)
    msg = captured("3EB0AA", chat_jid=GROUP, sender_lid=ANA_LID, push_name="Ana", chat_title="Boutique VIPs")
    message = record_message(store, msg).message
    chat = store.chats.get(message.chat_id)
    assert (chat.kind, chat.title, chat.contact_id) == ("group", "Boutique VIPs", None)
    assert message.sender_wa_id == ANA_LID
    contact = store.contacts.find_by_whatsapp(lid=ANA_LID)
    assert contact is not None
    assert (contact.name, contact.phone, contact.wa_id) == ("Ana", None, None)
    received = [e for e in got if isinstance(e, MessageReceived)]
    assert [e.contact_id for e in received] == [contact.id]

    # The same person later writes directly from their phone number: the contact gets wa_id and phone filled in.
    record_message(store, captured("3A02", sender_lid=ANA_LID))
    assert store.contacts.count() == 1
    filled = store.contacts.get(contact.id)
    assert (filled.wa_id, filled.lid, filled.phone) == (ANA, ANA_LID, "+6590000001")
    assert sum(isinstance(e, ContactCreated) for e in got) == 1

    # A second participant by @c.us in the same group is another contact; the group chat is reused.
    bob = record_message(store, captured("3EB0BB", chat_jid=GROUP, sender_jid="6590000002@c.us", push_name="Bob"))
    assert bob.message.chat_id == chat.id
    assert store.chats.count({"kind": "group"}) == 1
    bob_contact = store.contacts.find_by_whatsapp(wa_id="6590000002@c.us")
    assert bob_contact is not None
    assert bob_contact.phone == "+6590000002"


def test_lid_filled_in_when_known_by_wa_id(store: Store) -> None:
    record_message(store, captured("A1"))
    contact = store.contacts.find_by_whatsapp(wa_id=ANA)
    assert contact is not None
    assert contact.lid is None
    record_message(store, captured("A2", sender_lid=ANA_LID))
    assert store.contacts.get(contact.id).lid == ANA_LID
    assert store.contacts.count() == 1


def test_an_id_owned_by_another_contact_is_not_taken(store: Store) -> None:
    other = store.contacts.create(name="Other", lid=ANA_LID)
    record_message(store, captured("A1"))  # creates Ana by wa_id only
    ana = store.contacts.find_by_whatsapp(wa_id=ANA)
    assert ana is not None
    assert ana.id != other.id
    record_message(store, captured("A2", sender_lid=ANA_LID))
    assert store.contacts.get(ana.id).lid is None
    assert store.contacts.get(other.id).lid == ANA_LID


def test_own_message_from_another_device_is_outbound(store: Store) -> None:
    got = events(store)
    result = record_message(store, captured("3EB0C1", from_me=True, ack=2, push_name="Me"))
    message = result.message
    assert result.created
    assert not result.adopted
    assert (message.direction, message.status, message.sender_wa_id) == ("out", "delivered", None)
    contact = store.contacts.find_by_whatsapp(wa_id=ANA)
    assert contact is not None
    assert contact.name == "", "our own push name is not the contact's"
    assert contact.last_contacted_at is None
    assert store.chats.get(message.chat_id).title == "+6590000001"
    assert not any(isinstance(e, MessageReceived) for e in got)
    assert record_message(store, captured("3EB0C2", from_me=True, ack=0)).message.status == "sent"
    assert record_message(store, captured("3EB0C3", from_me=True, ack=3)).message.status == "read"
    assert record_message(store, captured("3EB0C4", from_me=True, ack=-1)).message.status == "failed"
    assert store.messages.send_queue() == []


def test_queued_message_caught_mid_send_is_adopted(store: Store) -> None:
    chat_id = record_message(store, captured("3A01")).message.chat_id
    other_chat = record_message(store, captured("3B01", chat_jid="6590000009@c.us")).message.chat_id
    elsewhere = queue_outbound(store, other_chat, "See you at 5")
    first = queue_outbound(store, chat_id, "See you at 5")
    second = queue_outbound(store, chat_id, "See you at 5")
    store.messages.update(first.id, status="typing")  # the driver was typing it when the app died
    got = events(store)

    result = record_message(store, captured("3EB0D1", from_me=True, body="See you at 5 ", ack=1))
    assert result.adopted
    assert not result.created
    assert result.message.id == first.id
    adopted = store.messages.get(first.id)
    assert (adopted.wa_id, adopted.status, adopted.direction) == ("3EB0D1", "sent", "out")
    assert [m.id for m in store.messages.send_queue()] == [elsewhere.id, second.id]
    assert store.messages.count({"chat_id": chat_id}) == 3
    changed = [e for e in got if isinstance(e, MessageStatusChanged)]
    assert [(e.message_id, e.status, e.previous) for e in changed] == [(first.id, "sent", "typing")]

    # Replayed after a reload: the adopted row is found by its wa_id, nothing more is adopted or inserted.
    again = record_message(store, captured("3EB0D1", from_me=True, body="See you at 5", ack=1))
    assert not again.created
    assert not again.adopted
    assert again.message.id == first.id
    assert store.messages.get(second.id).wa_id is None

    # A different text is not a match: it is inserted as a new outbound message.
    new = record_message(store, captured("3EB0D2", from_me=True, body="Something else", ack=1))
    assert new.created
    assert new.message.id not in {first.id, second.id}


def test_acks_only_move_forward_and_emit_once_per_change(store: Store) -> None:
    message = record_message(store, captured("3EB0E1", from_me=True, ack=0)).message
    assert message.status == "sent"
    got: list[MessageStatusChanged] = []
    store.bus.subscribe(MessageStatusChanged, got.append)

    def ack(level: int) -> str:
        result = record_ack(store, CapturedAck(wa_id="3EB0E1", ack=level))
        assert result is not None
        return result.status

    assert ack(1) == "sent"
    assert ack(2) == "delivered"
    assert ack(2) == "delivered"
    assert ack(1) == "delivered"
    assert ack(-1) == "delivered", "an error after delivery does not fail it"
    assert ack(0) == "delivered"
    assert ack(3) == "read"
    assert ack(4) == "read"
    assert ack(2) == "read"
    assert store.messages.get(message.id).status == "read"
    assert [(e.status, e.previous) for e in got] == [("delivered", "sent"), ("read", "delivered")]


def test_a_row_seen_again_carries_its_ticks_forward(store: Store) -> None:
    """Issue 14.15: a known own message seen again on the page (reload, catch-up, a report that lost the race with
    the sender's own record) with newer ticks moves forward, like an ack; never back, and inbound ones never."""
    record_message(store, captured("3EB0H1", from_me=True, ack=1))
    got: list[MessageStatusChanged] = []
    store.bus.subscribe(MessageStatusChanged, got.append)
    for level, wanted in [(2, "delivered"), (1, "delivered"), (None, "delivered"), (3, "read"), (2, "read")]:
        again = record_messages(store, [captured("3EB0H1", from_me=True, ack=level)])[0]
        assert not again.created
        assert again.message.status == wanted
        assert store.messages.get(again.message.id).status == wanted
    assert [(e.status, e.previous) for e in got] == [("delivered", "sent"), ("read", "delivered")]
    inbound = record_message(store, captured("3A0H2")).message
    assert record_message(store, captured("3A0H2", ack=3)).message.status == inbound.status == "received"


def test_error_ack_fails_an_undelivered_message_which_may_still_go_through(store: Store) -> None:
    record_message(store, captured("3EB0F1", from_me=True, ack=1))
    got: list[MessageStatusChanged] = []
    store.bus.subscribe(MessageStatusChanged, got.append)
    failed = record_ack(store, CapturedAck(wa_id="3EB0F1", ack=-1))
    assert failed is not None
    assert failed.status == "failed"
    assert record_ack(store, CapturedAck(wa_id="3EB0F1", ack=-1)) is not None
    delivered = record_ack(store, CapturedAck(wa_id="3EB0F1", ack=2))
    assert delivered is not None
    assert delivered.status == "delivered"
    assert [(e.status, e.previous) for e in got] == [("failed", "sent"), ("delivered", "failed")]


def test_ack_on_inbound_or_unknown_message(store: Store) -> None:
    got = events(store)
    assert record_ack(store, CapturedAck(wa_id="NOT-YET", ack=3)) is None
    inbound = record_message(store, captured("3A01")).message
    got.clear()
    result = record_ack(store, CapturedAck(wa_id="3A01", ack=3))
    assert result is not None
    assert result.status == "received"
    assert result.id == inbound.id
    assert got == []


def test_nothing_is_published_or_kept_when_the_outer_transaction_rolls_back(store: Store) -> None:
    record_message(store, captured("3EB0G1", from_me=True, ack=1))
    got = events(store)
    with pytest.raises(RuntimeError), store.db.transaction():
        record_message(store, captured("3A01", chat_jid="6590000003@c.us", push_name="Cy"))
        record_ack(store, CapturedAck(wa_id="3EB0G1", ack=3))
        assert got == [], "not before the commit"
        raise RuntimeError("crash")
    assert got == []
    assert store.messages.find_by_wa_id("3A01") is None
    assert store.contacts.find_by_whatsapp(wa_id="6590000003@c.us") is None
    kept = store.messages.find_by_wa_id("3EB0G1")
    assert kept is not None
    assert kept.status == "sent"
    # Committed, the same calls publish each event once.
    with store.db.transaction():
        record_message(store, captured("3A01", chat_jid="6590000003@c.us", push_name="Cy"))
        record_ack(store, CapturedAck(wa_id="3EB0G1", ack=3))
        assert got == []
    assert [type(e) for e in got] == [ContactCreated, MessageReceived, MessageStatusChanged]


def test_chat_list_row_creates_or_renames_the_chat(store: Store) -> None:
    group = record_chat(store, CapturedChat(chat_jid=GROUP, title="VIPs", unread_count=2, is_group=True))
    assert (group.kind, group.title, group.contact_id) == ("group", "VIPs", None)
    renamed = record_chat(store, CapturedChat(chat_jid=GROUP, title="VIP customers", is_group=True))
    assert renamed.id == group.id
    assert renamed.title == "VIP customers"
    direct = record_chat(store, CapturedChat(chat_jid=ANA, title="Ana Lim"))
    assert direct.kind == "direct"
    assert direct.contact_id is not None
    assert store.contacts.get(direct.contact_id).phone == "+6590000001"
    message = record_message(store, captured("3A01")).message
    assert message.chat_id == direct.id
    assert store.chats.count() == 2


def test_queued_media_is_adopted_by_its_kind_as_shown_and_its_caption_even_without_one(store: Store) -> None:
    """Intake itself (not a driver-side rule) recognises our own media coming back from the page: a photo without
    a caption matches a queued photo, an audio file matches as the document WhatsApp shows it, and a text with the
    same words as a caption is never taken for the media message (nor the other way round)."""
    from app.store.ops.media import queue_media

    chat_id = record_message(store, captured("3A01")).message.chat_id
    text = queue_outbound(store, chat_id, "New stock")
    photo, audio, captioned = queue_media(
        store,
        chat_id,
        [
            ("a.jpg", b"\xff\xd8photo", "image/jpeg", ""),
            ("song.mp3", b"ID3", "audio/mpeg", ""),
            ("b.jpg", b"\xff\xd8other", "image/jpeg", "New stock"),
        ],
    ).value

    def media_row(wa_id: str, kind: str, body: str = "") -> CapturedMessage:
        return captured(wa_id, from_me=True, body=body, kind=kind, media={"kind": kind, "state": "pending"}, ack=1)

    got = record_message(store, media_row("3EB0M1", "image"))
    assert (got.adopted, got.message.id) == (True, photo.id)
    got = record_message(store, media_row("3EB0M2", "document"))  # audio is sent (and shown) as a document
    assert (got.adopted, got.message.id) == (True, audio.id)
    got = record_message(store, media_row("3EB0M3", "image", "New stock"))
    assert (got.adopted, got.message.id) == (True, captioned.id)
    got = record_message(store, captured("3EB0M4", from_me=True, body="New stock", ack=1))
    assert (got.adopted, got.message.id) == (True, text.id)
    assert store.messages.send_queue() == []
    # Nothing waits any more: another caption-less photo from the phone is a new row, not a second adoption.
    assert record_message(store, media_row("3EB0M5", "image")).created
