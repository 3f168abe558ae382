"""One AI provider core, two users: the same provider failures through the sync server's gateway (a real server
process on a real PostgreSQL, called over HTTP, plain and streamed) and through the app's BYOK chain (litellm with
keys from a keyring) behave the same, because both run ``app.ai.provider_core``'s fallback with the same policy.

Each scenario is written once and run through every path against the same local OpenAI-compatible provider
(``OpenAIServer``, real HTTP). Before the shared core, the gateway neither retried nor cooled an entry down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from app.ai.byok import ByokProvider
from app.ai.keys import ProviderKeys
from app.ai.provider_core import ChainPolicy, Cooldowns
from app.ai.types import AIError, CallOptions, Done, ProviderEntry
from sync_server.gateway import upstream
from tests.ai.openai_server import Behaviour, OpenAIServer
from tests.support.ai_fixtures import ask, collect, run, warm_litellm
from tests.support.keyrings import InMemoryKeyring
from tests.support.sync_fixtures import signup
from tests.sync.test_gateway import KEY, SECOND_KEY, chat, configure, sse

PATHS = ["byok", "gateway", "gateway_stream"]
KEYS = {"m1": KEY, "m-bad": KEY, "m2": SECOND_KEY, "m-good": SECOND_KEY}
OPTIONS = CallOptions(timeout_seconds=60, first_token_seconds=60)  # the gateway's deadlines (ai_timeout_seconds)
Ask = Callable[[str], str]


@pytest.fixture
def provider() -> Iterator[OpenAIServer]:
    """The org's provider (the gateway path) and the user's (the BYOK path): one server, an entry's key each."""
    server = OpenAIServer(keys={KEY, SECOND_KEY}).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest) -> str:
    """Every scenario runs along every path."""
    return str(request.param)


@pytest.fixture
def gateway_http(http: httpx.Client) -> httpx.Client:
    http.timeout = httpx.Timeout(60.0)  # the server's first gateway call imports litellm: seconds on a busy machine
    return http


def through(path: str, provider: OpenAIServer, http: httpx.Client, *models: str) -> Ask:
    """A way to ask ``models`` in order (each with its own key) along ``path``; returns the answer's text."""
    if path == "byok":
        keys = ProviderKeys(InMemoryKeyring())
        for model in models:
            keys.set(model, KEYS[model])
        entries = [ProviderEntry(id=m, kind="openai_compatible", model=m, base_url=provider.base_url) for m in models]
        # The gateway's policy, and cool-downs kept across calls as the app's AiService keeps them.
        chain = ByokProvider(entries, keys, loader=warm_litellm(), policy=upstream.POLICY, cooldowns=Cooldowns())

        def by_byok(text: str) -> str:
            done = run(collect(chain.stream(ask(text), OPTIONS, purpose="suggest")))[-1]
            assert isinstance(done, Done)
            return done.text

        return by_byok
    owner = signup(http)
    providers = [
        {"kind": "openai_compatible", "model": m, "base_url": provider.base_url, "api_key": KEYS[m]} for m in models
    ]
    configure(http, owner, *providers)

    def by_gateway(text: str) -> str:
        answer = chat(http, owner, text, stream=path == "gateway_stream")
        assert answer.status_code == 200, answer.text
        if path == "gateway_stream":
            return "".join(e["choices"][0]["delta"].get("content", "") for e in sse(answer)[:-1] if e["choices"])
        return str(answer.json()["choices"][0]["message"]["content"])

    return by_gateway


def models_called(provider: OpenAIServer) -> list[str]:
    return [str(r.body["model"]) for r in provider.calls()]


def test_both_users_run_one_policy() -> None:
    assert ChainPolicy() == upstream.POLICY  # the app's AiService default too
    assert upstream.POLICY.retries >= 1
    assert upstream.POLICY.max_retry_after >= 1.5


