"""The durable jobs' runner (app/agents/jobs_runner.py) on a real service loop and a real SQLCipher store, and across
real process restarts (tests/unit/agents/jobs_child.py): due jobs run once, missed ones once late or skipped as too
late, a crash mid-job is taken up again once its lease runs out, and no failure of one job stops another."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from app.agents.job_kinds import JobFailed, JobKind, JobKinds, JobRun, JobSkipped
from app.agents.jobs_runner import JobRunner
from app.core.ids import to_ms
from app.core.loops import LoopThread
from app.store import keys
from app.store.database import Database
from app.store.jobs import Job, Jobs
from app.store.store import Store
from tests.support.db_child import run_db_child
from tests.support.waiting import wait_until
from tests.unit.agents import jobs_child

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


class Sale(BaseModel):
    sale_id: str


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(Database.open(tmp_path / "w.db", keys.random_key()), "org")
    yield store
    store.close()


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    loop = LoopThread("parley-service")
    yield loop
    loop.close()


def job(store: Store, key: str) -> Job:
    found = store.jobs.by_key(key)
    assert found is not None
    return found


def make_runner(store: Store, kinds: JobKinds, loop: LoopThread, now: datetime = T0, **kw: object) -> JobRunner:
    return JobRunner(store.jobs, kinds, loop=loop, clock=lambda: now, **kw)  # type: ignore[arg-type]


def test_one_tick_runs_every_outcome_and_no_failure_stops_another(store: Store, loop: LoopThread) -> None:
    seen: list[str] = []

    async def ok(payload: Sale, run: JobRun) -> str:
        seen.append(payload.sale_id)
        return "sent"

    async def boom(payload: Sale, run: JobRun) -> str:
        raise RuntimeError("José's order 4711 broke")  # customer content: must not reach the job

    async def said(payload: Sale, run: JobRun) -> None:
        raise JobFailed("WhatsApp is not connected.", retry=False)

    async def nothing(payload: Sale, run: JobRun) -> None:
        raise JobSkipped("customer_wrote")

    kinds = JobKinds(
        [
            JobKind("ok", Sale, ok),
            JobKind("boom", Sale, boom),
            JobKind("said", Sale, said),
            JobKind("nothing", Sale, nothing),
        ]
    )
    for kind in ("boom", "said", "nothing", "ok"):
        kinds.schedule(store.jobs, kind, Sale(sale_id="s1"), T0, kind)
    store.jobs.schedule("gone", {"x": 1}, T0, "gone")  # a kind this version does not know
    store.jobs.schedule("ok", {"sale": 1}, T0, "bad-payload")  # data that does not fit the kind's model

    runner = make_runner(store, kinds, loop)
    assert len(loop.run(runner.run_due())) == 6
    assert seen == ["s1"]
    assert (job(store, "ok").status, job(store, "ok").result) == ("done", "sent")
    boom_job = job(store, "boom")
    assert (boom_job.status, boom_job.run_at) == ("due", T0 + timedelta(seconds=30))  # retried later
    assert boom_job.last_error == "It stopped with an unexpected error; the log has the details."
    said_job = job(store, "said")
    assert (said_job.status, said_job.last_error) == ("failed", "WhatsApp is not connected.")
    assert (job(store, "nothing").status, job(store, "nothing").result) == ("skipped", "customer_wrote")
    gone = job(store, "gone")
    assert (gone.status, gone.attempts) == ("failed", 1)
    assert gone.last_error == "No handler for the job kind 'gone' in this version of Parley."
    bad = job(store, "bad-payload")
    assert bad.status == "failed"
    assert bad.last_error == "Its data does not fit the job kind 'ok' (check: sale_id)."
    assert runner.finished == 6


def test_a_job_later_than_its_kinds_lateness_is_skipped_too_late(store: Store, loop: LoopThread) -> None:
    ran: list[timedelta] = []

    async def note(payload: Sale, run: JobRun) -> None:
        ran.append(run.late)

    kinds = JobKinds(
        [
            JobKind("fresh", Sale, note, max_lateness=timedelta(minutes=30)),
            JobKind("any-time", Sale, note, max_lateness=None),
        ]
    )
    kinds.schedule(store.jobs, "fresh", Sale(sale_id="1"), T0 - timedelta(minutes=31), "stale")
    kinds.schedule(store.jobs, "fresh", Sale(sale_id="2"), T0 - timedelta(minutes=29), "late-enough")
    kinds.schedule(store.jobs, "any-time", Sale(sale_id="3"), T0 - timedelta(days=9), "ancient")
    loop.run(make_runner(store, kinds, loop).run_due())
    assert (job(store, "stale").status, job(store, "stale").result) == ("skipped", "too_late")
    assert job(store, "late-enough").status == "done"
    assert job(store, "ancient").status == "done"
    assert sorted(ran) == [timedelta(minutes=29), timedelta(days=9)]


def test_a_handler_slower_than_its_timeout_is_stopped_and_retried(store: Store, loop: LoopThread) -> None:
    async def hang(payload: Sale, run: JobRun) -> None:
        await asyncio.Event().wait()

    kinds = JobKinds([JobKind("hang", Sale, hang, timeout=timedelta(milliseconds=50))])
    kinds.schedule(store.jobs, "hang", Sale(sale_id="1"), T0, "hang")
    loop.run(make_runner(store, kinds, loop).run_due())
    hung = job(store, "hang")
    assert (hung.status, hung.last_error) == ("due", "It took longer than 0.05 s and was stopped.")


def test_whatsapp_jobs_run_only_on_the_device_that_holds_the_session(store: Store, loop: LoopThread) -> None:
    async def note(payload: Sale, run: JobRun) -> None:
        return None

    kinds = JobKinds([JobKind("send", Sale, note, needs_whatsapp=True), JobKind("local", Sale, note)])
    kinds.schedule(store.jobs, "send", Sale(sale_id="1"), T0, "send")
    kinds.schedule(store.jobs, "local", Sale(sale_id="1"), T0, "local")
    holds = [False]
    runner = make_runner(store, kinds, loop, holds_whatsapp=lambda: holds[0])
    loop.run(runner.run_due())
    assert (job(store, "send").status, job(store, "local").status) == ("due", "done")
    holds[0] = True
    loop.run(runner.run_due())
    assert job(store, "send").status == "done"


def test_the_timer_runs_a_job_scheduled_later_and_close_releases_a_running_one(store: Store, loop: LoopThread) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def quick(payload: Sale, run: JobRun) -> str:
        return "ok"

    async def slow(payload: Sale, run: JobRun) -> None:
        started.set()
        await release.wait()

    kinds = JobKinds([JobKind("quick", Sale, quick), JobKind("slow", Sale, slow)])
    runner = JobRunner(store.jobs, kinds, loop=loop, interval=3600)  # real clock; only the first tick and pokes
    runner.start()
    kinds.schedule(store.jobs, "quick", Sale(sale_id="1"), datetime.now(UTC), "quick")
    runner.poke()
    wait_until(lambda: job(store, "quick").status == "done", message=lambda: str(job(store, "quick")))
    kinds.schedule(store.jobs, "slow", Sale(sale_id="2"), datetime.now(UTC), "slow")
    runner.poke()
    wait_until(lambda: job(store, "slow").status == "running")
    runner.close()
    released = job(store, "slow")
    assert (released.status, released.attempts, released.lease_owner) == ("due", 0, None)
    assert not loop.closed  # the loop was handed in: it is not the runner's to close


def test_a_poke_during_a_tick_is_not_lost(store: Store, loop: LoopThread) -> None:
    """A job scheduled while a tick is between its start and its claim's end may be missed by that claim: the poke
    that came with it makes another tick at once, not one ``interval`` later."""
    import threading

    in_tick, go_on = threading.Event(), threading.Event()

    def holds() -> bool:  # called by each tick (a WhatsApp kind is registered): hold the first one here
        in_tick.set()
        return go_on.wait(30)

    async def note(payload: Sale, run: JobRun) -> str:
        return "ok"

    kinds = JobKinds([JobKind("note", Sale, note), JobKind("send", Sale, note, needs_whatsapp=True)])
    now = [T0]
    runner = JobRunner(store.jobs, kinds, loop=loop, interval=3600, holds_whatsapp=holds, clock=lambda: now[0])
    runner.start()
    assert in_tick.wait(30)  # the first tick read the clock (T0) and waits in holds()
    kinds.schedule(store.jobs, "note", Sale(sale_id="1"), T0 + timedelta(minutes=1), "poked")
    now[0] = T0 + timedelta(minutes=1)
    runner.poke()
    go_on.set()
    wait_until(lambda: job(store, "poked").status == "done", message=lambda: str(job(store, "poked")))
    runner.close()


def test_close_during_a_claim_hands_the_claimed_jobs_back(store: Store, loop: LoopThread) -> None:
    """Closing while a tick's claim transaction runs: the claim commits anyway, and its jobs must not sit under this
    runner's lease (they would wait for it to run out, and count an attempt that never ran)."""
    import threading

    claimed, go_on = threading.Event(), threading.Event()

    class SlowClaims(Jobs):
        def claim_due(self, *args: Any, **kw: Any) -> list[Job]:
            got = super().claim_due(*args, **kw)
            claimed.set()
            go_on.wait(30)
            return got

    async def note(payload: Sale, run: JobRun) -> str:
        return "ok"

    kinds = JobKinds([JobKind("note", Sale, note)])
    kinds.schedule(store.jobs, "note", Sale(sale_id="1"), T0, "held")
    runner = JobRunner(SlowClaims(store.db), kinds, loop=loop, interval=3600, clock=lambda: T0)
    runner.start()
    assert claimed.wait(30)
    assert job(store, "held").status == "running"
    ticking = runner._ticking  # the tick held at its claim
    assert ticking is not None
    closer = threading.Thread(target=runner.close)
    closer.start()
    wait_until(lambda: ticking.cancelling() > 0)
    go_on.set()
    closer.join(30)
    back = job(store, "held")
    assert (back.status, back.attempts, back.lease_owner) == ("due", 0, None)


