"""Runs a campaign: a shared durable job (``campaign_step``, ``needs_whatsapp``) that queues the next recipient's
message just in time.

Each step, on the device that holds the number (the job kind needs WhatsApp: it syncs to the team and only the
holder claims it): bring recipients up to their messages (``ops.campaigns.follow_messages``: ticks, failures,
replies, opt-out words in replies); then, if the campaign is still running, automated sending is not halted, and
*no campaign message is waiting in the send queue*, queue exactly one — through the guarded send
(``ops.campaigns.send_next``: the checks again, the recipient marked ``sending`` with its message in one
transaction). The send queue's pacing budget (``app.whatsapp.pacing``, the campaign's ``pace`` as a stricter
override) decides when it actually goes; the campaign never runs ahead of it, so a pause or an opt-out takes effect
before the next message is even written. A step schedules the next one (``poll`` later) under a key of its run and
number, so a step that ran before a crash is not scheduled twice; pause and cancel cancel the due step, resume starts
a new run. When no recipient is left (queued or sending) the campaign is completed and the chain ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel

from app.agents.job_kinds import JobKind, JobKinds, JobRun
from app.campaigns.lifecycle import STEP_KIND, step_key
from app.core.ids import utc_now
from app.store import sending_device
from app.store.ops import campaigns as ops
from app.store.ops.automation import halted
from app.store.store import Store

log = logging.getLogger(__name__)

DEFAULT_POLL = timedelta(seconds=15)  # how soon a step looks again (the budget, not this, paces the sends)
HALTED_POLL = timedelta(minutes=5)  # while a person has not resumed automated sending

# what a step did (the job's result)
QUEUED = "queued"
WAITING = "waiting"
HALTED = "halted"
STOPPED = "stopped"
COMPLETED = "completed"
ELSEWHERE = "elsewhere"


class StepPayload(BaseModel):
    campaign_id: str
    run: str
    step: int = 0


@dataclass(frozen=True)
class Step:
    code: str
    next_at: datetime | None  # None: the chain ends (paused, cancelled, completed)


class CampaignRunner:
    def __init__(
        self,
        store: Store,
        kinds: JobKinds,
        *,
        poll: timedelta = DEFAULT_POLL,
        holds: Callable[[Store], bool] = sending_device.holds,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.kinds = kinds
        self.poll = poll
        self.holds = holds
        self.clock = clock

    def register(self) -> None:
        self.kinds.register(JobKind(STEP_KIND, StepPayload, self._handle, max_lateness=None, needs_whatsapp=True))

    async def _handle(self, payload: StepPayload, run: JobRun) -> str:
        step = await asyncio.to_thread(self.step, payload.campaign_id, run.now)
        if step.next_at is not None:
            following = StepPayload(campaign_id=payload.campaign_id, run=payload.run, step=payload.step + 1)
            key = step_key(payload.campaign_id, payload.run, following.step)
            await asyncio.to_thread(self.kinds.schedule, self.store.jobs, STEP_KIND, following, step.next_at, key)
        return step.code

    def step(self, campaign_id: str, now: datetime) -> Step:
        """One step at ``now`` (see the module's text)."""
        store = self.store
        campaign = store.campaigns.find(campaign_id)
        if campaign is None:
            return Step(STOPPED, None)
        ops.follow_messages(store, campaign_id, now=now)
        if campaign.status != "running":
            return Step(STOPPED, None)
        if halted(store) is not None:
            return Step(HALTED, now + HALTED_POLL)
        if ops.waiting_in_queue(store):
            return Step(WAITING, now + self.poll)
        sent = ops.send_next(store, campaign_id, now=now, holds=self.holds).value
        if sent.message is not None:
            return Step(QUEUED, now + self.poll)
        if sent.reason == ops.NO_RECIPIENT:
            if ops.complete(store, campaign_id, now=now).value:
                log.info("campaign %s completed", campaign_id)
                return Step(COMPLETED, None)
            return Step(WAITING, now + self.poll)  # the last messages are still on their way
        if sent.reason == ops.HALTED:
            return Step(HALTED, now + HALTED_POLL)
        if sent.reason == ops.NOT_SENDING_DEVICE:
            return Step(ELSEWHERE, now + self.poll)
        return Step(STOPPED, None)


def build(store: Store, kinds: JobKinds, **kw: object) -> CampaignRunner:
    """The runner with its job kind registered (what the composition root calls)."""
    runner = CampaignRunner(store, kinds, **kw)  # type: ignore[arg-type]
    runner.register()
    return runner
