"""The finance agent (rules, no AI): keeps lifetime values current and raises a revenue-drop alert once a day.

Figures (revenue per local day and month, average ticket, lifetime value) are in ``app.agents.finance_figures``;
this module is what reacts and what runs on a schedule.

It is an agent for the orchestrator (``app.agents.orchestrator``: ``name``, ``wants``, ``run(event, ctx)`` →
``Outcome``, the execution row written by the orchestrator) that never replies to customers; its switch is the
finance agent's config version (``app.agents.configs``): while off, the orchestrator passes its events and the daily
check is skipped as ``agent_off``. Its limits are settings (``settings.finance``), read when the check runs.

**Lifetime value.** On ``SaleCompleted`` the sale's contact's value is recomputed from their sales (not added to:
a replayed event or a sale in another currency cannot make it wrong). Nothing publishes an event when a sale is
edited or deleted (the store's repositories write sales directly; teammates' edits arrive through sync with the
contact row their device recomputed): whoever edits or deletes a sale calls ``sale_changed`` (with the contact it
had before, if it moved), and the daily check also reconciles every contact named by a sale, so a value that was
missed is right again by the next morning (``reconcile``: one read finds the values that differ, only those are
written; contacts no sale names keep what they have, e.g. a value imported from a CSV). ``SaleAgreed`` is not
revenue (staff have not confirmed it) and is not wanted here.

**The revenue-drop alert.** Judged on a finished day, not on today: a day half over always looks like a drop. Each
day at ``settings.finance.check_time`` (local, default 08:00) the check compares *yesterday's* revenue, per currency,
with the average of the same weekday over the last ``settings.finance.drop_weeks`` weeks (default 4; days with no
sales count as 0). It alerts when the day is at least ``settings.finance.drop_threshold`` % below that average
(default 30 %: exactly 30 % below alerts, one cent less of a drop does not; in integers, ``100·N·day ≤ total·(100 −
threshold)``). Never on too little history: a currency needs a sale on or before the earliest compared day (N weeks
back: 28 days before the day judged, by default), and an average above zero. The percentage shown is rounded down
(it never claims more of a drop than there was), the average to the nearest cent.

Alerts are deduplicated through the durable jobs table: each is a job of kind ``finance_drop_alert`` under the key
``finance:drop:<day>:<currency>`` (once per day judged and currency, however often the check runs, across restarts);
its handler hands the alert to ``notify`` and keeps the sentence as the job's result, so the jobs list shows it. The
daily check is a job of kind ``finance_check`` under ``finance:check:<day>``; each run schedules the next day's, and
``ensure_scheduled`` (call it on start) schedules yesterday's and today's checks, so a check missed while Parley was
closed runs once, late (up to 20 h), and the chain never breaks. Changing the check time applies from the next
check scheduled. Both kinds run on any device (they send nothing on WhatsApp).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel

from app.agents import configs
from app.agents import finance_figures as figures
from app.agents.context import AgentContext, Outcome
from app.agents.job_kinds import JobKind, JobKinds, JobRun, JobSkipped
from app.core.events import Event, SaleCompleted
from app.core.ids import utc_now
from app.core.models import Contact
from app.core.money import money
from app.store.store import Store

log = logging.getLogger(__name__)

CHECK_KIND = "finance_check"
ALERT_KIND = "finance_drop_alert"
CHECK_LATENESS = timedelta(hours=20)  # later than this the next day's check is the one that matters
ALERT_LATENESS = timedelta(days=3)


# what a run did (the execution row's action / skip reason)
LIFETIME_VALUE = "lifetime_value"
NO_CONTACT = "no_contact"  # a sale without a customer, or one deleted since
NOT_MINE = "not_wanted"
AGENT_OFF = "agent_off"  # the daily check's skip reason while the finance agent is switched off


def _value_detail(contact: Contact) -> dict[str, Any]:
    return {
        "contact_id": contact.id,
        "lifetime_value_minor": contact.lifetime_value_minor,
        "currency": contact.currency,
    }


def check_key(day: date) -> str:
    return f"finance:check:{day.isoformat()}"


def alert_key(day: date, currency: str) -> str:
    return f"finance:drop:{day.isoformat()}:{currency}"


def daily_result(alerts: int, fixed: int) -> str:
    """What the daily check's job says it did (the jobs list shows it)."""
    said = ["No drop in revenue" if alerts == 0 else f"{alerts} revenue drop{'s' if alerts > 1 else ''} alerted"]
    if fixed:
        said.append(f"{fixed} lifetime value{'s' if fixed > 1 else ''} corrected")
    return "; ".join(said)


