"""Runs durable jobs on the app's one service loop: a timer claims the due jobs and runs each one's handler.

Each tick is one claim (``Jobs.claim_due``: a read when nothing is due, one write transaction when something is,
both on worker threads through ``asyncio.to_thread`` like every store call made from the loop) and starts a task per
claimed job; the next tick comes ``interval`` seconds after this one ended, or at once on ``poke()`` (a job was just
scheduled). At most ``max_running`` handlers run at once; a slow one holds its own slot, not the timer.

A handler's outcome is written by the runner: its result → ``done``; ``JobSkipped`` → ``skipped`` with the reason;
``JobFailed`` → its sentence, retried with backoff unless it says not to; any other exception → "It stopped with an
unexpected error; the log has the details." (an exception's text may carry customer content: it goes to the log,
never to the job); a handler slower than its kind's timeout is stopped and counted as a failed attempt. A job of a
kind this version does not know, or whose payload no longer fits its kind's model, fails at once with a sentence
saying so. One job's failure never stops another or the timer. Jobs found later than their kind's ``max_lateness``
are skipped with ``too_late`` — on start, that is how missed jobs run once, late, or not at all.

Jobs of kinds that send on WhatsApp are claimed only while ``holds_whatsapp()`` says this device holds the number's
session. On close, handlers still running are cancelled and their jobs released (due again, attempt not counted);
after a crash their lease runs out and the next start claims them again.

Built without a loop (tests, the benchmark) it makes one of its own and ``close`` ends it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from app.agents.job_kinds import JobFailed, JobKind, JobKinds, JobRun, JobSkipped
from app.core.ids import utc_now
from app.core.loops import LoopThread
from app.store.jobs import Job, Jobs, new_owner

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 5.0  # seconds between ticks
DEFAULT_MAX_RUNNING = 16
LEASE_MARGIN = timedelta(minutes=1)


def _always() -> bool:
    return True


class JobRunner:
    def __init__(
        self,
        jobs: Jobs,
        kinds: JobKinds,
        *,
        loop: LoopThread | None = None,
        interval: float = DEFAULT_INTERVAL,
        max_running: int = DEFAULT_MAX_RUNNING,
        clock: Callable[[], datetime] = utc_now,
        holds_whatsapp: Callable[[], bool] = _always,
        owner: str | None = None,
    ) -> None:
        self.jobs = jobs
        self.kinds = kinds
        self.interval = interval
        self.max_running = max_running
        self.clock = clock
        self.holds_whatsapp = holds_whatsapp
        self.owner = owner or new_owner()
        self.finished = 0  # jobs whose outcome this runner wrote (for tests and the log)
        self._given = loop
        self._loop: LoopThread | None = None
        # Touched on the loop's thread only:
        self._timer: asyncio.TimerHandle | None = None
        self._ticking: asyncio.Task[list[str]] | None = None
        self._again = False  # poked while a tick was on: tick again at once after it
        self._running: dict[str, asyncio.Task[None]] = {}
        self._held: set[str] = set()  # claimed by this runner, outcome not yet written nor released

    @property
    def lease(self) -> timedelta:
        """How long a claim holds: longer than any handler may run, so a live runner never loses its job."""
        return self.kinds.longest_timeout() + LEASE_MARGIN

    # ---- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start ticking: the first tick at once (missed jobs run now), then every ``interval`` seconds."""
        if self._loop is not None:
            return
        self._loop = self._given if self._given is not None else LoopThread("jobs")
        self._loop.call_soon(self._arm, 0.0)

    def poke(self) -> None:
        """Tick soon (from any thread): a job was scheduled that may be due already."""
        loop = self._loop
        if loop is not None and not loop.closed:
            loop.call_soon(self._arm, 0.0)

    def close(self, timeout: float = 10.0) -> None:
        """Stop the timer, cancel running handlers (their jobs are released), end a loop of its own."""
        loop = self._loop
        if loop is None:
            return
        self._loop = None
        if not loop.closed:
            try:
                loop.run(self._stop(), timeout)
            except (concurrent.futures.TimeoutError, RuntimeError):
                log.warning("the job runner did not stop within %.0f s", timeout)
        if loop is not self._given:
            loop.close()

    async def _stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        tasks = [t for t in (self._ticking, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        # Jobs claimed whose handler never began (cancelled before its first step) or whose release failed: give
        # them back now rather than leave them to their lease.
        held, self._held = sorted(self._held), set()
        if held:
            await asyncio.to_thread(self._release, held)

    def _release(self, job_ids: list[str]) -> None:
        for job_id in job_ids:
            try:
                self.jobs.release(job_id, self.owner)
            except Exception:
                log.exception("job %s could not be released at shutdown", job_id)

    # ---- the timer -------------------------------------------------------------------------------------------
    def _arm(self, delay: float) -> None:
        if self._loop is None:
            return  # closed meanwhile
        if self._ticking is not None:
            # A tick is on and re-arms when it ends; a poke meanwhile may be about a job its claim did not see.
            self._again = self._again or delay == 0.0
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(delay, self._begin_tick)

    def _begin_tick(self) -> None:
        self._timer = None
        self._ticking = asyncio.ensure_future(self.tick())
        self._ticking.add_done_callback(self._tick_ended)

    def _tick_ended(self, task: asyncio.Task[list[str]]) -> None:
        self._ticking = None
        if not task.cancelled() and task.exception() is not None:
            log.error("a job runner tick failed", exc_info=task.exception())
        again, self._again = self._again, False
        self._arm(0.0 if again else self.interval)

    # ---- one tick --------------------------------------------------------------------------------------------
    async def tick(self) -> list[str]:
        """Claim the due jobs (up to the free slots) and start their handlers; returns the ids started. Runs on the
        loop; the timer calls it, and tests and the benchmark may call it directly."""
        free = self.max_running - len(self._running)
        if free <= 0:
            return []
        now = self.clock()
        sending = self.kinds.needing_whatsapp()
        excluded = sending if sending and not await asyncio.to_thread(self.holds_whatsapp) else []
        claim = asyncio.ensure_future(
            asyncio.to_thread(self.jobs.claim_due, now, self.owner, self.lease, free, exclude_kinds=excluded)
        )
        try:
            claimed = await asyncio.shield(claim)
        except asyncio.CancelledError:
            # Closing while the claim's transaction runs: it commits anyway; hold its jobs so close hands them back.
            self._held.update(job.id for job in await claim)
            raise
        self._held.update(job.id for job in claimed)
        for job in claimed:
            task = asyncio.ensure_future(self._run(job, now))
            self._running[job.id] = task
            task.add_done_callback(self._forget(job.id))
        return [job.id for job in claimed]

    def _forget(self, job_id: str) -> Callable[[asyncio.Task[None]], None]:
        def forget(_task: asyncio.Task[None]) -> None:
            self._running.pop(job_id, None)

        return forget

    async def run_due(self) -> list[str]:
        """One tick and the handlers it started, to the end (tests, the child process of the restart test)."""
        started = await self.tick()
        tasks = [self._running[i] for i in started if i in self._running]
        if tasks:
            await asyncio.wait(tasks)
        return started

    # ---- one job ---------------------------------------------------------------------------------------------
    async def _run(self, job: Job, now: datetime) -> None:
        try:
            await self._outcome(job, now)
        except asyncio.CancelledError:
            # Shutting down: give the job back untouched (a quick write on the loop's thread at shutdown).
            self._release([job.id])
            raise
        except Exception:
            # Writing the outcome failed (the store is closing, the disk is full): the lease runs out and the job
            # is claimed again later. Never let it stop another job or the timer.
            log.exception("the outcome of job %s (%s) could not be written", job.id, job.kind)
        finally:
            self._held.discard(job.id)

    async def _outcome(self, job: Job, now: datetime) -> None:
        kind = self.kinds.get(job.kind)
        if kind is None:
            await self._fail(job, f"No handler for the job kind '{job.kind}' in this version of Parley.", retry=False)
            return
        if kind.max_lateness is not None and now - job.run_at > kind.max_lateness:
            log.info("job %s (%s) skipped: due %s, found %s later", job.id, job.kind, job.run_at, now - job.run_at)
            await self._skip(job, "too_late")
            return
        try:
            payload = kind.payload.model_validate(job.payload)
        except ValidationError as exc:
            fields = sorted({".".join(str(p) for p in error["loc"]) or "payload" for error in exc.errors()})
            await self._fail(
                job, f"Its data does not fit the job kind '{job.kind}' (check: {', '.join(fields)}).", retry=False
            )
            return
        await self._handle(job, kind, payload, now)

    async def _handle(self, job: Job, kind: JobKind[Any], payload: BaseModel, now: datetime) -> None:
        try:
            result = await asyncio.wait_for(kind.handler(payload, JobRun(job, now)), kind.timeout.total_seconds())
        except JobSkipped as skipped:
            await self._skip(job, skipped.reason)
        except JobFailed as failed:
            await self._fail(job, str(failed), retry=failed.retry)
        except TimeoutError:
            seconds = kind.timeout.total_seconds()
            await self._fail(job, f"It took longer than {seconds:g} s and was stopped.", retry=True)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s (%s) failed", job.id, job.kind)
            await self._fail(job, "It stopped with an unexpected error; the log has the details.", retry=True)
        else:
            await self._complete(job, result)

    async def _fail(self, job: Job, sentence: str, *, retry: bool) -> None:
        await self._write(job, lambda: self.jobs.fail(job.id, self.owner, sentence, retry=retry, now=self.clock()))

    async def _complete(self, job: Job, result: str | None) -> None:
        await self._write(job, lambda: self.jobs.complete(job.id, self.owner, result, now=self.clock()))

    async def _skip(self, job: Job, reason: str) -> None:
        await self._write(job, lambda: self.jobs.skip(job.id, self.owner, reason, now=self.clock()))

    async def _write(self, job: Job, outcome: Callable[[], bool]) -> None:
        if not await asyncio.to_thread(outcome):
            log.info("job %s: outcome dropped, no longer held by this runner (cancelled or taken over)", job.id)
        self.finished += 1
