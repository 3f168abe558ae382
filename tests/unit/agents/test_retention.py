"""The retention agent (app/agents/retention.py) against a real SQLCipher store: sales logged as events reach it through
the real orchestrator, the follow-ups run through the real JobRunner (with its clock set to the job's time), and
what a customer sees is read from the messages table.

Run as a module (``python -m tests.unit.agents.test_retention DB NOW_MS [die-after-send]``) it is the child process
of the restart test: it opens the workspace, runs the due jobs once at ``NOW_MS`` and exits; ``die-after-send`` kills
it by SIGKILL right after the follow-up's send commits (before its execution row and its job's outcome).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.agents import configs
from app.agents.hours import BusinessHours, parse_schedule
from app.agents.job_kinds import JobKinds
from app.agents.jobs_runner import JobRunner
from app.agents.orchestrator import Orchestrator
from app.agents.retention import (
    FOLLOWUP_KIND,
    OPT_OUT_LABEL,
    build,
    check_followup_template,
    follow_up_at,
    followup_key,
    is_stop_keyword,
    parse_config,
)
from app.core.errors import InvalidInput
from app.core.events import MessageQueued, SaleCompleted
from app.core.ids import from_ms, to_ms, utc_now
from app.core.loops import LoopThread
from app.core.models import AgentExecution, Chat, Message, Sale
from app.store import keys
from app.store.database import Database
from app.store.intake import CapturedMessage, record_message
from app.store.jobs import Job
from app.store.ops.ownership import take_over
from app.store.sales import SaleLine, record_sale
from app.store.store import Store
from tests.support.db_child import run_db_child

ANA = "5511912345678@c.us"
ORG = "0190a000-0000-7000-8000-0000000000bb"
TEMPLATE = "Hi {first_name}, how are the {product}? Write to {business_name} if anything is wrong."


def enable(store: Store, mode: str = "autopilot", **config: object) -> None:
    configs.save(store, "retention", enabled=True, mode=mode, config={"template": TEMPLATE, **config})  # type: ignore[arg-type]


def customer(store: Store, at: datetime, body: str = "Do you have wool gloves?", n: int = 0) -> Message:
    captured = CapturedMessage(
        wa_id=f"in-{n}-{to_ms(at)}", chat_jid=ANA, from_me=False, body=body, timestamp=at, push_name="Ana Souza"
    )
    return record_message(store, captured).message


def sell(store: Store, chat: Chat, sold_at: datetime) -> Sale:
    line = SaleLine(description="wool gloves", unit_price_minor=1_500)
    return record_sale(store, [line], contact_id=chat.contact_id, chat_id=chat.id, currency="EUR", sold_at=sold_at)


def followups(store: Store) -> list[Job]:
    return [j for j in store.jobs.find(("due", "running", "done", "skipped", "failed")) if j.kind == FOLLOWUP_KIND]


def sent_in(store: Store, chat_id: str) -> list[Message]:
    return [m for m in store.messages.find_all({"chat_id": chat_id}) if m.sent_by_agent == "retention"]


def runs(store: Store, trigger: str) -> list[AgentExecution]:
    return [r for r in store.agent_executions.find_all({"agent": "retention"}) if r.trigger == trigger]


class Harness:
    """The agent on the orchestrator (its cursor at the end of the log) and a runner for its due job."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.kinds = JobKinds()
        self.agent = build(store, self.kinds)
        self.loop = LoopThread("parley-test-retention")
        self.orchestrator = Orchestrator(store, [self.agent], loop=self.loop)
        self.loop.run(self.orchestrator.run_pending(), 30)

    def events(self) -> None:
        self.loop.run(self.orchestrator.run_pending(), 30)

    def due(self, *, holds: bool = True, late: timedelta = timedelta(minutes=1)) -> list[str]:
        """One runner tick at the follow-up's time (+ ``late``), on a device that does or does not hold WhatsApp."""
        (job,) = followups(self.store)
        now = job.run_at + late
        runner = JobRunner(self.store.jobs, self.kinds, loop=self.loop, clock=lambda: now, holds_whatsapp=lambda: holds)
        try:
            return self.loop.run(runner.run_due(), 30)
        finally:
            runner.close()

    def close(self) -> None:
        self.orchestrator.close()
        self.loop.close()


@pytest.fixture
def harness(store: Store) -> Iterator[Harness]:
    store.orgs.update(store.org_id, name="Casa Verde")
    enable(store)
    h = Harness(store)
    try:
        yield h
    finally:
        h.close()


