"""Conversation states (open / pending / resolved, snooze, archive, mute, pin, mark unread) and the inbox's views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.core.errors import InvalidInput
from app.core.events import ChatStatusChanged, Event
from app.core.ids import utc_now
from app.store.inbox import InboxFilter, View, inbox_page, next_snooze_end, view_counts
from app.store.intake import CapturedMessage, PageOrder, record_message
from app.store.ops import chats as ops
from app.store.store import Store

ANA = "6590000001@c.us"
BEN = "6590000002@c.us"


def capture(store: Store, wa_id: str, jid: str = ANA, at: datetime | None = None, **fields: Any) -> str:
    msg = CapturedMessage.model_validate(
        {"chat_jid": jid, "from_me": False, "body": f"hi {wa_id}", "timestamp": at or utc_now(), "wa_id": wa_id}
        | fields
    )
    return record_message(store, msg).message.chat_id


def shown(store: Store, view: View = "all", **filters: Any) -> list[str]:
    rows = inbox_page(store.db, store.org_id, filters=InboxFilter(view=view, **filters))
    return [r.chat_id for r in rows]


def test_a_new_chat_is_open_and_each_view_holds_its_chats(store: Store) -> None:
    a, b = capture(store, "A1"), capture(store, "B1", BEN)
    assert store.chats.get(a).status == "open"
    assert set(shown(store, "open")) == {a, b}
    ops.set_status(store, a, "pending")
    ops.set_status(store, b, "resolved")
    assert (shown(store, "open"), shown(store, "pending"), shown(store, "resolved")) == ([], [a], [b])
    assert set(shown(store, "all")) == {a, b}
    ops.set_archived(store, b, True)
    assert (shown(store, "resolved"), shown(store, "archived"), shown(store, "all")) == ([], [b], [a])
    counts = view_counts(store.db, store.org_id)
    assert counts == {"open": 0, "pending": 1, "resolved": 0, "snoozed": 0, "archived": 1, "all": 1}


def test_status_changes_publish_one_event_each_and_refuse_unknown_states(store: Store) -> None:
    chat = capture(store, "A1")
    got: list[Event] = []
    store.bus.subscribe(ChatStatusChanged, got.append)
    ops.set_status(store, chat, "resolved")
    ops.set_status(store, chat, "resolved")  # no change: no event
    ops.set_status(store, chat, "open")
    assert [(e.previous, e.status) for e in got if isinstance(e, ChatStatusChanged)] == [
        ("open", "resolved"),
        ("resolved", "open"),
    ]
    with pytest.raises(InvalidInput):
        ops.set_status(store, chat, "closed")  # type: ignore[arg-type]


def test_a_snoozed_chat_leaves_open_until_its_time_then_comes_back(store: Store) -> None:
    chat = capture(store, "A1")
    until = utc_now() + timedelta(hours=2)
    ops.snooze(store, chat, until)
    assert (shown(store, "open"), shown(store, "snoozed")) == ([], [chat])
    row = inbox_page(store.db, store.org_id, filters=InboxFilter(view="snoozed"))[0]
    assert row.snoozed_until is not None
    assert abs((row.snoozed_until - until).total_seconds()) < 1
    assert next_snooze_end(store.db, store.org_id) == row.snoozed_until
    # The time passes (written as if the snooze had been set to end a minute ago).
    store.chats.update(chat, snoozed_until=utc_now() - timedelta(minutes=1))
    assert (shown(store, "open"), shown(store, "snoozed")) == ([chat], [])
    assert next_snooze_end(store.db, store.org_id) is None
    with pytest.raises(InvalidInput):
        ops.snooze(store, chat, utc_now() - timedelta(seconds=1))


def test_the_customer_writing_again_reopens_unsnoozes_and_unarchives(store: Store) -> None:
    chat = capture(store, "A1")
    ops.set_status(store, chat, "resolved")
    ops.set_archived(store, chat, True)
    capture(store, "A2")
    fresh = store.chats.get(chat)
    assert (fresh.status, fresh.archived) == ("open", False)
    ops.snooze(store, chat, utc_now() + timedelta(days=1))
    capture(store, "A3")
    assert store.chats.get(chat).snoozed_until is None
    assert shown(store, "open") == [chat]


def test_older_history_read_in_does_not_reopen_a_resolved_chat(store: Store) -> None:
    chat = capture(store, "A1")
    ops.set_status(store, chat, "resolved")
    # A message from last week, read in when the history is loaded: it sorts above the one already stored.
    week_ago = utc_now() - timedelta(days=7)
    msg = CapturedMessage.model_validate(
        {"chat_jid": ANA, "from_me": False, "body": "old", "timestamp": week_ago, "wa_id": "A0"}
    )
    record_message(store, msg, page=PageOrder(["A0", "A1"]))
    assert store.chats.get(chat).status == "resolved"


def test_mark_unread_shows_as_unread_until_the_chat_is_read(store: Store) -> None:
    chat = capture(store, "A1")
    ops.mark_read(store, chat)
    assert shown(store, unread_only=True) == []
    ops.mark_unread(store, chat)
    row = inbox_page(store.db, store.org_id)[0]
    assert (row.unread_count, row.marked_unread, row.unread) == (0, True, True)
    assert shown(store, unread_only=True) == [chat]
    ops.mark_read(store, chat)
    assert shown(store, unread_only=True) == []


def test_pin_mute_and_archive_show_on_the_row(store: Store) -> None:
    a, b = capture(store, "A1"), capture(store, "B1", BEN)
    ops.set_pinned(store, a, True)
    assert shown(store)[0] == a  # pinned first although b is newer
    ops.mute(store, b, timedelta(hours=8))
    forever = ops.mute(store, a, None).value
    assert forever.muted_until is not None
    assert forever.muted_until.year == 9999
    rows = {r.chat_id: r for r in inbox_page(store.db, store.org_id)}
    assert rows[a].muted
    assert rows[b].muted
    assert rows[a].pinned
    ops.unmute(store, b)
    ops.set_archived(store, a, True)
    assert store.chats.get(a).pinned is False  # an archived chat is not pinned (as in WhatsApp)
    assert not inbox_page(store.db, store.org_id, filters=InboxFilter(view="archived"))[0].pinned
    assert not inbox_page(store.db, store.org_id)[0].muted


def test_owner_views_mine_and_unassigned(store: Store) -> None:
    a, b = capture(store, "A1"), capture(store, "B1", BEN)
    me = store.local_user_id
    assert me is not None
    ops.assign_chat(store, a, me)
    assert shown(store, assigned_user_id=me) == [a]
    assert shown(store, unassigned=True) == [b]
    assert view_counts(store.db, store.org_id, InboxFilter(unassigned=True))["open"] == 1


def test_the_label_filter_matches_the_chats_and_its_contacts_labels_in_any_case(store: Store) -> None:
    a, b = capture(store, "A1"), capture(store, "B1", BEN)
    contact = store.chats.get(a).contact_id
    assert contact is not None
    store.contacts.update(contact, tags=["VIP"])
    store.chats.update(b, tags=["Wholesale"])
    assert shown(store, tag="vip") == [a]
    assert shown(store, tag="wholesale") == [b]
    row = {r.chat_id: r for r in inbox_page(store.db, store.org_id)}[a]
    assert row.tags == ["VIP"]


def test_a_snooze_time_far_ahead_and_status_survive_in_the_database(store: Store) -> None:
    chat = capture(store, "A1")
    until = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)
    ops.snooze(store, chat, until)
    ops.set_status(store, chat, "pending")  # a status change ends the snooze
    assert store.chats.get(chat).snoozed_until is None
    ops.snooze(store, chat, until)
    assert store.chats.get(chat).snoozed_until == until
