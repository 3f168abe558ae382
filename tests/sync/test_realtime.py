"""The version socket across real server processes: a push through one process reaches sockets on another through
PostgreSQL's NOTIFY (with its rows when small), the hub outlives a PostgreSQL restart, and bad tokens are closed
with the documented codes.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.sync.protocol import Session
from sync_server import sync_engine, tokens
from tests.support.sync_fixtures import private_cluster, signup, unique_email
from tests.support.sync_server import SECRET, ServerProcess, fresh_database
from tests.support.waiting import async_wait_until
from tests.sync.test_push_pull import contact, pull, pushed, second_device

DELIVERY_BOUND = 5.0  # generous for a loaded shared machine; the benchmark measures the real figure


@pytest.fixture(scope="module")
def second_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(database_url, tmp_path_factory.mktemp("server-b") / "server.log").start()
    try:
        yield proc
    finally:
        proc.stop()


def ws_url(server: ServerProcess) -> str:
    return server.url.replace("http://", "ws://") + "/api/sync/socket"


async def open_socket(
    server: ServerProcess, session: Session, *, changes: bool = False
) -> tuple[ClientConnection, int]:
    """A signed-in socket and the version it announced first (``changes``: asking for rows in notices)."""
    ws = await connect(ws_url(server) + ("?changes=1" if changes else ""), open_timeout=10)
    await ws.send(json.dumps({"type": "auth", "access_token": session.access_token}))
    first = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert first["type"] == "version"
    return ws, int(first["version"])


async def notice_where(
    ws: ClientConnection, accept: Callable[[dict[str, Any]], bool], timeout: float, what: str
) -> dict[str, Any]:
    """The first notice ``accept`` takes (those before it are skipped); fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no notice {what} within {timeout} s")
        notice: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), left))
        if accept(notice):
            return notice


async def wait_for_version(ws: ClientConnection, at_least: int, timeout: float) -> int:
    notice = await notice_where(ws, lambda n: n["version"] >= at_least, timeout, f"of version {at_least}")
    return int(notice["version"])


async def push_contact(base_url: str, session: Session, seq: int, name: str) -> int:
    body = {
        "protocol": 2,
        "known_version": 0,
        "changes": [{"seq": seq, "table": "contacts", "id": f"rt{seq}", "op": "insert", "data": {"name": name}}],
    }
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.post(
            "/api/sync/push", json=body, headers={"Authorization": f"Bearer {session.access_token}"}
        )
    assert response.status_code == 200, response.text
    version: Any = response.json()["version"]
    return int(version)


def test_a_push_through_one_process_reaches_sockets_on_both(
    server: ServerProcess, second_server: ServerProcess, http: httpx.Client
) -> None:
    session = signup(http)

    async def scenario() -> float:
        on_b, start_b = await open_socket(second_server, session)
        on_a, start_a = await open_socket(server, session)
        assert start_a == start_b >= 2  # sign-up wrote the org and user rows
        started = time.monotonic()
        version = await push_contact(server.url, session, 1, "Realtime")
        assert version == start_b + 1
        assert await wait_for_version(on_b, version, DELIVERY_BOUND) == version
        elapsed = time.monotonic() - started
        assert await wait_for_version(on_a, version, DELIVERY_BOUND) == version
        await on_a.close()
        await on_b.close()
        return elapsed

    assert asyncio.run(scenario()) < DELIVERY_BOUND


def test_small_writes_reach_sockets_with_their_rows_as_a_pull_returns_them(
    server: ServerProcess, second_server: ServerProcess, http: httpx.Client
) -> None:
    """A socket opened with ``?changes=1`` hears a small write's rows with the version they lead from, equal to the
    page a pull from that version returns; a plain socket (an older client) hears the bare version only; a bulk
    write and a device that just lost an edit (its conflict record comes by pull) get the bare version too."""
    email = unique_email()
    owner = signup(http, email=email)
    phone = second_device(http, owner, email)

    async def next_notice(ws: ClientConnection) -> dict[str, Any]:
        notice: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), DELIVERY_BOUND))
        return notice

    async def scenario() -> None:
        rich, start = await open_socket(second_server, phone, changes=True)
        plain, _ = await open_socket(server, owner)
        answer = await asyncio.to_thread(
            pushed, http, owner, [contact(1, "n1", name="Nia", phone="+1 555"), contact(2, "n2", name="Noor")]
        )
        heard = await next_notice(rich)
        assert heard["type"] == "version"
        assert (heard["since"], heard["version"]) == (start, answer["version"])
        page = await asyncio.to_thread(pull, http, phone, start)
        assert sorted(heard["rows"], key=lambda r: r["id"]) == sorted(page["rows"], key=lambda r: r["id"])
        assert await next_notice(plain) == {"type": "version", "version": answer["version"]}

        bulk = [contact(3 + i, f"bulk{i}", name=f"Bulk {i}") for i in range(sync_engine.NOTICE_ROWS + 1)]
        answer = await asyncio.to_thread(pushed, http, owner, bulk)
        assert await next_notice(rich) == {"type": "version", "version": answer["version"]}
        assert await next_notice(plain) == {"type": "version", "version": answer["version"]}

        # The phone edits n1 without having seen the owner's later edit: the owner's edit is overwritten, and the
        # owner's socket (if it asked for rows) must still be told to pull, which brings the conflict record.
        seen = answer["version"]
        rich_owner, _ = await open_socket(server, owner, changes=True)
        await asyncio.to_thread(pushed, http, owner, [contact(100, "n1", "update", name="Owner's")])
        assert "rows" in await next_notice(rich_owner)
        assert "rows" in await next_notice(rich)
        await next_notice(plain)
        answer = await asyncio.to_thread(pushed, http, phone, [contact(1, "n1", "update", name="Phone's")], known=seen)
        assert await next_notice(rich_owner) == {"type": "version", "version": answer["version"]}
        assert [r["id"] for r in (await next_notice(rich))["rows"]] == ["n1"]
        assert len((await asyncio.to_thread(pull, http, owner, answer["version"]))["conflicts"]) == 1
        for ws in (rich, plain, rich_owner):
            await ws.close()

    asyncio.run(scenario())