@dataclass(frozen=True)
class DropAlert:
    """A finished day's revenue in one currency fell against the trailing same-weekday average."""

    day: date
    currency: str
    revenue_minor: int
    average_minor: int
    drop_percent: int  # rounded down
    weeks: int
    threshold: int

    @property
    def sentence(self) -> str:
        weekday = figures.WEEKDAYS[self.day.weekday()]
        when = f"{self.day.day} {figures.MONTHS[self.day.month - 1]} {self.day.year}"
        return (
            f"{weekday}'s revenue ({when}) was {money(self.revenue_minor, self.currency)}, {self.drop_percent} % "
            f"below the average of the last {self.weeks} {weekday}s ({money(self.average_minor, self.currency)})."
        )


class CheckPayload(BaseModel):
    day: date  # the local day judged


class AlertPayload(BaseModel):
    day: date
    currency: str
    revenue_minor: int
    average_minor: int
    drop_percent: int
    weeks: int
    threshold: int

    def alert(self) -> DropAlert:
        return DropAlert(**self.model_dump())


def drop_alerts(store: Store, day: date, *, weeks: int, threshold: int) -> list[DropAlert]:
    """The alerts the local ``day`` deserves, one per currency that fell by at least ``threshold`` % against the
    average of its last ``weeks`` same weekdays (sorted by currency). Reads only."""
    zone = figures.org_zone(store)
    earliest = day - timedelta(weeks=weeks)
    by_day = figures.revenue_by_day(store, earliest, day + timedelta(days=1), zone)
    compared = [day - timedelta(weeks=n) for n in range(1, weeks + 1)]
    trailing: dict[str, int] = {}
    for past in compared:
        for currency, amount in by_day.get(past, {}).items():
            trailing[currency] = trailing.get(currency, 0) + amount
    found: list[DropAlert] = []
    end_of_earliest = figures.local_start(earliest + timedelta(days=1), zone)
    for currency, total in sorted(trailing.items()):
        if total <= 0 or not figures.sold_before(store, currency, end_of_earliest):
            continue  # nothing to fall from, or the history does not reach back ``weeks`` weeks
        revenue = by_day.get(day, {}).get(currency, 0)
        if 100 * weeks * revenue > total * (100 - threshold):
            continue
        drop = (100 * (total - weeks * revenue)) // total  # rounded down: 100·(1 − revenue / average)
        found.append(DropAlert(day, currency, revenue, figures.divide(total, weeks), drop, weeks, threshold))
    return found


