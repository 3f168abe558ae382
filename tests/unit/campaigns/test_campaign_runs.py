"""A campaign run end to end: the real JobRunner (injected clock) claims the campaign's step jobs on a real SQLCipher
store, the rig stands in for WhatsApp (queued → sent), and what each customer got is read from the messages table.

Run as a module (``python -m tests.unit.campaigns.test_campaign_runs DB NOW_MS ROUNDS [die-after-send]``) it is the
child process of the restart test: it opens the workspace, runs ``ROUNDS`` rounds from ``NOW_MS`` and exits;
``die-after-send`` kills it by SIGKILL right after the first campaign message's transaction commits (the recipient
marked ``sending``, its step job still held).
"""

from __future__ import annotations

import os
import signal
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.campaigns import results
from app.campaigns.lifecycle import STEP_KIND
from app.core.events import MessageQueued
from app.core.ids import from_ms, to_ms
from app.store import keys
from app.store.database import Database
from app.store.ops import automation
from app.store.ops import campaigns as ops
from app.store.store import Store
from tests.support.db_child import run_db_child
from tests.unit.campaigns.rig import ORG, POLL, T0, Rig, campaign_messages, customer, write_in


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(Database.open(tmp_path / "w.db", keys.random_key()), ORG)
    store.orgs.create(id=ORG, name="Casa Verde")
    yield store
    store.close()


@pytest.fixture
def rig(store: Store) -> Iterator[Rig]:
    rig = Rig(store)
    yield rig
    rig.close()


def thirty(store: Store) -> str:
    for n in range(30):
        customer(store, n)
    cid = ops.create_draft(store, "Thirty", template="Hi {first_name}!", variants=["Hello {first_name}!"]).value.id
    ops.prepare(store, cid, now=T0)
    return cid


def per_chat(store: Store) -> Counter[str]:
    return Counter(m.chat_id for m in campaign_messages(store))


def test_thirty_recipients_run_one_at_a_time_with_pause_resume_and_cancel(store: Store, rig: Rig) -> None:
    cid = thirty(store)
    ops.start(store, cid, now=rig.now)
    rig.tick()
    # one at a time: while the first waits in the send queue, no second one is written
    assert len(campaign_messages(store)) == 1
    rig.now += POLL
    rig.tick()
    assert len(campaign_messages(store)) == 1
    rig.whatsapp()
    rig.now += POLL
    rig.rounds(9)
    assert len(campaign_messages(store)) == 10
    ops.pause(store, cid, now=rig.now)
    rig.rounds(5)
    assert len(campaign_messages(store)) == 10
    ops.follow_messages(store, cid, now=rig.now)  # what the page calls before reading the figures
    assert results.funnel(store, cid).sent == 10
    ops.resume(store, cid, now=rig.now)
    rig.rounds(10)
    assert len(campaign_messages(store)) == 20
    ops.cancel(store, cid, now=rig.now)
    rig.rounds(5)
    assert len(campaign_messages(store)) == 20
    assert max(per_chat(store).values()) == 1
    ops.follow_messages(store, cid, now=rig.now)  # the message queued before the cancel went out
    figures = results.funnel(store, cid)
    assert (figures.sent, figures.queued, figures.skipped) == (20, 0, {"cancelled": 10})
    # the variants alternate along the campaign
    bodies = [r.body.split()[0] for r in results.recipients(store, cid)[:4]]
    assert bodies == ["Hi", "Hello", "Hi", "Hello"]


def test_the_campaign_completes_when_nobody_is_left(store: Store, rig: Rig) -> None:
    cid = thirty(store)
    ops.start(store, cid, now=rig.now)
    rig.rounds(32)
    assert store.campaigns.get(cid).status == "completed"
    assert len(campaign_messages(store)) == 30
    assert max(per_chat(store).values()) == 1
    assert [j.status for j in store.jobs.find(("due", "running"), limit=100) if j.kind == STEP_KIND] == []


def test_while_automated_sending_is_halted_nothing_is_queued(store: Store, rig: Rig) -> None:
    cid = thirty(store)
    ops.start(store, cid, now=rig.now)
    rig.rounds(3)
    automation.halt(store, automation.RATE_LIMITED, "WhatsApp says: sending too many messages.", now=rig.now)
    for _ in range(5):
        rig.tick()
        rig.now += timedelta(minutes=5)
    assert len(campaign_messages(store)) == 3
    automation.resume(store)
    rig.rounds(2)
    assert len(campaign_messages(store)) == 5


