"""pytest plugin with the AI fixtures: a real OpenAI-compatible server on a free port (``openai_server``; the AI
folders' conftests name it ``server``), provider keys in an in-memory keyring (``keys``), and litellm imported once
per session through the app's own loader (``loader``; the import takes seconds, no test pays it twice). The helpers
(``KEY``, ``POLICY``, ``entry``, ``byok``, ``run``...) are imported from here."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from app.ai.byok import ByokProvider
from app.ai.keys import ProviderKeys
from app.ai.litellm_loader import LitellmLoader, default_loader
from app.ai.provider_core import ChainPolicy
from app.ai.types import CallOptions, ChatMessage, ProviderEntry, StreamEvent
from tests.ai.openai_server import OpenAIServer
from tests.support.keyrings import InMemoryKeyring

T = TypeVar("T")
KEY = "sk-test-key-0001"
OTHER_KEY = "sk-test-key-0002"

# Short back-offs so a failing path costs a fraction of a second. The deadlines are not short: the local server
# answers within milliseconds when the machine is idle, but a loaded machine made its 500 arrive after a 1.5 s
# first-token deadline, which turned "retry the 5xx" into "move on after a timeout". Tests of the deadlines set
# their own options.
FAST = CallOptions(timeout_seconds=30.0, first_token_seconds=10.0)
POLICY = ChainPolicy(
    retries=1, backoff_seconds=0.05, max_retry_after=0.5, cooldown_seconds=30.0, embed_timeout_seconds=3.0
)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def collect(stream: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    return [event async for event in stream]


def ask(text: str) -> list[ChatMessage]:
    return [ChatMessage(role="system", content="You are helpful."), ChatMessage(role="user", content=text)]


def warm_litellm() -> LitellmLoader:
    """litellm, imported and warmed up: its first call loads more modules (~1 s), which would eat a test's
    sub-second first-token deadline. Cheap after the first time."""
    if getattr(warm_litellm, "done", False):
        return default_loader
    litellm = default_loader.get_blocking(timeout=120)
    warm = OpenAIServer(keys={KEY}).start()
    try:
        for stream in (False, True):
            run(
                litellm.acompletion(
                    model="openai/warm-up",
                    messages=[{"role": "user", "content": "hi"}],
                    api_base=warm.base_url,
                    api_key=KEY,
                    stream=stream,
                    max_retries=0,
                )
            )
        run(
            litellm.aembedding(model="openai/warm-up", input=["hi"], api_base=warm.base_url, api_key=KEY, max_retries=0)
        )
    finally:
        warm.stop()
    warm_litellm.done = True  # type: ignore[attr-defined]
    return default_loader


@pytest.fixture(scope="session")
def loader() -> LitellmLoader:
    return warm_litellm()


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    server = OpenAIServer(keys={KEY, OTHER_KEY}).start()
    yield server
    server.stop()


@pytest.fixture
def keys(keyring_backend: InMemoryKeyring) -> ProviderKeys:
    return ProviderKeys(keyring_backend)


def entry(server: OpenAIServer, id: str, model: str, **extra: Any) -> ProviderEntry:
    return ProviderEntry(id=id, kind="openai_compatible", model=model, base_url=server.base_url, **extra)


def byok(server: OpenAIServer, backend: InMemoryKeyring, loader: LitellmLoader, model: str) -> ByokProvider:
    """The real BYOK provider with one entry ("main") on ``server``, its key in ``backend``."""
    keys = ProviderKeys(backend)
    keys.set("main", KEY)
    return ByokProvider([entry(server, "main", model)], keys, loader=loader, policy=POLICY)
