"""BYOK end to end: the fallback chain over litellm, against a real local OpenAI-compatible server.

Nothing is mocked: litellm makes real HTTP requests, keys come from an (in-memory) keyring. Deadlines are fractions
of a second (``FAST``/``POLICY``), so every failure path stays quick.
"""

from __future__ import annotations

import contextlib
import json

import pytest

from app.ai.byok import ByokProvider
from app.ai.keys import ProviderKeys
from app.ai.litellm_loader import LitellmLoader
from app.ai.provider_core import ChainPolicy, Cooldowns, model_string
from app.ai.types import AIError, CallOptions, Delta, Done, ProviderEntry
from tests.ai.openai_server import Behaviour, OpenAIServer, embed_text
from tests.support.ai_fixtures import FAST, KEY, OTHER_KEY, POLICY, ask, collect, entry, run
from tests.support.keyrings import LockedKeyring

pytestmark = pytest.mark.usefixtures("loader")


def provider(keys: ProviderKeys, *entries: ProviderEntry, policy: ChainPolicy = POLICY, **kw: object) -> ByokProvider:
    for e in entries:
        if not keys.has(e.id):
            keys.set(e.id, KEY)
    return ByokProvider(entries, keys, policy=policy, **kw)  # type: ignore[arg-type]


def test_model_strings() -> None:
    assert model_string(ProviderEntry(id="a", kind="anthropic", model="claude-3-5-haiku-latest")) == (
        "anthropic/claude-3-5-haiku-latest"
    )
    assert model_string(ProviderEntry(id="a", kind="openai_compatible", model="llama3.1", base_url="x")) == (
        "openai/llama3.1"
    )
    assert model_string(ProviderEntry(id="a", kind="openrouter", model="meta/llama")) == "openrouter/meta/llama"


def test_stream_arrives_in_several_deltas_then_done_with_tokens(server: OpenAIServer, keys: ProviderKeys) -> None:
    chain = provider(keys, entry(server, "main", "m1"))
    events = run(collect(chain.stream(ask("do you ship to Lisbon"), FAST, purpose="suggest")))
    deltas = [e for e in events if isinstance(e, Delta)]
    done = events[-1]
    assert len(deltas) >= 3
    assert isinstance(done, Done)
    assert done.text == "".join(d.text for d in deltas) == "Echo: do you ship to Lisbon"
    assert done.usage.prompt_tokens > 0
    assert done.usage.completion_tokens == 6
    assert (done.usage.provider, done.usage.model, done.usage.attempts) == ("openai_compatible", "m1", 1)
    assert done.usage.cost_usd == 0.0  # a local server costs nothing
    assert 0 <= done.usage.ttft_ms <= done.usage.latency_ms
    (call,) = server.calls()
    assert call.body["stream"] is True
    assert call.body["model"] == "m1"
    assert not {"input_cost_per_token", "output_cost_per_token"} & call.body.keys()  # litellm's, not the server's
    assert call.key_suffix == KEY[-4:]
    assert "authorization" not in {h.lower() for h in call.headers}


def test_falls_back_to_the_second_entry_on_500(server: OpenAIServer, keys: ProviderKeys) -> None:
    server.always("m1", Behaviour(status=500))
    chain = provider(keys, entry(server, "first", "m1"), entry(server, "second", "m2"))
    done = run(collect(chain.stream(ask("hi"), FAST, purpose="suggest")))[-1]
    assert isinstance(done, Done)
    assert done.usage.model == "m2"
    assert done.usage.attempts == 3  # m1, m1 again (one retry on a 5xx), then m2
    assert [c.body["model"] for c in server.calls()] == ["m1", "m1", "m2"]


def test_falls_back_when_the_first_token_is_late(server: OpenAIServer, keys: ProviderKeys) -> None:
    server.always("slow", Behaviour(first_token_delay=3.0))
    chain = provider(keys, entry(server, "slow", "slow"), entry(server, "fast", "fast"))
    options = CallOptions(timeout_seconds=5.0, first_token_seconds=0.5)
    done = run(collect(chain.stream(ask("hi"), options, purpose="suggest")))[-1]
    assert isinstance(done, Done)
    assert done.usage.model == "fast"
    assert done.usage.latency_ms < 2500  # did not wait for the slow one


def test_invalid_key_gives_a_plain_message_and_stops(server: OpenAIServer, keys: ProviderKeys) -> None:
    keys.set("main", "sk-wrong-key-9999")
    chain = provider(keys, ProviderEntry(id="main", kind="openai_compatible", model="m1", base_url=server.base_url))
    with pytest.raises(AIError) as caught:
        run(collect(chain.stream(ask("hi"), FAST, purpose="suggest")))
    assert caught.value.kind == "invalid_key"
    assert str(caught.value) == "OpenAI-compatible server refused the key for 'm1': check it in Settings › AI."
    assert caught.value.tried == ("main",)
    assert len(server.calls()) == 1  # a refused key is not retried
    assert "sk-wrong" not in repr(caught.value)


