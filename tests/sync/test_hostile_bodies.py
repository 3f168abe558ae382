"""Every route of the sync server against a family of hostile bodies: no 5xx, an error in the route's own shape, one
log line per request and no traceback, and a live server afterwards.

The routes are read from the Starlette app itself, so a new route is covered the day it is added: a route that takes
a body must have a ``SAMPLES`` entry (a body it would accept), whose every field is then replaced by each hostile
value in turn; every route also gets the generic bodies (``RAW``) with and without a valid access token.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.routing import Route, WebSocketRoute
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.sync.protocol import ErrorBody, Session
from sync_server.app import create_app
from sync_server.config import ServerConfig
from tests.ai.openai_server import OpenAIServer
from tests.support.sync_fixtures import PASSWORD, bearer, signup, unique_email
from tests.support.sync_server import ServerProcess

KEY = "sk-hostile-key-0001"
JSON = {"Content-Type": "application/json"}
FAKE_ID = "no-such-id"
DEEP = 1000  # what broke the server: Python's json recursion limit is about this deep

# A body each body-taking route would accept (the fields are what the hostile values replace).
SAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/orgs"): {
        "org_name": "Hostile Co",
        "name": "Hana",
        "email": "hana@example.com",
        "password": PASSWORD,
        "device_name": "pc",
        "org_id": "org-hostile",
    },
    ("POST", "/api/auth/login"): {"email": "hana@example.com", "password": PASSWORD, "device_name": "pc"},
    ("POST", "/api/auth/refresh"): {"refresh_token": "device.0123456789abcdef0123456789"},
    ("POST", "/api/invites"): {"email": "ivan@example.com", "role": "staff"},
    ("POST", "/api/invites/accept"): {
        "token": "0123456789abcdef0123456789",
        "name": "Ivan",
        "password": PASSWORD,
        "device_name": "till",
    },
    ("PATCH", "/api/members/{id}"): {"role": "admin"},
    ("POST", "/api/sync/push"): {
        "protocol": 2,
        "known_version": 0,
        "changes": [
            {"seq": 1, "table": "companies", "id": "co-1", "op": "insert", "data": {"name": "Acme", "phone": "1"}}
        ],
    },
    ("PUT", "/api/ai/settings"): {
        "providers": [
            {"kind": "openai_compatible", "model": "m1", "base_url": "http://127.0.0.1:9/v1", "api_key": KEY}
        ],
        "monthly_budget_usd": 5.0,
        "requests_per_minute": 60,
    },
    ("PUT", "/api/media/settings"): {"enabled": True},
    ("POST", "/v1/chat/completions"): {"model": "default", "messages": [{"role": "user", "content": "hi"}]},
    ("POST", "/v1/embeddings"): {"model": "default-embedding", "input": ["hi"]},
}
# POST routes that read no body, and PUT routes whose body is raw bytes (a media file), not JSON.
BODYLESS = {("POST", "/api/auth/logout"), ("PUT", "/api/media/{id}")}


def _deep_list(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def _deep_dict(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


# What each field of a sample is replaced by (as JSON text, so numbers beyond 64 bits stay numbers).
HOSTILE_VALUES: list[tuple[str, str]] = [
    ("nul", json.dumps("a\x00b")),
    ("nul_only", json.dumps("\x00")),
    ("lone_surrogate", '"\\ud800"'),
    ("int_2_64", str(2**64)),
    ("int_2_63", str(2**63)),
    ("int_below_i64", str(-(2**63) - 1)),
    ("int_10_30", str(10**30)),
    ("int_5000_digits", "9" * 5000),
    ("float_1e30", "1e30"),
    ("float_overflow", "1e400"),
    ("nan", "NaN"),
    ("infinity", "-Infinity"),
    ("negative", "-1"),
    ("fraction", "0.00001"),
    ("true", "true"),
    ("null", "null"),
    ("array", "[]"),
    ("object", "{}"),
    ("array_of_objects", '[{"a": 1}]'),
    ("huge_string", json.dumps("x" * 2_000_000)),
    ("deep_list", _deep_list(DEEP)),
    ("deep_dict", _deep_dict(DEEP)),
]

# Whole bodies sent to every route, with the content type they go with.
RAW: list[tuple[str, bytes, str]] = [
    ("empty", b"", "application/json"),
    ("invalid_utf8", b"\xff\xfe\xfd", "application/json"),
    ("invalid_utf8_in_string", b'{"email": "\xff\xfe@example.com"}', "application/json"),
    ("raw_nul_in_string", b'{"email": "a\x00@example.com"}', "application/json"),
    ("escaped_nul_key", b'{"\\u0000": 1}', "application/json"),
    ("not_json", b"{not json", "application/json"),
    ("json_array", b"[]", "application/json"),
    ("array_of_objects", b'[{"email": "a@example.com"}]', "application/json"),
    ("json_null", b"null", "application/json"),
    ("json_number", str(2**64).encode(), "application/json"),
    ("json_string", b'"hello"', "application/json"),
    ("deep_list", _deep_list(DEEP).encode(), "application/json"),
    ("deep_dict", _deep_dict(DEEP).encode(), "application/json"),
    ("very_deep_list", b"[" * 100_000 + b"]" * 100_000, "application/json"),
    ("nan_field", b'{"x": NaN}', "application/json"),
    ("text_plain", b"email=a@example.com&password=x", "text/plain"),
    ("form", b"email=a@example.com&password=x", "application/x-www-form-urlencoded"),
    ("too_large", b'{"x": "' + b"x" * (9 * 1024 * 1024) + b'"}', "application/json"),
]


def _app_routes() -> tuple[list[tuple[str, str]], list[str]]:
    """(method, path) of every HTTP route and the path of every WebSocket route, from the app itself."""
    app = create_app(ServerConfig(database_url="postgresql://unused", secret=b"s" * 32))
    http_routes: list[tuple[str, str]] = []
    sockets: list[str] = []
    for route in app.routes:
        if isinstance(route, Route):
            http_routes += [(m, route.path) for m in sorted(route.methods or ()) if m != "HEAD"]
        elif isinstance(route, WebSocketRoute):
            sockets.append(route.path)
        else:
            raise AssertionError(f"a kind of route this test does not know: {route!r}")
    return http_routes, sockets


HTTP_ROUTES, SOCKET_ROUTES = _app_routes()


def _mutations(sample: Any) -> Iterator[tuple[str, bytes]]:
    """The sample with each value in it (at any depth, containers included) replaced by each hostile value."""
    marker = "\u2603HOSTILE\u2603"

    def paths(value: Any, at: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
        yield at
        if isinstance(value, dict):
            for key, item in value.items():
                yield from paths(item, (*at, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from paths(item, (*at, index))

    def replaced(value: Any, at: tuple[Any, ...]) -> Any:
        if not at:
            return marker
        copy = json.loads(json.dumps(value))
        target = copy
        for step in at[:-1]:
            target = target[step]
        target[at[-1]] = marker
        return copy

    for at in paths(sample, ()):
        text = json.dumps(replaced(sample, at))
        for name, hostile in HOSTILE_VALUES:
            where = ".".join(map(str, at)) or "body"
            yield f"{where}={name}", text.replace(json.dumps(marker), hostile).encode()
    yield "extra_nul_key", json.dumps({**sample, "\x00": 1}).encode()


def _problem(response: httpx.Response, path: str) -> str | None:
    """What is wrong with an answer to a hostile body, or None."""
    if response.status_code >= 500:
        return f"{response.status_code} {response.text[:200]}"
    if response.status_code < 400:
        return None
    try:
        body = response.json()
        if path.startswith("/v1/"):  # the OpenAI API answers in OpenAI's error shape, which its SDK reads
            assert set(body) == {"error"}
            assert body["error"]["message"]
            assert body["error"]["code"]
        else:
            ErrorBody.model_validate(body)
    except (ValueError, AssertionError, KeyError, TypeError):
        return f"{response.status_code} not an error body: {response.text[:200]}"
    return None


@pytest.fixture
def provider() -> Iterator[OpenAIServer]:
    server = OpenAIServer(keys={KEY}).start()
    yield server
    server.stop()


def _owner(client: httpx.Client, provider: OpenAIServer) -> Session:
    """A fresh org with a working provider, so a body the gateway accepts gets an answer rather than 503."""
    owner = signup(client)
    entry = {"kind": "openai_compatible", "model": "m1", "embedding_model": "e1", "base_url": provider.base_url}
    answer = client.put("/api/ai/settings", json={"providers": [{**entry, "api_key": KEY}]}, headers=bearer(owner))
    assert answer.status_code == 200, answer.text
    return owner


def test_every_route_answers_hostile_bodies_with_a_4xx_error_body(
    server: ServerProcess, provider: OpenAIServer
) -> None:
    for method, path in HTTP_ROUTES:
        if method in ("POST", "PUT", "PATCH"):
            assert (method, path) in SAMPLES or (method, path) in BODYLESS, (
                f"{method} {path} is new: add a body it accepts to SAMPLES (or it to BODYLESS) in this test"
            )
    log_start = server.log_path.stat().st_size
    sent = 0
    problems: list[str] = []
    with httpx.Client(base_url=server.url, timeout=120.0) as client:
        for method, path in HTTP_ROUTES:
            url = path.replace("{id}", FAKE_ID)
            owner = _owner(client, provider)  # per route: logout revokes the caller's device
            cases = [(name, raw, kind) for name, raw, kind in RAW]
            if (method, path) in SAMPLES:
                cases += [(name, raw, "application/json") for name, raw in _mutations(SAMPLES[(method, path)])]
            for name, raw, kind in cases:
                for headers in ({"Content-Type": kind}, {"Content-Type": kind, **bearer(owner)}):
                    try:
                        response = client.request(method, url, content=raw, headers=headers)
                    except httpx.TransportError as exc:
                        problems.append(f"{method} {path} [{name}]: {exc!r}")
                        continue
                    if (problem := _problem(response, path)) is not None:
                        problems.append(
                            f"{method} {path} [{name}]{' (signed in)' if len(headers) > 1 else ''}: {problem}"
                        )
                    sent += 1
        assert not problems, f"{len(problems)} of {sent} answers were wrong:\n" + "\n".join(problems[:40])
        health = client.get("/health")
        assert health.status_code == 200, health.text
    assert server.proc is not None
    assert server.proc.poll() is None
    for path in SOCKET_ROUTES:
        asyncio.run(_hostile_socket(server, path))
    log = server.log_path.read_bytes()[log_start:].decode(errors="replace")
    lines = [line for line in log.splitlines() if line]
    assert "Traceback" not in log
    assert not [line for line in lines if "level=error" in line or " exc=" in line], "\n".join(lines[-20:])
    requests = [line for line in lines if "msg=request " in line]
    assert len(requests) >= sent


async def _hostile_socket(server: ServerProcess, path: str) -> None:
    """A socket's first message is its body: each hostile one closes it with 4401 (never an error in the server)."""
    url = server.url.replace("http://", "ws://") + path
    messages = [raw.decode(errors="replace") for _, raw, _ in RAW if len(raw) < 1_000_000]
    messages += [json.dumps({"type": "auth", "access_token": "a\x00b"}), '{"type": "auth", "access_token": 1e400}']
    for message in messages:
        async with connect(url, open_timeout=30, max_size=None) as ws:
            await ws.send(message)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 30)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4401, message[:80]


def test_json_content_posted_as_an_unused_email_still_signs_up(http: httpx.Client) -> None:
    """The refusals above are of the bodies, not of the routes: a plain good body still works everywhere."""
    email = unique_email("plain")
    body = {**SAMPLES[("POST", "/api/orgs")], "email": email, "org_id": None}
    assert http.post("/api/orgs", content=json.dumps(body).encode(), headers=JSON).status_code == 201


@pytest.mark.parametrize("hostile", ['"a\\u0000b"', str(2**64), "1e400", "[" * 100 + "]" * 100])
def test_a_newer_protocol_hears_upgrade_before_any_complaint_about_its_content(
    http: httpx.Client, hostile: str
) -> None:
    owner = signup(http)
    change = '{"seq": 1, "table": "companies", "id": "co-1", "op": "insert", "data": {"name": ' + hostile + "}}"
    body = '{"protocol": 99, "known_version": 0, "changes": [' + change + "]}"
    answer = http.post("/api/sync/push", content=body.encode(), headers={**JSON, **bearer(owner)})
    assert answer.status_code == 426, answer.text
    assert ErrorBody.model_validate(answer.json()).code == "protocol"