def test_sockets_of_another_org_hear_nothing(server: ServerProcess, http: httpx.Client) -> None:
    mine, theirs = signup(http), signup(http)

    async def scenario() -> None:
        ws, _ = await open_socket(server, theirs)
        version = await push_contact(server.url, mine, 1, "Private")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 1.0)
        # The socket is still alive and hears its own org.
        own = await push_contact(server.url, theirs, 1, "Own")
        assert await wait_for_version(ws, own, DELIVERY_BOUND) == own
        assert version > 0
        await ws.close()

    asyncio.run(scenario())


async def closed_with(server: ServerProcess, first_message: str) -> tuple[int | None, str | None]:
    async with connect(ws_url(server), open_timeout=10) as ws:
        await ws.send(first_message)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    frame = closed.value.rcvd
    return (frame.code, frame.reason) if frame else (None, None)


def test_bad_tokens_close_the_socket_with_4401(server: ServerProcess) -> None:
    bad = json.dumps({"type": "auth", "access_token": "not.a-token"})
    assert asyncio.run(closed_with(server, bad)) == (4401, "unauthorized")
    code, _ = asyncio.run(closed_with(server, "hello"))
    assert code == 4401


def test_a_revoked_device_is_closed_with_4403(server: ServerProcess, http: httpx.Client) -> None:
    session = signup(http)
    response = http.delete(
        f"/api/devices/{session.device_id}", headers={"Authorization": f"Bearer {session.access_token}"}
    )
    assert response.status_code == 204, response.text
    message = json.dumps({"type": "auth", "access_token": session.access_token})
    assert asyncio.run(closed_with(server, message)) == (4403, "device_revoked")


def test_the_hub_survives_a_postgresql_restart(tmp_path: Path) -> None:
    # A cluster of its own (restarted here), outside pytest's temp folder: a concurrent pytest session makes that
    # folder private again, which locks the postgres user out of it (see ``private_cluster``).
    with private_cluster("parley-hub-pg-") as cluster:
        proc = ServerProcess(fresh_database(cluster), tmp_path / "server.log").start()
        try:
            with httpx.Client(base_url=proc.url, timeout=10) as http:
                session = signup(http)

            async def scenario() -> None:
                ws, start = await open_socket(proc, session)
                await asyncio.to_thread(cluster.restart)
                # The pool replaces its broken connections and the hub re-LISTENs; retry the push until the server
                # has its database back, then the notice must arrive on the socket opened before the restart.
                version = await async_wait_until(
                    lambda: push_contact(proc.url, session, 1, "After restart"), 30, "a push after the restart", 0.2
                )
                assert version == start + 1
                assert await wait_for_version(ws, version, DELIVERY_BOUND + 10) == version
                await ws.close()

            asyncio.run(scenario())
        finally:
            proc.stop()


def test_a_socket_closes_with_4401_when_its_token_expires(server: ServerProcess, http: httpx.Client) -> None:
    session = signup(http)
    claims = tokens.AccessClaims(
        org=session.org.id, sub=session.user.id, dev=session.device_id, role="owner", exp=int(time.time()) + 2
    )
    short = session.model_copy(update={"access_token": tokens.issue_access(base64.b64decode(SECRET), claims)})

    async def scenario() -> tuple[int | None, str | None, float]:
        ws, _ = await open_socket(server, short)
        started = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 15)
        frame = closed.value.rcvd
        return (frame.code if frame else None), (frame.reason if frame else None), time.monotonic() - started

    code, reason, waited = asyncio.run(scenario())
    assert (code, reason) == (4401, "token_expired")
    assert waited < 10
