"""The realtime hub: one LISTEN connection per process fanning "org version N" out to this process's WebSockets.

Every push notifies ``parley_sync`` with ``<org>:<version>`` at commit, so every process behind the load balancer
hears every org's changes through PostgreSQL and nothing else is shared between processes.

Only the newest version matters to a client (it pulls everything above its cursor), so each socket has a one-slot
mailbox that later notices overwrite, and its own sender task: the reader never waits for a socket, a slow socket
coalesces notices instead of queueing them, and one that cannot take a notice in ``send_timeout`` is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import psycopg

log = logging.getLogger(__name__)

CHANNEL = "parley_sync"
BACKOFF_SECONDS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
HEALTH_CHECK_SECONDS = 15.0  # a silently dead connection (no RST) is found by a query after this much quiet

Send = Callable[[int], Awaitable[None]]


class Subscription:
    """One registered socket. ``closed`` is set when the hub dropped it (slow or broken) or it was unregistered."""

    def __init__(self, org_id: str, send: Send, send_timeout: float) -> None:
        self.org_id = org_id
        self._send = send
        self._send_timeout = send_timeout
        self._latest = -1
        self._sent = -1
        self._wake = asyncio.Event()
        self.closed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def offer(self, version: int) -> None:
        """Never blocks: raises the mailbox's version and wakes the sender."""
        if version > self._latest:
            self._latest = version
            self._wake.set()

    async def run(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                version = self._latest
                if version <= self._sent:
                    continue
                await asyncio.wait_for(self._send(version), self._send_timeout)
                self._sent = version
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a closed or stuck socket: drop it, the client reconnects and pulls
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
    def register(self, org_id: str, send: Send) -> Subscription:
        sub = Subscription(org_id, send, self.send_timeout)
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

    def publish(self, org_id: str, version: int) -> None:
        for sub in list(self._subs.get(org_id, ())):
            sub.offer(version)

    # ---- the listener -----------------------------------------------------------------------------------------
    async def _connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        conn = await psycopg.AsyncConnection.connect(self.database_url, autocommit=True, connect_timeout=5)
        await conn.execute(f"LISTEN {CHANNEL}")
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
            async for notice in conn.notifies(timeout=HEALTH_CHECK_SECONDS):
                org_id, _, version = notice.payload.rpartition(":")
                if org_id and version.isdigit():
                    self.publish(org_id, int(version))
            await conn.execute("SELECT 1")  # quiet for a while: make sure the connection is still alive

    async def _catch_up(self, conn: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
        org_ids = list(self._subs)
        if not org_ids:
            return
        async with conn.transaction():
            for org_id in org_ids:
                await conn.execute("SELECT set_config('parley.org_id', %s, true)", (org_id,))
                cur = await conn.execute("SELECT version FROM orgs WHERE id = %s", (org_id,))
                found = await cur.fetchone()
                if found is not None:
                    self.publish(org_id, int(str(found[0])))
