"""Simulated sync clients for ``bench/sync_bench.py``: hundreds of devices as asyncio tasks in one process.

Two ways of using the server:
- ``app_like``: what the app's ``SyncService`` does. Each device has its version socket open (on the other process
  than its HTTP calls, so notices cross processes through NOTIFY), makes a local change every ``change_every``
  seconds on average (exponentially spread), notices it within a second (the app looks at its outbox every second),
  then pushes it and pulls until caught up. Notices above its cursor wake it: with nothing to push it applies those
  that carry rows and chain on from its cursor (no request), as the app's loop does, and pulls only if that does
  not bring it to the newest version heard; it syncs every 30 s regardless. Passes of one device never overlap;
  wake-ups during a pass fold into one more pass.
- ``stress``: every device pushes 1-5 changes and pulls, then waits ``think`` × 0.5-1.5 s, over and over: far more
  requests per device than the app makes, to find what the server can serve.

Requests go through aiohttp, whose CPU per request is a fraction of httpx's: the generator shares the machine with
the servers it measures, and every millisecond it burns is one they do not get.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from websockets.asyncio.client import connect

POLL_SECONDS = 30.0  # app/sync/service.py syncs at least this often
OUTBOX_LOOK_SECONDS = 1.0  # ... and looks at its outbox this often


_last_seq: dict[str, int] = {}  # per device token


@dataclass
class Load:
    push_ms: list[float] = field(default_factory=list)
    pull_ms: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    notices: int = 0
    applied: int = 0  # notices whose rows a device applied instead of pulling
    changes: int = 0
    seconds: float = 0.0
    generator_cpu: float = 0.0  # share of one core used by this process while the load ran

    @property
    def requests_per_second(self) -> float:
        return (len(self.push_ms) + len(self.pull_ms)) / self.seconds if self.seconds else 0.0


class _Device:
    """One device's HTTP calls, timed; samples count only after the warm-up."""

    def __init__(self, http: aiohttp.ClientSession, token: str, load: Load, measure_from: float) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}
        self.load = load
        self.measure_from = measure_from
        self.token = token

    def _keep(self, into: list[float], started: float) -> None:
        if started >= self.measure_from:
            into.append((time.perf_counter() - started) * 1000)

    async def _call(self, method: str, path: str, into: list[float], **kwargs: Any) -> Any:
        """The decoded answer of one timed call, or None (counted as a failure) when it is not a 200."""
        started = time.perf_counter()
        async with self.http.request(method, path, headers=self.headers, **kwargs) as response:
            if response.status != 200:
                self.load.failures[f"{path.rsplit('/', 1)[-1]} {response.status}"] += 1
                return None
            answer = await response.json()
        self._keep(into, started)
        return answer

    async def push(self, changes: list[dict[str, Any]]) -> int | None:
        body = {"protocol": 2, "known_version": 0, "changes": changes}
        answer = await self._call("POST", "/api/sync/push", self.load.push_ms, json=body)
        return None if answer is None else int(answer["version"])

    async def pull(self, cursor: int) -> tuple[int, bool] | None:
        params = {"protocol": "1", "cursor": str(cursor), "limit": "2000"}
        page = await self._call("GET", "/api/sync/pull", self.load.pull_ms, params=params)
        return None if page is None else (int(page["cursor"]), bool(page["has_more"]))

    def changes(self, count: int, rows: int, value: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(count):
            # A device's seq only ever rises, across runs too: the server acknowledges a seq it has seen without
            # writing anything, so a second run starting again at 1 would measure no-op pushes and no notices.
            seq = _last_seq[self.token] = _last_seq.get(self.token, 0) + 1
            row = random.randrange(rows)
            out.append({"seq": seq, "table": "contacts", "id": f"c{row:07}", "op": "update",
                        "data": {"lead_score": value}})  # fmt: skip
        return out


async def _run(urls: list[str], body: Any) -> Load:
    connector_args = {"limit": 0, "keepalive_timeout": 60}
    async with (
        aiohttp.ClientSession(base_url=urls[0], connector=aiohttp.TCPConnector(**connector_args)) as on_a,
        aiohttp.ClientSession(base_url=urls[1], connector=aiohttp.TCPConnector(**connector_args)) as on_b,
    ):
        return await body((on_a, on_b))


async def stress(urls: list[str], tokens: list[str], *, seconds: float, think: float, rows: int) -> Load:
    load = Load(seconds=seconds)
    stop = time.monotonic() + seconds
    measure_from = time.perf_counter()

    async def device(n: int, http: aiohttp.ClientSession, token: str) -> None:
        me = _Device(http, token, load, measure_from)
        cursor: int | None = None
        # Arrivals spread over one wait, as clients of a running team are: a synchronised start would measure a
        # burst of first pushes instead of the steady state.
        await asyncio.sleep(random.uniform(0, 1.5 * think))
        while time.monotonic() < stop:
            try:
                changes = me.changes(random.randint(1, 5), rows, n)
                version = await me.push(changes)
                if version is None:
                    await asyncio.sleep(1.0)
                    continue
                if cursor is None:
                    cursor = version - len(changes)  # steady state: start near the head, not with an initial pull
                page = await me.pull(cursor)
                if page is None:
                    await asyncio.sleep(1.0)
                    continue
                cursor = page[0]
            except aiohttp.ClientError as exc:
                load.failures[type(exc).__name__] += 1
                await asyncio.sleep(1.0)
            await asyncio.sleep(random.uniform(0.5, 1.5) * think)

    async def body(sessions: tuple[aiohttp.ClientSession, aiohttp.ClientSession]) -> Load:
        cpu = time.process_time()
        await asyncio.gather(*(device(n, sessions[n % 2], t) for n, t in enumerate(tokens)))
        load.generator_cpu = (time.process_time() - cpu) / seconds
        return load

    return await _run(urls, body)


async def app_like(
    urls: list[str], tokens: list[str], *, seconds: float, change_every: float, rows: int, warmup: float = 5.0
) -> Load:
    load = Load(seconds=seconds)
    started = time.monotonic()
    stop = started + warmup + seconds
    measure_from = time.perf_counter() + warmup  # the first passes of all devices are a start-up burst, not load

    async def device(n: int, http: aiohttp.ClientSession, token: str) -> None:
        me = _Device(http, token, load, measure_from)
        wake, online = asyncio.Event(), asyncio.Event()
        outbox: list[dict[str, Any]] = []
        cursor = heard = 0  # heard: the highest version a notice announced
        held: list[dict[str, Any]] = []  # notices with rows heard since the last pass, as the app keeps them
        loop = asyncio.get_running_loop()
        socket_url = urls[(n + 1) % 2].replace("http://", "ws://") + "/api/sync/socket?changes=1"

        async def local_changes() -> None:
            while time.monotonic() < stop:
                await asyncio.sleep(random.expovariate(1 / change_every))
                outbox.extend(me.changes(1, rows, n))
                if time.monotonic() >= started + warmup:
                    load.changes += 1
                loop.call_later(random.uniform(0, OUTBOX_LOOK_SECONDS), wake.set)

        async def notices() -> None:
            nonlocal cursor, heard
            async with connect(socket_url) as ws:
                await ws.send(json.dumps({"type": "auth", "access_token": token}))
                # The socket's first message is the org's version: the device starts caught up to it (steady
                # state, as a device that synced before; an initial download is measured by the pull figure).
                cursor = json.loads(await ws.recv())["version"]
                online.set()
                async for message in ws:
                    load.notices += 1
                    notice = json.loads(message)
                    heard = max(heard, notice["version"])
                    if notice["version"] > cursor:
                        if "rows" in notice:
                            held.append(notice)
                        wake.set()

        def apply_held() -> bool:
            """The app's ``_caught_up_by_notices``: apply the held notices that chain on from the cursor (each a
            local transaction in the app, no request); true when no pull is needed now."""
            nonlocal cursor
            start = cursor
            notices = sorted(held, key=lambda x: int(x["version"]))
            held.clear()
            for notice in notices:
                if notice["since"] == cursor:
                    cursor = notice["version"]
                    load.applied += 1
            return cursor >= heard or (cursor > start and bool(held))

        async def passes() -> None:
            nonlocal cursor
            await online.wait()
            while time.monotonic() < stop:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), POLL_SECONDS)
                wake.clear()
                if not outbox and held and apply_held():
                    continue
                held.clear()  # the pull brings them; notices heard from now on chain on from where it ends
                try:
                    if outbox:
                        batch = outbox[:]
                        if await me.push(batch) is not None:
                            del outbox[: len(batch)]
                    while True:
                        page = await me.pull(cursor)
                        if page is None:
                            break
                        cursor, more = page
                        if not more:
                            break
                except aiohttp.ClientError as exc:
                    load.failures[type(exc).__name__] += 1

        await asyncio.sleep(random.uniform(0, 2.0))  # devices come online over a couple of seconds
        tasks = [asyncio.create_task(job()) for job in (local_changes, notices, passes)]
        await asyncio.sleep(max(0.0, stop - time.monotonic()))
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception) and not isinstance(result, asyncio.CancelledError):
                load.failures[type(result).__name__] += 1

    async def body(sessions: tuple[aiohttp.ClientSession, aiohttp.ClientSession]) -> Load:
        await asyncio.sleep(0)
        cpu = time.process_time()
        await asyncio.gather(*(device(n, sessions[n % 2], t) for n, t in enumerate(tokens)))
        load.generator_cpu = (time.process_time() - cpu) / (warmup + seconds)
        return load

    return await _run(urls, body)