@pytest.fixture
def sale(store: Store, harness: Harness) -> Sale:
    """Ana asked an hour before buying, five days ago; the follow-up is scheduled from the logged sale."""
    sold_at = utc_now().replace(microsecond=0) - timedelta(days=5)
    chat = store.chats.get(customer(store, sold_at - timedelta(hours=1)).chat_id)
    made = sell(store, chat, sold_at)
    harness.events()
    return made


# ---- scheduling ---------------------------------------------------------------------------------------------------
def test_a_sale_schedules_one_follow_up_however_often_it_is_seen(store: Store, harness: Harness, sale: Sale) -> None:
    again = SaleCompleted(
        org_id=store.org_id, sale_id=sale.id, amount_minor=1_500, currency="EUR", contact_id=sale.contact_id
    )
    store.emit(again)  # the same sale seen twice (a replay, a second device's event)
    harness.events()
    (job,) = followups(store)
    assert job.dedupe_key == followup_key(sale.id, 3) == f"followup:sale:{sale.id}:d3"
    expected = follow_up_at(sale.sold_at, 3, BusinessHours.from_org({}, "UTC"))
    assert job.run_at == expected
    assert timedelta(days=3) <= expected - sale.sold_at < timedelta(days=4)
    assert 10 <= job.run_at.hour < 19  # the business's sensible hours without a schedule (zone UTC)
    scheduled = runs(store, "sale.completed")
    assert [(r.action, r.detail["key"]) for r in scheduled] == [("scheduled", job.dedupe_key)] * 2


def test_the_follow_up_lands_inside_business_hours(store: Store, harness: Harness) -> None:
    hours = {"week": {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}}
    store.orgs.update(store.org_id, timezone="Europe/Berlin", business_hours=hours)
    enable(store, days=4)
    sold_at = datetime(2026, 11, 25, 16, 30, tzinfo=UTC)  # Wednesday 17:30 in Berlin: + 4 days is Sunday
    chat = store.chats.get(customer(store, sold_at - timedelta(hours=1)).chat_id)
    made = sell(store, chat, sold_at)
    harness.events()
    (job,) = followups(store)
    assert job.dedupe_key == f"followup:sale:{made.id}:d4"
    assert job.run_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin
    berlin = BusinessHours(parse_schedule(hours), "Europe/Berlin")
    assert berlin.is_open(job.run_at)
    # without a schedule: 22:00 + 3 days → 10:00 the next morning; 06:00 → 10:00 the same day
    utc = BusinessHours.from_org({}, "UTC")
    assert follow_up_at(datetime(2026, 1, 1, 22, tzinfo=UTC), 3, utc) == datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert follow_up_at(datetime(2026, 1, 1, 6, tzinfo=UTC), 3, utc) == datetime(2026, 1, 4, 10, tzinfo=UTC)


def test_nothing_is_scheduled_while_the_agent_is_off(store: Store, harness: Harness) -> None:
    configs.save(store, "retention", enabled=False)
    sold_at = utc_now() - timedelta(days=5)
    sell(store, store.chats.get(customer(store, sold_at - timedelta(hours=1)).chat_id), sold_at)
    harness.events()
    assert followups(store) == []


def test_the_config_reads_the_declared_days_and_the_template_check_names_unknown_variables() -> None:
    assert parse_config({"follow_up_days": 5}).days == 5  # the declared default's key
    assert parse_config({"days": 7, "follow_up_days": 5}).days == 7
    assert parse_config({"days": 0}).days == 3  # unreadable: the defaults
    assert (
        check_followup_template("  Hi {first_name}, how is the {product}?  ")
        == "Hi {first_name}, how is the {product}?"
    )
    with pytest.raises(InvalidInput, match=r"\{price\}"):
        check_followup_template("Hi {first_name}, pay {price}")