def test_an_opt_out_word_mid_run_skips_the_contact_and_a_sentence_with_it_does_not(store: Store, rig: Rig) -> None:
    people = [customer(store, n) for n in range(6)]
    cid = ops.create_draft(store, "Six", template="Hi {first_name}!").value.id
    ops.prepare(store, cid, now=T0)
    ops.start(store, cid, now=rig.now)
    rig.rounds(2)
    (_, chat3), (_, chat4) = people[3], people[4]
    write_in(store, chat3, "STOP!", rig.now)  # before their turn: the guarded send checks again
    write_in(store, chat4, "please stop the music, I love your shirts", rig.now)
    (_, chat0) = people[0]
    write_in(store, chat0, "Parar", rig.now)  # a reply to the message already sent
    rig.rounds(8)
    status = {r.contact_id: (r.status, r.reason) for r in results.recipients(store, cid)}
    assert status[people[3][0].id] == ("skipped", "opted_out")
    assert status[people[4][0].id][0] == "sent"
    assert status[people[0][0].id] == ("replied", None)
    assert store.contacts.get(people[0][0].id).consent == "opted_out"
    assert store.contacts.get(people[4][0].id).consent == "unknown"
    assert chat3.id not in per_chat(store)
    assert store.campaigns.get(cid).status == "completed"


def test_a_number_not_on_whatsapp_is_skipped_and_other_failures_kept_with_their_reason(store: Store, rig: Rig) -> None:
    people = [customer(store, n) for n in range(3)]
    cid = ops.create_draft(store, "Three", template="Hi {first_name}!").value.id
    ops.prepare(store, cid, now=T0)
    ops.start(store, cid, now=rig.now)
    reasons = ["The number is not on WhatsApp.", "WhatsApp could not open a chat with +5511.", None]
    for reason in reasons:
        rig.tick()
        (queued,) = [m for m in campaign_messages(store) if m.status == "queued"]
        if reason is None:
            store.messages.update(queued.id, status="sent")
        else:
            store.messages.update(queued.id, status="failed", status_reason=reason)
        rig.now += POLL
    rig.rounds(2)
    status = [(r.status, r.reason) for r in results.recipients(store, cid)]
    assert status == [
        ("skipped", "not_on_whatsapp"),
        ("failed", "WhatsApp could not open a chat with +5511."),
        ("sent", None),
    ]
    assert len(people) == 3
    assert store.campaigns.get(cid).status == "completed"


# ---- across a real process restart ------------------------------------------------------------------------------
def child(argv: list[str]) -> None:
    db, now_ms, rounds, *rest = argv
    store = Store(Database.open(Path(db), bytes.fromhex(os.environ["PARLEY_TEST_DB_KEY"])), ORG)
    if rest == ["die-after-send"]:
        store.bus.subscribe(MessageQueued, lambda _e: os.kill(os.getpid(), signal.SIGKILL))
    rig = Rig(store, from_ms(int(now_ms)))
    try:
        rig.rounds(int(rounds))
    finally:
        rig.close()
        store.close()


def test_killed_mid_campaign_and_restarted_it_resumes_and_nobody_gets_it_twice(tmp_path: Path) -> None:
    db, key = tmp_path / "w.db", keys.random_key()
    store = Store(Database.open(db, key), ORG)
    try:
        store.orgs.create(id=ORG, name="Casa Verde")
        cid = thirty(store)
        ops.start(store, cid, now=T0)
    finally:
        store.close()

    def run(now: timedelta, rounds: int, *extra: str, killed: bool = False) -> None:
        args = (str(db), str(to_ms(T0 + now)), str(rounds), *extra)
        run_db_child("tests.unit.campaigns.test_campaign_runs", key, *args, killed=killed)

    run(timedelta(0), 5)  # five sent
    run(timedelta(minutes=2), 3, "die-after-send", killed=True)  # the sixth queued, then the app dies
    # restarted once the dead run's lease has run out: it takes the step up again, and goes on to the end
    run(timedelta(minutes=10), 40)
    again = Store(Database.open(db, key), ORG)
    try:
        assert again.campaigns.get(cid).status == "completed"
        chats = per_chat(again)
        assert len(chats) == 30
        assert set(chats.values()) == {1}
        assert results.funnel(again, cid).sent == 30
    finally:
        again.close()


if __name__ == "__main__":
    child(sys.argv[1:])
