"""The realtime hub: one LISTEN connection per process fanning "org version N" out to this process's WebSockets.

Every write notifies ``parley_sync`` at commit (``sync_engine.notice_payload``), so every process behind the load
balancer hears every org's changes through PostgreSQL and nothing else is shared between processes. A small write's
notice carries its rows: a socket that asked for them (``changes``) gets them with the version they lead from, and
a client standing at that version applies them without pulling, so one change in a big org does not make every other
device of the org pull at once. A device with a new conflict record is sent the plain version and pulls, which
delivers the record.

Each socket has a small mailbox and its own sender task: the reader never waits for a socket. Notices that queue up
while a socket is busy go out as one message: merged into one notice with all their rows when they chain on (so a
client that fell behind under load still needs no pull), else as the newest bare version (it pulls). A mailbox that
overflows drops its oldest notices (the client sees a notice that does not lead from its cursor, and pulls), and a
socket that cannot take a message in ``send_timeout`` is dropped.

Revocation travels the same way on its own channel (``ACCESS_CHANNEL``, notified by database triggers at commit,
migration 0003): a revoked device's or removed member's sockets on every process are marked revoked and stop at
once, their mailboxes emptied, and the route closes them with 4403. Notices are delivered in commit order, so no
write committed after the revocation reaches them. A socket is held (registered, sending nothing) until the route
has confirmed its caller in the database, so a revocation that commits between the route's token check and the
socket's registration is caught by that confirmation, and one after it by the notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

import psycopg

from app.sync.protocol import RowState, VersionNotice

log = logging.getLogger(__name__)

CHANNEL = "parley_sync"
APPLICATION_NAME = "parley-sync realtime"  # the listener's name in pg_stat_activity
ACCESS_CHANNEL = "parley_access"  # {"org": ..., "device": ...} or {"org": ..., "member": ...} (migration 0003)
BACKOFF_SECONDS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
HEALTH_CHECK_SECONDS = 15.0  # a silently dead connection (no RST) is found by a query after this much quiet
MIN_GAP_SECONDS = 0.1  # between two messages to one socket (a quiet org's notice goes out at once)
MAILBOX = 32  # notices a busy socket keeps before the oldest fall out (its client then pulls)
MERGED_BYTES = 60_000  # a merged notice stays under the app's 64 KiB message limit (transport.py)

Send = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Notice:
    """One org version as the sockets are sent it, encoded once per process however many sockets hear it."""

    version: int
    plain: str  # the VersionNotice without rows
    full: str | None = None  # with ``since`` and ``rows``, when the write was small enough to carry them
    conflicted: frozenset[str] = frozenset()  # devices with a new conflict record: they get ``plain`` and pull
    since: int | None = None  # with ``full``: the version the write started from, and its rows
    rows: tuple[RowState, ...] = ()

    @classmethod
    def of(cls, version: int) -> Notice:
        return cls(version, VersionNotice(version=version).model_dump_json(exclude_none=True))

    def rows_for(self, device_id: str, changes: bool) -> bool:
        return self.full is not None and changes and device_id not in self.conflicted

    def text_for(self, device_id: str, changes: bool) -> str:
        return self.full if self.full is not None and self.rows_for(device_id, changes) else self.plain


def merged_text(notices: Sequence[Notice], device_id: str, changes: bool) -> str:
    """One message for notices that queued up for a socket while it was busy.

    Notices that all carry rows for this device and chain on (each leading from the previous one's version) become
    one notice from the first one's ``since`` with each row at its latest state, as a pull of that range would
    return; anything else becomes the newest bare version, and the client pulls.
    """
    last = notices[-1]
    if len(notices) == 1:
        return last.text_for(device_id, changes)
    chained = all(n.rows_for(device_id, changes) for n in notices) and all(
        b.since == a.version for a, b in pairwise(notices)
    )
    if not chained:
        return last.plain
    latest = {(r.table, r.id): r for n in notices for r in n.rows}
    text = VersionNotice(version=last.version, since=notices[0].since, rows=list(latest.values())).model_dump_json(
        exclude_none=True
    )
    return text if len(text.encode()) <= MERGED_BYTES else last.plain


def parse_payload(payload: str) -> tuple[str, Notice] | None:
    """The org and notice of a NOTIFY payload (``sync_engine.notice_payload``); ``None`` for anything else."""
    if not payload.startswith("{"):  # "<org>:<version>", as servers before rows-in-notices sent it
        org_id, _, number = payload.rpartition(":")
        return (org_id, Notice.of(int(number))) if org_id and number.isdigit() else None
    try:
        raw = json.loads(payload)
        org_id, version = str(raw["org"]), int(raw["version"])
        notice = replace(Notice.of(version), conflicted=frozenset(map(str, raw.get("conflicted", ()))))
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("ignored a malformed sync notice: %s", type(exc).__name__)
        return None
    if raw.get("rows") is None:
        return org_id, notice
    try:
        full = VersionNotice(version=version, since=int(raw["since"]), rows=raw["rows"])
    except (ValueError, KeyError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
        # The version still goes out: its readers pull the rows instead.
        log.warning("sent a sync notice without its rows, which did not parse: %s", type(exc).__name__)
        return org_id, notice
    return org_id, replace(
        notice, full=full.model_dump_json(exclude_none=True), since=full.since, rows=tuple(full.rows or ())
    )


@dataclass(frozen=True)
class Revocation:
    """A device revoked or a member removed (one of the two ids is set)."""

    org_id: str
    device_id: str | None = None
    member_id: str | None = None


def parse_revocation(payload: str) -> Revocation | None:
    try:
        raw = json.loads(payload)
        org_id, device, member = str(raw["org"]), raw.get("device"), raw.get("member")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("ignored a malformed access notice: %s", type(exc).__name__)
        return None
    if device is None and member is None:
        log.warning("ignored an access notice naming no device or member")
        return None
    return Revocation(org_id, None if device is None else str(device), None if member is None else str(member))


class Subscription:
    """One registered socket. ``closed`` is set when the hub dropped it (slow or broken), it was revoked or it was
    unregistered; ``revoked`` when its device was revoked or its member removed.

    ``changes``: the socket asked for notices with rows (see the module's docstring). ``held``: nothing is sent until
    ``confirm()`` (the hub's sockets wait for their caller's check in the database)."""

    def __init__(
        self,
        org_id: str,
        device_id: str,
        send: Send,
        send_timeout: float,
        *,
        changes: bool,
        member_id: str = "",
        held: bool = False,
    ) -> None:
        self.org_id = org_id
        self.device_id = device_id
        self.member_id = member_id
        self.changes = changes
        self._send = send
        self._send_timeout = send_timeout
        self._queue: deque[Notice] = deque(maxlen=MAILBOX)
        self._sent = -1
        self._wake = asyncio.Event()
        self._confirmed = asyncio.Event()
        if not held:
            self._confirmed.set()
        self.closed = asyncio.Event()
        self.revoked = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def confirm(self) -> None:
        """The caller was confirmed in the database: the sender may start."""
        self._confirmed.set()

    def revoke(self) -> None:
        """Nothing more goes out: the mailbox is emptied and the sender stopped (the route closes the socket)."""
        self.revoked.set()
        self._queue.clear()
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.closed.set()

    def offer(self, notice: Notice) -> None:
        """Never blocks: queues a newer notice (the oldest falls out of a full mailbox) and wakes the sender."""
        if self.revoked.is_set():
            return
        newest = self._queue[-1].version if self._queue else self._sent
        if notice.version > newest:
            self._queue.append(notice)
            self._wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        last_send = -MIN_GAP_SECONDS
        try:
            await self._confirmed.wait()
            while True:
                await self._wake.wait()
                self._wake.clear()
                # At most one message per MIN_GAP_SECONDS: in a busy org, what arrives meanwhile goes out merged,
                # so the sends (one syscall per socket each) stop growing with the org's rate of changes.
                wait = last_send + MIN_GAP_SECONDS - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not self._queue or self.revoked.is_set():
                    continue
                waiting = list(self._queue)
                self._queue.clear()
                # A timeout scope, not wait_for: on Python 3.11 wait_for wraps every send in a task of its own, and
                # a busy org's notice is sent to each of its sockets.
                async with asyncio.timeout(self._send_timeout):
                    await self._send(merged_text(waiting, self.device_id, self.changes))
                self._sent = waiting[-1].version
                last_send = loop.time()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 — a closed or stuck socket: drop it, the client reconnects and pulls
            log.info("dropping a socket of org %s: %s", self.org_id, exc.__class__.__name__)
        finally:
            self.closed.set()


class Hub:
    def __init__(self, database_url: str, *, send_timeout: float = 10.0) -> None:
        self.database_url = database_url
        self.send_timeout = send_timeout
        self._subs: dict[str, set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self._conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self.connected = asyncio.Event()  # set while LISTENing; tests and /health may look at it
        self.reconnects = 0

    # ---- life cycle ------------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen before the process takes traffic (raises if PostgreSQL cannot be reached at all)."""
        conn = await self._connect()
        self._task = asyncio.create_task(self._run(conn), name="realtime-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for subs in list(self._subs.values()):
            for sub in list(subs):
                self.unregister(sub)

    # ---- sockets ----------------------------------------------------------------------------------------------
    def register(
        self, org_id: str, device_id: str, member_id: str, send: Send, *, changes: bool = False
    ) -> Subscription:
        """A held subscription (see ``Subscription``): ``confirm()`` it once the caller is confirmed."""
        sub = Subscription(org_id, device_id, send, self.send_timeout, changes=changes, member_id=member_id, held=True)
        self._subs.setdefault(org_id, set()).add(sub)
        sub.task = asyncio.create_task(sub.run(), name=f"socket-{org_id}")
        sub.task.add_done_callback(lambda _: self._forget(sub))
        return sub

    def unregister(self, sub: Subscription) -> None:
        if sub.task is not None and not sub.task.done():
            sub.task.cancel()
        self._forget(sub)

    def _forget(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.org_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.org_id]
        sub.closed.set()

    def socket_count(self) -> int:
        return sum(len(s) for s in self._subs.values())

    def publish(self, org_id: str, notice: Notice) -> None:
        for sub in list(self._subs.get(org_id, ())):
            sub.offer(notice)

    def revoke(self, revocation: Revocation) -> int:
        """Stop the sockets of a revoked device or removed member; returns how many."""
        stopped = 0
        for sub in list(self._subs.get(revocation.org_id, ())):
            if sub.revoked.is_set():  # a member's removal also revokes each of their devices: heard twice
                continue
            if sub.device_id == revocation.device_id or (
                revocation.member_id is not None and sub.member_id == revocation.member_id
            ):
                sub.revoke()
                stopped += 1
        if stopped:
            log.info("closing %d socket(s) of org %s: access revoked", stopped, revocation.org_id)
        return stopped

    # ---- the listener -----------------------------------------------------------------------------------------
    async def _connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        conn = await psycopg.AsyncConnection.connect(
            self.database_url, autocommit=True, connect_timeout=5, application_name=APPLICATION_NAME
        )
        await conn.execute(f"LISTEN {CHANNEL}")
        await conn.execute(f"LISTEN {ACCESS_CHANNEL}")
        self._conn = conn
        self.connected.set()
        return conn

    async def _run(self, conn: psycopg.AsyncConnection[tuple[object, ...]] | None) -> None:
        attempt = 0
        try:
            while True:
                if conn is None:
                    try:
                        conn = await self._connect()
                    except (psycopg.Error, OSError) as exc:
                        delay = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)]
                        attempt += 1
                        log.warning("realtime listener cannot reconnect (%s); retrying in %.2f s", exc, delay)
                        await asyncio.sleep(delay)
                        continue
                    attempt = 0
                    self.reconnects += 1
                    log.info("realtime listener reconnected")
                    # Notices sent while we were away are lost: tell every socket its org's version now.
                    await self._catch_up(conn)
                try:
                    await self._listen(conn)
                except (psycopg.Error, OSError) as exc:
                    log.warning("realtime listener lost PostgreSQL: %s", exc)
                self.connected.clear()
                with contextlib.suppress(Exception):
                    await conn.close()
                conn = self._conn = None
        finally:
            self.connected.clear()
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()

    async def _listen(self, conn: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
        while True:
            async for message in conn.notifies(timeout=HEALTH_CHECK_SECONDS):
                if message.channel == ACCESS_CHANNEL:
                    revocation = parse_revocation(message.payload)
                    if revocation is not None:
                        self.revoke(revocation)
                    continue
                parsed = parse_payload(message.payload)
                if parsed is not None:
                    self.publish(*parsed)
            await conn.execute("SELECT 1")  # quiet for a while: make sure the connection is still alive

    async def _catch_up(self, conn: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
        """After a reconnect: access notices missed meanwhile are found by asking, before anyone hears a version."""
        org_ids = list(self._subs)
        if not org_ids:
            return
        async with conn.transaction():
            for org_id in org_ids:
                devices = sorted({sub.device_id for sub in self._subs.get(org_id, ())})
                await conn.execute("SELECT set_config('parley.org_id', %s, true)", (org_id,))
                cur = await conn.execute(
                    "SELECT d.id FROM devices d JOIN members m ON m.org_id = d.org_id AND m.id = d.member_id"
                    " WHERE d.org_id = %s AND d.id = ANY(%s)"
                    " AND (d.revoked_at IS NOT NULL OR m.removed_at IS NOT NULL)",
                    (org_id, devices),
                )
                for (device_id,) in await cur.fetchall():
                    self.revoke(Revocation(org_id, device_id=str(device_id)))
                cur = await conn.execute("SELECT version FROM orgs WHERE id = %s", (org_id,))
                found = await cur.fetchone()
                if found is not None:
                    self.publish(org_id, Notice.of(int(str(found[0]))))
