"""The orchestrator: hands the durable event log to the agents, one cursor each, and writes why each run did what.

**Delivery.** Each agent reads the ``events`` table after its cursor (``agent_cursors``), in order, only the event
names it wants. Every run ends in one write transaction that inserts its ``agent_executions`` row *and* moves the
agent's cursor past the event, so across a crash or a restart nothing is missed (the cursor is still before an event
whose row was never written) and nothing finished runs twice (the row and the cursor commit together, and the
transaction refuses an event the cursor already passed). A run that crashed half-way (after its guarded send, before
its row) is run again on the next start; its send is then dropped as ``stale`` (the chat's latest message is its
own earlier reply). An agent seen for the first time starts at the end of the log: switching an agent on does not
answer last year's messages. Each agent has its own pump task on the one service loop (a slow model call of one
agent never holds another's events), woken by the bus after each commit that logged an event and by a timer.

**Isolation.** An agent that raises, or runs longer than ``run_timeout``, gets a ``failed`` execution with a sentence
(its exception goes to the log, never to the row: it may hold customer text) and its cursor moves on; other agents
never notice.

**Loops.** A message event caused by an automated send (``causation_id`` set) never starts an automation
(``from_me``); any other caused event may, until the chain reaches ``max_depth`` (3: ``depth``).

**Conversations** (agents that ``replies``): a chat a person owns or paused is skipped (``owned_by_person``, see
``ownership``); in autopilot, a chat answered automatically within the cooldown is skipped (``cooldown``), and so is
any send beyond the rate cap per minute over all chats (``rate_limited``) — both claimed before the run (so two agents
cannot race past them) and released when the run sent nothing. **Debounce**: a ``MessageReceived`` is held until
its ``occurred_at`` + the debounce (20 s by default) has passed on the clock; then, if a later customer message of the
same chat is in the log, it is skipped as ``debounced`` (that one carries the turn), else the agent runs. Holding is
the cursor itself: nothing to schedule, nothing lost on restart (the held event is still after the cursor), and it
costs the events behind it no latency because they are younger (each waits its own window anyway). A durable job per
burst would have been a second record of the same fact. Events of other names that the same agent wants do wait
behind a held message (at most the debounce).

The limits are read once per batch from the acquisition config (``configs.limits``). The clock is passed in: tests
drive it instead of sleeping.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from app.agents import configs, ownership
from app.agents.configs import Current, Limits
from app.agents.context import (
    COOLDOWN,
    DEBOUNCED,
    DEPTH,
    DRAFTED,
    FROM_ME,
    RATE_LIMITED,
    SENT,
    Agent,
    AgentContext,
    Outcome,
)
from app.core.errors import NotFound
from app.core.events import EVENT_TYPES, Event, MessageReceived, event_from_payload
from app.core.ids import new_id, to_ms, utc_now
from app.core.loops import LoopThread
from app.core.models import AgentExecution
from app.store.store import Store

log = logging.getLogger(__name__)

MAX_DEPTH = 3
DEFAULT_INTERVAL = 30.0  # seconds: the timer that catches what no bus wake announced (another process, a miss)
DEFAULT_RUN_TIMEOUT = 120.0
BATCH = 200
SKIP_AHEAD = 256  # events an agent does not want are passed by moving its cursor once this many piled up
FAILED = "It stopped with an unexpected error; the log has the details."
GONE = "gone"  # the chat the event is about was deleted meanwhile


@dataclass(frozen=True)
class _Logged:
    seq: int
    event: Event


@dataclass(frozen=True)
class _Batch:
    cursor: int
    head: int
    events: list[_Logged]
    config: Current | None
    limits: Limits
    acquisition: Current | None  # its config in force (the AI's mode on chats), for agents that answer customers
    first_gate: tuple[str | None, bool] | None = None  # the conversation rules for events[0], read in the same hop
    scanned: int = 0  # the last seq read (an unreadable event is passed, not read again)
    full: bool = False  # BATCH rows were read: there may be more before the head


class Orchestrator:
    def __init__(
        self,
        store: Store,
        agents: Sequence[Agent],
        *,
        loop: LoopThread | None = None,
        clock: Callable[[], datetime] = utc_now,
        interval: float = DEFAULT_INTERVAL,
        run_timeout: float = DEFAULT_RUN_TIMEOUT,
        max_depth: int = MAX_DEPTH,
    ) -> None:
        names = [a.name for a in agents]
        if len(set(names)) != len(names):
            raise ValueError(f"agents registered twice: {sorted(n for n in names if names.count(n) > 1)}")
        self.store = store
        self.agents = list(agents)
        self.clock = clock
        self.interval = interval
        self.run_timeout = run_timeout
        self.max_depth = max_depth
        self.runs = 0  # executions written (tests, the benchmark)
        self._given = loop
        self._loop: LoopThread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        # Touched on the loop's thread only:
        self._pumps: list[asyncio.Task[None]] = []
        self._wakes: dict[str, asyncio.Event] = {}
        self._sends: deque[datetime] = deque()  # automated sends (and claims) in the last minute: the rate cap
        self._chat_sends: dict[str, datetime] = {}  # chat → last automated send (or claim): the cooldown
        self._ready: set[str] = set()  # agents whose cursor exists
        self._locks: dict[str, asyncio.Lock] = {}  # one drain per agent at a time

    # ---- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start a pump per agent on the loop; a commit that logged an event wakes them."""
        if self._loop is not None:
            return
        self._loop = self._given if self._given is not None else LoopThread("agents")
        self._unsubscribe = self.store.bus.subscribe(Event, self._on_event)
        self._loop.call_soon(self._start_pumps)

    def _start_pumps(self) -> None:
        for agent in self.agents:
            self._wakes[agent.name] = asyncio.Event()
            self._pumps.append(asyncio.ensure_future(self._pump(agent)))

    def _on_event(self, event: Event) -> None:
        if event.name in EVENT_TYPES:  # logged durably (TablesChanged is not)
            self.poke()

    def poke(self) -> None:
        """Wake every pump (from any thread)."""
        loop = self._loop
        if loop is not None and not loop.closed:
            loop.call_soon(self._wake_all)

    def _wake_all(self) -> None:
        for wake in self._wakes.values():
            wake.set()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the pumps (a run in flight is cancelled: its event runs again on the next start)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        loop, self._loop = self._loop, None
        if loop is None:
            return
        if not loop.closed:
            try:
                loop.run(self._stop(), timeout)
            except (concurrent.futures.TimeoutError, RuntimeError):
                log.warning("the orchestrator did not stop within %.0f s", timeout)
        if loop is not self._given:
            loop.close()

    async def _stop(self) -> None:
        pumps, self._pumps = self._pumps, []
        for task in pumps:
            task.cancel()
        if pumps:
            await asyncio.wait(pumps)

    async def _pump(self, agent: Agent) -> None:
        wake = self._wakes[agent.name]
        while True:
            wake.clear()
            try:
                held = await self.drain(agent)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("agent %s: its events could not be read or recorded; trying again later", agent.name)
                held = None
            timeout = self.interval if held is None else max(0.0, min(held, self.interval))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout)

    # ---- consuming the log -----------------------------------------------------------------------------------
    async def run_pending(self) -> None:
        """Every agent's ready events, to the end (tests, the benchmark, a child process)."""
        results = await asyncio.gather(*(self.drain(a) for a in self.agents), return_exceptions=True)
        for agent, result in zip(self.agents, results, strict=True):
            if isinstance(result, BaseException):
                log.error("agent %s: draining failed", agent.name, exc_info=result)

    async def drain(self, agent: Agent) -> float | None:
        """Run ``agent`` on its events after its cursor until none is ready; returns the seconds until a held
        (debounced) event is due, or None. One drain per agent at a time (the pump, a test, a child process)."""
        lock = self._locks.setdefault(agent.name, asyncio.Lock())
        async with lock:
            return await self._drain(agent)

    async def _drain(self, agent: Agent) -> float | None:
        while True:
            batch = await asyncio.to_thread(self._batch, agent)
            if batch.config is not None and not batch.config.enabled:
                if batch.head > batch.cursor:  # off: its events pass without runs ("why" is "it was off")
                    await asyncio.to_thread(self._advance, agent.name, batch.head)
                return None
            for i, logged in enumerate(batch.events):
                held = self._held(agent, logged, batch.limits)
                if held is not None:
                    return held
                await self.run_one(
                    agent,
                    logged.seq,
                    logged.event,
                    batch.config,
                    batch.limits,
                    acquisition=batch.acquisition,
                    gate=batch.first_gate if i == 0 else None,
                )
            last = batch.events[-1].seq if batch.events else batch.cursor
            if not batch.full:  # read to the head: pass what it does not want once enough piled up
                if batch.head - last >= SKIP_AHEAD:
                    await asyncio.to_thread(self._advance, agent.name, batch.head)
                elif batch.scanned > last:  # an unreadable event after the last run: passed, not read again
                    await asyncio.to_thread(self._advance, agent.name, batch.scanned)
                return None
            if batch.scanned > last:
                await asyncio.to_thread(self._advance, agent.name, batch.scanned)

    def _held(self, agent: Agent, logged: _Logged, limits: Limits) -> float | None:
        if not (agent.replies and logged.event.name == MessageReceived.name) or logged.event.causation_id:
            return None
        due = logged.event.occurred_at + limits.debounce
        wait = (due - self.clock()).total_seconds()
        return wait if wait > 0 else None

    def _batch(self, agent: Agent) -> _Batch:
        if agent.name not in self._ready:
            self._ensure_cursor(agent.name)
            self._ready.add(agent.name)
        config, limits, acquisition = self._settings(agent)
        names = sorted(agent.wants)
        with self.store.db.read() as conn:
            row = conn.execute("SELECT last_seq FROM agent_cursors WHERE agent = ?", (agent.name,)).fetchone()
            cursor = int(row[0]) if row else 0
            head = int(conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])
            if config is not None and not config.enabled:
                return _Batch(cursor, head, [], config, limits, acquisition)
            rows = conn.execute(
                f"SELECT seq, name, payload FROM events WHERE seq > ? AND seq <= ? "
                f"AND name IN ({', '.join('?' for _ in names)}) ORDER BY seq LIMIT ?",
                (cursor, head, *names, BATCH),
            ).fetchall()
        events = []
        for seq, name, payload in rows:
            try:
                events.append(_Logged(int(seq), event_from_payload(name, json.loads(payload))))
            except ValueError:  # a payload this version cannot read: passed, with the reason in the log
                log.warning("agent %s: event %s (%s) cannot be read and is passed", agent.name, seq, name)
        first_gate = self._first_gate(agent, events, limits, acquisition)
        scanned = int(rows[-1][0]) if rows else cursor
        return _Batch(cursor, head, events, config, limits, acquisition, first_gate, scanned, len(rows) == BATCH)

    def _first_gate(
        self, agent: Agent, events: list[_Logged], limits: Limits, acquisition: Current | None
    ) -> tuple[str | None, bool] | None:
        """The conversation rules for the batch's first event, read on the batch's worker (one hop less per event
        when events come one at a time); None when they do not apply or it is held (then read when it runs)."""
        if not events or not agent.replies:
            return None
        first = events[0]
        chat_id: str | None = getattr(first.event, "chat_id", None)
        if chat_id is None or self._loop_rules(first.event) is not None or self._held(agent, first, limits):
            return None
        try:
            return self._gate(agent, first.seq, first.event, chat_id, limits, acquisition)
        except NotFound:
            return GONE, False

    def _ensure_cursor(self, agent: str) -> None:
        with self.store.db.transaction() as conn:
            conn.execute(
                "INSERT INTO agent_cursors (agent, last_seq, updated_at) "
                "VALUES (?, (SELECT coalesce(max(seq), 0) FROM events), ?) ON CONFLICT (agent) DO NOTHING",
                (agent, to_ms(self.clock())),
            )

    def _advance(self, agent: str, seq: int) -> None:
        with self.store.db.transaction() as conn:
            conn.execute(
                "UPDATE agent_cursors SET last_seq = ?, updated_at = ? WHERE agent = ? AND last_seq < ?",
                (seq, to_ms(self.clock()), agent, seq),
            )

    def cursor(self, agent: str) -> int | None:
        with self.store.db.read() as conn:
            row = conn.execute("SELECT last_seq FROM agent_cursors WHERE agent = ?", (agent,)).fetchone()
        return None if row is None else int(row[0])

    # ---- one run ---------------------------------------------------------------------------------------------
    async def run_one(
        self,
        agent: Agent,
        seq: int | None,
        event: Event,
        config: Current | None,
        limits: Limits,
        *,
        acquisition: Current | None = None,
        gate: tuple[str | None, bool] | None = None,
        dry_run: bool = False,
    ) -> AgentExecution | None:
        """Gate, run and record ``agent`` on ``event`` (``seq`` None: not from the log, e.g. a dry run). Returns
        the execution written, or None when the event was already done."""
        started, t0 = self.clock(), time.perf_counter()
        execution_id = new_id()
        chat_id: str | None = getattr(event, "chat_id", None)
        claimed = False
        ctx: AgentContext | None = None
        error: str | None = None
        try:
            reason, autopilot = self._loop_rules(event), False
            if reason is None and gate is not None:
                reason, autopilot = gate
            elif reason is None and agent.replies and chat_id is not None:  # the conversation rules read the store
                reason, autopilot = await asyncio.to_thread(self._gate, agent, seq, event, chat_id, limits, acquisition)
            if reason is None and autopilot and not dry_run and chat_id is not None:
                reason = self._claim(chat_id, started, limits)
                claimed = reason is None
            if reason is not None:
                outcome = Outcome.skip(reason, chat_id=chat_id)
            else:
                ctx = AgentContext(
                    self.store, agent.name, execution_id, event, config, limits, self.clock, dry_run=dry_run
                )
                outcome = await asyncio.wait_for(agent.run(event, ctx), self.run_timeout)
        except asyncio.CancelledError:
            raise
        except NotFound:
            outcome = Outcome.skip(GONE, chat_id=chat_id)
        except TimeoutError:
            outcome, error = Outcome(chat_id=chat_id), f"It took longer than {self.run_timeout:g} s and was stopped."
        except Exception:
            log.exception("agent %s failed on event %s (%s)", agent.name, seq, event.name)
            outcome, error = Outcome(chat_id=chat_id), FAILED
        if ctx is not None:
            outcome = self._merge(outcome, ctx)
        if claimed and not (ctx is not None and ctx.queued):
            self._release(chat_id, started)
        row = self._execution(
            agent, execution_id, seq, event, config, outcome, error, started, t0, chat_id, dry_run=dry_run
        )
        written = await asyncio.to_thread(self._record, agent.name, seq, row)
        if written:
            self.runs += 1
        return row if written else None

    def _loop_rules(self, event: Event) -> str | None:
        """No automation starts from an automated send's events, and no chain grows past the depth limit."""
        if event.causation_id is not None and event.name.startswith("message."):
            return FROM_ME
        if event.depth >= self.max_depth:
            return DEPTH
        return None

    def _gate(
        self,
        agent: Agent,
        seq: int | None,
        event: Event,
        chat_id: str,
        limits: Limits,
        acquisition: Current | None,
    ) -> tuple[str | None, bool]:
        """The conversation rules' skip reason (or None), and whether the chat is on autopilot."""
        if seq is not None and event.name == MessageReceived.name and self._later_message(seq, chat_id):
            return DEBOUNCED, False
        owner = ownership.ownership(self.store, chat_id, now=self.clock(), pause=limits.pause, acquisition=acquisition)
        reason = ownership.skip_reason(owner, sending=False)
        if reason is not None:
            return reason, False
        if owner.ai_may_send and self._sent_within(chat_id, limits.cooldown):
            return COOLDOWN, True
        return None, owner.ai_may_send

    def _later_message(self, seq: int, chat_id: str) -> bool:
        with self.store.db.read() as conn:
            row = conn.execute(
                "SELECT 1 FROM events WHERE seq > ? AND name = ? AND json_extract(payload, '$.chat_id') = ? "
                "AND json_extract(payload, '$.causation_id') IS NULL LIMIT 1",
                (seq, MessageReceived.name, chat_id),
            ).fetchone()
        return row is not None

    def _sent_within(self, chat_id: str, cooldown: timedelta) -> bool:
        """A message any agent sent in the chat within ``cooldown`` (greetings included; read from the messages on
        the chat-time index, so it holds across a restart)."""
        if cooldown <= timedelta(0):
            return False
        with self.store.db.read() as conn:
            row = conn.execute(
                "SELECT 1 FROM messages WHERE chat_id = ? AND sent_at >= ? AND sent_by_agent IS NOT NULL "
                "AND direction = 'out' AND deleted_at IS NULL LIMIT 1",
                (chat_id, to_ms(self.clock() - cooldown)),
            ).fetchone()
        return row is not None

    def _claim(self, chat_id: str, now: datetime, limits: Limits) -> str | None:
        """On the loop: claim the chat's cooldown and a slot of the rate cap before the run."""
        last = self._chat_sends.get(chat_id)
        if last is not None and limits.cooldown > timedelta(0) and now - last < limits.cooldown:
            return COOLDOWN
        while self._sends and now - self._sends[0] >= timedelta(minutes=1):
            self._sends.popleft()
        if len(self._sends) >= limits.rate_per_minute:
            return RATE_LIMITED
        self._sends.append(now)
        self._chat_sends[chat_id] = now
        return None

    def _release(self, chat_id: str | None, claimed_at: datetime) -> None:
        with contextlib.suppress(ValueError):
            self._sends.remove(claimed_at)
        if chat_id is not None and self._chat_sends.get(chat_id) == claimed_at:
            del self._chat_sends[chat_id]

    @staticmethod
    def _merge(outcome: Outcome, ctx: AgentContext) -> Outcome:
        """What the run did through its context completes what it returned: a send is ``sent``; a dropped send
        names its reason; words not sent are kept as the draft."""
        changes: dict[str, Any] = {}
        detail = dict(outcome.detail)
        if ctx.queued:
            detail["queued"] = list(ctx.queued)
            if outcome.action is None:
                changes["action"] = SENT
        if ctx.drafts:
            detail["draft"] = list(ctx.drafts)
            if outcome.action is None and not ctx.queued:
                changes["action"] = DRAFTED
        if ctx.dropped is not None and not ctx.queued and outcome.skip_reason is None:
            changes["skip_reason"] = ctx.dropped
        if detail != outcome.detail:
            changes["detail"] = detail
        return replace(outcome, **changes) if changes else outcome

    def _execution(
        self,
        agent: Agent,
        execution_id: str,
        seq: int | None,
        event: Event,
        config: Current | None,
        outcome: Outcome,
        error: str | None,
        started: datetime,
        t0: float,
        chat_id: str | None,
        *,
        dry_run: bool,
    ) -> AgentExecution:
        status = "failed" if error else "skipped" if outcome.skip_reason else "succeeded"
        return self.store.agent_executions.new(
            id=execution_id,
            agent=agent.name,
            trigger=event.name,
            status=status,
            started_at=started,
            finished_at=self.clock(),
            detail=outcome.detail,
            error=error,
            config_version=None if config is None else config.version,
            event_name=event.name,
            event_seq=seq,
            chat_id=outcome.chat_id or chat_id,
            action=outcome.action,
            skip_reason=outcome.skip_reason,
            model=outcome.model,
            tokens=outcome.tokens,
            cost_usd=outcome.cost_usd,
            duration_ms=round((time.perf_counter() - t0) * 1000),
            causation_id=event.causation_id,
            depth=event.depth,
            dry_run=dry_run,
        )

    def _record(self, agent: str, seq: int | None, row: AgentExecution) -> bool:
        """The execution row and the cursor past ``seq``, in one transaction; False (nothing written) when the
        cursor is already past it."""
        with self.store.db.transaction() as conn:
            if seq is not None:
                found = conn.execute("SELECT last_seq FROM agent_cursors WHERE agent = ?", (agent,)).fetchone()
                if found is not None and int(found[0]) >= seq:
                    return False
            self.store.agent_executions.add(row)
            if seq is not None:
                conn.execute(
                    "INSERT INTO agent_cursors (agent, last_seq, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (agent) DO UPDATE SET last_seq = excluded.last_seq, updated_at = excluded.updated_at",
                    (agent, seq, to_ms(self.clock())),
                )
        return True

    # ---- dry run ---------------------------------------------------------------------------------------------
    async def try_on(self, agent_name: str, event: Event) -> AgentExecution | None:
        """What ``agent_name`` would do on ``event`` ("Try on this chat"): the same gates and run, nothing sent,
        the cursor untouched; the execution is kept with ``dry_run`` so the log shows it."""
        agent = next(a for a in self.agents if a.name == agent_name)
        config, limits, acquisition = await asyncio.to_thread(self._settings, agent)
        return await self.run_one(agent, None, event, config, limits, acquisition=acquisition, dry_run=True)

    def _settings(self, agent: Agent) -> tuple[Current | None, Limits, Current | None]:
        """The agent's config in force, and for an agent that answers customers the conversation limits and the
        acquisition config they come from (read once: the same row when the agent is the acquisition agent)."""
        config = configs.current(self.store, agent.name) if configs.is_agent(agent.name) else None
        if not agent.replies:
            return config, Limits(), None
        acquisition = config if agent.name == "acquisition" else configs.current(self.store, "acquisition")
        assert acquisition is not None
        return config, configs.limits_of(acquisition.config), acquisition
