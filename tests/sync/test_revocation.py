"""Revocation closes sockets at once, on every server process: a socket open on process B is closed with 4403 when
the revocation is done through process A, hears no row written after it, and cannot reconnect with its old token.

The class: a member removed, a device revoked by an admin or by its own member, signing out, a copied refresh
token coming back (the device is revoked), and a role change, which changes nothing a socket may receive (every
member of a team receives all of its rows), so the socket stays open and keeps hearing. And a revocation the
realtime listener misses while it reconnects is found when it is back.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from app.sync.protocol import Session
from sync_server.pgcluster import Cluster
from sync_server.realtime import APPLICATION_NAME, Hub, Notice, Revocation
from tests.support.sync_fixtures import bearer, signup, unique_email
from tests.support.sync_server import ServerProcess
from tests.sync.clients import superuser_query, wait_for
from tests.sync.test_auth import join, refresh
from tests.sync.test_push_pull import contact, pushed, second_device
from tests.sync.test_realtime import DELIVERY_BOUND, closed_with, notice_where, open_socket
from tests.sync.test_realtime import second_server as second_server


@dataclass
class Team:
    owner: Session
    staff: Session
    staff_phone: Session  # the staff member's second device


def _team(http: httpx.Client) -> Team:
    owner = signup(http)
    staff = join(http, owner, "staff")
    return Team(owner, staff, second_device(http, staff, staff.user.email))


def _note(seq: int, row_id: str, body: str) -> dict[str, Any]:
    return {"seq": seq, "table": "notes", "id": row_id, "op": "insert", "data": {"body": body}}


def _ok(response: httpx.Response, status: int = 204) -> None:
    assert response.status_code == status, response.text


def _reuse_refresh_token(http: httpx.Client, team: Team) -> None:
    _ok(refresh(http, team.staff.refresh_token), 200)
    assert refresh(http, team.staff.refresh_token).status_code == 403  # the rotated-out token again: a copy


@dataclass(frozen=True)
class Case:
    name: str
    act: Callable[[httpx.Client, Team], None]  # done through process A
    closed: Callable[[Team], set[str]]  # the devices whose sockets must close


CASES = [
    Case(
        "member removed",
        lambda http, t: _ok(http.delete(f"/api/members/{t.staff.user.id}", headers=bearer(t.owner))),
        lambda t: {t.staff.device_id, t.staff_phone.device_id},
    ),
    Case(
        "device revoked by the owner",
        lambda http, t: _ok(http.delete(f"/api/devices/{t.staff.device_id}", headers=bearer(t.owner))),
        lambda t: {t.staff.device_id},
    ),
    Case(
        "own device revoked",
        lambda http, t: _ok(http.delete(f"/api/devices/{t.staff.device_id}", headers=bearer(t.staff))),
        lambda t: {t.staff.device_id},
    ),
    Case(
        "signed out",
        lambda http, t: _ok(http.post("/api/auth/logout", headers=bearer(t.staff))),
        lambda t: {t.staff.device_id},
    ),
    Case("copied refresh token came back", _reuse_refresh_token, lambda t: {t.staff.device_id}),
    Case(
        "role changed (no socket closes)",
        lambda http, t: _ok(
            http.patch(f"/api/members/{t.staff.user.id}", json={"role": "admin"}, headers=bearer(t.owner)), 200
        ),
        lambda t: set(),
    ),
]


async def _until_closed(ws: ClientConnection, timeout: float) -> tuple[list[str], int | None, str | None]:
    """Every message the socket hears until it is closed (failing after ``timeout``), and the close frame."""
    heard: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the socket was not closed within {timeout} s; it heard {len(heard)} messages")
            heard.append(str(await asyncio.wait_for(ws.recv(), left)))
    except ConnectionClosed as closed:
        frame = closed.rcvd
        return heard, (frame.code if frame else None), (frame.reason if frame else None)


async def _until_row(ws: ClientConnection, row_id: str, timeout: float) -> None:
    await notice_where(ws, lambda n: any(r["id"] == row_id for r in n.get("rows") or ()), timeout, f"with {row_id}")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_revocation_through_one_process_closes_sockets_on_the_other(
    case: Case, server: ServerProcess, second_server: ServerProcess, http: httpx.Client
) -> None:
    team = _team(http)
    sessions = {s.device_id: s for s in (team.owner, team.staff, team.staff_phone)}
    closing = case.closed(team)
    secret = f"secret-{unique_email('row')}"  # a row written after the revocation: no closed socket may hear it

    async def scenario() -> None:
        sockets = {device: (await open_socket(second_server, s, changes=True))[0] for device, s in sessions.items()}
        await asyncio.to_thread(case.act, http, team)
        # At once, not after the close was seen: the write commits after the revocation, and must not get out.
        await asyncio.to_thread(pushed, http, team.owner, [_note(1, secret, "The full text of a private note")])
        for device, ws in sockets.items():
            if device in closing:
                heard, code, reason = await _until_closed(ws, DELIVERY_BOUND)
                assert (code, reason) == (4403, "device_revoked"), case.name
                assert not [m for m in heard if secret in m], f"{case.name}: a revoked socket heard the later row"
            else:
                await _until_row(ws, secret, DELIVERY_BOUND)  # the others hear it: the notice did go out
                await ws.close()

    asyncio.run(scenario())
    for device in closing:  # and the old access token cannot open a socket again, on either process
        message = json.dumps({"type": "auth", "access_token": sessions[device].access_token})
        for proc in (server, second_server):
            assert asyncio.run(closed_with(proc, message)) == (4403, "device_revoked"), case.name


@pytest.fixture
def no_new_connections(pg: Cluster, database_url: str) -> Iterator[Callable[[], None]]:
    """A switch that stops the app's role from connecting to the module's database (the superuser still can);
    the limit is lifted when the test calls it back or ends."""
    name = database_url.rsplit("/", 1)[1]

    def allow() -> None:
        pg.psql(f"ALTER DATABASE {name} CONNECTION LIMIT -1")

    pg.psql(f"ALTER DATABASE {name} CONNECTION LIMIT 0")
    try:
        yield allow
    finally:
        allow()


def test_a_revocation_missed_while_the_listener_reconnects_closes_the_socket_when_it_is_back(
    pg: Cluster,
    database_url: str,
    second_server: ServerProcess,
    http: httpx.Client,
    no_new_connections: Callable[[], None],
) -> None:
    team = _team(http)

    def listeners() -> list[int]:
        rows = superuser_query(
            pg, database_url, "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (APPLICATION_NAME,)
        )
        return [int(r[0]) for r in rows]

    async def scenario() -> None:
        staff_ws, _ = await open_socket(second_server, team.staff, changes=True)
        owner_ws, _ = await open_socket(second_server, team.owner, changes=True)
        # Every process's listener is cut off and cannot come back yet; the revocation's notice goes to no one.
        superuser_query(
            pg,
            database_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (APPLICATION_NAME,),
        )
        await asyncio.to_thread(wait_for, lambda: not listeners(), timeout=10, what="the listeners gone")
        superuser_query(
            pg,
            database_url,
            "UPDATE devices SET revoked_at = now() WHERE id = %s RETURNING id",
            (team.staff.device_id,),
        )
        await asyncio.to_thread(no_new_connections)
        heard, code, reason = await _until_closed(staff_ws, 30)  # the listener's backoff is at most 5 s
        assert (code, reason) == (4403, "device_revoked")
        assert not any("rows" in json.loads(m) for m in heard)
        # The bystander's socket is still open, and hears the team's next write through the listener that is back.
        await asyncio.to_thread(pushed, http, team.owner, [contact(1, "after", name="After")])
        await _until_row(owner_ws, "after", 30)
        await owner_ws.close()

    asyncio.run(scenario())


async def _let_tasks_run() -> None:
    """Lets every ready task take its steps (no I/O is involved, so a few turns of the loop are enough)."""
    for _ in range(20):
        await asyncio.sleep(0)


def test_a_held_socket_sends_nothing_until_confirmed_and_a_revoked_one_nothing_more() -> None:
    sent: list[int] = []

    async def send(text: str) -> None:
        sent.append(int(json.loads(text)["version"]))

    async def scenario() -> None:
        hub = Hub("postgresql://unused")  # never started: register and revoke need no database
        sub = hub.register("org1", "dev1", "member1", send, changes=True)
        other = hub.register("org1", "dev2", "member2", send, changes=True)
        other.confirm()
        sub.offer(Notice.of(5))
        await _let_tasks_run()
        assert sent == [], "a held socket sent before its caller was confirmed"
        sub.confirm()
        await _let_tasks_run()
        assert sent == [5]
        sub.offer(Notice.of(6))  # queued, not sent yet: the revocation must drop it
        assert hub.revoke(Revocation("org1", member_id="member1")) == 1
        assert hub.revoke(Revocation("org1", device_id="dev1")) == 0  # the removal's device notice: already done
        sub.offer(Notice.of(7))
        await _let_tasks_run()
        assert sent == [5]
        assert sub.revoked.is_set()
        assert sub.closed.is_set()
        assert hub.socket_count() == 1  # the other member's socket is untouched
        await hub.stop()

    asyncio.run(scenario())
