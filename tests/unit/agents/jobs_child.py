"""A Parley-like process that owns a workspace database and runs its due jobs once, for the restart tests.

``python -m tests.unit.agents.jobs_child DB RUNS_FILE NOW_MS [schedule]`` with ``PARLEY_TEST_DB_KEY`` (hex; a test
key made by the parent, not a secret). With ``schedule`` it first schedules the test's jobs (idempotent: their
dedupe keys make a second schedule a no-op). Then it starts a ``JobRunner`` on a service loop of its own, with the
clock at ``NOW_MS``, runs one tick to the end (the start's tick: missed jobs run now) and exits. Each handler appends
``<dedupe key>`` to RUNS_FILE, so the parent counts the runs; ``die-once`` kills this process by SIGKILL in the
middle of its first run (after writing ``<key> started``), leaving its job claimed under a lease.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from app.agents.job_kinds import JobKind, JobKinds, JobRun
from app.agents.jobs_runner import JobRunner
from app.core.loops import LoopThread
from app.store.database import Database
from app.store.store import Store

ORG = "0190a000-0000-7000-8000-0000000000aa"
T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
KIND_TIMEOUT = timedelta(seconds=30)  # the runner's lease is this plus a minute


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str


def kinds(runs: Path) -> JobKinds:
    def record(line: str) -> None:
        with runs.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())

    async def note(payload: Note, run: JobRun) -> str:
        record(payload.key)
        return f"ran {run.late.total_seconds():.0f} s late"

    async def die_once(payload: Note, run: JobRun) -> str:
        if run.job.attempts == 1:
            record(f"{payload.key} started")
            os.kill(os.getpid(), signal.SIGKILL)
        record(payload.key)
        return "ran after a crash"

    return JobKinds(
        [
            JobKind("note", Note, note, max_lateness=timedelta(hours=6), timeout=KIND_TIMEOUT),
            JobKind("note-fresh", Note, note, max_lateness=timedelta(minutes=30), timeout=KIND_TIMEOUT),
            JobKind("die-once", Note, die_once, max_lateness=None, timeout=KIND_TIMEOUT),
        ]
    )


# (kind, dedupe key, run at): due at T0, missed until a later start, too late by then, and one that crashes.
SCHEDULE = [
    ("note", "due", T0),
    ("note", "missed", T0 + timedelta(hours=1)),
    ("note-fresh", "stale", T0 + timedelta(hours=2)),
    ("die-once", "crash", T0 + timedelta(hours=6)),
    ("note", "future", T0 + timedelta(days=30)),
]


def main(argv: list[str]) -> None:
    db_path, runs_file, now_ms, *rest = argv
    now = datetime.fromtimestamp(int(now_ms) / 1000, tz=UTC)
    store = Store(Database.open(Path(db_path), bytes.fromhex(os.environ["PARLEY_TEST_DB_KEY"])), ORG)
    registry = kinds(Path(runs_file))
    if rest == ["schedule"]:
        for kind, key, at in SCHEDULE:
            registry.schedule(store.jobs, kind, Note(key=key), at, key)
    loop = LoopThread("parley-service")
    runner = JobRunner(store.jobs, registry, loop=loop, clock=lambda: now)
    try:
        started = loop.run(runner.run_due(), timeout=60)
        print(f"ran {len(started)} jobs", flush=True)
    finally:
        loop.close()
        store.close()


if __name__ == "__main__":
    main(sys.argv[1:])
