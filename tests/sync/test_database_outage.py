"""The server through a PostgreSQL outage, with a real cluster the test stops and restarts (``pg_ctl``).

While the database is down every route class answers 503 with an ``ErrorBody`` (never a plain-text 500) within the
request timeout, and the socket is closed with 1013 (try again later); once it is back, the first ``/health`` is 200
and every route works again. A restart with no request in between (every pooled connection left stale) must not
turn the next health checks into 503s either: a load balancer would take every process out after a failover.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.sync.protocol import Session
from sync_server.db import REQUEST_TIMEOUT_SECONDS
from sync_server.pgcluster import Cluster
from tests.support.sync_fixtures import PASSWORD, bearer, private_cluster, signup, unique_email
from tests.support.sync_server import ServerProcess, fresh_database
from tests.sync.clients import superuser_query, wait_for
from tests.sync.test_auth import join
from tests.sync.test_push_pull import contact, second_device
from tests.sync.test_realtime import ws_url

pytestmark = pytest.mark.slow

REQUEST_TIMEOUT = REQUEST_TIMEOUT_SECONDS  # the server runs with the default
SLACK = 3.0  # the request's own travel on a busy machine


@dataclass
class Team:
    """Who the route table acts as: an owner, a second device of the owner (signed out by the logout row) and a
    staff member."""

    owner: Session
    phone: Session
    staff: Session
    email: str


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    path: Callable[[Team], str]
    body: Callable[[Team], dict[str, Any] | None]
    who: Callable[[Team], Session | None]
    ok: int  # the status once the database is back


def _push_body(team: Team) -> dict[str, Any]:
    seq = int(time.monotonic() * 1000)  # a new seq per call: both the refused and the accepted push
    change = {"seq": seq, "table": "contacts", "id": f"c{seq}", "op": "insert", "data": {"name": "After"}}
    return {"protocol": 2, "known_version": 0, "changes": [change]}


# One row per route class: auth (before and after the token), members and devices, invites, push, pull, the AI
# gateway's settings and its OpenAI API, and logout last (it signs the owner's phone out once the database is back).
CALLS = [
    Call("login", "POST", lambda t: "/api/auth/login", lambda t: _login(t), lambda t: None, 200),
    Call(
        "refresh",
        "POST",
        lambda t: "/api/auth/refresh",
        lambda t: {"refresh_token": t.staff.refresh_token},
        lambda t: None,
        200,
    ),
    Call("members", "GET", lambda t: "/api/members", lambda t: None, lambda t: t.owner, 200),
    Call(
        "role change",
        "PATCH",
        lambda t: f"/api/members/{t.staff.user.id}",
        lambda t: {"role": "staff"},
        lambda t: t.owner,
        200,
    ),
    Call("devices", "GET", lambda t: "/api/devices", lambda t: None, lambda t: t.owner, 200),
    Call(
        "invite",
        "POST",
        lambda t: "/api/invites",
        lambda t: {"email": unique_email("later"), "role": "staff"},
        lambda t: t.owner,
        201,
    ),
    Call("push", "POST", lambda t: "/api/sync/push", _push_body, lambda t: t.owner, 200),
    Call("pull", "GET", lambda t: "/api/sync/pull?protocol=2&cursor=0", lambda t: None, lambda t: t.owner, 200),
    Call("ai settings", "GET", lambda t: "/api/ai/settings", lambda t: None, lambda t: t.owner, 200),
    Call("ai models (OpenAI API)", "GET", lambda t: "/v1/models", lambda t: None, lambda t: t.owner, 200),
    Call("logout", "POST", lambda t: "/api/auth/logout", lambda t: None, lambda t: t.phone, 204),
]


def _login(team: Team) -> dict[str, Any]:
    return {"email": team.email, "password": PASSWORD, "device_name": "till", "org_id": team.owner.org.id}


def _call(http: httpx.Client, team: Team, call: Call) -> tuple[httpx.Response, float]:
    who = call.who(team)
    started = time.monotonic()
    response = http.request(
        call.method, call.path(team), json=call.body(team), headers=bearer(who) if who is not None else {}
    )
    return response, time.monotonic() - started


def _socket_close_code(server: ServerProcess, session: Session) -> int | None:
    async def go() -> int | None:
        async with connect(ws_url(server), open_timeout=10) as ws:
            await ws.send(json.dumps({"type": "auth", "access_token": session.access_token}))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), REQUEST_TIMEOUT + SLACK)
        return closed.value.rcvd.code if closed.value.rcvd else None

    return asyncio.run(go())


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with private_cluster("parley-outage-pg-") as own:  # stopped by the tests: not the session's shared one
        yield own


@pytest.fixture
def outage_server(cluster: Cluster, tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(fresh_database(cluster, prefix="outage"), tmp_path / "server.log").start()
    try:
        yield proc
    finally:
        proc.stop()


def _team(http: httpx.Client) -> Team:
    email = unique_email("owner")
    owner = signup(http, email=email)
    return Team(owner, second_device(http, owner, email), join(http, owner, "staff"), email)


def _fill_the_pool(http: httpx.Client, session: Session) -> None:
    """Several requests at once, so the pool holds several connections for a restart to leave stale."""

    async def go() -> None:
        async with httpx.AsyncClient(base_url=str(http.base_url), timeout=30) as client:
            answers = await asyncio.gather(*(client.get("/api/members", headers=bearer(session)) for _ in range(12)))
        assert {a.status_code for a in answers} == {200}

    asyncio.run(go())


def test_every_route_answers_503_during_an_outage_and_works_at_once_after_it(
    cluster: Cluster, outage_server: ServerProcess
) -> None:
    with httpx.Client(base_url=outage_server.url, timeout=REQUEST_TIMEOUT * 3) as http:
        team = _team(http)
        _fill_the_pool(http, team.owner)
        cluster.stop()

        assert http.get("/health").status_code == 503
        refused = {}
        for call in CALLS:
            response, took = _call(http, team, call)
            refused[call.name] = (response.status_code, response.headers.get("content-type"), took)
            assert response.status_code == 503, (call.name, response.text)
            assert response.json()["code"] == "unavailable", call.name
            assert response.headers["retry-after"], call.name
        slow = {name: took for name, (_, _, took) in refused.items() if took > REQUEST_TIMEOUT + SLACK}
        assert not slow, f"answered after the request timeout: {slow}"
        assert _socket_close_code(outage_server, team.owner) == 1013

        cluster.start()
        health = http.get("/health")
        assert health.status_code == 200, health.text
        assert health.json()["database"] is True
        for call in CALLS:
            response, _ = _call(http, team, call)
            assert response.status_code == call.ok, (call.name, response.text)
            if call.name == "refresh":
                team.staff = Session.model_validate(response.json())
    log = outage_server.log_tail(200_000)
    assert "Traceback" not in log
    assert PASSWORD not in log


def test_the_first_health_check_after_a_restart_is_200(cluster: Cluster, outage_server: ServerProcess) -> None:
    """No request between the stop and the start: every pooled connection is stale, and none has been found so."""
    with httpx.Client(base_url=outage_server.url, timeout=REQUEST_TIMEOUT * 3) as http:
        team = _team(http)
        _fill_the_pool(http, team.owner)
        cluster.restart(mode="immediate")
        checks = [http.get("/health").status_code for _ in range(5)]
        assert checks == [200] * 5
        assert http.get("/api/members", headers=bearer(team.owner)).status_code == 200


def test_pushes_queued_behind_one_the_database_holds_answer_503_within_the_request_timeout(
    pg: Cluster, database_url: str, server: ServerProcess, http: httpx.Client
) -> None:
    """A push waits for its org's earlier pushes before it takes a connection; when the one running is held by the
    database (here its org row is locked by another session), the ones queued behind it are answered 503 once the
    request timeout has passed, not whenever it ends."""
    owner = signup(http)
    superuser = pg.url(user="postgres", database=database_url.rsplit("/", 1)[1])

    def waiting_on_a_lock() -> bool:
        rows = superuser_query(
            pg,
            database_url,
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = %s",
            (database_url.rsplit("/", 1)[1],),
        )
        return int(rows[0][0]) > 0

    def push(seq: int) -> tuple[httpx.Response, float]:
        body = {"protocol": 2, "known_version": 0, "changes": [contact(seq, f"held{seq}", name="Held")]}
        started = time.monotonic()
        response = httpx.post(
            f"{server.url}/api/sync/push", json=body, headers=bearer(owner), timeout=REQUEST_TIMEOUT * 3
        )
        return response, time.monotonic() - started

    async def scenario(holder: psycopg.Connection[Any]) -> None:
        holder.execute("SELECT 1 FROM orgs WHERE id = %s FOR UPDATE", (owner.org.id,))
        first = asyncio.create_task(asyncio.to_thread(push, 1))
        await asyncio.to_thread(wait_for, waiting_on_a_lock, timeout=30, what="the first push waiting on the row")
        queued, took = await asyncio.to_thread(push, 2)
        assert queued.status_code == 503, queued.text
        assert queued.json()["code"] == "unavailable"
        assert took <= REQUEST_TIMEOUT + SLACK
        holder.rollback()
        answer, _ = await first
        assert answer.status_code == 200, answer.text

    with psycopg.connect(superuser) as holder:
        asyncio.run(scenario(holder))
