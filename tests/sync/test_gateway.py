"""The AI gateway end to end: a real ``python -m sync_server`` process, a real PostgreSQL, and a real local
OpenAI-compatible provider (``OpenAIServer``) behind it. Members call ``/v1`` with their access token, through plain
HTTP and through litellm exactly as the app does; the provider must only ever see the org's key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

import httpx
import openai
import pytest

from app.sync.protocol import Session
from sync_server import tokens
from sync_server.config import decode_secret
from sync_server.gateway import crypto
from sync_server.pgcluster import Cluster
from tests.ai.openai_server import Behaviour, OpenAIServer, embed_text
from tests.support.ai_fixtures import warm_litellm
from tests.support.sync_fixtures import PASSWORD, bearer, signup, unique_email
from tests.support.sync_server import SECRET, ServerProcess
from tests.support.waiting import async_wait_until, wait_until
from tests.sync.clients import wait_for

KEY = "sk-org-key-7q2w"
SECOND_KEY = "sk-org-key-9z8y"
JSON_TYPE = {"Content-Type": "application/json"}


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    """The plugin's client with a longer timeout: a server's first gateway call imports litellm, which takes
    seconds, more on a machine busy with other suites."""
    with httpx.Client(base_url=server.url, timeout=60.0) as client:
        yield client


@pytest.fixture
def provider() -> Iterator[OpenAIServer]:
    server = OpenAIServer(keys={KEY, SECOND_KEY}).start()
    yield server
    server.stop()


def invite(http: httpx.Client, owner: Session, role: str) -> Session:
    made = http.post("/api/invites", json={"email": unique_email(role), "role": role}, headers=bearer(owner))
    assert made.status_code == 201, made.text
    accepted = http.post(
        "/api/invites/accept",
        json={"token": made.json()["token"], "name": f"{role} one", "password": PASSWORD, "device_name": "laptop"},
    )
    assert accepted.status_code == 201, accepted.text
    return Session.model_validate(accepted.json())


def entry(provider: OpenAIServer, model: str = "m1", **extra: Any) -> dict[str, Any]:
    return {"kind": "openai_compatible", "model": model, "base_url": provider.base_url, "api_key": KEY, **extra}


def configure(http: httpx.Client, owner: Session, *providers: dict[str, Any], **limits: Any) -> dict[str, Any]:
    answer = http.put("/api/ai/settings", json={"providers": list(providers), **limits}, headers=bearer(owner))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def chat(http: httpx.Client, who: Session, text: str, **extra: Any) -> httpx.Response:
    body = {"model": "default", "messages": [{"role": "user", "content": text}], **extra}
    return http.post("/v1/chat/completions", json=body, headers=bearer(who))


def sse(response: httpx.Response) -> list[Any]:
    events: list[Any] = []
    for block in response.text.split("\n\n"):
        if block.startswith("data: "):
            data = block.removeprefix("data: ")
            events.append(data if data == "[DONE]" else json.loads(data))
    return events


def superuser(pg: Cluster, database_url: str, sql: str) -> str:
    return pg.psql(sql, database=urlparse(database_url).path.lstrip("/"))


def usage_rows(
    pg: Cluster,
    database_url: str,
    org_id: str,
    columns: str = "member_id, status, model, prompt_tokens, completion_tokens, cost_usd",
) -> list[list[str]]:
    out = superuser(pg, database_url, f"SELECT {columns} FROM ai_usage WHERE org_id = '{org_id}' ORDER BY id")
    return [line.split("|") for line in out.splitlines() if line]


@pytest.fixture
def team(http: httpx.Client) -> tuple[Session, Session, Session]:
    owner = signup(http)
    return owner, invite(http, owner, "admin"), invite(http, owner, "staff")


def test_staff_chat_reaches_the_provider_with_the_org_key_and_is_metered(
    http: httpx.Client,
    team: tuple[Session, Session, Session],
    provider: OpenAIServer,
    pg: Cluster,
    database_url: str,
    server: ServerProcess,
) -> None:
    owner, _, staff = team
    configure(http, owner, entry(provider, embedding_model="e1"))

    plain = chat(http, staff, "plain hello")
    assert plain.status_code == 200, plain.text
    answer = plain.json()
    assert answer["object"] == "chat.completion"
    assert answer["model"] == "default"
    assert answer["choices"][0]["message"] == {"role": "assistant", "content": "Echo: plain hello"}
    assert answer["usage"]["prompt_tokens"] > 0
    assert answer["usage"]["completion_tokens"] == 3

    streamed = chat(http, staff, "streamed hello", stream=True, stream_options={"include_usage": True})
    assert streamed.status_code == 200, streamed.text
    assert streamed.headers["content-type"].startswith("text/event-stream")
    events = sse(streamed)
    assert events[-1] == "[DONE]"
    chunks = [e for e in events[:-1] if e["choices"]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "Echo: streamed hello"
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    (usage_chunk,) = [e for e in events[:-1] if not e["choices"]]
    assert usage_chunk["usage"]["completion_tokens"] == 3

    no_usage = sse(chat(http, staff, "quiet", stream=True))
    assert all(e == "[DONE]" or e["choices"] for e in no_usage)

    vectors = http.post(
        "/v1/embeddings", json={"model": "default-embedding", "input": ["red shoes"]}, headers=bearer(staff)
    )
    assert vectors.status_code == 200, vectors.text
    assert vectors.json()["data"][0]["embedding"] == pytest.approx(embed_text("red shoes"), abs=1e-9)

    listed = http.get("/v1/models", headers=bearer(staff))
    assert [m["id"] for m in listed.json()["data"]] == ["default", "default-embedding", "m1", "e1"]

    # The provider saw the org's key on every call, never the member's token.
    calls = [r for r in provider.requests if r.path.startswith("/v1/")]
    assert len(calls) == 4
    assert all(r.authorized and r.key_suffix == KEY[-4:] for r in calls)
    assert [r.body.get("stream", False) for r in provider.calls()] == [False, True, True]

    rows = usage_rows(pg, database_url, staff.org.id)
    assert [(r[0], r[1]) for r in rows] == [(staff.user.id, "ok")] * 4
    assert [r[2] for r in rows] == ["openai/m1"] * 3 + ["openai/e1"]
    assert all(int(r[3]) > 0 for r in rows)
    assert [int(r[4]) for r in rows[:3]] == [3, 3, 2]  # "Echo: quiet" is two words

    per_member = http.get("/api/ai/usage", headers=bearer(owner))
    assert per_member.status_code == 200, per_member.text
    (mine,) = per_member.json()
    assert (mine["user_id"], mine["requests"], mine["completion_tokens"]) == (staff.user.id, 4, 8)

    # Only usage metadata reaches the server's log: no prompt, no answer, no key.
    log = server.log_tail(200_000)
    assert "ai_call" in log
    for secret in ("plain hello", "streamed hello", "red shoes", KEY, staff.access_token):
        assert secret not in log


def test_litellm_as_the_app_uses_it(
    http: httpx.Client, team: tuple[Session, Session, Session], provider: OpenAIServer, server: ServerProcess
) -> None:
    owner, _, staff = team
    configure(http, owner, entry(provider, embedding_model="e1"))
    litellm = warm_litellm().get_blocking()
    target = {"api_base": f"{server.url}/v1", "api_key": staff.access_token, "max_retries": 0}

    async def calls() -> tuple[str, str, Any, list[float]]:
        whole = await litellm.acompletion(
            model="openai/default", messages=[{"role": "user", "content": "one"}], **target
        )
        stream = await litellm.acompletion(
            model="openai/default",
            messages=[{"role": "user", "content": "two words"}],
            stream=True,
            stream_options={"include_usage": True},
            **target,
        )
        parts: list[str] = []
        usage = None
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
            usage = getattr(chunk, "usage", None) or usage
        vectors = await litellm.aembedding(model="openai/default-embedding", input=["red shoes"], **target)
        return whole.choices[0].message.content, "".join(parts), usage, vectors.data[0]["embedding"]

    whole, streamed, usage, vector = asyncio.run(calls())
    assert (whole, streamed) == ("Echo: one", "Echo: two words")
    assert usage.completion_tokens == 3
    assert vector == pytest.approx(embed_text("red shoes"), abs=1e-6)
    assert all(r.key_suffix == KEY[-4:] for r in provider.requests)
    assert staff.access_token[-4:] not in {r.key_suffix for r in provider.requests}


def test_a_failing_first_provider_falls_back_to_the_second(
    http: httpx.Client,
    team: tuple[Session, Session, Session],
    provider: OpenAIServer,
    pg: Cluster,
    database_url: str,
    server: ServerProcess,
) -> None:
    owner, _, staff = team
    second = entry(provider, "m-good") | {"api_key": SECOND_KEY}
    configure(http, owner, entry(provider, "m-bad"), second)
    provider.always("m-bad", Behaviour(status=500))

    assert chat(http, staff, "whole").json()["choices"][0]["message"]["content"] == "Echo: whole"
    events = sse(chat(http, staff, "streamed", stream=True))
    assert "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1]) == "Echo: streamed"
    # The provider core's rules (the app's too): a 5xx is retried once on the same entry, then the next entry
    # answers; the failed entry cools down, so the second call goes straight to the second entry.
    assert [(r.body["model"], r.key_suffix) for r in provider.calls()] == [
        ("m-bad", KEY[-4:]),
        ("m-bad", KEY[-4:]),
        ("m-good", SECOND_KEY[-4:]),
        ("m-good", SECOND_KEY[-4:]),
    ]
    assert [r[1:3] for r in usage_rows(pg, database_url, staff.org.id)] == [["ok", "openai/m-good"]] * 2

    # Every provider failing: a 502 that says so, in OpenAI's shape, without any key in it.
    provider.always("m-good", Behaviour(status=503))
    failed = chat(http, staff, "nothing works")
    assert failed.status_code == 502
    assert failed.json()["error"]["code"] == "provider_error"
    for secret in (KEY, SECOND_KEY):
        assert secret not in failed.text
    assert usage_rows(pg, database_url, staff.org.id)[-1][1] == "provider_down"
    log = server.log_tail(200_000)
    assert "ai_provider_failed" in log
    assert KEY not in log
    assert SECOND_KEY not in log


def test_budget_exhausted_is_an_openai_quota_error(
    http: httpx.Client, team: tuple[Session, Session, Session], provider: OpenAIServer, pg: Cluster, database_url: str
) -> None:
    owner, _, staff = team
    # A model on litellm's price list, so the call has a cost: gpt-4 at $30/M prompt tokens, $60/M completion.
    priced = {"kind": "openai", "model": "gpt-4", "base_url": provider.base_url, "api_key": KEY}
    configure(http, owner, priced, monthly_budget_usd=10)
    assert chat(http, staff, "first call is fine").status_code == 200
    cost = float(usage_rows(pg, database_url, staff.org.id)[-1][5])
    assert cost > 0.0001
    configure(http, owner, priced, monthly_budget_usd=_budget_for(cost, 0))  # the month's spend reached it

    refused = chat(http, staff, "over budget")
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("insufficient_quota", "insufficient_quota")
    assert len(provider.calls()) == 1
    assert http.get("/api/ai/usage", headers=bearer(owner)).json()[0]["cost_usd"] == pytest.approx(cost)


def test_rate_limit_per_org_holds_across_server_processes(
    http: httpx.Client,
    team: tuple[Session, Session, Session],
    provider: OpenAIServer,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    owner, admin, staff = team
    configure(http, owner, entry(provider), requests_per_minute=2)
    # A second process on the same database, as behind a load balancer: the allowance is the org's, not a process's.
    other = ServerProcess(database_url, tmp_path_factory.mktemp("second") / "server.log").start()
    try:
        with httpx.Client(base_url=other.url, timeout=60.0) as second:
            assert chat(http, staff, "one").status_code == 200
            assert chat(second, admin, "two", stream=True).status_code == 200
            refused = chat(second, staff, "three")
            assert refused.status_code == 429
            assert refused.json()["error"]["code"] == "rate_limit_exceeded"
            assert 1 <= int(refused.headers["retry-after"]) <= 60
            assert chat(http, admin, "four").status_code == 429
    finally:
        other.stop()
    assert len(provider.calls()) == 2


def test_roles_and_key_secrecy(
    http: httpx.Client, team: tuple[Session, Session, Session], provider: OpenAIServer, pg: Cluster, database_url: str
) -> None:
    owner, admin, staff = team
    body = {"providers": [entry(provider)]}
    assert http.put("/api/ai/settings", json=body, headers=bearer(staff)).status_code == 403
    assert http.put("/api/ai/settings", json=body, headers=bearer(admin)).status_code == 403
    configure(http, owner, entry(provider), monthly_budget_usd=12.5, requests_per_minute=30)
    assert http.get("/api/ai/settings", headers=bearer(staff)).status_code == 403
    assert http.get("/api/ai/usage", headers=bearer(staff)).status_code == 403

    seen = http.get("/api/ai/settings", headers=bearer(admin))
    assert seen.status_code == 200
    assert KEY not in seen.text
    (shown,) = seen.json()["providers"]
    assert (shown["key_set"], shown["key_last4"], shown["model"]) == (True, KEY[-4:], "m1")
    assert "api_key" not in shown
    assert (seen.json()["monthly_budget_usd"], seen.json()["requests_per_minute"]) == (12.5, 30)

    # The key is stored sealed: its bytes appear nowhere in the table, even to the superuser.
    dump = superuser(
        pg, database_url, f"SELECT encode(key_ciphertext, 'hex') FROM ai_providers WHERE org_id = '{owner.org.id}'"
    )
    assert dump.strip()
    assert KEY.encode().hex() not in dump
    found = superuser(
        pg,
        database_url,
        "SELECT count(*) FROM ai_providers "
        f"WHERE position(convert_to('{KEY}', 'UTF8') in key_ciphertext) > 0 OR key_ciphertext::text LIKE '%{KEY}%'",
    )
    assert found.strip() == "0"
    sealed = bytes.fromhex(dump.strip())
    assert crypto.open_key(decode_secret(SECRET), owner.org.id, sealed) == KEY
    with pytest.raises(crypto.KeyUnreadable):
        crypto.open_key(decode_secret(SECRET), "another-org", sealed)

    # Sending the answer back unchanged keeps the key; changing the model without a key drops it.
    kept = configure(http, owner, *seen.json()["providers"])
    assert kept["providers"][0]["key_last4"] == KEY[-4:]
    assert chat(http, staff, "still works").status_code == 200
    assert provider.calls()[-1].authorized
    moved = configure(http, owner, {**seen.json()["providers"][0], "model": "m2"})
    assert (moved["providers"][0]["key_set"], moved["providers"][0]["key_last4"]) == (False, None)


def test_missing_or_expired_tokens_get_401_and_nothing_is_called(
    http: httpx.Client, team: tuple[Session, Session, Session], provider: OpenAIServer, server: ServerProcess
) -> None:
    owner, _, staff = team
    configure(http, owner, entry(provider))
    expired = tokens.issue_access(
        decode_secret(SECRET),
        tokens.AccessClaims(
            org=staff.org.id, sub=staff.user.id, dev=staff.device_id, role="staff", exp=int(time.time()) - 5
        ),
    )
    body = {"model": "default", "messages": [{"role": "user", "content": "hi"}]}
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": f"Bearer {expired}"}):
        answer = http.post("/v1/chat/completions", json=body, headers=headers)
        assert answer.status_code == 401
        error = answer.json()["error"]
        assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_api_key")
    assert http.get("/v1/models").status_code == 401

    litellm = warm_litellm().get_blocking()
    with pytest.raises(litellm.AuthenticationError) as caught:
        asyncio.run(
            litellm.acompletion(
                model="openai/default",
                messages=[{"role": "user", "content": "hi"}],
                api_base=f"{server.url}/v1",
                api_key=expired,
                max_retries=0,
            )
        )
    assert "Incorrect API key" in str(caught.value)
    assert provider.requests == []


def test_invalid_bodies_are_refused_before_any_call(
    http: httpx.Client, team: tuple[Session, Session, Session], provider: OpenAIServer, pg: Cluster, database_url: str
) -> None:
    owner, _, staff = team
    configure(http, owner, entry(provider))
    url, auth = "/v1/chat/completions", bearer(staff)
    assert http.post(url, content=b"{not json", headers=auth).status_code == 400
    assert http.post(url, json={"model": "default"}, headers=auth).status_code == 422
    assert http.post(url, json={"model": "default", "messages": []}, headers=auth).status_code == 422
    bad_role = {"model": "default", "messages": [{"role": "wizard", "content": "x"}]}
    assert http.post(url, json=bad_role, headers=auth).status_code == 422
    huge = {"model": "default", "messages": [{"role": "user", "content": "x" * (5 * 1024 * 1024)}]}
    assert http.post(url, json=huge, headers=auth).status_code == 413
    unknown = http.post(url, json={"model": "nope", "messages": [{"role": "user", "content": "x"}]}, headers=auth)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "model_not_found")
    assert http.post("/v1/embeddings", json={"model": "default-embedding"}, headers=auth).status_code == 422
    assert provider.requests == []
    assert usage_rows(pg, database_url, staff.org.id) == []


def test_another_org_sees_nothing_of_this_one(
    http: httpx.Client, team: tuple[Session, Session, Session], provider: OpenAIServer
) -> None:
    owner, _, staff = team
    configure(http, owner, entry(provider))
    assert chat(http, staff, "mine").status_code == 200
    other = signup(http, org_name="Other Shop")
    assert http.get("/api/ai/usage", headers=bearer(other)).json() == []
    assert http.get("/api/ai/settings", headers=bearer(other)).json()["providers"] == []
    refused = chat(http, other, "borrow their key")
    assert (refused.status_code, refused.json()["error"]["code"]) == (503, "no_provider")
    assert [m["id"] for m in http.get("/v1/models", headers=bearer(other)).json()["data"]] == [
        "default",
        "default-embedding",
    ]
    assert len(provider.calls()) == 1


def test_the_server_starts_without_importing_litellm(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, provider: OpenAIServer
) -> None:
    proc = ServerProcess(database_url, tmp_path_factory.mktemp("lazy") / "server.log").start()
    try:
        with httpx.Client(base_url=proc.url, timeout=60.0) as http:
            owner = signup(http)
            configure(http, owner, entry(provider))
            assert "litellm" not in proc.log_tail(200_000)
            assert chat(http, owner, "first").status_code == 200
            wait_until(lambda: "litellm" in proc.log_tail(200_000), 10, lambda: f"litellm imported: {proc.log_tail()}")
            assert "imported in" in proc.log_tail(200_000)
    finally:
        proc.stop()


def test_a_client_leaving_mid_stream_is_still_metered(
    http: httpx.Client, team: tuple[Session, Session, Session], provider: OpenAIServer, pg: Cluster, database_url: str
) -> None:
    owner, _, staff = team
    configure(http, owner, entry(provider))
    provider.always("m1", Behaviour(chunk_delay=0.2, text=" ".join(["word"] * 100)))
    body = {"model": "default", "messages": [{"role": "user", "content": "long"}], "stream": True}
    with http.stream("POST", "/v1/chat/completions", json=body, headers=bearer(staff)) as response:
        assert response.status_code == 200
        first = next(response.iter_lines())
        assert first.startswith("data: ")  # the answer had begun; now the client goes away

    def settled() -> list[Any] | None:
        rows = usage_rows(pg, database_url, staff.org.id)
        return rows if rows and rows[-1][1] != "started" else None

    rows = wait_until(settled, 20, lambda: f"the usage row settled: {usage_rows(pg, database_url, staff.org.id)}", 0.1)
    assert [r[1:3] for r in rows] == [["cancelled", "openai/m1"]]


class _BreaksMidAnswer(BaseHTTPRequestHandler):
    """A provider that streams a few words and then reports an error in the stream, as OpenAI does when it fails
    mid-answer (``OpenAIServer`` only fails before its first byte)."""

    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        delta = {"role": "assistant", "content": "Half an "}
        chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m-break"}
        self.wfile.write(f"data: {json.dumps(chunk | {'choices': [{'index': 0, 'delta': delta}]})}\n\n".encode())
        error = {"error": {"message": "overloaded", "type": "server_error", "code": "overloaded"}}
        self.wfile.write(f"data: {json.dumps(error)}\n\n".encode())


def test_a_provider_failing_mid_answer_ends_the_stream_without_falling_back(
    http: httpx.Client, team: tuple[Session, Session, Session], provider: OpenAIServer, pg: Cluster, database_url: str
) -> None:
    owner, _, staff = team
    breaking = ThreadingHTTPServer(("127.0.0.1", 0), _BreaksMidAnswer)
    threading.Thread(target=breaking.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        port = breaking.server_address[1]
        first = {"kind": "openai_compatible", "model": "m-break", "base_url": f"http://127.0.0.1:{port}/v1"}
        configure(http, owner, first, entry(provider, "m-good"))
        events = sse(chat(http, staff, "tell me everything", stream=True))
    finally:
        breaking.shutdown()
        breaking.server_close()
    assert events[0]["choices"][0]["delta"]["content"] == "Half an "
    assert events[-1]["error"]["code"] == "provider_error"
    assert "[DONE]" not in events
    assert provider.calls() == []  # a second answer after the first words would repeat them
    assert [r[1:3] for r in usage_rows(pg, database_url, staff.org.id)] == [["provider_down", "openai/m-break"]]


def _priced(provider: OpenAIServer) -> dict[str, Any]:
    """A model on litellm's price list, so calls cost something: gpt-4 at $30/M prompt and $60/M answer tokens."""
    return {"kind": "openai", "model": "gpt-4", "base_url": provider.base_url, "api_key": KEY}