def test_kinds_refuse_mistakes() -> None:
    async def note(payload: Sale, run: JobRun) -> None:
        return None

    kinds = JobKinds([JobKind("k", Sale, note)])
    with pytest.raises(ValueError, match="twice"):
        kinds.register(JobKind("k", Sale, note))
    with pytest.raises(ValueError, match="without ':'"):
        kinds.register(JobKind("a:b", Sale, note))

    class Other(BaseModel):
        x: int

    with pytest.raises(TypeError):
        kinds.schedule(None, "k", Other(x=1), T0)  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        kinds.schedule(None, "nope", Sale(sale_id="1"), T0)  # type: ignore[arg-type]


# ---- across real process restarts -----------------------------------------------------------------------------


def run_child(db: Path, runs: Path, key: bytes, now: datetime, *extra: str, killed: bool = False) -> None:
    run_db_child("tests.unit.agents.jobs_child", key, str(db), str(runs), str(to_ms(now)), *extra, killed=killed)


def test_jobs_across_real_process_restarts(tmp_path: Path) -> None:
    db, runs, key = tmp_path / "w.db", tmp_path / "runs.txt", keys.random_key()
    Database.open(db, key).close()
    t0 = jobs_child.T0

    def ran() -> list[str]:
        return runs.read_text(encoding="utf-8").splitlines() if runs.exists() else []

    def state(key_: str) -> Job:
        store = Store(Database.open(db, key), jobs_child.ORG)
        try:
            found = store.jobs.by_key(key_)
        finally:
            store.close()
        assert found is not None
        return found

    # 1. The app schedules its jobs and runs what is due now.
    run_child(db, runs, key, t0, "schedule")
    assert ran() == ["due"]
    # 2. Closed for five hours, started again (scheduling again is a no-op): the missed job runs once, four hours
    #    late; the one whose kind allows 30 minutes of lateness is skipped; the one already done does not run again.
    run_child(db, runs, key, t0 + timedelta(hours=5), "schedule")
    assert ran() == ["due", "missed"]
    assert state("missed").result == "ran 14400 s late"
    stale = state("stale")
    assert (stale.status, stale.result) == ("skipped", "too_late")
    # 3. Started again at the same time: nothing runs twice.
    run_child(db, runs, key, t0 + timedelta(hours=5))
    assert ran() == ["due", "missed"]
    # 4. A job kills the app in the middle of its run: it stays claimed under the dead process's lease...
    run_child(db, runs, key, t0 + timedelta(hours=6), killed=True)
    assert ran() == ["due", "missed", "crash started"]
    crashed = state("crash")
    assert (crashed.status, crashed.attempts) == ("running", 1)
    assert crashed.lease_until is not None
    # ...which a start before it runs out leaves alone, and a start after it takes up once.
    run_child(db, runs, key, crashed.lease_until - timedelta(seconds=1))
    assert ran() == ["due", "missed", "crash started"]
    run_child(db, runs, key, crashed.lease_until)
    assert ran() == ["due", "missed", "crash started", "crash"]
    done = state("crash")
    assert (done.status, done.attempts, done.result) == ("done", 2, "ran after a crash")
    assert state("future").status == "due"
    assert [state(k).status for k in ("due", "missed")] == ["done", "done"]