# ---- when it is due ----------------------------------------------------------------------------------------------
def test_a_due_follow_up_sends_the_template_filled_through_the_guarded_send(
    store: Store, harness: Harness, sale: Sale
) -> None:
    assert sale.chat_id is not None
    assert len(harness.due()) == 1
    (message,) = sent_in(store, sale.chat_id)
    assert message.body == "Hi Ana, how are the wool gloves? Write to Casa Verde if anything is wrong."
    assert (message.direction, message.status) == ("out", "queued")
    (job,) = followups(store)
    assert (job.status, job.result) == ("done", "sent")
    (run,) = runs(store, FOLLOWUP_KIND)
    assert (run.status, run.action, run.skip_reason, run.chat_id) == ("succeeded", "sent", None, sale.chat_id)
    assert run.config_version == configs.current(store, "retention").version
    assert message.agent_execution_id == run.id
    assert run.detail["queued"] == [message.id]
    with store.db.read() as conn:  # its MessageQueued names the run as its cause: no automation starts from it
        causes = [
            r[0]
            for r in conn.execute(
                "SELECT json_extract(payload, '$.causation_id') FROM events WHERE name = ?", (MessageQueued.name,)
            )
        ]
    assert causes == [run.id]
    assert harness.due() == []  # done: a second tick sends nothing
    assert len(sent_in(store, sale.chat_id)) == 1


def test_skipped_when_the_customer_wrote_after_the_sale(store: Store, harness: Harness, sale: Sale) -> None:
    customer(store, sale.sold_at + timedelta(days=1), "They fit, thanks!", n=1)
    assert_skipped(store, harness, sale, "customer_wrote")


def test_skipped_when_the_contact_carries_the_opt_out_label(store: Store, harness: Harness, sale: Sale) -> None:
    assert sale.contact_id is not None
    store.contacts.update(sale.contact_id, tags=["VIP", "Opted out"])
    assert_skipped(store, harness, sale, "opted_out")


@pytest.mark.parametrize("body", ["STOP", "Stop.", " unsubscribe "])
def test_a_message_that_is_a_stop_keyword_opts_the_customer_out(
    store: Store, harness: Harness, sale: Sale, body: str
) -> None:
    assert sale.contact_id is not None
    customer(store, sale.sold_at - timedelta(minutes=30), body, n=2)  # before the sale: only the keyword rule applies
    assert_skipped(store, harness, sale, "opted_out")
    contact = store.contacts.get(sale.contact_id)
    assert OPT_OUT_LABEL in [t.casefold() for t in contact.tags]  # kept on the contact, for every later message


def test_a_sentence_with_stop_in_it_is_not_an_opt_out(store: Store, harness: Harness, sale: Sale) -> None:
    assert sale.contact_id is not None
    assert sale.chat_id is not None
    customer(store, sale.sold_at - timedelta(minutes=30), "stop sending me the wrong size", n=3)
    assert len(harness.due()) == 1
    assert len(sent_in(store, sale.chat_id)) == 1
    assert store.contacts.get(sale.contact_id).tags == []
    assert not is_stop_keyword("please stop")
    assert is_stop_keyword("STOP!")
    assert is_stop_keyword("Opt-out")


def test_skipped_when_a_person_owns_the_chat(store: Store, harness: Harness, sale: Sale) -> None:
    assert sale.chat_id is not None
    take_over(store, sale.chat_id)
    assert_skipped(store, harness, sale, "owned_by_person")


def test_skipped_when_the_sale_was_deleted(store: Store, harness: Harness, sale: Sale) -> None:
    store.sales.delete(sale.id)
    assert_skipped(store, harness, sale, "sale_deleted")


def test_skipped_when_the_agent_was_switched_off_since(store: Store, harness: Harness, sale: Sale) -> None:
    configs.save(store, "retention", enabled=False)
    assert_skipped(store, harness, sale, "agent_off")


def assert_skipped(store: Store, harness: Harness, sale: Sale, reason: str) -> None:
    assert sale.chat_id is not None
    assert len(harness.due()) == 1
    assert sent_in(store, sale.chat_id) == []
    (job,) = followups(store)
    assert (job.status, job.result) == ("skipped", reason)
    (run,) = runs(store, FOLLOWUP_KIND)
    assert (run.status, run.skip_reason, run.action) == ("skipped", reason, None)


def test_suggest_mode_keeps_a_draft_and_sends_nothing(store: Store, harness: Harness, sale: Sale) -> None:
    assert sale.chat_id is not None
    enable(store, mode="draft")
    assert len(harness.due()) == 1
    assert sent_in(store, sale.chat_id) == []
    (run,) = runs(store, FOLLOWUP_KIND)
    assert (run.status, run.action, run.chat_id) == ("succeeded", "drafted", sale.chat_id)
    assert run.detail["draft"] == ["Hi Ana, how are the wool gloves? Write to Casa Verde if anything is wrong."]
    assert followups(store)[0].result == "drafted"


