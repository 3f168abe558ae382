"""The test server itself: it checks the bearer key, logs requests without it, and lists models."""

from __future__ import annotations

import httpx
import pytest

from tests.ai.openai_server import OpenAIServer
from tests.support.ai_fixtures import KEY


def get(server: OpenAIServer, path: str, key: str) -> tuple[int, dict[str, object]]:
    response = httpx.get(server.url + path, headers={"Authorization": f"Bearer {key}"}, timeout=5)
    return response.status_code, response.json()


def test_models_need_the_key_and_the_log_keeps_no_key(server: OpenAIServer) -> None:
    status, body = get(server, "/v1/models", KEY)
    assert status == 200
    assert body["data"] == [{"id": "test-model", "object": "model"}]
    status, body = get(server, "/v1/models", "sk-nope")
    assert status == 401
    assert isinstance(body["error"], dict)
    assert [(r.path, r.authorized) for r in server.requests] == [("/v1/models", True), ("/v1/models", False)]
    assert all("authorization" not in {h.lower() for h in r.headers} for r in server.requests)
    assert KEY not in repr(server.requests)


@pytest.mark.parametrize("path", ["/v1/nothing"])
def test_unknown_paths_are_404(server: OpenAIServer, path: str) -> None:
    assert get(server, path, KEY)[0] == 404