def _held_provider() -> tuple[OpenAIServer, threading.Event]:
    """A provider whose answers wait for the test to open the gate: calls stay in flight as long as it needs."""
    gate = threading.Event()

    def reply(body: dict[str, Any]) -> str:
        gate.wait(120)
        return "fine thanks"

    return OpenAIServer(keys={KEY}, reply=reply).start(), gate


def _ledger(pg: Cluster, database_url: str, org_id: str) -> list[list[str]]:
    """Each call's status, cost, reservation, whether it is still held (``t``/``f``/empty), when it was admitted and
    until when its reservation holds, in order."""
    columns = "status, cost_usd, reserved_usd, reserved_until > clock_timestamp(), at, reserved_until"
    return usage_rows(pg, database_url, org_id, columns)


def _budget_for(spent: float, room: float) -> float:
    """A budget leaving ``room`` dollars after ``spent``, in the 1/100 cents the server keeps."""
    return math.floor((spent + room) * 10_000) / 10_000


PROMPT = "w " * 50  # 50 tokens as the test provider counts them, 100 bytes as the reservation does


def test_concurrent_calls_reserve_their_cost_so_the_budget_is_never_overshot(
    http: httpx.Client, team: tuple[Session, Session, Session], pg: Cluster, database_url: str, server: ServerProcess
) -> None:
    """Ten calls at once with room for fewer: the ones whose largest possible cost does not fit are refused with the
    quota error the openai SDK raises as RateLimitError; the month's spend stays within the budget."""
    owner, _, staff = team
    provider, gate = _held_provider()
    try:
        configure(http, owner, _priced(provider), monthly_budget_usd=10)
        gate.set()
        assert chat(http, staff, PROMPT, max_tokens=2).status_code == 200
        ((status, cost, reserved, held, *_),) = _ledger(pg, database_url, staff.org.id)
        assert (status, held) == ("ok", "")  # settled: the reservation is released
        one_call, reservation = float(cost), float(reserved)
        gate.clear()
        # Room for eight calls at their real cost, for three at their reservation: the old code admitted all ten.
        budget = _budget_for(one_call, 8 * one_call)
        configure(http, owner, _priced(provider), monthly_budget_usd=budget)

        async def ten_at_once() -> tuple[list[Any], list[BaseException]]:
            client = openai.AsyncOpenAI(
                base_url=f"{server.url}/v1", api_key=staff.access_token, max_retries=0, timeout=120
            )
            messages: Any = [{"role": "user", "content": PROMPT}]
            calls = [
                asyncio.ensure_future(client.chat.completions.create(model="default", messages=messages, max_tokens=2))
                for _ in range(10)
            ]
            # The refused answer at once; the admitted wait at the provider until the gate opens.
            try:
                await async_wait_until(
                    lambda: sum(c.done() for c in calls) + len(provider.calls()) >= 10,
                    60,
                    lambda: (
                        f"every call answered or at the provider: {sum(c.done() for c in calls)} answered, "
                        f"{len(provider.calls())} at the provider"
                    ),
                )
            finally:
                gate.set()
            done = await asyncio.gather(*calls, return_exceptions=True)
            await client.close()
            return [d for d in done if not isinstance(d, BaseException)], [
                d for d in done if isinstance(d, BaseException)
            ]

        answered, refused = asyncio.run(ten_at_once())
    finally:
        gate.set()
        provider.stop()
    ledger = _ledger(pg, database_url, staff.org.id)
    assert sum(float(row[1]) for row in ledger) <= budget
    assert 0 < one_call <= reservation  # the reservation is an upper bound of what the call cost
    fits = int((budget - one_call) // reservation)
    assert 1 <= fits < 10
    assert len(answered) == fits, refused
    assert len(refused) == 10 - fits
    for exc in refused:
        assert isinstance(exc, openai.RateLimitError), repr(exc)
        assert (exc.status_code, exc.code) == (429, "insufficient_quota")
        assert isinstance(exc.body, dict)
        assert str(exc.body["message"]).startswith("You exceeded your current quota: this call may cost up to $")
    assert [row[0] for row in ledger] == ["ok"] * (1 + fits)
    assert all(row[3] == "" for row in ledger)  # every reservation settled


def _call_ignoring_a_dead_server(client: httpx.Client, who: Session) -> None:
    with contextlib.suppress(httpx.HTTPError):
        chat(client, who, PROMPT, max_tokens=2)


def test_a_reservation_never_settled_expires(
    http: httpx.Client,
    team: tuple[Session, Session, Session],
    pg: Cluster,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A call whose process is killed mid-call holds the budget only until its reservation expires."""
    owner, _, staff = team
    provider, gate = _held_provider()
    env = {"PARLEY_SYNC_AI_RESERVATION_SECONDS": "5"}
    proc = ServerProcess(database_url, tmp_path_factory.mktemp("expiry") / "server.log", env_extra=env).start()
    try:
        with httpx.Client(base_url=proc.url, timeout=120.0) as client:
            configure(client, owner, _priced(provider), monthly_budget_usd=10)
            gate.set()
            assert chat(client, staff, PROMPT, max_tokens=2).status_code == 200
            ((_, cost, reserved, *_),) = _ledger(pg, database_url, staff.org.id)
            gate.clear()
            # Room for one reservation, not two.
            configure(
                client, owner, _priced(provider), monthly_budget_usd=_budget_for(float(cost), 1.5 * float(reserved))
            )
            in_flight = threading.Thread(target=_call_ignoring_a_dead_server, args=(client, staff), daemon=True)
            in_flight.start()
            wait_for(lambda: len(provider.calls()) == 2, timeout=60, what="the first call to reach the provider")
            refused = chat(client, staff, PROMPT, max_tokens=2)
            assert (refused.status_code, refused.json()["error"]["code"]) == (429, "insufficient_quota")
            proc.kill()  # the call in flight never settles
            in_flight.join(60)
        proc.start()
        with httpx.Client(base_url=proc.url, timeout=120.0) as client:
            gate.set()
            answers: list[int] = []

            def admitted() -> bool:
                answers.append(chat(client, staff, PROMPT, max_tokens=2).status_code)
                return answers[-1] == 200

            wait_for(admitted, timeout=120, what="the dead call's reservation to expire")
    finally:
        gate.set()
        proc.stop()
        provider.stop()
    assert set(answers[:-1]) <= {429}
    ledger = _ledger(pg, database_url, staff.org.id)
    dead = ledger[1]
    assert (dead[0], dead[3]) == ("started", "f")  # never settled, no longer held
    assert ledger[-1][0] == "ok"
    assert ledger[-1][4] >= dead[5]  # admitted only once the dead call's reservation had run out


@pytest.mark.parametrize(
    "raw",
    ["1e30", "100000000", "-1", "0.00001", "12.34567", "NaN", "Infinity", str(2**64)],
)
def test_a_budget_that_cannot_be_stored_is_refused(
    http: httpx.Client, team: tuple[Session, Session, Session], provider: OpenAIServer, raw: str
) -> None:
    owner, _, _ = team
    configure(http, owner, entry(provider), monthly_budget_usd=12.5)
    body = '{"providers": [], "monthly_budget_usd": ' + raw + "}"
    answer = http.put("/api/ai/settings", content=body.encode(), headers={**bearer(owner), **JSON_TYPE})
    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["code"] in ("bad_json", "invalid")
    seen = http.get("/api/ai/settings", headers=bearer(owner)).json()
    assert seen["monthly_budget_usd"] == 12.5  # unchanged, not 0
    assert len(seen["providers"]) == 1
