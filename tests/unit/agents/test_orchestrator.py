"""The orchestrator (app/agents/orchestrator.py) on a real SQLCipher store, real events (intake, operations,
``Store.emit``) and a real service loop: cursors across real process restarts, isolation of agents, the loop rules
(from_me, depth), cooldown, rate cap and debounce on a driven clock, and the guarded automated send."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.agents import configs
from app.agents.context import FROM_ME
from app.agents.orchestrator import FAILED, Orchestrator
from app.core.events import ContactCreated, MessageQueued, MessageReceived, SaleAgreed
from app.core.loops import LoopThread
from app.core.models import AgentExecution
from app.store import keys
from app.store.database import Database
from app.store.ops import messages as message_ops
from app.store.store import Store
from tests.support.waiting import wait_until
from tests.unit.agents import orchestrator_child
from tests.unit.agents.orchestrator_support import (
    Boom,
    Clock,
    Ping,
    Pong,
    Recorder,
    Replier,
    chat_of,
    customer_says,
)

ROOT = Path(__file__).resolve().parents[3]
ORG = "0190a000-0000-7000-8000-0000000000cc"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(Database.open(tmp_path / "w.db", keys.random_key()), ORG)
    yield store
    store.close()


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    loop = LoopThread("parley-service")
    yield loop
    loop.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def executions(store: Store, agent: str | None = None) -> list[AgentExecution]:
    return store.agent_executions.find_all({"agent": agent} if agent else None)


def autopilot(store: Store, **limits: int) -> None:
    config = {"debounce_seconds": 0, "cooldown_seconds": 0, "rate_per_minute": 60} | limits
    configs.save(store, "acquisition", enabled=True, mode="autopilot", config=config)


def run(loop: LoopThread, orchestrator: Orchestrator, clock: Clock | None = None) -> None:
    if clock is not None:
        clock.catch_up()
    loop.run(orchestrator.run_pending(), timeout=30)


def automated(store: Store, chat_id: str) -> list[str]:
    return [m.body for m in store.messages.for_chat(chat_id) if m.sent_by_agent is not None]


# ---- delivery --------------------------------------------------------------------------------------------------


def run_child(db: Path, runs: Path, key: bytes, *emit: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PARLEY_TEST_DB_KEY=key.hex())
    proc = subprocess.run(
        [sys.executable, "-m", "tests.unit.agents.orchestrator_child", str(db), str(runs), *emit],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_cursor_resumes_across_real_process_restarts_without_running_anything_twice(tmp_path: Path) -> None:
    db, runs, key = tmp_path / "w.db", tmp_path / "runs.txt", keys.random_key()
    store = Store(Database.open(db, key), orchestrator_child.ORG)
    store.emit(ContactCreated(org_id=store.org_id, contact_id="before-the-agent-existed"))
    store.close()

    def ran() -> list[str]:
        return runs.read_text(encoding="utf-8").splitlines() if runs.exists() else []

    run_child(db, runs, key, "a", "b")  # first start: the agent's cursor begins at the end of the log
    assert ran() == ["a", "b"]

    store = Store(Database.open(db, key), orchestrator_child.ORG)  # Parley closed: an event it must not miss
    store.emit(ContactCreated(org_id=store.org_id, contact_id="while-closed"))
    store.close()

    run_child(db, runs, key)  # the next start runs what was missed, and only that
    assert ran() == ["a", "b", "while-closed"]
    run_child(db, runs, key)
    assert ran() == ["a", "b", "while-closed"]

    store = Store(Database.open(db, key), orchestrator_child.ORG)
    try:
        rows = executions(store, orchestrator_child.AGENT)
        assert [(r.action, r.event_name) for r in rows] == [("counted", "contact.created")] * 3
        with store.db.read() as conn:
            head = conn.execute("SELECT max(seq) FROM events").fetchone()[0]
            cursor = conn.execute("SELECT last_seq FROM agent_cursors WHERE agent = 'counter'").fetchone()[0]
        assert cursor == head == rows[-1].event_seq
    finally:
        store.close()


def test_the_bus_wakes_the_orchestrator_after_a_commit(store: Store, loop: LoopThread) -> None:
    recorder = Recorder("recorder", {ContactCreated.name})
    orchestrator = Orchestrator(store, [recorder], loop=loop, interval=3600)  # the timer would never fire in time
    orchestrator.start()
    try:
        wait_until(lambda: orchestrator.cursor("recorder") is not None, message="the pump never started")
        store.emit(ContactCreated(org_id=store.org_id, contact_id="k1"))
        wait_until(lambda: len(executions(store, "recorder")) == 1, message="the commit did not wake the agent")
        assert [e.contact_id for e in recorder.seen if isinstance(e, ContactCreated)] == ["k1"]
    finally:
        orchestrator.close()


def test_one_agent_failing_never_stops_another(store: Store, loop: LoopThread) -> None:
    boom, recorder = Boom("boom", {ContactCreated.name}), Recorder("recorder", {ContactCreated.name})
    orchestrator = Orchestrator(store, [boom, recorder], loop=loop)
    run(loop, orchestrator)
    for contact_id in ("k1", "k2"):
        store.emit(ContactCreated(org_id=store.org_id, contact_id=contact_id))
    run(loop, orchestrator)

    assert [e.contact_id for e in recorder.seen if isinstance(e, ContactCreated)] == ["k1", "k2"]
    failed = executions(store, "boom")
    assert [(r.status, r.error) for r in failed] == [("failed", FAILED)] * 2
    assert all("4111" not in (r.error or "") and "4111" not in str(r.detail) for r in failed)
    assert [r.status for r in executions(store, "recorder")] == ["succeeded"] * 2
    assert orchestrator.cursor("boom") == orchestrator.cursor("recorder") == failed[-1].event_seq  # both moved on


def test_an_agent_that_is_off_runs_on_nothing_and_its_cursor_moves_on(store: Store, loop: LoopThread) -> None:
    replier = Replier()  # "acquisition": off by default
    orchestrator = Orchestrator(store, [replier], loop=loop)
    run(loop, orchestrator)
    customer_says(store, "34600000001", "hello")
    run(loop, orchestrator)
    assert replier.answered == []
    assert executions(store) == []
    with store.db.read() as conn:
        head = conn.execute("SELECT max(seq) FROM events").fetchone()[0]
    assert orchestrator.cursor("acquisition") == head


# ---- loops -----------------------------------------------------------------------------------------------------


def test_events_of_an_automated_send_never_start_automations(store: Store, loop: LoopThread, clock: Clock) -> None:
    autopilot(store)
    replier, watcher = Replier(), Recorder("watcher", {MessageQueued.name})
    orchestrator = Orchestrator(store, [replier, watcher], loop=loop, clock=clock)
    run(loop, orchestrator, clock)
    customer_says(store, "34600000002", "do you have tea?")
    chat = chat_of(store, "34600000002")
    run(loop, orchestrator, clock)  # the reply is queued: its MessageQueued is logged with the run as its cause
    run(loop, orchestrator, clock)

    assert automated(store, chat.id) == ["Thanks, on it!"]
    sent = [r for r in executions(store, "acquisition") if r.action == "sent"]
    assert len(sent) == 1
    assert sent[0].model == "test-model"
    assert sent[0].tokens == 42
    queued = [r for r in executions(store, "watcher")]
    assert [(r.skip_reason, r.causation_id, r.depth) for r in queued] == [(FROM_ME, sent[0].id, 1)]
    assert watcher.seen == []

    message_ops.queue_message(store, chat.id, "a person's reply")  # no cause: a person's message does start them
    run(loop, orchestrator, clock)
    assert [e.name for e in watcher.seen] == [MessageQueued.name]


def test_two_agents_that_trigger_each_other_stop_at_the_depth_limit(store: Store, loop: LoopThread) -> None:
    orchestrator = Orchestrator(store, [Ping(), Pong()], loop=loop)
    run(loop, orchestrator)
    store.emit(SaleAgreed(org_id=store.org_id, chat_id="c", product="Tea", amount_minor=100, currency="EUR"))
    for _ in range(6):  # each pass runs what the previous one caused; a loop would go on forever
        run(loop, orchestrator)
    rows = sorted(executions(store), key=lambda r: r.event_seq or 0)
    assert [(r.agent, r.depth, r.action or r.skip_reason) for r in rows] == [
        ("ping", 0, "completed_sale"),
        ("pong", 1, "agreed_sale"),
        ("ping", 2, "completed_sale"),
        ("pong", 3, "depth"),
    ]
    assert rows[1].causation_id == rows[0].id
    assert rows[2].causation_id == rows[1].id


# ---- pacing ----------------------------------------------------------------------------------------------------


def test_cooldown_per_chat(store: Store, loop: LoopThread, clock: Clock) -> None:
    autopilot(store, cooldown_seconds=60)
    orchestrator = Orchestrator(store, [Replier()], loop=loop, clock=clock)
    run(loop, orchestrator, clock)
    customer_says(store, "34600000003", "hi")
    run(loop, orchestrator, clock)
    customer_says(store, "34600000003", "still there?")
    clock.advance(10)
    orchestrator = Orchestrator(store, [Replier()], loop=loop, clock=clock)  # a restart: the cooldown is in the file
    run(loop, orchestrator, clock)
    clock.advance(60)
    customer_says(store, "34600000003", "hello?")
    run(loop, orchestrator, clock)
    outcomes = [r.action or r.skip_reason for r in executions(store, "acquisition")]
    assert outcomes == ["sent", "cooldown", "sent"]
    assert len(automated(store, chat_of(store, "34600000003").id)) == 2


def test_global_rate_cap(store: Store, loop: LoopThread, clock: Clock) -> None:
    autopilot(store, rate_per_minute=2)
    orchestrator = Orchestrator(store, [Replier()], loop=loop, clock=clock)
    run(loop, orchestrator, clock)
    for n in range(3):
        customer_says(store, f"3460000010{n}", "hi")
    run(loop, orchestrator, clock)
    assert [r.action or r.skip_reason for r in executions(store, "acquisition")] == ["sent", "sent", "rate_limited"]
    clock.advance(61)
    customer_says(store, "34600000109", "hi")
    run(loop, orchestrator, clock)
    assert executions(store, "acquisition")[-1].action == "sent"


def test_a_burst_of_customer_messages_is_one_turn(store: Store, loop: LoopThread, clock: Clock) -> None:
    autopilot(store, debounce_seconds=20)
    replier = Replier()
    orchestrator = Orchestrator(store, [replier], loop=loop, clock=clock)
    run(loop, orchestrator, clock)
    first = customer_says(store, "34600000004", "hi")
    last = customer_says(store, "34600000004", "I want the blue one")
    clock.catch_up()
    held = loop.run(orchestrator.drain(replier), timeout=30)
    assert held is not None
    assert 0 < held <= 20
    assert executions(store) == []
    clock.advance(21)
    loop.run(orchestrator.run_pending(), timeout=30)
    rows = executions(store, "acquisition")
    assert [(r.skip_reason, r.action) for r in rows] == [("debounced", None), (None, "sent")]
    assert replier.answered == [last.id]
    assert first.id not in replier.answered
    assert automated(store, chat_of(store, "34600000004").id) == ["Thanks, on it!"]


# ---- dry run ---------------------------------------------------------------------------------------------------


def test_a_dry_run_sends_nothing_and_leaves_the_cursor(store: Store, loop: LoopThread, clock: Clock) -> None:
    autopilot(store)
    orchestrator = Orchestrator(store, [Replier()], loop=loop, clock=clock)
    run(loop, orchestrator, clock)
    message = customer_says(store, "34600000005", "price?")
    chat = chat_of(store, "34600000005")
    cursor = orchestrator.cursor("acquisition")
    event = MessageReceived(org_id=store.org_id, chat_id=chat.id, message_id=message.id)
    row = loop.run(orchestrator.try_on("acquisition", event), timeout=30)
    assert row is not None
    assert row.dry_run
    assert row.action == "drafted"
    assert row.detail["draft"] == ["Thanks, on it!"]
    assert automated(store, chat.id) == []
    assert orchestrator.cursor("acquisition") == cursor


def test_an_event_this_version_cannot_read_is_passed_once(store: Store, loop: LoopThread) -> None:
    recorder = Recorder("recorder", {ContactCreated.name})
    orchestrator = Orchestrator(store, [recorder], loop=loop)
    run(loop, orchestrator)

    def unreadable() -> int:
        with store.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO events (name, payload, occurred_at) VALUES ('contact.created', '{\"org\": 1}', 0)"
            )
            return int(cursor.lastrowid or 0)

    unreadable()
    store.emit(ContactCreated(org_id=store.org_id, contact_id="k1"))
    last = unreadable()
    run(loop, orchestrator)
    assert [e.contact_id for e in recorder.seen if isinstance(e, ContactCreated)] == ["k1"]
    assert orchestrator.cursor("recorder") == last  # passed, not read again on every wake
