"""Cloud mode for real: the app's AiService → the sync server's gateway (a real ``python -m sync_server`` process on
a real PostgreSQL) → a local OpenAI-compatible provider holding the org's key. And the other way round: in BYOK mode,
even signed in to a team, a suggestion goes straight to the user's provider and nothing reaches the sync server."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from app.ai.cloud import SIGN_IN_AGAIN, CloudAccess
from app.ai.config import save_entries
from app.ai.keys import ProviderKeys
from app.ai.litellm_loader import LitellmLoader
from app.ai.service import AiService
from app.ai.suggest import Suggester, Suggestion
from app.ai.types import AIError
from app.store.store import Store
from app.sync.protocol import Session
from sync_server import tokens
from sync_server.config import decode_secret
from tests.ai.openai_server import OpenAIServer, embed_text
from tests.support.ai_chat import ShopChat, shop_chat
from tests.support.ai_fixtures import KEY, OTHER_KEY, POLICY, entry, run
from tests.support.sync_fixtures import PASSWORD, bearer, signup, unique_email
from tests.support.sync_server import SECRET, ServerProcess

ANSWER = "Hi Maya! The Canvas Tote Bag is $12.50 and returns are free within 30 days."
TEAM_BUDGET = "Your team's AI budget on the Parley server is used up: ask the owner to raise it."


@pytest.fixture(scope="module")
def parley(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The sync server (the plugin's ``server`` fixture is shadowed here by the AI tests' provider of that name)."""
    proc = ServerProcess(database_url, tmp_path_factory.mktemp("sync") / "server.log").start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def client(parley: ServerProcess) -> Iterator[httpx.Client]:
    # Generous: the server's first gateway call imports litellm (seconds, more on a busy machine).
    with httpx.Client(base_url=parley.url, timeout=60.0) as http:
        yield http


@pytest.fixture
def team(client: httpx.Client) -> tuple[Session, Session]:
    """An org (its owner) and a staff member who joined by invite."""
    owner = signup(client)
    made = client.post("/api/invites", json={"email": unique_email("staff"), "role": "staff"}, headers=bearer(owner))
    assert made.status_code == 201, made.text
    joined = client.post(
        "/api/invites/accept",
        json={"token": made.json()["token"], "name": "Sam Staff", "password": PASSWORD, "device_name": "till"},
    )
    assert joined.status_code == 201, joined.text
    return owner, Session.model_validate(joined.json())


def point_gateway_at(client: httpx.Client, owner: Session, provider: OpenAIServer, **limits: float) -> None:
    providers = [
        {
            "kind": "openai_compatible",
            "model": "shop-model",
            "base_url": provider.base_url,
            "api_key": KEY,
            "embedding_model": "shop-embed",
        }
    ]
    answer = client.put("/api/ai/settings", json={"providers": providers, **limits}, headers=bearer(owner))
    assert answer.status_code == 200, answer.text


def cloud_service(
    store: Store, keys: ProviderKeys, loader: LitellmLoader, parley: ServerProcess, token: str
) -> AiService:
    settings = store.settings
    settings.ai.mode = "cloud"
    access = CloudAccess(server_url=parley.url, token=lambda: token)
    return AiService(store, settings, keys, loader=loader, policy=POLICY, cloud=access)


async def suggest(service: AiService, shop: ShopChat) -> tuple[list[str], Suggestion]:
    mode = service.config().mode
    assert mode != "off"
    deltas: list[str] = []
    async for event in Suggester(service.provider(), service.store, mode=mode).suggest(shop.chat.id):
        if isinstance(event, Suggestion):
            return deltas, event
        deltas.append(event)
    raise AssertionError("the suggestion never finished")


def gateway_requests(parley: ServerProcess) -> float:
    """Requests the sync server has answered on its /v1 routes, from its own /metrics."""
    text = httpx.get(parley.url + "/metrics", timeout=10.0).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if "http_requests_total{" in line and 'route="/v1/' in line
    )