def test_not_run_on_a_device_that_does_not_hold_whatsapp(store: Store, harness: Harness, sale: Sale) -> None:
    assert sale.chat_id is not None
    assert harness.due(holds=False) == []
    assert sent_in(store, sale.chat_id) == []
    assert followups(store)[0].status == "due"  # left for the holder
    assert runs(store, FOLLOWUP_KIND) == []
    assert len(harness.due(holds=True)) == 1  # the holder sends it
    assert len(sent_in(store, sale.chat_id)) == 1


# ---- across a real process restart ------------------------------------------------------------------------------
def child(argv: list[str]) -> None:
    db, now_ms, *rest = argv
    now = from_ms(int(now_ms))
    store = Store(Database.open(Path(db), bytes.fromhex(os.environ["PARLEY_TEST_DB_KEY"])), ORG)
    if rest == ["die-after-send"]:
        store.bus.subscribe(MessageQueued, lambda _e: os.kill(os.getpid(), signal.SIGKILL))
    kinds = JobKinds()
    build(store, kinds)
    loop = LoopThread("parley-service")
    runner = JobRunner(store.jobs, kinds, loop=loop, clock=lambda: now)
    try:
        print(f"ran {len(loop.run(runner.run_due(), timeout=60))} jobs", flush=True)
    finally:
        runner.close()
        loop.close()
        store.close()


def run_child(db: Path, key: bytes, now: datetime, *extra: str, killed: bool = False) -> None:
    run_db_child("tests.unit.agents.test_retention", key, str(db), str(to_ms(now)), *extra, killed=killed)


def followup_on_disk(tmp_path: Path) -> tuple[Path, bytes, Chat, Job]:
    """A workspace file (closed again, for the children to open) with a customer who bought five days ago and the
    follow-up scheduled for that sale: the file, its key, the customer's chat and the job."""
    db, key = tmp_path / "w.db", keys.random_key()
    store = Store(Database.open(db, key), ORG)
    sold_at = utc_now().replace(microsecond=0) - timedelta(days=5)
    try:
        enable(store)
        chat = store.chats.get(customer(store, sold_at - timedelta(hours=1)).chat_id)
        build(store, JobKinds()).schedule(sell(store, chat, sold_at).id)
        (job,) = followups(store)
    finally:
        store.close()
    return db, key, chat, job


def test_the_due_follow_up_runs_once_across_restarts_and_a_crash_after_its_send(tmp_path: Path) -> None:
    db, key, chat, job = followup_on_disk(tmp_path)

    def state() -> tuple[Job, list[Message], list[AgentExecution]]:
        again = Store(Database.open(db, key), ORG)
        try:
            (found,) = followups(again)
            return found, sent_in(again, chat.id), runs(again, FOLLOWUP_KIND)
        finally:
            again.close()

    # 1. The app dies right after the follow-up's send commits: one message, no execution row, the job still held.
    run_child(db, key, job.run_at + timedelta(minutes=1), "die-after-send", killed=True)
    crashed, messages, rows = state()
    assert (crashed.status, len(messages), rows) == ("running", 1, [])
    assert crashed.lease_until is not None
    # 2. Started again once the lease ran out: the job is taken up, finds its message sent, and sends nothing more.
    run_child(db, key, crashed.lease_until)
    finished, messages, rows = state()
    assert (finished.status, finished.result, len(messages)) == ("skipped", "already_sent", 1)
    assert [r.skip_reason for r in rows] == ["already_sent"]
    # 3. And again: nothing runs twice.
    run_child(db, key, crashed.lease_until + timedelta(minutes=5))
    assert state()[1:] == (messages, rows)


def test_a_follow_up_due_at_a_restart_runs_once(tmp_path: Path) -> None:
    db, key, chat, job = followup_on_disk(tmp_path)
    at = job.run_at + timedelta(hours=2)  # Parley was closed when it fell due: it runs once, late
    run_child(db, key, at)
    run_child(db, key, at + timedelta(minutes=1))
    again = Store(Database.open(db, key), ORG)
    try:
        (done,) = followups(again)
        assert (done.status, done.result) == ("done", "sent")
        assert len(sent_in(again, chat.id)) == 1
        assert [r.action for r in runs(again, FOLLOWUP_KIND)] == ["sent"]
    finally:
        again.close()


if __name__ == "__main__":
    child(sys.argv[1:])
