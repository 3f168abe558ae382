"""Sync server figures: pull and push throughput next to raw PostgreSQL, latency under 200 clients, notice delay.

Run: ``.venv/bin/python bench/sync_bench.py`` (``--rows``, ``--clients``, ``--seconds``, ``--samples``). It makes
its own PostgreSQL cluster in a temp folder and runs two real ``python -m sync_server`` processes on one database
(A takes the HTTP traffic, B holds the WebSockets, so a notice crosses processes through NOTIFY as in production).
Baselines run in the same cluster in the same run: a raw psycopg SELECT of the same rows for pull, and
``executemany`` / ``COPY`` into a table shaped like ``sync_rows`` (no RLS, no merge) for push, taking turns with
the API's pushes batch by batch.

Simulated clients (``bench/sync_clients.py``) are asyncio tasks sharing this process, each with its own device and
token (minted with the test secret, as sign-in would, without paying Argon2 200 times). The headline run is
app-like: every device keeps its version socket open, makes a local change every ``--change-every`` seconds on
average, pushes and pulls as the app's sync loop does, applies the rows a notice carries when they lead on from
its cursor, and pulls on any other notice. Two stress runs follow (push and
pull every 0.5-1.5 s per device; in orgs of 10, then all in one org) to show what the server serves at saturation.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.sync.protocol import MAX_PUSH_CHANGES, Session
from bench import sync_clients
from sync_server import tokens
from sync_server.pgcluster import Cluster
from tests.support.sync_server import SECRET, ServerProcess, fresh_database

PASSWORD = "benchmark password 1"


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94] if len(values) > 1 else values[0]


def contact_row(i: int) -> dict[str, Any]:
    return {
        "name": f"Contact {i}",
        "phone": f"+44 7700 {i:06}",
        "email": f"contact{i}@example.com",
        "lifecycle": "lead",
        "lead_score": i % 100,
        "tags": '["vip", "bench"]',
        "created_at": 1_700_000_000_000 + i,
        "updated_at": 1_700_000_000_000 + i,
    }


def table_row(name: str, figures: list[tuple[str, str, str, str]]) -> str:
    lines = [f"\n{name}", "| Figure | Value | Baseline | Ratio |", "|---|---:|---:|---:|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in figures]
    return "\n".join(lines)


class Bench:
    def __init__(
        self, args: argparse.Namespace, cluster: Cluster, database_url: str, a: ServerProcess, b: ServerProcess
    ):
        self.args = args
        self.cluster = cluster
        self.database_url = database_url
        self.a = a
        self.b = b
        self.secret = base64.b64decode(SECRET)
        self.session: Session | None = None

    # ---- set-up ------------------------------------------------------------------------------------------------
    def signup(self) -> Session:
        body = {
            "org_name": "Bench Org",
            "name": "Bench Owner",
            "email": "owner@bench.example",
            "password": PASSWORD,
            "device_name": "bench",
        }
        response = httpx.post(self.a.url + "/api/orgs", json=body, timeout=30)
        response.raise_for_status()
        return Session.model_validate(response.json())

    async def devices(self, session: Session, count: int) -> list[str]:
        """``count`` more devices of the owner, each with its own access token (what a login would hand out)."""
        rows = [(tokens.new_id(), os.urandom(32)) for _ in range(count)]
        async with await psycopg.AsyncConnection.connect(self.database_url) as conn, conn.transaction():
            await conn.execute("SELECT set_config('parley.org_id', %s, true)", (session.org.id,))
            async with conn.cursor() as cur:
                await cur.executemany(
                    "INSERT INTO devices (org_id, id, member_id, name, refresh_hash, refresh_expires_at) "
                    "VALUES (%s, %s, %s, 'bench client', %s, now() + interval '1 day')",
                    [(session.org.id, dev, session.user.id, h) for dev, h in rows],
                )
        exp = int(time.time()) + 3600
        return [
            tokens.issue_access(
                self.secret,
                tokens.AccessClaims(org=session.org.id, sub=session.user.id, dev=dev, role="owner", exp=exp),
            )
            for dev, _ in rows
        ]

    async def team_tokens(self, teams: int, size: int) -> list[str]:
        """``teams`` more orgs of ``size`` devices each, made in the database as sign-up would (one member each)."""
        exp = int(time.time()) + 3600
        out: list[str] = []
        async with await psycopg.AsyncConnection.connect(self.database_url) as conn:
            for _ in range(teams):
                org, member = tokens.new_id(), tokens.new_id()
                devices = [tokens.new_id() for _ in range(size)]
                async with conn.transaction():
                    await conn.execute("SELECT set_config('parley.org_id', %s, true)", (org,))
                    await conn.execute("INSERT INTO orgs (id, name) VALUES (%s, 'Bench team')", (org,))
                    await conn.execute(
                        "INSERT INTO members (org_id, id, email, name, role, password_hash) "
                        "VALUES (%s, %s, %s, 'Bench', 'owner', 'unused')",
                        (org, member, f"{member}@bench.example"),
                    )
                    async with conn.cursor() as cur:
                        await cur.executemany(
                            "INSERT INTO devices (org_id, id, member_id, name, refresh_hash, refresh_expires_at) "
                            "VALUES (%s, %s, %s, 'bench client', %s, now() + interval '1 day')",
                            [(org, dev, member, os.urandom(32)) for dev in devices],
                        )
                claims = [tokens.AccessClaims(org=org, sub=member, dev=dev, role="owner", exp=exp) for dev in devices]
                out += [tokens.issue_access(self.secret, c) for c in claims]
        return out

    # ---- push ---------------------------------------------------------------------------------------------------
    async def push_throughput(self, token: str) -> tuple[float, float, float]:
        """Rows/s of the API push and of raw executemany and COPY of the same rows, 1000 per request/transaction.

        The three take turns batch by batch (push batch 1, executemany batch 1, COPY batch 1, push batch 2, ...), so a
        change in the machine's speed during the run (it moves these figures by half on this VM) falls on all three
        alike instead of on whichever phase it happened in. The raw rows go to tables shaped like ``sync_rows`` (no
        RLS, no merge) holding what the server stores for a new row: its values and one ``*`` field stamp.
        Request bodies and raw row values are encoded before the clock starts: every figure times bytes ready to
        rows committed, not this generator's JSON encoding.
        """
        rows: int = self.args.rows
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        batches = [range(first, min(rows, first + MAX_PUSH_CHANGES)) for first in range(0, rows, MAX_PUSH_CHANGES)]
        bodies = [
            json.dumps(
                {
                    "protocol": 2,
                    "known_version": 0,
                    "changes": [
                        {"seq": i + 1, "table": "contacts", "id": f"c{i:07}", "op": "insert", "data": contact_row(i)}
                        for i in batch
                    ],
                }
            ).encode()
            for batch in batches
        ]
        records = [
            [
                (
                    "org",
                    "contacts",
                    f"c{i:07}",
                    i + 1,
                    False,
                    False,
                    json.dumps(contact_row(i)),
                    f'{{"*": [{i + 1}, "d"]}}',
                )
                for i in batch
            ]
            for batch in batches
        ]
        seconds = {"push": 0.0, "executemany": 0.0, "copy": 0.0}
        async with (
            httpx.AsyncClient(base_url=self.a.url, timeout=120) as client,
            await psycopg.AsyncConnection.connect(self.database_url) as conn,
        ):
            for table in ("raw_many", "raw_copy"):
                await conn.execute(f"DROP TABLE IF EXISTS {table}")
                await conn.execute(
                    f"CREATE TABLE {table} (org_id text, tbl text, id text, version bigint, deleted boolean, "
                    "purged boolean, data jsonb, field_versions jsonb, changed_at timestamptz DEFAULT now(), "
                    "PRIMARY KEY (org_id, tbl, id))"
                )
                await conn.execute(f"CREATE UNIQUE INDEX {table}_version ON {table} (org_id, version)")
            await conn.commit()
            for body, batch in zip(bodies, records, strict=True):
                started = time.perf_counter()
                response = await client.post("/api/sync/push", content=body, headers=headers)
                response.raise_for_status()
                seconds["push"] += time.perf_counter() - started
                started = time.perf_counter()
                async with conn.cursor() as cur:
                    await cur.executemany(
                        "INSERT INTO raw_many (org_id, tbl, id, version, deleted, purged, data, field_versions) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb)",
                        batch,
                    )
                await conn.commit()
                seconds["executemany"] += time.perf_counter() - started
                started = time.perf_counter()
                async with (
                    conn.cursor() as cur,
                    cur.copy(
                        "COPY raw_copy (org_id, tbl, id, version, deleted, purged, data, field_versions) FROM STDIN"
                    ) as copy,
                ):
                    for record in batch:
                        await copy.write_row(record)
                await conn.commit()
                seconds["copy"] += time.perf_counter() - started
            for table in ("raw_many", "raw_copy"):
                await conn.execute(f"DROP TABLE {table}")
            await conn.commit()
        return rows / seconds["push"], rows / seconds["executemany"], rows / seconds["copy"]

    # ---- pull ---------------------------------------------------------------------------------------------------
    async def pull_throughput(self, token: str) -> tuple[float, int]:
        headers = {"Authorization": f"Bearer {token}"}
        count, cursor = 0, 0
        async with httpx.AsyncClient(base_url=self.a.url, timeout=120) as client:
            started = time.perf_counter()
            while True:
                response = await client.get(
                    "/api/sync/pull", params={"protocol": 2, "cursor": cursor, "limit": 10_000}, headers=headers
                )
                response.raise_for_status()
                page = response.json()  # decoded, as the app must
                count += len(page["rows"])
                cursor = page["cursor"]
                if not page["has_more"]:
                    break
            return count / (time.perf_counter() - started), count

    async def raw_pull(self, org_id: str) -> float:
        async with await psycopg.AsyncConnection.connect(self.database_url) as conn, conn.transaction():
            await conn.execute("SELECT set_config('parley.org_id', %s, true)", (org_id,))
            started = time.perf_counter()
            cur = await conn.execute(
                "SELECT tbl, id, version, deleted, purged, data FROM sync_rows WHERE org_id = %s ORDER BY version",
                (org_id,),
            )
            rows = await cur.fetchall()
            return len(rows) / (time.perf_counter() - started)

    # ---- 200 clients --------------------------------------------------------------------------------------------
    async def sequential(self, token: str) -> tuple[list[float], list[float]]:
        """One client alone, no wait between requests: the latency floor the loaded figures compare with."""
        push_ms: list[float] = []
        pull_ms: list[float] = []
        headers = {"Authorization": f"Bearer {token}"}
        cursor = 0
        async with httpx.AsyncClient(base_url=self.a.url, timeout=60) as client:
            for seq in range(1, self.args.samples + 1):
                change = {
                    "seq": seq,
                    "table": "contacts",
                    "id": f"c{seq:07}",
                    "op": "update",
                    "data": {"lead_score": 1},
                }
                t0 = time.perf_counter()
                response = await client.post(
                    "/api/sync/push", json={"protocol": 2, "known_version": 0, "changes": [change]}, headers=headers
                )
                push_ms.append((time.perf_counter() - t0) * 1000)
                version = response.json()["version"]
                cursor = cursor or version - 1
                t0 = time.perf_counter()
                response = await client.get(
                    "/api/sync/pull", params={"protocol": 2, "cursor": cursor, "limit": 2000}, headers=headers
                )
                pull_ms.append((time.perf_counter() - t0) * 1000)
                cursor = response.json()["cursor"]
        return push_ms, pull_ms

    async def raw_commit_ms(self) -> list[float]:
        """A one-row INSERT and COMMIT over psycopg: the durable-commit floor under every push."""
        samples: list[float] = []
        async with await psycopg.AsyncConnection.connect(self.database_url) as conn:
            await conn.execute("CREATE TABLE raw_commits (id bigint PRIMARY KEY, data jsonb)")
            await conn.commit()
            for n in range(self.args.samples):
                t0 = time.perf_counter()
                await conn.execute("INSERT INTO raw_commits VALUES (%s, %s::jsonb)", (n, '{"lead_score": 1}'))
                await conn.commit()
                samples.append((time.perf_counter() - t0) * 1000)
            await conn.execute("DROP TABLE raw_commits")
            await conn.commit()
        return samples

    # ---- notices ------------------------------------------------------------------------------------------------
    async def notice_latency(self, pusher: str, listener: str) -> list[float]:
        ws_url = self.b.url.replace("http://", "ws://") + "/api/sync/socket"
        samples: list[float] = []
        headers = {"Authorization": f"Bearer {pusher}"}
        async with connect(ws_url) as ws, httpx.AsyncClient(base_url=self.a.url, timeout=30) as client:
            await ws.send(json.dumps({"type": "auth", "access_token": listener}))
            json.loads(await ws.recv())
            for seq in range(1, self.args.samples + 1):
                change = {"seq": seq, "table": "contacts", "id": "notice", "op": "update", "data": {"name": str(seq)}}
                t0 = time.perf_counter()
                response = await client.post(
                    "/api/sync/push", json={"protocol": 2, "known_version": 0, "changes": [change]}, headers=headers
                )
                version = response.json()["version"]
                while json.loads(await asyncio.wait_for(ws.recv(), 10))["version"] < version:
                    pass
                samples.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.02)
        return samples

    def server_seconds(self, name: str) -> tuple[float, float]:
        """(sum, count) of one of server A's latency histograms: the time spent inside the server per request."""
        text = httpx.get(self.a.url + "/metrics", timeout=10).text
        total = count = 0.0
        for line in text.splitlines():
            if line.startswith(f"parley_{name}_sum"):
                total += float(line.rsplit(" ", 1)[1])
            elif line.startswith(f"parley_{name}_count"):
                count += float(line.rsplit(" ", 1)[1])
        return total, count

    def server_mean_ms(self, before: tuple[float, float], name: str) -> str:
        total, count = self.server_seconds(name)
        if count <= before[1]:
            return ""
        return f"server mean {(total - before[0]) / (count - before[1]) * 1000:.1f}"

    async def run(self) -> None:
        session = self.signup()
        writer, reader, pusher, listener, alone, *client_tokens = await self.devices(session, 5 + self.args.clients)
        push_rate, raw_many, raw_copy = await self.push_throughput(writer)
        pull_rate, pulled = await self.pull_throughput(reader)
        raw_pull = await self.raw_pull(session.org.id)
        notices = await self.notice_latency(pusher, listener)
        alone_push, alone_pull = await self.sequential(alone)
        commits = await self.raw_commit_ms()
        team_size = self.args.team
        teams = await self.team_tokens(max(1, self.args.clients // team_size), team_size)
        loads = [
            (f"in {len(teams) // team_size} orgs of {team_size}", teams, "app"),
            ("all in one org", client_tokens, "app"),
            (f"in {len(teams) // team_size} orgs of {team_size}", teams, "stress"),
            ("all in one org", client_tokens, "stress"),
        ]
        load_rows: list[tuple[str, str, str, str]] = [
            (
                "1 client alone: push p50 / p95 (ms)",
                f"{statistics.median(alone_push):.1f} / {p95(alone_push):.1f}",
                f"raw 1-row INSERT + COMMIT {statistics.median(commits):.1f} / {p95(commits):.1f}",
                "",
            ),
            (
                "1 client alone: pull p50 / p95 (ms)",
                f"{statistics.median(alone_pull):.1f} / {p95(alone_pull):.1f}",
                "",
                "",
            ),
        ]
        for label, group, model in loads:
            push_before = self.server_seconds("sync_push_seconds")
            pull_before = self.server_seconds("sync_pull_seconds")
            urls = [self.a.url, self.b.url]
            if model == "app":
                load = await sync_clients.app_like(
                    urls, group, seconds=self.args.seconds, change_every=self.args.change_every, rows=self.args.rows
                )
                what = f"{len(group)} devices {label}, app-like"
            else:
                load = await sync_clients.stress(
                    urls, group, seconds=self.args.seconds, think=self.args.think, rows=self.args.rows
                )
                what = f"{len(group)} devices {label}, stress"
            if load.failures:
                print(f"{what}: failed requests {dict(load.failures)}")
            load_rows += [
                (
                    f"{what}: push p50 / p95 (ms), {len(load.push_ms):,} pushes",
                    f"{statistics.median(load.push_ms):.1f} / {p95(load.push_ms):.1f}",
                    self.server_mean_ms(push_before, "sync_push_seconds"),
                    "",
                ),
                (
                    f"{what}: pull p50 / p95 (ms), {len(load.pull_ms):,} pulls",
                    f"{statistics.median(load.pull_ms):.1f} / {p95(load.pull_ms):.1f}",
                    self.server_mean_ms(pull_before, "sync_pull_seconds"),
                    "",
                ),
                (
                    f"{what}: requests served per second, failed",
                    f"{load.requests_per_second:,.0f}, {sum(load.failures.values())}",
                    f"load generator CPU {load.generator_cpu * 100:.0f} %",
                    "",
                ),
            ]
            if model == "app":
                load_rows.append(
                    (
                        f"{what}: local changes made, version notices received, applied without a pull",
                        f"{load.changes:,}, {load.notices:,}, {load.applied:,}",
                        "",
                        "",
                    )
                )
        rows = self.args.rows
        print(
            table_row(
                f"Throughput ({rows:,} contact rows, pushes of {MAX_PUSH_CHANGES}, pull pages of 10,000)",
                [
                    (
                        "push via API (rows/s)",
                        f"{push_rate:,.0f}",
                        f"executemany {raw_many:,.0f}",
                        f"{push_rate / raw_many:.2f}",
                    ),
                    (
                        "push via API (rows/s)",
                        f"{push_rate:,.0f}",
                        f"COPY {raw_copy:,.0f}",
                        f"{push_rate / raw_copy:.2f}",
                    ),
                    (
                        f"initial pull via API, {pulled:,} rows (rows/s)",
                        f"{pull_rate:,.0f}",
                        f"raw SELECT {raw_pull:,.0f}",
                        f"{pull_rate / raw_pull:.2f}",
                    ),
                ],
            )
        )
        print(
            table_row(
                f"{self.args.clients} concurrent devices for {self.args.seconds:g} s each run. App-like: socket "
                f"open, a local change every {self.args.change_every:g} s on average, push it and pull; apply a "
                "notice's rows that lead on from the cursor, pull on any other notice above it; sync every 30 s "
                "(5 s warm-up not counted). Stress: push 1-5 changes, pull, wait "
                f"{0.5 * self.args.think:g}-{1.5 * self.args.think:g} s, repeat. Calls alternate between processes A "
                "and B; server means are A's",
                load_rows,
            )
        )
        print(
            table_row(
                f"Change to another process's WebSocket notice ({len(notices)} samples, push on A, socket on B)",
                [
                    (
                        "p50 / p95 / max (ms)",
                        f"{statistics.median(notices):.1f} / {p95(notices):.1f} / {max(notices):.1f}",
                        "",
                        "",
                    )
                ],
            )
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--team", type=int, default=10, help="devices per org in the spread-out client run")
    parser.add_argument("--think", type=float, default=1.0, help="stress: mean wait of a device between syncs (s)")
    parser.add_argument(
        "--change-every", type=float, default=10.0, help="app-like: mean seconds between a device's local changes"
    )
    parser.add_argument("--quick", action="store_true", help="10,000 rows, 50 clients, 5 s, 30 samples")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.clients, args.seconds, args.samples = 10_000, 50, 5.0, 30
    print(f"sync_bench: {' '.join(sys.argv[1:]) or '(defaults)'}; load average at start {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="parley-sync-bench-") as tmp:
        root = Path(tmp)
        cluster = Cluster.ensure(root / "pg")
        servers: list[ServerProcess] = []
        try:
            database_url = fresh_database(cluster, "bench")
            env = {"PARLEY_SYNC_POOL_MAX": "20"}
            a = ServerProcess(database_url, root / "a.log", env_extra=env).start()
            servers.append(a)
            b = ServerProcess(database_url, root / "b.log", env_extra=env).start()
            servers.append(b)
            asyncio.run(Bench(args, cluster, database_url, a, b).run())
        finally:
            for server in servers:
                server.stop()
            cluster.destroy()
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
