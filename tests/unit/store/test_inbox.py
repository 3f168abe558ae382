"""The inbox page: order, unread counts, pinned and archived chats, filters and keyset paging."""

from __future__ import annotations

from datetime import timedelta

from app.core.models import Chat
from app.store.inbox import InboxFilter
from app.store.store import Store
from tests.support.graph import AT


def chat_with(store: Store, name: str, bodies: list[tuple[str, str]], start: int = 0, **chat: object) -> Chat:
    contact = store.contacts.create(name=name)
    c = store.chats.create(contact_id=contact.id, **chat)
    for i, (direction, body) in enumerate(bodies):
        store.messages.create(chat_id=c.id, direction=direction, body=body, sent_at=AT + timedelta(minutes=start + i))
    return c


def names(store: Store, **kwargs: object) -> list[str]:
    return [r.display_name for r in store.inbox(**kwargs)]  # type: ignore[arg-type]


def test_newest_activity_first_with_last_message_and_unread(store: Store) -> None:
    chat_with(store, "Old", [("in", "first"), ("out", "reply")], start=0)
    new = chat_with(store, "New", [("in", "hello"), ("in", "anyone?")], start=10)
    rows = store.inbox()
    assert [r.display_name for r in rows] == ["New", "Old"]
    top = rows[0]
    assert (top.chat_id, top.unread_count, top.message_count) == (new.id, 2, 2)
    assert (top.last_message_body, top.last_message_direction, top.last_activity_at) == (
        "anyone?",
        "in",
        AT + timedelta(minutes=11),
    )
    assert rows[1].unread_count == 0, "replying counts as reading"


def test_reading_a_chat_clears_unread_and_new_inbound_counts_again(store: Store) -> None:
    c = chat_with(store, "Ana", [("in", "a"), ("in", "b")])
    store.chats.update(c.id, last_read_at=AT + timedelta(minutes=5))
    assert store.inbox()[0].unread_count == 0
    store.messages.create(chat_id=c.id, direction="in", body="c", sent_at=AT + timedelta(minutes=6))
    assert store.inbox()[0].unread_count == 1
    store.messages.create(chat_id=c.id, direction="out", body="d", sent_at=AT + timedelta(minutes=7))
    assert store.inbox()[0].unread_count == 0
    store.messages.create(chat_id=c.id, direction="out", body="old reply", sent_at=AT + timedelta(minutes=1))
    assert store.inbox()[0].unread_count == 0


def test_backfilled_older_message_does_not_become_the_preview(store: Store) -> None:
    c = chat_with(store, "Ana", [("in", "latest")], start=30)
    store.messages.create(chat_id=c.id, direction="in", body="history", sent_at=AT)
    row = store.inbox()[0]
    assert (row.last_message_body, row.message_count) == ("latest", 2)


def test_deleting_messages_recomputes(store: Store) -> None:
    c = chat_with(store, "Ana", [("in", "one"), ("in", "two")])
    last = store.messages.for_chat(c.id)[-1]
    store.messages.delete(last.id)
    row = store.inbox()[0]
    assert (row.last_message_body, row.message_count, row.unread_count) == ("one", 1, 1)
    store.messages.purge(store.messages.for_chat(c.id)[0].id)
    row = store.inbox()[0]
    assert (row.last_message_body, row.message_count) == (None, 0)


def test_pinned_first_archived_and_deleted_hidden(store: Store) -> None:
    chat_with(store, "Recent", [("in", "x")], start=50)
    pinned = chat_with(store, "Pinned", [("in", "x")], start=0)
    archived = chat_with(store, "Archived", [("in", "x")], start=60)
    gone = chat_with(store, "Gone", [("in", "x")], start=70)
    store.chats.update(pinned.id, pinned=True)
    store.chats.update(archived.id, archived=True)
    store.chats.delete(gone.id)
    assert names(store) == ["Pinned", "Recent"]
    store.chats.update(archived.id, archived=False)
    assert names(store) == ["Pinned", "Archived", "Recent"]


def test_keyset_paging_visits_every_chat_once(store: Store) -> None:
    for i in range(23):
        chat_with(store, f"C{i:02d}", [("in", "x")], start=i % 5)  # many ties in activity time
    seen: list[str] = []
    after = None
    while True:
        page = store.inbox(limit=5, after=after)
        if not page:
            break
        seen += [r.chat_id for r in page]
        after = page[-1].cursor
    assert len(seen) == len(set(seen)) == 23


def test_filters(store: Store) -> None:
    me = store.local_user_id
    a = chat_with(store, "Unread", [("in", "x")], tags=["vip"])
    b = chat_with(store, "Mine", [("out", "x")], assigned_user_id=me)
    assert names(store, filters=InboxFilter(unread_only=True)) == ["Unread"]
    assert names(store, filters=InboxFilter(assigned_user_id=me)) == ["Mine"]
    assert names(store, filters=InboxFilter(tag="vip")) == ["Unread"]
    assert {a.id, b.id} == {r.chat_id for r in store.inbox()}


def test_chat_without_messages_uses_its_creation_time(store: Store) -> None:
    contact = store.contacts.create(name="", phone="+4400000")
    store.chats.create(contact_id=contact.id)
    [row] = store.inbox()
    assert (row.display_name, row.message_count, row.last_message_body) == ("+4400000", 0, None)
