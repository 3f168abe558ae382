"""The AI tests' ``server``: the local OpenAI-compatible server (``tests/support/ai_fixtures.py`` has the fixtures
and helpers; import helpers from there)."""

from __future__ import annotations

import pytest

from tests.ai.openai_server import OpenAIServer

# Only for test files another change is rewriting right now (tests/gui/test_ai_panel.py): import from
# tests.support.ai_fixtures instead; remove these names once nothing imports them from here.
from tests.support.ai_fixtures import KEY, POLICY, byok, entry, loader  # noqa: F401


@pytest.fixture
def server(openai_server: OpenAIServer) -> OpenAIServer:
    return openai_server
