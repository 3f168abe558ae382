"""The kinds of durable job: which handler runs a job, what its payload must hold, and how late it may still run.

A job in the store names its kind by text; this registry maps the name to a ``JobKind`` — never a pickled callable,
so a job written by one version of Parley is data any later version can read, refuse or skip. The payload is JSON
checked against the kind's pydantic model before the handler sees it (a job whose data no longer fits fails with a
sentence naming the fields, not the values). The registry is an object built once by the composition root and passed
in (house rule 7: no global registry); agents register their kinds on it before the runner starts.

``max_lateness``: a job found due later than this after its time (Parley was closed through it) is skipped with
reason ``too_late`` instead of running — a "good morning" follow-up is wrong at midnight; ``None`` runs it however late.
``needs_whatsapp``: the job sends on the WhatsApp number, so only the device that holds the number's session runs it
(the spine's one-sending-device rule); elsewhere it stays due. Such jobs are *shared*: they sync to the team, so one
scheduled on a teammate's computer reaches the holder, and everyone sees how it ended (``app/store/jobs.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from app.core.errors import ParleyError
from app.store.jobs import DEFAULT_MAX_ATTEMPTS, Job, Jobs

P = TypeVar("P", bound=BaseModel)

DEFAULT_MAX_LATENESS = timedelta(hours=6)
DEFAULT_TIMEOUT = timedelta(minutes=2)


@dataclass(frozen=True)
class JobRun:
    """What a handler learns about the run it is in."""

    job: Job
    now: datetime  # the runner's clock when it claimed the job

    @property
    def late(self) -> timedelta:
        """How long after its time the job runs (zero or more)."""
        return max(timedelta(0), self.now - self.job.run_at)


class JobSkipped(Exception):
    """Raised by a handler that finds nothing to do: the job ends ``skipped`` with ``reason`` (a short code such as
    ``customer_wrote`` or ``opted_out``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JobFailed(ParleyError):
    """Raised by a handler that failed in a way it can say: the sentence is kept as the job's last error; with
    ``retry=False`` the job fails now instead of trying again."""

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


Handler = Callable[[P, JobRun], Awaitable[str | None]]


@dataclass(frozen=True)
class JobKind(Generic[P]):
    """One kind of job. The handler returns a short result (kept on the job) or ``None``."""

    name: str
    payload: type[P]
    handler: Handler[P]
    max_lateness: timedelta | None = DEFAULT_MAX_LATENESS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    timeout: timedelta = DEFAULT_TIMEOUT
    needs_whatsapp: bool = False


class JobKinds:
    """The registry of job kinds, by name."""

    def __init__(self, kinds: list[JobKind[Any]] | None = None) -> None:
        self._kinds: dict[str, JobKind[Any]] = {}
        for kind in kinds or []:
            self.register(kind)

    def register(self, kind: JobKind[Any]) -> None:
        if not kind.name or ":" in kind.name:
            raise ValueError(f"a job kind needs a name without ':' (got {kind.name!r})")
        if kind.name in self._kinds:
            raise ValueError(f"job kind {kind.name!r} is registered twice")
        if kind.max_attempts < 1 or kind.timeout <= timedelta(0):
            raise ValueError(f"job kind {kind.name!r}: max_attempts must be ≥ 1 and the timeout positive")
        self._kinds[kind.name] = kind

    def get(self, name: str) -> JobKind[Any] | None:
        return self._kinds.get(name)

    def names(self) -> list[str]:
        return sorted(self._kinds)

    def needing_whatsapp(self) -> list[str]:
        return sorted(name for name, kind in self._kinds.items() if kind.needs_whatsapp)

    def longest_timeout(self) -> timedelta:
        return max((kind.timeout for kind in self._kinds.values()), default=DEFAULT_TIMEOUT)

    def schedule(
        self, jobs: Jobs, kind: str, payload: BaseModel, run_at: datetime, dedupe_key: str | None = None
    ) -> Job:
        """Schedule a job of a registered ``kind`` whose payload is that kind's model (checked now, so a wrong
        payload is the caller's error, not a job that fails days later). Idempotent on ``dedupe_key``."""
        registered = self._kinds.get(kind)
        if registered is None:
            raise KeyError(f"no job kind {kind!r} is registered")
        if not isinstance(payload, registered.payload):
            raise TypeError(f"job kind {kind!r} takes another payload model")
        return jobs.schedule(
            kind,
            payload.model_dump(mode="json"),
            run_at,
            dedupe_key,
            max_attempts=registered.max_attempts,
            shared=registered.needs_whatsapp,
        )
