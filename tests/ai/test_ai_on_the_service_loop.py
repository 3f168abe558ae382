"""Provider calls made from blocking code (knowledge search and embedding, which the UI runs on a worker and the AI
panel's retrieval runs beside a suggestion) run on the one service loop, never on an event loop made for the call
inside the worker (issue 15: "an AI call that nests event loops"). Real litellm, real local OpenAI-compatible
server; the provider is the real BYOK chain, wrapped only to note which thread each call ran on."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from app.ai.config import save_entries
from app.ai.keys import ProviderKeys
from app.ai.knowledge import assist
from app.ai.knowledge.importers import add_text
from app.ai.litellm_loader import LitellmLoader
from app.ai.service import AiService
from app.ai.types import Embeddings, Provider
from app.core.loops import SERVICE_THREAD, LoopThread
from app.store.store import Store
from tests.ai.openai_server import OpenAIServer
from tests.support.ai_fixtures import KEY, POLICY, entry
from tests.support.keyrings import InMemoryKeyring


class NotingThreads:
    """The real provider; ``embed`` notes the thread it runs on."""

    def __init__(self, inner: Provider, threads: list[str]) -> None:
        self.inner, self.threads = inner, threads

    def stream(self, *args: object, **kwargs: object) -> object:
        return self.inner.stream(*args, **kwargs)  # type: ignore[arg-type]

    async def embed(self, texts: list[str]) -> Embeddings:
        self.threads.append(threading.current_thread().name)
        return await self.inner.embed(texts)


@pytest.fixture
def service_loop() -> Iterator[LoopThread]:
    loop = LoopThread()
    yield loop
    loop.close()


@pytest.fixture
def ai(
    store: Store,
    openai_server: OpenAIServer,
    keyring_backend: InMemoryKeyring,
    loader: LitellmLoader,
    service_loop: LoopThread,
) -> AiService:
    keys = ProviderKeys(keyring_backend)
    keys.set("main", KEY)
    save_entries(store.settings, [entry(openai_server, "main", "chat", embedding_model="embed")])
    store.settings.ai.mode = "byok"
    return AiService(store, store.settings, keys, loader=loader, policy=POLICY, loop=service_loop)


def on_a_worker(fn: object) -> None:
    """Run ``fn`` on a plain worker thread, as the UI's pool runs it, and wait for it."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            fn()  # type: ignore[operator]
        except BaseException as exc:  # noqa: BLE001 — handed to the test's thread
            failures.append(exc)

    worker = threading.Thread(target=run, name="worker")
    worker.start()
    worker.join(60)
    assert not worker.is_alive()
    if failures:
        raise failures[0]


def test_knowledge_embedding_and_search_call_the_provider_on_the_service_loop(
    store: Store, ai: AiService, openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = ai.provider
    monkeypatch.setattr(ai, "provider", lambda: NotingThreads(real(), threads))
    add_text(store, "Shipping", "We ship within 2 days.\n\nDelivery takes 3 to 5 days.")

    reports: list[object] = []
    on_a_worker(lambda: reports.append(assist.embed_missing(ai, store)))
    passages: list[object] = []
    on_a_worker(lambda: passages.extend(assist.search(ai, store, "how long is delivery?", 3)))

    assert reports != [None]
    assert len(reports) == 1
    assert passages, "the question found its passage"
    assert len(openai_server.calls("/v1/embeddings")) >= 2, "the chunks and the question were embedded"
    assert threads, "the provider embedded"
    assert set(threads) == {SERVICE_THREAD}, threads
