"""The durable jobs' timer tick with 10,000 pending jobs (issue 18's target: a tick ≤ 10 ms).

    .venv/bin/python -m bench.jobs_bench [--pending 10000] [--rounds 300] [--due-rounds 40]

A workspace's SQLCipher file holds ``--pending`` jobs waiting over the next 30 days. Measured, alternating with
their baselines so machine noise hits both alike:

- ``claim_due`` when nothing is due (the store call, on this thread) against a bare ``SELECT 1`` read;
- a whole tick when nothing is due — ``JobRunner.tick()`` submitted to a service loop (``LoopThread``) and waited
  for from here, the store call on a worker through ``asyncio.to_thread`` as the runner does — against the same
  trip carrying only the ``SELECT 1`` read;
- with 50 jobs due (scheduled before each sample, outside the timing): ``claim_due`` alone, the tick (claim 50 in
  one transaction and start their handlers; timed on the loop, as the handlers it starts run right after it and
  the trip back to this thread would wait behind them), and the tick plus the 50 no-op handlers' outcomes written
  (50 write transactions).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel

from app.agents.job_kinds import JobKind, JobKinds, JobRun
from app.agents.jobs_runner import JobRunner
from app.core.loops import LoopThread
from app.store import keys
from app.store.database import Database
from app.store.store import Store

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


class Ping(BaseModel):
    n: int


async def noop(payload: Ping, run: JobRun) -> str:
    return "ok"


def ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--due-rounds", type=int, default=40)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        run(Path(tmp), args.pending, args.rounds, args.due_rounds)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


def run(tmp: Path, pending: int, rounds: int, due_rounds: int) -> None:
    store = Store(Database.open(tmp / "bench.db", keys.random_key()), "bench-org")
    kinds = JobKinds([JobKind("ping", Ping, noop)])
    built = time.perf_counter()
    with store.db.transaction():
        for i in range(pending):
            kinds.schedule(store.jobs, "ping", Ping(n=i), T0 + timedelta(seconds=60 + i * 259), f"pending:{i}")
    print(f"{pending:,} pending jobs scheduled in {time.perf_counter() - built:.2f} s (one transaction)")
    loop = LoopThread("parley-service")
    now = T0
    runner = JobRunner(store.jobs, kinds, loop=loop, clock=lambda: now, max_running=50)

    def select1() -> None:
        with store.db.read() as conn:
            conn.execute("SELECT 1").fetchone()

    async def select1_on_loop() -> None:
        await asyncio.to_thread(select1)

    def claim_none() -> None:
        assert store.jobs.claim_due(now, runner.owner, runner.lease, 50) == []

    def tick_none() -> None:
        assert loop.run(runner.tick()) == []

    figures: dict[str, list[float]] = {k: [] for k in ("select1", "claim", "trip", "tick")}
    for _ in range(10):  # warm the page cache and the worker threads
        select1(), claim_none(), tick_none(), loop.run(select1_on_loop())
    for _ in range(rounds):
        figures["select1"].append(timed(select1))
        figures["claim"].append(timed(claim_none))
        figures["trip"].append(timed(lambda: loop.run(select1_on_loop())))
        figures["tick"].append(timed(tick_none))

    due_claim: list[float] = []
    due_tick: list[float] = []
    due_all: list[float] = []
    for r in range(due_rounds):
        for m, measure in enumerate((due_claim, due_tick, due_all)):
            with store.db.transaction():
                for i in range(50):
                    kinds.schedule(store.jobs, "ping", Ping(n=i), T0 - timedelta(seconds=1), f"due:{r}:{m}:{i}")
            if measure is due_claim:
                start = time.perf_counter()
                claimed = store.jobs.claim_due(now, runner.owner, runner.lease, 50)
                due_claim.append(time.perf_counter() - start)
                for job in claimed:
                    store.jobs.complete(job.id, runner.owner, "ok")
                started = [job.id for job in claimed]
            elif measure is due_tick:
                took, started = loop.run(tick_on_loop(runner))
                due_tick.append(took)
                loop.run(drain(runner))
            else:
                start = time.perf_counter()
                started = loop.run(runner.run_due())
                due_all.append(time.perf_counter() - start)
            assert len(started) == 50, len(started)
    counts = store.jobs.counts()
    assert counts["due"] == pending, counts
    assert counts["done"] == due_rounds * 150, counts

    rows = [
        ("bare `SELECT 1` read (baseline)", figures["select1"]),
        ("`claim_due`, nothing due", figures["claim"]),
        ("loop trip with `SELECT 1` on a worker (baseline)", figures["trip"]),
        ("tick, nothing due", figures["tick"]),
        ("`claim_due`, 50 due (one write transaction)", due_claim),
        ("tick, 50 due (claim + start handlers; timed on the loop)", due_tick),
        ("tick, 50 due, + 50 outcomes written", due_all),
    ]
    print(f"\n{pending:,} pending jobs; {rounds} samples each (nothing due), {due_rounds} (50 due)\n")
    print("| figure | median (ms) | p95 (ms) |")
    print("|---|---:|---:|")
    for name, samples in rows:
        median, p95 = ms(samples)
        print(f"| {name} | {median:.3f} | {p95:.3f} |")
    loop.close()
    store.close()


async def tick_on_loop(runner: JobRunner) -> tuple[float, list[str]]:
    """A tick timed on the loop itself, from its start to its return: the handlers it started run after it, and
    the trip back to the benchmark's thread would wait behind them."""
    start = time.perf_counter()
    started = await runner.tick()
    return time.perf_counter() - start, started


async def drain(runner: JobRunner) -> None:
    """Wait for the handlers a timed tick started (outside the timing)."""
    while runner._running:
        await asyncio.wait(list(runner._running.values()))


if __name__ == "__main__":
    main()
