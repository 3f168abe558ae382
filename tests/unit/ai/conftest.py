"""Knowledge-base tests that need an AI provider use the real ``ByokProvider`` against the local OpenAI-compatible
test server, with the same fixtures as the provider tests (``tests/support/ai_fixtures.py``; litellm imported once
per session)."""

from __future__ import annotations

import pytest

from tests.ai.openai_server import OpenAIServer


@pytest.fixture
def server(openai_server: OpenAIServer) -> OpenAIServer:
    return openai_server