def test_a_cloud_suggestion_streams_through_the_gateway(
    store: Store,
    keys: ProviderKeys,
    loader: LitellmLoader,
    server: OpenAIServer,
    parley: ServerProcess,
    client: httpx.Client,
    team: tuple[Session, Session],
) -> None:
    owner, staff = team
    point_gateway_at(client, owner, server)
    server.reply = lambda body: ANSWER
    service = cloud_service(store, keys, loader, parley, staff.access_token)

    deltas, suggestion = run(suggest(service, shop_chat(store)))
    assert len(deltas) > 5  # streamed word by word, all the way from the provider
    assert "".join(deltas) == suggestion.text == ANSWER
    assert suggestion.usage.completion_tokens == len(ANSWER.split())

    vectors = run(service.provider().embed(["canvas tote"]))
    assert vectors.vectors[0] == pytest.approx(embed_text("canvas tote"), abs=1e-6)

    # The provider saw the org's key, never the member's token; the gateway metered the staff member.
    assert [(r.path, r.key_suffix, r.authorized) for r in server.requests] == [
        ("/v1/chat/completions", KEY[-4:], True),
        ("/v1/embeddings", KEY[-4:], True),
    ]
    (usage,) = client.get("/api/ai/usage", headers=bearer(owner)).json()
    assert (usage["user_id"], usage["requests"], usage["completion_tokens"]) == (
        staff.user.id,
        2,
        len(ANSWER.split()),
    )


def test_an_expired_token_asks_to_sign_in_again(
    store: Store,
    keys: ProviderKeys,
    loader: LitellmLoader,
    server: OpenAIServer,
    parley: ServerProcess,
    client: httpx.Client,
    team: tuple[Session, Session],
) -> None:
    owner, staff = team
    point_gateway_at(client, owner, server)
    claims = tokens.AccessClaims(
        org=staff.org.id, sub=staff.user.id, dev=staff.device_id, role="staff", exp=int(time.time()) - 1
    )
    expired = tokens.issue_access(decode_secret(SECRET), claims)
    service = cloud_service(store, keys, loader, parley, expired)
    with pytest.raises(AIError) as caught:
        run(suggest(service, shop_chat(store)))
    assert (caught.value.kind, str(caught.value)) == ("invalid_key", SIGN_IN_AGAIN)
    assert server.requests == []


def test_an_exhausted_team_budget_says_so(
    store: Store,
    keys: ProviderKeys,
    loader: LitellmLoader,
    server: OpenAIServer,
    parley: ServerProcess,
    client: httpx.Client,
    team: tuple[Session, Session],
) -> None:
    owner, staff = team
    point_gateway_at(client, owner, server, monthly_budget_usd=0)
    service = cloud_service(store, keys, loader, parley, staff.access_token)
    with pytest.raises(AIError) as caught:
        run(suggest(service, shop_chat(store)))
    assert (caught.value.kind, str(caught.value)) == ("quota", TEAM_BUDGET)
    assert server.requests == []


def test_byok_sends_nothing_to_the_sync_server_even_when_signed_in(
    store: Store,
    keys: ProviderKeys,
    loader: LitellmLoader,
    server: OpenAIServer,
    parley: ServerProcess,
    client: httpx.Client,
    team: tuple[Session, Session],
) -> None:
    owner, staff = team
    point_gateway_at(client, owner, server)
    server.reply = lambda body: ANSWER
    service = cloud_service(store, keys, loader, parley, staff.access_token)  # signed in to the team
    service.settings.ai.mode = "byok"
    save_entries(store.settings, [entry(server, "mine", "my-model")])
    keys.set("mine", OTHER_KEY)
    shop = shop_chat(store)

    before = gateway_requests(parley)
    _, suggestion = run(suggest(service, shop))
    assert suggestion.text == ANSWER
    assert gateway_requests(parley) == before  # not one request to the gateway
    assert [(r.body["model"], r.key_suffix) for r in server.calls()] == [("my-model", OTHER_KEY[-4:])]

    # The same count does move when the same service is switched to cloud mode: the check above can fail.
    service.settings.ai.mode = "cloud"
    run(suggest(service, shop))
    assert gateway_requests(parley) == before + 1
    assert [r.key_suffix for r in server.calls()] == [OTHER_KEY[-4:], KEY[-4:]]