def test_rate_limit_is_retried_after_retry_after_then_succeeds(server: OpenAIServer, keys: ProviderKeys) -> None:
    server.script("m1", Behaviour(status=429, retry_after=0.2))
    chain = provider(keys, entry(server, "main", "m1"))
    done = run(collect(chain.stream(ask("hi"), FAST, purpose="suggest")))[-1]
    assert isinstance(done, Done)
    assert done.usage.attempts == 2
    assert done.usage.latency_ms >= 200  # Retry-After was honoured
    assert len(server.calls()) == 2


def test_a_long_retry_after_moves_on_instead_of_waiting(server: OpenAIServer, keys: ProviderKeys) -> None:
    server.always("m1", Behaviour(status=429, retry_after=120))
    chain = provider(keys, entry(server, "main", "m1"))
    with pytest.raises(AIError) as caught:
        run(collect(chain.stream(ask("hi"), FAST, purpose="suggest")))
    assert caught.value.kind == "rate_limit"
    assert len(server.calls()) == 1


def test_quota_is_told_apart_from_a_rate_limit(server: OpenAIServer, keys: ProviderKeys) -> None:
    server.always("m1", Behaviour(status=429, error_code="insufficient_quota"))
    chain = provider(keys, entry(server, "main", "m1"))
    with pytest.raises(AIError) as caught:
        run(collect(chain.stream(ask("hi"), FAST, purpose="suggest")))
    assert caught.value.kind in {"quota", "rate_limit"}


def test_a_failed_entry_cools_down_and_is_skipped_on_the_next_call(server: OpenAIServer, keys: ProviderKeys) -> None:
    server.always("m1", Behaviour(status=503))
    clock = [1000.0]
    cooldowns = Cooldowns(clock=lambda: clock[0])
    chain = provider(keys, entry(server, "first", "m1"), entry(server, "second", "m2"), cooldowns=cooldowns)
    run(collect(chain.stream(ask("one"), FAST, purpose="suggest")))
    assert [c.body["model"] for c in server.calls()] == ["m1", "m1", "m2"]
    done = run(collect(chain.stream(ask("two"), FAST, purpose="suggest")))[-1]
    assert isinstance(done, Done)
    assert done.usage.attempts == 1
    assert [c.body["model"] for c in server.calls()][3:] == ["m2"]  # m1 skipped while cooling down
    clock[0] += POLICY.cooldown_seconds + 1
    server.always("m1", Behaviour())
    done = run(collect(chain.stream(ask("three"), FAST, purpose="suggest")))[-1]
    assert isinstance(done, Done)
    assert done.usage.model == "m1"


def test_every_entry_cooling_down_says_when_it_tries_again(server: OpenAIServer, keys: ProviderKeys) -> None:
    server.always("m1", Behaviour(status=500))
    chain = provider(keys, entry(server, "only", "m1"))
    with pytest.raises(AIError):
        run(collect(chain.stream(ask("hi"), FAST, purpose="suggest")))
    calls = len(server.calls())
    with pytest.raises(AIError) as caught:
        run(collect(chain.stream(ask("hi"), FAST, purpose="suggest")))
    assert caught.value.kind == "provider_down"
    assert "tries again in" in str(caught.value)
    assert len(server.calls()) == calls  # nothing sent


def test_an_error_after_text_started_is_surfaced_not_repeated(server: OpenAIServer, keys: ProviderKeys) -> None:
    server.always("stalls", Behaviour(chunk_delay=3.0))
    chain = provider(keys, entry(server, "stalls", "stalls"), entry(server, "backup", "backup"))
    options = CallOptions(timeout_seconds=1.2, first_token_seconds=1.0)
    events: list[object] = []

    async def go() -> None:
        async for event in chain.stream(ask("a b c d"), options, purpose="suggest"):
            events.append(event)

    with pytest.raises(AIError) as caught:
        run(go())
    assert caught.value.kind == "timeout"
    assert events
    assert all(isinstance(e, Delta) for e in events)
    assert server.calls(model="backup") == []


def test_no_key_means_no_provider(server: OpenAIServer, keys: ProviderKeys) -> None:
    chain = ByokProvider([ProviderEntry(id="x", kind="openai", model="gpt-4o-mini")], keys, policy=POLICY)
    with pytest.raises(AIError) as caught:
        run(collect(chain.stream(ask("hi"), FAST, purpose="suggest")))
    assert caught.value.kind == "no_provider"
    assert "Settings › AI" in str(caught.value)