def test_a_rate_limit_with_retry_after_is_retried_on_the_same_entry_then_answers(
    path: str, provider: OpenAIServer, gateway_http: httpx.Client
) -> None:
    provider.script("m1", Behaviour(status=429, retry_after=1.5))
    call = through(path, provider, gateway_http, "m1", "m2")
    assert call("hello there") == "Echo: hello there"
    first, second = provider.calls()
    assert [first.body["model"], second.body["model"]] == ["m1", "m1"]  # the same entry, not the next one
    assert second.at - first.at >= 1.4  # Retry-After honoured (the backoff alone is 0.5 s)


def test_a_5xx_entry_is_retried_once_then_falls_back_to_the_second(
    path: str, provider: OpenAIServer, gateway_http: httpx.Client
) -> None:
    provider.always("m-bad", Behaviour(status=500))
    call = through(path, provider, gateway_http, "m-bad", "m-good")
    assert call("hi") == "Echo: hi"
    assert models_called(provider) == ["m-bad", "m-bad", "m-good"]
    assert [r.key_suffix for r in provider.calls()] == [KEY[-4:], KEY[-4:], SECOND_KEY[-4:]]


def test_a_failed_entry_cools_down_and_the_next_call_skips_it(
    path: str, provider: OpenAIServer, gateway_http: httpx.Client
) -> None:
    provider.always("m-bad", Behaviour(status=503))
    call = through(path, provider, gateway_http, "m-bad", "m-good")
    assert call("one") == "Echo: one"
    provider.always("m-bad", Behaviour())  # back up, but still cooling down: not asked again yet
    assert call("two") == "Echo: two"
    assert call("three") == "Echo: three"
    assert models_called(provider) == ["m-bad", "m-bad", "m-good", "m-good", "m-good"]


def test_the_gateways_cool_down_is_per_org(provider: OpenAIServer, gateway_http: httpx.Client) -> None:
    """One org's failed entry is skipped by that org's next calls only: another org with the same provider and model
    (its own key, its own account) still tries it."""
    provider.always("m-bad", Behaviour(status=503))
    first_org = through("gateway", provider, gateway_http, "m-bad", "m-good")
    assert first_org("one") == "Echo: one"
    other_org = through("gateway", provider, gateway_http, "m-bad", "m-good")
    assert other_org("two") == "Echo: two"
    assert first_org("three") == "Echo: three"
    assert models_called(provider) == ["m-bad", "m-bad", "m-good"] * 2 + ["m-good"]


def test_every_entry_cooling_down_is_answered_at_once_with_when_to_retry(
    provider: OpenAIServer, gateway_http: httpx.Client
) -> None:
    """Both users: nothing is sent while the only entry cools down, and the answer says when it is tried again."""
    provider.always("m-bad", Behaviour(status=503))
    owner = signup(gateway_http)
    only = {"kind": "openai_compatible", "model": "m-bad", "base_url": provider.base_url, "api_key": KEY}
    configure(gateway_http, owner, only)
    failed = chat(gateway_http, owner, "one")
    assert (failed.status_code, failed.json()["error"]["code"]) == (502, "provider_error")
    assert "retry-after" not in failed.headers
    again = chat(gateway_http, owner, "two")
    assert (again.status_code, again.json()["error"]["code"]) == (502, "provider_error")
    assert 50 <= int(again.headers["retry-after"]) <= 60  # the cool-down left (ChainPolicy: 60 s)
    assert "tries it again in" in again.json()["error"]["message"]
    assert models_called(provider) == ["m-bad", "m-bad"]  # the second call reached no provider

    keys = ProviderKeys(InMemoryKeyring())
    keys.set("m-bad", KEY)
    entries = [ProviderEntry(id="m-bad", kind="openai_compatible", model="m-bad", base_url=provider.base_url)]
    chain = ByokProvider(entries, keys, loader=warm_litellm(), policy=upstream.POLICY, cooldowns=Cooldowns())
    for expected in ("could not be reached", "tries again in"):
        with pytest.raises(AIError) as caught:
            run(collect(chain.stream(ask("hi"), OPTIONS, purpose="suggest")))
        assert caught.value.kind == "provider_down"
        assert expected in str(caught.value)
    assert models_called(provider) == ["m-bad"] * 4
