"""Tenant isolation, route by route: org A's owner calls every route of the server with org B's ids and must be
refused (or see only A's data), and B must be untouched afterwards.

The walk is checked against the app's own route table, so a route added later without a case here fails this test
instead of going unwalked.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
import websockets

from app.core.ids import new_id
from app.sync.protocol import PROTOCOL_VERSION, Session
from sync_server.app import create_app
from sync_server.config import ServerConfig
from tests.ai.openai_server import OpenAIServer
from tests.support.sync_fixtures import PASSWORD, bearer, signup, unique_email
from tests.support.sync_server import ServerProcess

B_KEY = "sk-org-b-secret-4242"
B_MEDIA = b"B's customer photo bytes " * 40
B_BLOB = hashlib.sha256(B_MEDIA).hexdigest()


@dataclass
class OrgB:
    owner: Session
    staff: Session
    contact_id: str
    invite_token: str
    provider: OpenAIServer


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60.0) as client:  # the first gateway call imports litellm
        yield client


@pytest.fixture
def provider_b() -> Iterator[OpenAIServer]:
    provider = OpenAIServer(keys={B_KEY}).start()
    yield provider
    provider.stop()


def _push(http: httpx.Client, session: Session, changes: list[dict[str, object]]) -> httpx.Response:
    body = {"protocol": PROTOCOL_VERSION, "known_version": 0, "changes": changes}
    return http.post("/api/sync/push", json=body, headers=bearer(session))


def _pull_all(http: httpx.Client, session: Session) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    cursor = 0
    while True:
        page = http.get(
            "/api/sync/pull", params={"protocol": PROTOCOL_VERSION, "cursor": cursor}, headers=bearer(session)
        )
        assert page.status_code == 200, page.text
        body = page.json()
        rows.extend(body["rows"])
        cursor = body["cursor"]
        if not body["has_more"]:
            return rows


def _make_b(http: httpx.Client, provider: OpenAIServer) -> OrgB:
    owner = signup(http, org_name="Org B")
    made = http.post("/api/invites", json={"email": unique_email("bstaff"), "role": "staff"}, headers=bearer(owner))
    assert made.status_code == 201, made.text
    accepted = http.post(
        "/api/invites/accept",
        json={"token": made.json()["token"], "name": "B Staff", "password": PASSWORD, "device_name": "b laptop"},
    )
    assert accepted.status_code == 201, accepted.text
    staff = Session.model_validate(accepted.json())
    pending = http.post("/api/invites", json={"email": unique_email("bnext"), "role": "staff"}, headers=bearer(owner))
    assert pending.status_code == 201, pending.text
    contact_id = new_id()
    pushed = _push(
        http,
        owner,
        [
            {
                "seq": 1,
                "table": "contacts",
                "id": contact_id,
                "op": "insert",
                "data": {"name": "B's customer", "phone": "+15550001111", "created_at": 1, "updated_at": 1},
            }
        ],
    )
    assert pushed.status_code == 200, pushed.text
    settings = {
        "providers": [
            {"kind": "openai_compatible", "model": "b-model", "base_url": provider.base_url, "api_key": B_KEY}
        ]
    }
    saved = http.put("/api/ai/settings", json=settings, headers=bearer(owner))
    assert saved.status_code == 200, saved.text
    shared = http.put("/api/media/settings", json={"enabled": True}, headers=bearer(owner))
    assert shared.status_code == 200, shared.text
    stored = http.put(f"/api/media/{B_BLOB}", content=B_MEDIA, headers=bearer(staff))
    assert stored.status_code == 201, stored.text
    return OrgB(owner, staff, contact_id, pending.json()["token"], provider)


def _b_snapshot(http: httpx.Client, b: OrgB) -> tuple[object, ...]:
    """Everything of B that A could try to change, read with B's own token."""
    members = http.get("/api/members", headers=bearer(b.owner)).json()
    devices = http.get("/api/devices", headers=bearer(b.owner)).json()
    ai = http.get("/api/ai/settings", headers=bearer(b.owner)).json()
    rows = _pull_all(http, b.owner)
    media = http.get("/api/media/settings", headers=bearer(b.owner)).json()
    blob = http.get(f"/api/media/{B_BLOB}", headers=bearer(b.owner))
    return (
        json.dumps(media, sort_keys=True),
        (blob.status_code, blob.content),
        sorted((m["id"], m["role"], m["removed"]) for m in members),
        sorted((d["id"], d["revoked_at"]) for d in devices),
        json.dumps(ai, sort_keys=True),
        sorted(json.dumps(r, sort_keys=True) for r in rows),
    )


