"""The agents in a team: two workspaces of one org syncing through the real server (real PostgreSQL).

Only the device that holds the number's WhatsApp session sends automatically (the spine's rule). A customer's message
reaches the holder from WhatsApp and the teammate through sync, which logs no event: the holder's agents answer once
and the teammate sees that answer, never a second one. A sale may be recorded on any teammate's computer, and its
follow-up is scheduled where the sale was: the follow-up job syncs (schema 14), the holder runs it, once, however many
computers scheduled it; the other computer sees how it ended and never sends. The agents, the orchestrator and the
runner are the real ones, with the runner's clock set to the job's time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from app.agents.jobs_runner import JobRunner
from app.agents.retention import FOLLOWUP_KIND
from app.core.ids import utc_now
from app.store import sending_device
from app.store.jobs import Job, keyed_id
from app.store.workspaces import Workspaces
from tests.support.sync_server import ServerProcess
from tests.sync.clients import Client, join, owner_client
from tests.unit.agents.test_greetings import ANA, Greeter, greetings_in, inbound, switch
from tests.unit.agents.test_retention import Harness, customer, enable, followups, sell, sent_in

pytestmark = pytest.mark.slow


@pytest.fixture
def team(workspaces: Workspaces, server: ServerProcess) -> Iterator[tuple[Client, Client]]:
    holder = owner_client(workspaces, server.url)
    other = join(workspaces, server.url, holder.invite())
    yield holder, other
    holder.store.close()
    other.store.close()


def run_due(harness: Harness, job: Job) -> list[str]:
    """One tick of the real runner at the job's time, asking the device's own sending-job rule."""
    store = harness.store
    now = job.run_at + timedelta(minutes=1)
    runner = JobRunner(
        store.jobs,
        harness.kinds,
        loop=harness.loop,
        clock=lambda: now,
        holds_whatsapp=lambda: sending_device.runs_sending_jobs(store),
    )
    try:
        return harness.loop.run(runner.run_due(), 30)
    finally:
        runner.close()


def test_a_follow_up_scheduled_on_a_teammate_is_run_once_by_the_holder_and_seen_by_both(
    team: tuple[Client, Client],
) -> None:
    holder, other = team
    holder.store.orgs.update(holder.store.org_id, name="Casa Verde")
    enable(holder.store)  # the retention agent on autopilot, for the whole team (configs sync)
    sold_at = utc_now().replace(microsecond=0) - timedelta(days=5)
    chat_id = customer(holder.store, sold_at - timedelta(hours=1)).chat_id  # WhatsApp's message, on the holder
    sending_device.claim(holder.store)  # the phone is linked to the holder's computer
    holder.sync()
    other.sync()
    assert not sending_device.runs_sending_jobs(other.store)
    assert sending_device.runs_sending_jobs(holder.store)

    on_holder, on_other = Harness(holder.store), Harness(other.store)
    try:
        sale = sell(other.store, other.store.chats.get(chat_id), sold_at)  # the sale is recorded on the teammate's
        on_other.events()
        (job,) = followups(other.store)
        assert job.shared
        assert job.id == keyed_id(job.dedupe_key)
        assert run_due(on_other, job) == []  # not the holder: it stays due there
        assert followups(other.store)[0].status == "due"
        assert sent_in(other.store, chat_id) == []

        # The holder's own agent scheduled the same follow-up too (it saw the sale as well): one row once pulled.
        holder.store.jobs.schedule(job.kind, job.payload, job.run_at, job.dedupe_key, shared=True)
        other.sync()
        holder.sync()
        (pulled,) = followups(holder.store)
        assert (pulled.id, pulled.status, pulled.kind) == (job.id, "due", FOLLOWUP_KIND)
        assert pulled.payload == job.payload
        assert run_due(on_holder, pulled) == [job.id]
        (sent,) = sent_in(holder.store, chat_id)
        assert sent.body.startswith("Hi Ana")
        assert followups(holder.store)[0].status == "done"
        assert run_due(on_holder, pulled) == []  # done: never twice

        holder.sync()
        other.sync()
        (seen,) = followups(other.store)
        assert (seen.status, seen.result) == ("done", "sent")
        assert seen.lease_owner is None
        assert [m.id for m in sent_in(other.store, chat_id)] == [sent.id]  # the teammate sees the one message
        assert run_due(on_other, seen) == []
        assert len(sent_in(other.store, chat_id)) == 1
        assert sale.id in seen.dedupe_key
    finally:
        on_holder.close()
        on_other.close()


def test_a_cancel_on_a_teammate_reaches_the_holder_before_the_job_is_due(team: tuple[Client, Client]) -> None:
    holder, other = team
    enable(holder.store)
    sold_at = utc_now().replace(microsecond=0) - timedelta(days=5)
    chat_id = customer(holder.store, sold_at - timedelta(hours=1)).chat_id
    sending_device.claim(holder.store)
    on_holder = Harness(holder.store)
    try:
        holder.sync()
        other.sync()
        sell(holder.store, holder.store.chats.get(chat_id), sold_at)
        on_holder.events()
        (job,) = followups(holder.store)
        holder.sync()
        other.sync()
        assert followups(other.store)[0].id == job.id  # the teammate sees the holder's follow-up
        assert other.store.jobs.cancel(job.id)
        other.sync()
        holder.sync()
        with holder.store.db.read() as conn:
            (status,) = conn.execute("SELECT status FROM jobs WHERE id = ?", (job.id,)).fetchone()
        assert status == "cancelled"
        assert run_due(on_holder, job) == []
        assert sent_in(holder.store, chat_id) == []
    finally:
        on_holder.close()


def test_nobody_runs_a_sending_job_while_no_device_of_the_team_holds_the_number(
    team: tuple[Client, Client],
) -> None:
    """Were "nobody holds it" enough, both computers would run the same follow-up and queue it twice."""
    holder, other = team
    assert sending_device.holder(holder.store) is None
    assert not sending_device.runs_sending_jobs(holder.store)
    assert not sending_device.runs_sending_jobs(other.store)
    sending_device.claim(other.store)
    assert sending_device.runs_sending_jobs(other.store)


def test_a_first_time_customer_is_welcomed_once_by_the_holder_and_the_teammate_sees_it(
    team: tuple[Client, Client],
) -> None:
    holder, other = team
    holder.store.orgs.update(holder.store.org_id, name="Casa Verde")
    switch(holder.store, away=False)  # the welcome on, for the team (the acquisition config syncs)
    sending_device.claim(holder.store)
    holder.sync()
    other.sync()
    on_holder, on_other = Greeter(holder.store), Greeter(other.store)
    try:
        now = utc_now()
        first = inbound(holder.store, ANA, now, 1)  # WhatsApp's message, captured by the holder
        run = on_holder.run(now + timedelta(seconds=3))
        assert (run.action, run.status) == ("send_welcome", "succeeded")
        holder.sync()
        other.sync()
        other_runs = {r.id for r in other.store.agent_executions.find_all({"agent": "greetings"})}
        assert run.id in other_runs  # the teammate sees why the welcome went
        on_other.clock.now = now + timedelta(seconds=3)
        on_other.loop.run(on_other.orchestrator.run_pending(), 30)  # the pulled message logged no event there
        assert {r.id for r in other.store.agent_executions.find_all({"agent": "greetings"})} == other_runs
        [welcome] = greetings_in(other.store, first.chat_id)
        assert welcome.body == "Welcome to Casa Verde, Ana!"
        assert [m.id for m in greetings_in(holder.store, first.chat_id)] == [welcome.id]
    finally:
        on_holder.close()
        on_other.close()