class FinanceAgent:
    """Rules only. An ``app.agents.context.Agent`` for the orchestrator (``run``), with a blocking ``handle(event)``
    for the same work off the orchestrator, ``check(day)`` for the daily comparison, ``register`` to put its job
    kinds on the runner's registry, and ``ensure_scheduled(now)`` to call once on start."""

    name = "finance"
    wants = frozenset({SaleCompleted.name})
    replies = False  # never writes to a customer: the conversation rules do not apply

    def __init__(
        self,
        store: Store,
        kinds: JobKinds,
        *,
        notify: Callable[[DropAlert], None] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.kinds = kinds
        self.notify = notify
        self.clock = clock

    # ---- events ----------------------------------------------------------------------------------------------
    async def run(self, event: Event, ctx: AgentContext) -> Outcome:
        """The orchestrator's entry: the sale's contact's lifetime value, recomputed (computed only, in a dry run);
        the execution's detail holds the figures."""
        if not isinstance(event, SaleCompleted):
            return Outcome.skip(NOT_MINE)
        if not event.contact_id:
            return Outcome.skip(NO_CONTACT)
        if ctx.dry_run:
            values = await ctx.call(figures.lifetime_values, self.store, event.contact_id)
            return Outcome.acted(LIFETIME_VALUE, detail={"contact_id": event.contact_id, "values": values})
        contact = await ctx.call(figures.recompute_lifetime_value, self.store, event.contact_id)
        if contact is None:
            return Outcome.skip(NO_CONTACT)
        return Outcome.acted(LIFETIME_VALUE, detail=_value_detail(contact))

    def handle(self, event: Event) -> str | None:
        """The same work, blocking, for a caller without the orchestrator (a bus subscriber, a script): the action
        or skip code, or None for an event it does not want."""
        if not isinstance(event, SaleCompleted):
            return None
        contact = figures.recompute_lifetime_value(self.store, event.contact_id)
        return NO_CONTACT if contact is None else LIFETIME_VALUE

    def sale_changed(self, sale_id: str, previous_contact_id: str | None = None) -> None:
        """A sale was edited or deleted: recompute its contact's value (and the previous contact's, if it moved)."""
        sale = self.store.sales.find(sale_id, include_deleted=True)
        for contact_id in dict.fromkeys([sale.contact_id if sale else None, previous_contact_id]):
            figures.recompute_lifetime_value(self.store, contact_id)

    def reconcile(self) -> int:
        """Correct every contact whose value is not the sum of their sales (one read finds them; only those are
        written); returns how many were corrected."""
        changed = 0
        for contact_id in figures.values_out_of_date(self.store):
            before = self.store.contacts.find(contact_id)
            after = figures.recompute_lifetime_value(self.store, contact_id)
            if before is not None and after is not None and after != before:
                changed += 1
        return changed

    # ---- the daily check -------------------------------------------------------------------------------------
    def check(self, day: date) -> list[DropAlert]:
        """Judge the local ``day`` and schedule an alert job for each drop not alerted yet (deduplicated by day and
        currency); returns the alerts scheduled now."""
        settings = self.store.settings.finance
        alerts = drop_alerts(self.store, day, weeks=settings.drop_weeks, threshold=settings.drop_threshold)
        new: list[DropAlert] = []
        for alert in alerts:
            key = alert_key(alert.day, alert.currency)
            if self.store.jobs.by_key(key) is not None:
                continue
            payload = AlertPayload(**asdict(alert))
            self.kinds.schedule(self.store.jobs, ALERT_KIND, payload, self.clock(), key)
            new.append(alert)
        return new

    def check_time(self) -> time | None:
        text = self.store.settings.finance.check_time
        if not text:
            return None
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))

    def schedule_check(self, day: date) -> None:
        """Schedule the check of the local ``day`` for the next morning's check time (idempotent)."""
        at = self.check_time()
        if at is None:
            return
        run_at = figures.local_at(day + timedelta(days=1), at, figures.org_zone(self.store))
        self.kinds.schedule(self.store.jobs, CHECK_KIND, CheckPayload(day=day), run_at, check_key(day))

    def ensure_scheduled(self, now: datetime | None = None) -> None:
        """On start: yesterday's check (runs late, once, if its time passed while Parley was closed) and today's."""
        today = figures.local_date(now or self.clock(), figures.org_zone(self.store))
        self.schedule_check(today - timedelta(days=1))
        self.schedule_check(today)

    # ---- job kinds -------------------------------------------------------------------------------------------
    def register(self) -> None:
        """Put the agent's job kinds on its registry (before the runner starts)."""
        self.kinds.register(JobKind(CHECK_KIND, CheckPayload, self._run_check, max_lateness=CHECK_LATENESS))
        self.kinds.register(JobKind(ALERT_KIND, AlertPayload, self._run_alert, max_lateness=ALERT_LATENESS))

    async def _run_check(self, payload: CheckPayload, run: JobRun) -> str:
        return await asyncio.to_thread(self._daily, payload.day)

    def _daily(self, day: date) -> str:
        self.schedule_check(day + timedelta(days=1))
        if not configs.current(self.store, self.name).enabled:
            raise JobSkipped(AGENT_OFF)  # switched off on the Agents page: no alert (the chain goes on)
        alerts = self.check(day)
        fixed = self.reconcile()
        return daily_result(len(alerts), fixed)

    async def _run_alert(self, payload: AlertPayload, run: JobRun) -> str:
        alert = payload.alert()
        if self.notify is None:
            log.info("finance: drop alert for %s in %s kept on its job (nobody to notify)", alert.day, alert.currency)
        else:
            self.notify(alert)  # a failure is the runner's: logged, retried with backoff
        return alert.sentence


def build(store: Store, kinds: JobKinds, **kw: Any) -> FinanceAgent:
    """The agent with its job kinds registered (what the composition root calls)."""
    agent = FinanceAgent(store, kinds, **kw)
    agent.register()
    return agent