def _route_table() -> set[tuple[str, str]]:
    app = create_app(ServerConfig(database_url="postgresql://unused", secret=b"x" * 32))
    table: set[tuple[str, str]] = set()
    for route in app.routes:
        path = getattr(route, "path", "")
        methods = getattr(route, "methods", None)
        if methods is None:
            table.add(("WS", path))
        else:
            table.update((m, path) for m in methods if m != "HEAD")
    return table


def test_every_route_refuses_another_orgs_ids(
    http: httpx.Client, server: ServerProcess, provider_b: OpenAIServer
) -> None:
    b = _make_b(http, provider_b)
    a = signup(http, org_name="Org A")
    a_headers = bearer(a)
    before = _b_snapshot(http, b)
    b_text = [b.owner.org.id, b.owner.user.email, b.staff.user.email, b.contact_id, b.staff.user.id, b.owner.device_id]
    b_text += ["Org B", "B's customer", "+15550001111", "b-model", B_KEY]
    walked: set[tuple[str, str]] = set()
    sent: list[str] = []

    def call(method: str, template: str, path: str, check: Callable[[httpx.Response], None], **kw: object) -> None:
        response = http.request(method, path, **kw)  # type: ignore[arg-type]
        check(response)
        sent.append(path + json.dumps(kw.get("json")))  # what A itself sent may come back (in A's own space)
        for text in (t for t in b_text if not any(t in mine for mine in sent)):
            assert text not in response.text, f"{method} {path} leaked {text!r}: {response.text[:300]}"
        walked.add((method, template))

    def status(*codes: int) -> Callable[[httpx.Response], None]:
        def check(response: httpx.Response) -> None:
            assert response.status_code in codes, f"{response.request.url}: {response.status_code} {response.text}"

        return check

    # Public routes carry nothing of any org.
    call("GET", "/health", "/health", status(200))
    call("GET", "/metrics", "/metrics", status(200))
    # Auth: B's org id in a sign-up is taken; A's member cannot log in to B; a forged refresh token is refused.
    signup_b = {
        "org_name": "Hijack",
        "name": "Mallory",
        "email": unique_email("mallory"),
        "password": PASSWORD,
        "device_name": "x",
        "org_id": b.owner.org.id,
    }
    call("POST", "/api/orgs", "/api/orgs", status(409), json=signup_b)
    login_b = {"email": a.user.email, "password": PASSWORD, "device_name": "x", "org_id": b.owner.org.id}
    call("POST", "/api/auth/login", "/api/auth/login", status(401), json=login_b)
    forged = b.owner.device_id + "." + "A" * 43
    call("POST", "/api/auth/refresh", "/api/auth/refresh", status(401), json={"refresh_token": forged})
    # Invites: the org is never read from a body; B's pending invite, accepted with A's token, joins B (the invite
    # is the credential), never A.
    call(
        "POST",
        "/api/invites",
        "/api/invites",
        status(422),
        json={"email": unique_email("x"), "role": "staff", "org_id": b.owner.org.id},
        headers=a_headers,
    )
    accept = {"token": b.invite_token, "name": "Newcomer", "password": PASSWORD, "device_name": "n"}
    response = http.post("/api/invites/accept", json=accept, headers=a_headers)
    assert response.status_code == 201, response.text
    assert Session.model_validate(response.json()).org.id == b.owner.org.id
    walked.add(("POST", "/api/invites/accept"))
    before = _b_snapshot(http, b)  # B has one more member now, by B's own invite
    # Members and devices: B's ids are not found, and lists hold only A.
    call("GET", "/api/members", "/api/members", status(200), headers=a_headers)
    for member in (b.owner.user.id, b.staff.user.id):
        path = f"/api/members/{member}"
        call("PATCH", "/api/members/{id}", path, status(404), json={"role": "staff"}, headers=a_headers)
        call("DELETE", "/api/members/{id}", path, status(404), headers=a_headers)
    call("GET", "/api/devices", "/api/devices", status(200), headers=a_headers)
    for device in (b.owner.device_id, b.staff.device_id):
        call("DELETE", "/api/devices/{id}", f"/api/devices/{device}", status(404), headers=a_headers)
    # Sync: A's changes to B's row ids land in A's own space; A's pull holds none of B's rows.
    attack = [
        {
            "seq": 1,
            "table": "contacts",
            "id": b.contact_id,
            "op": "update",
            "data": {"name": "hacked", "updated_at": 2},
        },
        {"seq": 2, "table": "orgs", "id": b.owner.org.id, "op": "update", "data": {"name": "hacked", "updated_at": 2}},
        {"seq": 3, "table": "contacts", "id": b.contact_id, "op": "purge"},
    ]
    body = {"protocol": PROTOCOL_VERSION, "known_version": 0, "changes": attack}
    call("POST", "/api/sync/push", "/api/sync/push", status(200), json=body, headers=a_headers)
    pull_params = {"protocol": PROTOCOL_VERSION, "cursor": 0}
    call("GET", "/api/sync/pull", "/api/sync/pull", status(200), params=pull_params, headers=a_headers)
    # The socket announces A's version, never B's.
    a_version = http.get("/api/sync/pull", params=pull_params, headers=a_headers).json()["version"]
    assert asyncio.run(_socket_version(server, a.access_token)) == a_version
    walked.add(("WS", "/api/sync/socket"))
    # AI gateway: A sees and changes only its own settings, and its calls never reach B's provider or key.
    call("GET", "/api/ai/settings", "/api/ai/settings", status(200), headers=a_headers)
    call("PUT", "/api/ai/settings", "/api/ai/settings", status(200), json={"providers": []}, headers=a_headers)
    call("GET", "/api/ai/usage", "/api/ai/usage", status(200), headers=a_headers)
    call("GET", "/v1/models", "/v1/models", status(200), headers=a_headers)
    chat = {"model": "default", "messages": [{"role": "user", "content": "hello"}]}
    call(
        "POST",
        "/v1/chat/completions",
        "/v1/chat/completions",
        status(503),  # A has no provider of its own, and never gets B's
        json=chat,
        headers=a_headers,
    )
    embed = {"model": "default-embedding", "input": ["hello"]}
    call("POST", "/v1/embeddings", "/v1/embeddings", status(503), json=embed, headers=a_headers)
    assert provider_b.calls() == []
    assert provider_b.calls("/v1/embeddings") == []
    # Media: A's switch is A's own; B's blob is not found by A, and A's upload of the same bytes is A's own copy.
    call("GET", "/api/media/settings", "/api/media/settings", status(200), headers=a_headers)
    call("PUT", "/api/media/settings", "/api/media/settings", status(200), json={"enabled": True}, headers=a_headers)
    call("GET", "/api/media/{id}", f"/api/media/{B_BLOB}", status(404), headers=a_headers)
    call("DELETE", "/api/media/{id}", f"/api/media/{B_BLOB}", status(404), headers=a_headers)
    call("PUT", "/api/media/{id}", f"/api/media/{B_BLOB}", status(201), content=B_MEDIA, headers=a_headers)
    assert http.delete(f"/api/media/{B_BLOB}", headers=a_headers).status_code == 204  # A's copy, not B's
    # Logging out revokes A's own device only.
    call("POST", "/api/auth/logout", "/api/auth/logout", status(204), headers=a_headers)
    assert http.get("/api/members", headers=bearer(b.owner)).status_code == 200

    assert _b_snapshot(http, b) == before
    assert walked == _route_table(), f"routes without a tenancy case: {sorted(_route_table() - walked)}"


async def _socket_version(server: ServerProcess, token: str) -> int:
    url = server.url.replace("http://", "ws://") + "/api/sync/socket"
    async with websockets.connect(url) as socket:
        await socket.send(json.dumps({"type": "auth", "access_token": token}))
        notice = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert notice["type"] == "version"
    return int(notice["version"])
