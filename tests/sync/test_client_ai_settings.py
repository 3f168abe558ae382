"""``SyncApi``'s AI gateway calls against the real server: the owner's settings round trip (keys write-only, kept
when not retyped), the month's use after a gateway call, and the server's refusals as the client's errors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.sync.protocol import GatewayPolicy, GatewayProvider, GatewayUsage, Session
from app.sync.transport import Forbidden, RequestRefused, SyncApi
from tests.ai.openai_server import OpenAIServer
from tests.support.sync_fixtures import bearer, signup
from tests.support.sync_server import ServerProcess
from tests.sync.test_gateway import invite

KEY = "sk-team-key-4821"


class Tokens:
    """One session's tokens, as ``Credentials`` would hold them (refreshes are saved)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def access_token(self) -> str | None:
        return self.session.access_token

    def refresh_token(self) -> str | None:
        return self.session.refresh_token

    def save_session(self, session: Session) -> None:
        self.session = session


@pytest.fixture
def provider() -> Iterator[OpenAIServer]:
    server = OpenAIServer(keys={KEY}).start()
    yield server
    server.stop()


def run_api(server: ServerProcess, session: Session, call: str, *args: object) -> Any:
    """One ``SyncApi`` call with ``session``'s tokens, on a loop of its own."""

    async def go() -> Any:
        api = SyncApi(server.url, Tokens(session), timeout=60.0)
        try:
            return await getattr(api, call)(*args)
        finally:
            await api.aclose()

    return asyncio.run(go())


def test_settings_round_trip_usage_and_refusals(
    http: httpx.Client, server: ServerProcess, provider: OpenAIServer
) -> None:
    owner = signup(http)
    admin = invite(http, owner, "admin")
    staff = invite(http, owner, "staff")

    empty: GatewayPolicy = run_api(server, owner, "ai_settings")
    assert empty.providers == []

    entry = GatewayProvider(kind="openai_compatible", model="m1", base_url=provider.base_url, api_key=KEY)
    wanted = GatewayPolicy(providers=[entry], monthly_budget_usd=25.5, requests_per_minute=30)
    saved: GatewayPolicy = run_api(server, owner, "put_ai_settings", wanted)
    (stored,) = saved.providers
    assert (stored.kind, stored.model, stored.base_url) == ("openai_compatible", "m1", provider.base_url)
    assert stored.key_set
    assert stored.key_last4 == "4821"
    assert stored.api_key is None, "the key never comes back"
    assert (saved.monthly_budget_usd, saved.requests_per_minute) == (25.5, 30)

    # The answer edited and sent back without the key keeps it.
    edited = saved.model_copy(update={"providers": [stored.model_copy(update={"embedding_model": "e1"})]})
    again: GatewayPolicy = run_api(server, owner, "put_ai_settings", edited)
    assert again.providers[0].key_set
    assert again.providers[0].key_last4 == "4821"
    assert again.providers[0].embedding_model == "e1"
    seen_by_admin: GatewayPolicy = run_api(server, admin, "ai_settings")
    assert seen_by_admin == again

    assert run_api(server, admin, "ai_usage") == []
    body = {"model": "default", "messages": [{"role": "user", "content": "hello"}]}
    answer = http.post("/v1/chat/completions", json=body, headers=bearer(staff), timeout=60.0)
    assert answer.status_code == 200, answer.text
    usage: list[GatewayUsage] = run_api(server, owner, "ai_usage")
    assert [(u.user_id, u.requests) for u in usage] == [(staff.user.id, 1)]
    tokens = answer.json()["usage"]
    assert (usage[0].prompt_tokens, usage[0].completion_tokens) == (
        tokens["prompt_tokens"],
        tokens["completion_tokens"],
    )
    assert provider.requests
    assert all(r.authorized for r in provider.requests), "the provider saw the org's key"

    with pytest.raises(Forbidden) as refused:
        run_api(server, admin, "put_ai_settings", edited)
    assert str(refused.value) == "Only the owner may do this."
    with pytest.raises(Forbidden):
        run_api(server, staff, "ai_settings")
    with pytest.raises(Forbidden):
        run_api(server, staff, "ai_usage")
    bad = GatewayPolicy(providers=[GatewayProvider(kind="openai_compatible", model="m1", base_url="ftp://x")])
    with pytest.raises(RequestRefused) as invalid:
        run_api(server, owner, "put_ai_settings", bad)
    assert str(invalid.value) == "A provider's base_url must start with http:// or https://."
