"""Cloud mode through the gateway contract (OpenAI API at <server>/v1, the access token as bearer), and the service
that picks the provider from the settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.ai.cloud import SIGN_IN_AGAIN, CloudAccess, CloudProvider
from app.ai.config import save_entries
from app.ai.keys import ProviderKeys
from app.ai.service import AI_OFF, AiService
from app.ai.types import AIError, Done
from app.store.store import Store
from tests.ai.openai_server import OpenAIServer
from tests.support.ai_fixtures import FAST, KEY, POLICY, ask, collect, entry, run

pytestmark = pytest.mark.usefixtures("loader")
TOKEN = "access-token-abcd"


@pytest.fixture
def gateway() -> Iterator[OpenAIServer]:
    server = OpenAIServer(keys={TOKEN}).start()
    yield server
    server.stop()


def test_cloud_sends_the_access_token_to_the_gateway(gateway: OpenAIServer) -> None:
    access = CloudAccess(gateway.url, lambda: TOKEN, chat_model="team-default", embedding_model="team-embed")
    cloud = CloudProvider(access, policy=POLICY)
    done = run(collect(cloud.stream(ask("hello"), FAST, purpose="suggest")))[-1]
    assert isinstance(done, Done)
    assert done.text == "Echo: hello"
    assert (done.usage.provider, done.usage.model, done.usage.cost_usd) == ("openai_compatible", "team-default", 0.0)
    vectors = run(cloud.embed(["hello"]))
    assert vectors.model == "team-embed"
    assert [(r.path, r.key_suffix, r.authorized) for r in gateway.requests] == [
        ("/v1/chat/completions", "abcd", True),
        ("/v1/embeddings", "abcd", True),
    ]


def test_an_expired_token_asks_to_sign_in_again(gateway: OpenAIServer) -> None:
    cloud = CloudProvider(CloudAccess(gateway.url, lambda: "expired-token"), policy=POLICY)
    with pytest.raises(AIError) as caught:
        run(collect(cloud.stream(ask("hello"), FAST, purpose="suggest")))
    assert caught.value.kind == "invalid_key"
    assert str(caught.value) == SIGN_IN_AGAIN
    assert len(gateway.requests) == 1


def test_signed_out_sends_nothing(gateway: OpenAIServer) -> None:
    cloud = CloudProvider(CloudAccess(gateway.url, lambda: None), policy=POLICY)
    with pytest.raises(AIError) as caught:
        run(collect(cloud.stream(ask("hello"), FAST, purpose="suggest")))
    assert caught.value.kind == "no_provider"
    assert gateway.requests == []


def test_service_follows_the_mode_setting(
    server: OpenAIServer, gateway: OpenAIServer, keys: ProviderKeys, store: Store
) -> None:
    settings = store.settings
    service = AiService(store, settings, keys, policy=POLICY)
    with pytest.raises(AIError) as caught:
        service.provider()
    assert (caught.value.kind, str(caught.value)) == ("no_provider", AI_OFF)

    settings.ai.mode = "byok"
    save_entries(store.settings, [entry(server, "main", "m1")])
    keys.set("main", KEY)
    done = run(collect(service.provider().stream(ask("byok"), FAST, purpose="suggest")))[-1]
    assert isinstance(done, Done)
    assert done.text == "Echo: byok"

    settings.ai.mode = "cloud"
    with pytest.raises(AIError, match="sign in"):
        service.provider()
    service.cloud = CloudAccess(gateway.url, lambda: TOKEN)
    done = run(collect(service.provider().stream(ask("cloud"), FAST, purpose="suggest")))[-1]
    assert isinstance(done, Done)
    assert [r.body["messages"][-1]["content"] for r in server.requests] == ["byok"]  # nothing else to the provider
    assert [r.body["messages"][-1]["content"] for r in gateway.requests] == ["cloud"]  # nor BYOK to the gateway


def test_test_key_makes_one_tiny_call_and_records_it(server: OpenAIServer, keys: ProviderKeys, store: Store) -> None:
    service = AiService(store, store.settings, keys, policy=POLICY)
    keys.set("main", KEY)
    usage = run(service.test_entry(entry(server, "main", "m1")))
    assert usage.model == "m1"
    (call,) = server.calls()
    assert call.body["max_tokens"] == 5
    assert [r.purpose for r in store.ai_interactions.find_all()] == ["test"]
    keys.set("main", "sk-wrong-0000")
    with pytest.raises(AIError) as caught:
        run(service.test_entry(entry(server, "main", "m1")))
    assert caught.value.kind == "invalid_key"
