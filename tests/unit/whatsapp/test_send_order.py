"""Which queued message goes next: order within a chat, limits per chat, the pause between contacts in bulk work.

``Sender._pick`` is the sender's decision before it touches the page, so it is tested here on a real store without a
browser; the page part is covered in tests/whatsapp.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from app.core.models import Chat, Message
from app.store.intake import CapturedChat, record_chat
from app.store.messaging import queue_outbound
from app.store.ops.automation import RATE_LIMITED, halt, resume
from app.store.store import Store
from app.whatsapp.driver import WhatsAppDriver
from app.whatsapp.humanizer import Humanizer, TypingPace
from app.whatsapp.limits import SendLimits
from app.whatsapp.pacing import Pace
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


def sent_by_agent(store: Store, chat_id: str, at: datetime, agent: str = "retention") -> Message:
    """An automated message the number already sent at ``at`` (in the store's history)."""
    message = automated(store, chat_id, f"sent at {at:%H:%M:%S}")
    store.messages.update(message.id, sent_by_agent=agent)
    mark_sent(store, message, at)
    return message


@pytest.mark.parametrize("human", [True, False])
def test_automated_messages_pause_between_contacts_replies_do_not(store: Store, tmp_path: Path, human: bool) -> None:
    a, b = chat(store, "6590000001"), chat(store, "6590000002")
    sent_by_agent(store, a.id, NOW - timedelta(seconds=15))
    message = queue_outbound(store, b.id, "next contact") if human else automated(store, b.id, "next contact")
    picked = pick(sender(store, tmp_path, gap=40), store)
    if human:
        assert isinstance(picked, tuple), "a reply a person typed goes after its own reading and typing time"
        assert picked[0].id == message.id
    else:
        assert isinstance(picked, SendOutcome)
        assert picked.kind == "waiting"
        assert picked.not_before == NOW + timedelta(seconds=25)
        assert picked.reason == "pause between automated messages"


def test_no_pause_for_the_same_contact(store: Store, tmp_path: Path) -> None:
    a = chat(store, "6590000001")
    sent_by_agent(store, a.id, NOW - timedelta(seconds=5))
    message = automated(store, a.id, "same contact again")
    picked = pick(sender(store, tmp_path, gap=40), store)
    assert isinstance(picked, tuple)
    assert picked[0].id == message.id


def test_the_pause_between_contacts_survives_a_restart(store: Store, tmp_path: Path) -> None:
    """The gap is read from the store's history, not from the sender's memory (a new sender after a restart)."""
    a, b = chat(store, "6590000001"), chat(store, "6590000002")
    sent_by_agent(store, a.id, NOW - timedelta(seconds=10))
    automated(store, b.id, "next")
    picked = pick(sender(store, tmp_path, gap=40), store)
    assert isinstance(picked, SendOutcome)
    assert picked.not_before == NOW + timedelta(seconds=30)


def test_a_persons_reply_goes_before_older_automated_messages(store: Store, tmp_path: Path) -> None:
    a, b, c = chat(store, "6590000001"), chat(store, "6590000002"), chat(store, "6590000003")
    automated(store, a.id, "campaign")
    automated(store, b.id, "follow-up")
    reply = queue_outbound(store, c.id, "a person's reply, queued last")
    picked = pick(sender(store, tmp_path), store)
    assert isinstance(picked, tuple)
    assert picked[0].id == reply.id


def test_a_persons_reply_does_not_wait_behind_a_held_automated_message_in_its_chat(
    store: Store, tmp_path: Path
) -> None:
    a = chat(store, "6590000001")
    held = automated(store, a.id, "autopilot answer, outside the sending window")
    reply = queue_outbound(store, a.id, "the owner answers herself")
    night = Pace(windows=((time(9), time(10)),), timezone="UTC")  # NOW is 12:00
    s = sender(store, tmp_path)
    s.pace = night
    picked = pick(s, store)
    assert isinstance(picked, tuple)
    assert picked[0].id == reply.id
    store.messages.update(reply.id, status="sent", wa_id="3EB0REPLY")
    waiting = pick(s, store)
    assert isinstance(waiting, SendOutcome)
    assert waiting.message_id == held.id
    assert waiting.reason == "automated sending window opens at 09:00"
    assert waiting.not_before == datetime(2026, 6, 11, 9, 0, tzinfo=UTC)


def test_automated_sends_do_not_use_up_a_persons_hourly_cap(store: Store, tmp_path: Path) -> None:
    a, b = chat(store, "6590000001"), chat(store, "6590000002")
    for minutes in (5, 10, 15):
        sent_by_agent(store, a.id, NOW - timedelta(minutes=minutes))
    reply = queue_outbound(store, b.id, "a person's reply")
    capped = SendLimits(quiet_start=None, quiet_end=None, warmup_per_day=(), per_hour=3)
    picked = pick(sender(store, tmp_path, limits=capped), store)
    assert isinstance(picked, tuple)
    assert picked[0].id == reply.id


def test_while_halted_automated_messages_wait_and_a_persons_go(store: Store, tmp_path: Path) -> None:
    a, b = chat(store, "6590000001"), chat(store, "6590000002")
    queued = automated(store, a.id, "campaign")
    halt(store, RATE_LIMITED, "WhatsApp said the number is sending too many messages.", now=NOW)
    s = sender(store, tmp_path)
    waiting = pick(s, store)
    assert isinstance(waiting, SendOutcome)
    assert waiting.message_id == queued.id
    assert waiting.reason.startswith("automated sending is stopped")
    reply = queue_outbound(store, b.id, "a person's reply")
    picked = pick(s, store)
    assert isinstance(picked, tuple)
    assert picked[0].id == reply.id
    resume(store)
    store.messages.update(reply.id, status="sent", wa_id="3EB0REPLY2", sent_at=NOW - timedelta(minutes=5))
    picked = pick(s, store)
    assert isinstance(picked, tuple)
    assert picked[0].id == queued.id


def test_a_campaigns_stricter_pace_holds_its_own_messages_only(store: Store, tmp_path: Path) -> None:
    a, b, c = chat(store, "6590000001"), chat(store, "6590000002"), chat(store, "6590000003")
    sent_by_agent(store, a.id, NOW - timedelta(seconds=50))
    campaign = automated(store, b.id, "campaign")
    slow = Pace(gap_min_seconds=120, gap_max_seconds=120, windows=())
    s = sender(store, tmp_path, gap=40)
    s.stricter = lambda m: slow if m.id == campaign.id else None
    waiting = pick(s, store)
    assert isinstance(waiting, SendOutcome)
    assert waiting.not_before == NOW + timedelta(seconds=70)
    follow_up = automated(store, c.id, "follow-up, on the number's own pace")
    picked = pick(s, store)
    assert isinstance(picked, tuple)
    assert picked[0].id == follow_up.id


def test_after_a_batch_automated_sending_pauses(store: Store, tmp_path: Path) -> None:
    contacts = [chat(store, f"659000000{i}") for i in range(4)]
    for i, c in enumerate(contacts[:3]):
        sent_by_agent(store, c.id, NOW - timedelta(seconds=30 - 10 * i))  # 11:59:30, :40, :50
    automated(store, contacts[3].id, "fourth")
    s = sender(store, tmp_path, gap=5)
    s.pace = Pace(gap_min_seconds=5, gap_max_seconds=5, windows=(), batch_size=3, batch_pause_seconds=60)
    waiting = pick(s, store)
    assert isinstance(waiting, SendOutcome)
    assert waiting.reason == "pause after 3 automated messages"
    assert waiting.not_before == NOW - timedelta(seconds=10) + timedelta(seconds=60)
