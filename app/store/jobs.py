"""Durable jobs: work scheduled for later, kept in the encrypted store so it survives restarts and crashes.

The agents (a follow-up three days after a sale, a health check) and campaigns schedule jobs here; a runner
(``app.agents.jobs_runner``) claims the due ones and runs the handler its kind names (``app.agents.job_kinds``).
Nothing here knows a handler: a job is a kind (text), a JSON payload and a time, never a pickled callable — the
libraries that pickle jobs (APScheduler, Huey, persist-queue) also want their own connection or an unencrypted file.

The life of a job: ``due`` → ``claim_due`` makes it ``running`` under a lease (owner + until), in one write
transaction, so two claimers (two runners, two connections, two processes) never get the same job → ``complete``
(``done``), ``skip`` (``skipped``, with a reason code), or ``fail``: back to ``due`` later (exponential backoff) while
attempts remain, else ``failed`` with the sentence. ``cancel`` ends a job that has not finished. A lease that ran out
(the app was killed mid-job) makes the job claimable again; the interrupted run counted as an attempt, so a job that
kills the app every time ends ``failed`` instead of looping. A late ``complete``/``fail`` from a runner whose lease was
taken over is refused (returns ``False``): the job's outcome is written once, by the runner that holds it.

``dedupe_key`` is unique: scheduling a key that exists returns the job already there (whatever its state), so a
follow-up keyed ``followup:sale:<id>:d3`` is scheduled once however many times the agent sees the sale.

**Shared jobs sync** (schema 14). A job that sends on the WhatsApp number (``shared``; the kinds that need WhatsApp)
runs only on the device that holds the number's session, yet may be scheduled on any teammate's computer (a sale
recorded there schedules its follow-up there): such jobs sync like other rows, so the holder runs them and every
teammate sees them due, done or failed, and can cancel them. Its id is derived from its dedupe key (``keyed_id``), so
the same follow-up scheduled on two computers is one row everywhere — arriving twice through sync, it is kept and run
once. The lease (``lease_owner``, ``lease_until``) never leaves the computer that claimed the job; a job pulled as
``running`` has no lease here, and is claimable here only once it has looked abandoned for a whole lease (the holder
that ran it is gone and this device holds the number now). Jobs of one computer alone (the daily revenue check and
its alerts, ``shared = False``) never leave it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from app.core.ids import from_ms, new_id, to_ms, utc_now
from app.store.database import Database
from app.store.sqlcipher import Connection

Status = Literal["due", "running", "done", "failed", "cancelled", "skipped"]
STATUSES: tuple[Status, ...] = get_args(Status)
FINISHED: tuple[Status, ...] = ("done", "failed", "cancelled", "skipped")

DEFAULT_MAX_ATTEMPTS = 3
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
MAX_ERROR_CHARS = 500

_COLUMNS = (
    "id, kind, payload, run_at, status, attempts, max_attempts, last_error, result, dedupe_key, lease_owner, "
    "lease_until, created_at, updated_at, finished_at, shared"
)
# Ids of keyed jobs: the same key gives the same id on every computer (uuid5 in a namespace of Parley's own).
_JOB_IDS = uuid.UUID("7f0c3c1e-4a52-5b8e-9d35-6f1d2a0b9c41")


def keyed_id(dedupe_key: str) -> str:
    """The id of the job keyed ``dedupe_key``, the same on every computer of a team."""
    return str(uuid.uuid5(_JOB_IDS, dedupe_key))


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    payload: dict[str, Any]
    run_at: datetime
    status: Status
    attempts: int
    max_attempts: int
    last_error: str | None
    result: str | None
    dedupe_key: str
    lease_owner: str | None
    lease_until: datetime | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    shared: bool = False  # synced to teammates (it sends on the WhatsApp number), see the module's text


def _job(row: Sequence[Any]) -> Job:
    return Job(
        id=row[0],
        kind=row[1],
        payload=json.loads(row[2]),
        run_at=from_ms(row[3]),
        status=row[4],
        attempts=row[5],
        max_attempts=row[6],
        last_error=row[7],
        result=row[8],
        dedupe_key=row[9],
        lease_owner=row[10],
        lease_until=None if row[11] is None else from_ms(row[11]),
        created_at=from_ms(row[12]),
        updated_at=from_ms(row[13]),
        finished_at=None if row[14] is None else from_ms(row[14]),
        shared=bool(row[15]),
    )


def backoff(attempts: int, *, base: timedelta = BACKOFF_BASE, cap: timedelta = BACKOFF_CAP) -> timedelta:
    """How long a job waits before its next try after ``attempts`` tries: base, 2×, 4×, … up to ``cap``."""
    factor: int = 2 ** max(0, min(attempts - 1, 30))
    return min(cap, base * factor)


def new_owner() -> str:
    """A lease owner for one runner in one process (a restarted app is a new owner)."""
    return f"runner-{uuid.uuid4().hex[:12]}"


class Jobs:
    """The jobs table. Every method is one transaction (or one read); ``now`` is passed in where time matters, so
    callers and tests decide the clock."""

    def __init__(self, db: Database, org_id: str = "local") -> None:
        self.db = db
        self.org_id = org_id  # the workspace's org: shared jobs sync inside it

    # ---- scheduling ------------------------------------------------------------------------------------------
    def schedule(
        self,
        kind: str,
        payload: Mapping[str, Any],
        run_at: datetime,
        dedupe_key: str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        *,
        now: datetime | None = None,
        shared: bool = False,
    ) -> Job:
        """Schedule ``kind`` to run at ``run_at``; idempotent on ``dedupe_key`` (the job already there is returned
        unchanged, whatever its state, here or pulled from a teammate). Without a key the job is unique
        (``<kind>:<new id>``). ``shared`` jobs sync to the team (those that send on the WhatsApp number)."""
        if not kind:
            raise ValueError("a job needs a kind")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if dedupe_key is not None and not dedupe_key:
            raise ValueError("a dedupe key cannot be empty")
        new = new_id() if dedupe_key is None else keyed_id(dedupe_key)
        key = dedupe_key if dedupe_key is not None else f"{kind}:{new}"
        stamp = to_ms(now or utc_now())
        text = json.dumps(dict(payload), ensure_ascii=False, separators=(",", ":"))
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO jobs (org_id, id, kind, payload, run_at, max_attempts, dedupe_key, created_at, "
                "updated_at, shared) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (self.org_id, new, kind, text, to_ms(run_at), max_attempts, key, stamp, stamp, int(shared)),
            )
            row = conn.execute(f"SELECT {_COLUMNS} FROM jobs WHERE dedupe_key = ?", (key,)).fetchone()
        return _job(row)

    # ---- claiming --------------------------------------------------------------------------------------------
    def claim_due(
        self,
        now: datetime,
        owner: str,
        lease: timedelta,
        limit: int,
        *,
        exclude_kinds: Iterable[str] = (),
    ) -> list[Job]:
        """Claim up to ``limit`` jobs due at ``now`` (oldest first) and those whose lease ran out, for ``owner``,
        until ``now + lease``; one write transaction, so no other claimer can get them. A job whose lease ran out
        with no attempt left is marked ``failed`` here instead of being handed out again.

        When nothing is due this is a read (two index probes) and no write transaction is opened."""
        if limit <= 0:
            return []
        at = to_ms(now)
        excluded = sorted(set(exclude_kinds))
        if not self._anything_to_claim(at, to_ms(now - lease), excluded):
            return []
        until = to_ms(now + lease)
        abandoned = to_ms(now - lease)
        with self.db.transaction() as conn:
            self._fail_exhausted_leases(conn, at)
            not_kinds = f" AND kind NOT IN ({', '.join('?' * len(excluded))})" if excluded else ""
            rows = conn.execute(
                f"UPDATE jobs SET status = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1, "
                f"updated_at = ? WHERE rid IN (SELECT rid FROM ("
                f"SELECT rid, run_at FROM jobs WHERE status = 'due' AND run_at <= ?{not_kinds} "
                f"UNION ALL SELECT rid, run_at FROM jobs WHERE status = 'running' AND lease_until <= ?{not_kinds} "
                # pulled as running on a teammate's device, and not heard of for a whole lease since
                f"UNION ALL SELECT rid, run_at FROM jobs WHERE status = 'running' AND lease_until IS NULL "
                f"AND updated_at <= ?{not_kinds}"
                f") ORDER BY run_at, rid LIMIT ?) RETURNING {_COLUMNS}",
                (owner, until, at, at, *excluded, at, *excluded, abandoned, *excluded, limit),
            ).fetchall()
        jobs = [_job(r) for r in rows]
        jobs.sort(key=lambda j: (j.run_at, j.created_at))
        return jobs

    def _anything_to_claim(self, at: int, abandoned: int, excluded: list[str]) -> bool:
        not_kinds = f" AND kind NOT IN ({', '.join('?' * len(excluded))})" if excluded else ""
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT EXISTS (SELECT 1 FROM jobs WHERE status = 'due' AND run_at <= ?{not_kinds}) "
                f"OR EXISTS (SELECT 1 FROM jobs WHERE status = 'running' AND lease_until <= ?{not_kinds}) "
                f"OR EXISTS (SELECT 1 FROM jobs WHERE status = 'running' AND lease_until IS NULL "
                f"AND updated_at <= ?{not_kinds})",
                (at, *excluded, at, *excluded, abandoned, *excluded),
            ).fetchone()
        return bool(row[0])

    @staticmethod
    def _fail_exhausted_leases(conn: Connection, at: int) -> None:
        conn.execute(
            "UPDATE jobs SET status = 'failed', lease_owner = NULL, lease_until = NULL, finished_at = ?, "
            "updated_at = ?, last_error = 'It stopped before it finished (Parley closed or crashed) ' || attempts || "
            "CASE attempts WHEN 1 THEN ' time.' ELSE ' times.' END "
            "WHERE status = 'running' AND lease_until <= ? AND attempts >= max_attempts",
            (at, at, at),
        )

    # ---- outcomes (only by the runner that holds the lease) --------------------------------------------------
    def complete(self, job_id: str, owner: str, result: str | None = None, *, now: datetime | None = None) -> bool:
        """Mark a running job ``done``; ``False`` when ``owner`` no longer holds it (cancelled, or taken over)."""
        return self._finish(job_id, owner, "done", result=result, error=None, now=now)

    def skip(self, job_id: str, owner: str, reason: str, *, now: datetime | None = None) -> bool:
        """Mark a running job ``skipped`` with a reason code (``too_late``, ``customer_wrote``, ...)."""
        return self._finish(job_id, owner, "skipped", result=reason, error=None, now=now)

    def fail(
        self,
        job_id: str,
        owner: str,
        error: str,
        *,
        retry: bool = True,
        now: datetime | None = None,
        base: timedelta = BACKOFF_BASE,
        cap: timedelta = BACKOFF_CAP,
    ) -> bool:
        """Record a failed attempt with ``error`` (a sentence for people, not an exception's text). With attempts
        left and ``retry``, the job is due again after a backoff; otherwise it is ``failed``."""
        at = now or utc_now()
        error = error[:MAX_ERROR_CHARS]
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT attempts, max_attempts FROM jobs WHERE id = ? AND status = 'running' AND lease_owner = ?",
                (job_id, owner),
            ).fetchone()
            if row is None:
                return False
            attempts, max_attempts = int(row[0]), int(row[1])
            if retry and attempts < max_attempts:
                conn.execute(
                    "UPDATE jobs SET status = 'due', run_at = ?, last_error = ?, lease_owner = NULL, "
                    "lease_until = NULL, updated_at = ? WHERE id = ?",
                    (to_ms(at + backoff(attempts, base=base, cap=cap)), error, to_ms(at), job_id),
                )
                return True
            return self._finish(job_id, owner, "failed", result=None, error=error, now=at)

    def _finish(
        self, job_id: str, owner: str, status: Status, *, result: str | None, error: str | None, now: datetime | None
    ) -> bool:
        at = to_ms(now or utc_now())
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE jobs SET status = ?, result = coalesce(?, result), last_error = coalesce(?, last_error), "
                "lease_owner = NULL, lease_until = NULL, finished_at = ?, updated_at = ? "
                "WHERE id = ? AND status = 'running' AND lease_owner = ?",
                (status, result, None if error is None else error[:MAX_ERROR_CHARS], at, at, job_id, owner),
            )
            return cursor.rowcount == 1

    def release(self, job_id: str, owner: str, *, now: datetime | None = None) -> bool:
        """Give a claimed job back, due again at once and its attempt not counted (the runner is shutting down)."""
        at = to_ms(now or utc_now())
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE jobs SET status = 'due', attempts = max(attempts - 1, 0), lease_owner = NULL, "
                "lease_until = NULL, updated_at = ? WHERE id = ? AND status = 'running' AND lease_owner = ?",
                (at, job_id, owner),
            )
            return cursor.rowcount == 1

    def cancel(self, job_id: str, *, now: datetime | None = None) -> bool:
        """Cancel a job that has not finished (a running one's handler may still end, but its outcome is refused)."""
        return self._cancel("id", job_id, now)

    def cancel_key(self, dedupe_key: str, *, now: datetime | None = None) -> bool:
        """Cancel the job scheduled under ``dedupe_key`` if it has not finished (an agent's "no longer needed")."""
        return self._cancel("dedupe_key", dedupe_key, now)

    def _cancel(self, column: Literal["id", "dedupe_key"], value: str, now: datetime | None) -> bool:
        at = to_ms(now or utc_now())
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE jobs SET status = 'cancelled', result = 'cancelled', lease_owner = NULL, lease_until = NULL, "
                f"finished_at = ?, updated_at = ? WHERE {column} = ? AND status IN ('due', 'running')",
                (at, at, value),
            )
            return cursor.rowcount == 1

    # ---- reading ---------------------------------------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        with self.db.read() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _job(row)

    def by_key(self, dedupe_key: str) -> Job | None:
        with self.db.read() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM jobs WHERE dedupe_key = ?", (dedupe_key,)).fetchone()
        return None if row is None else _job(row)

    def find(self, statuses: Iterable[Status] = ("due", "running"), *, limit: int = 100) -> list[Job]:
        """Jobs in ``statuses`` for the jobs list: waiting ones soonest first, finished ones newest first."""
        wanted = [s for s in STATUSES if s in set(statuses)]
        if not wanted:
            return []
        marks = ", ".join("?" * len(wanted))
        finished = all(s in FINISHED for s in wanted)
        order = "finished_at DESC, rid DESC" if finished else "run_at, rid"
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE status IN ({marks}) ORDER BY {order} LIMIT ?", (*wanted, limit)
            ).fetchall()
        return [_job(r) for r in rows]

    def counts(self) -> dict[Status, int]:
        """How many jobs are in each state (every state present, zero when none)."""
        with self.db.read() as conn:
            found = dict(conn.execute("SELECT status, count(*) FROM jobs GROUP BY status").fetchall())
        return {s: int(found.get(s, 0)) for s in STATUSES}

    def next_run_at(self) -> datetime | None:
        """When the soonest waiting job is due (a runner may sleep until then)."""
        with self.db.read() as conn:
            row = conn.execute("SELECT min(run_at) FROM jobs WHERE status = 'due'").fetchone()
        return None if row[0] is None else from_ms(row[0])
