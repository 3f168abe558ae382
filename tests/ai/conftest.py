"""The AI tests' ``server``: the local OpenAI-compatible server (``tests/support/ai_fixtures.py`` has the fixtures
and helpers; import helpers from there)."""

from __future__ import annotations

import pytest

from tests.ai.openai_server import OpenAIServer


@pytest.fixture
def server(openai_server: OpenAIServer) -> OpenAIServer:
    return openai_server
