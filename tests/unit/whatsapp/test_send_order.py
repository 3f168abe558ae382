"""Which queued message goes next: order within a chat, limits per chat, the pause between contacts in bulk work.

``Sender._pick`` is the sender's decision before it touches the page, so it is tested here on a real store without a
browser; the page part is covered in tests/whatsapp.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.core.models import Chat, Message
from app.store.intake import CapturedChat, record_chat
from app.store.messaging import queue_outbound
from app.store.store import Store
from app.whatsapp.driver import WhatsAppDriver
from app.whatsapp.humanizer import Humanizer, TypingPace
from app.whatsapp.limits import SendLimits
from app.whatsapp.profile import load_profile
from app.whatsapp.sender import Sender, SendOutcome

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
OPEN = SendLimits(quiet_start=None, quiet_end=None, warmup_per_day=(), per_contact_per_hour=2)


def sender(store: Store, tmp_path: Path, limits: SendLimits = OPEN, gap: float = 40.0) -> Sender:
    driver = WhatsAppDriver(store, load_profile(None), tmp_path / "wa")  # never started: no browser here
    typing = TypingPace(gap_seconds_min=gap, gap_seconds_max=gap)
    return Sender(driver, store, Humanizer(typing, random.Random(1)), limits, clock=lambda: NOW)


def chat(store: Store, phone: str) -> Chat:
    return record_chat(store, CapturedChat(chat_jid=f"{phone}@c.us", title=f"+{phone}"))


def automated(store: Store, chat_id: str, body: str) -> Message:
    """A message queued by a campaign or an agent: no human author."""
    message = queue_outbound(store, chat_id, body)
    return store.messages.update(message.id, author_user_id=None)


def mark_sent(store: Store, message: Message, at: datetime) -> None:
    store.messages.update(message.id, status="sent", sent_at=at, wa_id=f"3EB0{message.id[-18:]}")


def pick(s: Sender, store: Store) -> tuple[Message, Chat] | SendOutcome:
    return s._pick(store.messages.send_queue())


def test_a_chat_sends_in_order_and_a_typing_message_is_settled_first(store: Store, tmp_path: Path) -> None:
    a, b = chat(store, "6590000001"), chat(store, "6590000002")
    first_a = queue_outbound(store, a.id, "one")
    queue_outbound(store, a.id, "two")
    first_b = queue_outbound(store, b.id, "three")
    picked = pick(sender(store, tmp_path), store)
    assert isinstance(picked, tuple)
    assert picked[0].id == first_a.id
    store.messages.update(first_b.id, status="typing")
    picked = pick(sender(store, tmp_path), store)
    assert isinstance(picked, tuple)
    assert picked[0].id == first_b.id, "a message caught mid-send is looked at before anything else"


def test_a_chat_held_by_its_limit_does_not_hold_the_others(store: Store, tmp_path: Path) -> None:
    a, b = chat(store, "6590000001"), chat(store, "6590000002")
    for minutes in (10, 20):
        mark_sent(store, queue_outbound(store, a.id, f"earlier {minutes}"), NOW - timedelta(minutes=minutes))
    queue_outbound(store, a.id, "third within the hour: over the per-contact cap")
    for_b = queue_outbound(store, b.id, "for b")
    picked = pick(sender(store, tmp_path), store)
    assert isinstance(picked, tuple)
    assert picked[0].id == for_b.id


def test_when_nothing_may_go_the_earliest_wait_is_reported(store: Store, tmp_path: Path) -> None:
    a = chat(store, "6590000001")
    for minutes in (50, 20):
        mark_sent(store, queue_outbound(store, a.id, f"earlier {minutes}"), NOW - timedelta(minutes=minutes))
    held = queue_outbound(store, a.id, "must wait")
    picked = pick(sender(store, tmp_path), store)
    assert isinstance(picked, SendOutcome)
    assert picked.kind == "waiting"
    assert picked.message_id == held.id
    assert picked.not_before == NOW + timedelta(minutes=10)  # the 11:10 send leaves the rolling hour
    assert "one contact" in picked.reason


@pytest.mark.parametrize("human", [True, False])
def test_automated_messages_pause_between_contacts_replies_do_not(store: Store, tmp_path: Path, human: bool) -> None:
    a, b = chat(store, "6590000001"), chat(store, "6590000002")
    s = sender(store, tmp_path, gap=40)
    s._last_contact, s._last_sent_at, s._gap = a.contact_id or a.id, NOW - timedelta(seconds=15), 40.0
    message = queue_outbound(store, b.id, "next contact") if human else automated(store, b.id, "next contact")
    picked = pick(s, store)
    if human:
        assert isinstance(picked, tuple), "a reply a person typed goes after its own reading and typing time"
        assert picked[0].id == message.id
    else:
        assert isinstance(picked, SendOutcome)
        assert picked.kind == "waiting"
        assert picked.not_before == NOW + timedelta(seconds=25)
        assert picked.reason == "pause between contacts"


def test_no_pause_for_the_same_contact(store: Store, tmp_path: Path) -> None:
    a = chat(store, "6590000001")
    s = sender(store, tmp_path, gap=40)
    s._last_contact, s._last_sent_at, s._gap = a.contact_id or a.id, NOW - timedelta(seconds=5), 40.0
    message = automated(store, a.id, "same contact again")
    picked = pick(s, store)
    assert isinstance(picked, tuple)
    assert picked[0].id == message.id