def test_embeddings_are_deterministic_and_similar_texts_are_near(server: OpenAIServer, keys: ProviderKeys) -> None:
    chain = provider(keys, entry(server, "chat", "m1"), entry(server, "emb", "m2", embedding_model="embed-small"))
    result = run(chain.embed(["red leather bag", "red leather bags sale", "shipping to Lisbon"]))
    assert result.model == "embed-small"
    assert result.vectors[0] == pytest.approx(embed_text("red leather bag"))
    near = sum(a * b for a, b in zip(result.vectors[0], result.vectors[1], strict=True))
    far = sum(a * b for a, b in zip(result.vectors[0], result.vectors[2], strict=True))
    assert near > far
    assert result.usage is not None
    assert result.usage.prompt_tokens > 0
    (call,) = server.calls("/v1/embeddings")
    assert call.body["model"] == "embed-small"


def test_embeddings_without_an_embedding_model(server: OpenAIServer, keys: ProviderKeys) -> None:
    chain = provider(keys, entry(server, "chat", "m1"))
    with pytest.raises(AIError) as caught:
        run(chain.embed(["x"]))
    assert caught.value.kind == "no_provider"


def test_json_mode_asks_for_the_schema_and_leaves_validation_to_the_caller(
    server: OpenAIServer, keys: ProviderKeys
) -> None:
    schema = {"type": "object", "properties": {"intent": {"type": "string"}}, "required": ["intent"]}
    server.script("m1", Behaviour(text='{"intent": "buy"}'), Behaviour(malformed_json=True))
    chain = provider(keys, entry(server, "main", "m1"))
    options = CallOptions(timeout_seconds=5, first_token_seconds=1.5, json_schema=schema)
    done = run(collect(chain.stream(ask("I want it"), options, purpose="analyze")))[-1]
    assert isinstance(done, Done)
    assert json.loads(done.text) == {"intent": "buy"}
    sent = server.calls()[0].body["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["schema"] == schema
    broken = run(collect(chain.stream(ask("I want it"), options, purpose="analyze")))[-1]
    assert isinstance(broken, Done)
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.text)


def test_byok_talks_only_to_the_provider(keys: ProviderKeys, loader: LitellmLoader) -> None:
    provider_server = OpenAIServer(keys={KEY}).start()
    elsewhere = OpenAIServer(keys={OTHER_KEY}).start()  # stands in for the sync server
    try:
        chain = provider(keys, entry(provider_server, "main", "m1", embedding_model="e1"))
        run(collect(chain.stream(ask("private words"), FAST, purpose="suggest")))
        run(chain.embed(["private words"]))
        assert [r.path for r in provider_server.requests] == ["/v1/chat/completions", "/v1/embeddings"]
        assert elsewhere.requests == []
    finally:
        provider_server.stop()
        elsewhere.stop()


def test_a_caller_may_stop_reading_mid_answer(server: OpenAIServer, keys: ProviderKeys) -> None:
    """Regenerate or closing the panel stops a stream early: it closes cleanly and the next call works."""
    server.always("m1", Behaviour(chunk_delay=0.05))
    chain = provider(keys, entry(server, "main", "m1"))

    async def first_delta_then_stop() -> str:
        stream = chain.stream(ask("one two three four five"), FAST, purpose="suggest")
        async with contextlib.aclosing(stream):
            async for event in stream:
                assert isinstance(event, Delta)
                return event.text
        raise AssertionError("no text")

    assert run(first_delta_then_stop()) == "Echo: "
    done = run(collect(chain.stream(ask("again"), FAST, purpose="suggest")))[-1]
    assert isinstance(done, Done)
    assert done.text == "Echo: again"


def test_a_locked_keyring_is_named_not_taken_for_a_missing_key(server: OpenAIServer) -> None:
    locked = ProviderKeys(LockedKeyring())
    chain = ByokProvider([ProviderEntry(id="x", kind="openai", model="gpt-4o-mini")], locked, policy=POLICY)
    with pytest.raises(AIError) as caught:
        run(collect(chain.stream(ask("hi"), FAST, purpose="suggest")))
    assert caught.value.kind == "key_unavailable"  # the provider core's kind, shared with the gateway's sealed keys
    assert "locked" in str(caught.value)
    assert server.requests == []


def test_tokens_are_counted_when_the_server_reports_no_usage(server: OpenAIServer, keys: ProviderKeys) -> None:
    server.always("m1", Behaviour(usage=False))
    chain = provider(keys, entry(server, "main", "m1"))
    done = run(collect(chain.stream(ask("how much is the red bag"), FAST, purpose="suggest")))[-1]
    assert isinstance(done, Done)
    assert done.usage.prompt_tokens > 0
    assert done.usage.completion_tokens > 0


def test_cost_comes_from_litellms_price_list_for_a_known_model(server: OpenAIServer, keys: ProviderKeys) -> None:
    """An OpenAI entry pointed at the local server (as a proxy would be): priced as gpt-4o-mini, tokens as served."""
    known = ProviderEntry(id="priced", kind="openai", model="gpt-4o-mini", base_url=server.base_url)
    chain = provider(keys, known)
    done = run(collect(chain.stream(ask("price me"), FAST, purpose="suggest")))[-1]
    assert isinstance(done, Done)
    assert done.usage.cost_usd > 0
    assert server.calls()[0].body["model"] == "gpt-4o-mini"
