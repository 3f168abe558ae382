"""A chat's messages are in the order WhatsApp shows them, not the order of their minute-rounded times (issue 16.1).

WhatsApp Web gives a captured message's time only to the minute ("[14:05, 22/03/2026]"), while our own reply carries
the sender's clock to the millisecond: ordered by time, a customer's answer of the same minute went above the reply
it answered — in the chat, after a restart, in the inbox preview and in the history the AI is given.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.ai.grounding import gather
from app.store.intake import CapturedMessage, record_messages
from app.store.messaging import queue_outbound
from app.store.repos import STEP
from app.store.store import Store
from app.store.workspaces import Workspaces

MINUTE = datetime(2026, 3, 22, 14, 5, tzinfo=UTC)  # what the page shows for every message below: "[14:05, ...]"
ANA = "6590000001@c.us"


def row(wa_id: str, body: str, *, from_me: bool = False, at: datetime = MINUTE, **fields: Any) -> CapturedMessage:
    base: dict[str, Any] = {"wa_id": wa_id, "chat_jid": ANA, "from_me": from_me, "body": body, "timestamp": at}
    return CapturedMessage.model_validate(base | fields)


def bodies(store: Store, chat_id: str) -> list[str]:
    return [m.body for m in store.messages.for_chat(chat_id, limit=200)]


def test_customer_answer_captured_below_our_reply_of_the_same_minute_sorts_after_it(
    store: Store, workspaces: Workspaces, workspace_id: str
) -> None:
    # The customer asks (14:05), the seller replies through Parley: queued, then typed at 14:05:40 by the sender.
    [asked] = record_messages(store, [row("3A01", "Do you have it in blue?")], page=["3A01"])
    chat_id = asked.message.chat_id
    reply = queue_outbound(store, chat_id, "Yes, size M is 59 €")
    store.messages.update(reply.id, status="typing", sent_at=MINUTE + timedelta(seconds=40))
    # The sender sees its row appear and records it (no page context): WhatsApp shows it as 14:05 too.
    [sent] = record_messages(store, [row("3EB0AA", "Yes, size M is 59 €", from_me=True, ack=1)])
    assert sent.adopted
    # The customer answers in the same minute; the driver captures the open chat's rows in page order.
    page = ["3A01", "3EB0AA", "3A02"]
    [answer] = record_messages(store, [row("3A02", "Great, I'll take it")], page=page)
    assert answer.created

    expected = ["Do you have it in blue?", "Yes, size M is 59 €", "Great, I'll take it"]
    assert bodies(store, chat_id) == expected
    assert [m.body for m in gather(store, chat_id).messages] == expected  # the AI's conversation
    [inbox] = store.inbox()
    assert inbox.last_message_body == "Great, I'll take it"
    assert inbox.unread_count == 1  # the answer came after the reply: it is not "read by replying"

    # And after a restart.
    store.close()
    reopened = workspaces.open(workspace_id)
    try:
        assert bodies(reopened, chat_id) == expected
        assert [m.body for m in gather(reopened, chat_id).messages] == expected
    finally:
        reopened.close()


def test_rows_of_one_minute_captured_together_keep_the_page_order(store: Store) -> None:
    """Ours first, the customer's second, both "14:05": the page's order, whatever the ids or times say."""
    page = ["3EB0ZZ", "3A00", "3EB0AB"]
    record_messages(
        store,
        [
            row("3EB0ZZ", "Your order is ready", from_me=True, ack=2),
            row("3A00", "Thanks! Can I pick it up today?", at=MINUTE),
            row("3EB0AB", "Sure, until 6pm", from_me=True, ack=1, at=MINUTE - timedelta(minutes=1)),
        ],
        page=page,
    )
    chat = store.chats.find_by_wa_chat_id(ANA)
    assert chat is not None
    assert bodies(store, chat.id) == ["Your order is ready", "Thanks! Can I pick it up today?", "Sure, until 6pm"]


def test_older_rows_found_by_scrolling_back_go_above_the_known_ones(store: Store) -> None:
    record_messages(store, [row("3A10", "latest", at=MINUTE)], page=["3A10"])
    chat = store.chats.find_by_wa_chat_id(ANA)
    assert chat is not None
    # Scrolled back: two older rows render above the known one; one shows a later minute (a clock that was off).
    older = [
        row("3A08", "oldest", at=MINUTE - timedelta(hours=1)),
        row("3A09", "older", at=MINUTE + timedelta(hours=1)),
    ]
    record_messages(store, older, page=["3A08", "3A09", "3A10"])
    assert bodies(store, chat.id) == ["oldest", "older", "latest"]


def test_a_queued_reply_stays_at_the_bottom_until_whatsapp_has_it_then_goes_where_the_page_shows_it(
    store: Store,
) -> None:
    [first] = record_messages(store, [row("3A20", "Hello")], page=["3A20"])
    chat_id = first.message.chat_id
    reply = queue_outbound(store, chat_id, "Hi! How can I help?")
    # A customer row arrives while the reply waits in the queue: shown below it, and unread.
    record_messages(store, [row("3A21", "Are you open today?")], page=["3A20", "3A21"])
    assert bodies(store, chat_id) == ["Hello", "Hi! How can I help?", "Are you open today?"]
    [inbox] = store.inbox()
    assert inbox.unread_count == 1
    # WhatsApp shows the reply below the customer's row once it is sent: the store follows the page.
    page = ["3A20", "3A21", "3EB0CD"]
    [sent] = record_messages(store, [row("3EB0CD", "Hi! How can I help?", from_me=True, ack=1)], page=page)
    assert sent.adopted
    assert sent.message.id == reply.id
    assert bodies(store, chat_id) == ["Hello", "Are you open today?", "Hi! How can I help?"]


def test_many_rows_inserted_between_two_neighbours_keep_their_order(store: Store) -> None:
    """Positions are halved between neighbours; when they can no longer be split, the later rows make room."""
    record_messages(store, [row("A", "first"), row("Z", "last")], page=["A", "Z"])
    chat = store.chats.find_by_wa_chat_id(ANA)
    assert chat is not None
    page = ["A", "Z"]
    for i in range(80):  # each new row right below "A": more halvings than a double has bits
        wa_id = f"B{i:02d}"
        page.insert(1, wa_id)
        record_messages(store, [row(wa_id, f"n{i}")], page=page)
    expected = ["first", *[f"n{i}" for i in reversed(range(80))], "last"]
    assert bodies(store, chat.id) == expected
    positions = [m.position for m in store.messages.for_chat(chat.id, limit=100)]
    assert len(set(positions)) == len(positions)


def test_paging_back_follows_the_order(store: Store) -> None:
    page = [f"3A{i:02d}" for i in range(7)]
    record_messages(store, [row(w, w, at=MINUTE - timedelta(minutes=i)) for i, w in enumerate(page)], page=page)
    chat = store.chats.find_by_wa_chat_id(ANA)
    assert chat is not None
    latest = store.messages.for_chat(chat.id, limit=3)
    assert [m.body for m in latest] == page[-3:]
    earlier = store.messages.for_chat(chat.id, limit=3, before=latest[0])
    assert [m.body for m in earlier] == page[1:4]
    assert [m.body for m in store.messages.for_chat(chat.id, limit=5, before=earlier[0])] == page[:1]


def test_messages_written_without_a_page_go_where_their_time_belongs(store: Store) -> None:
    """Seeds, imports and older callers: without a position, a message is placed by its time (as before)."""
    record_messages(store, [row("3A30", "nine", at=MINUTE.replace(hour=9))])
    chat = store.chats.find_by_wa_chat_id(ANA)
    assert chat is not None
    made = [
        store.messages.create(chat_id=chat.id, direction="in", body=str(h), sent_at=MINUTE.replace(hour=h))
        for h in (11, 8, 10)
    ]
    assert bodies(store, chat.id) == ["8", "nine", "10", "11"]
    assert all(m.position is not None for m in made)
    assert store.messages.get(made[0].id).position == made[0].position  # the returned record is the stored one
    assert made[0].position is not None
    assert made[0].position >= STEP
