"""The knowledge base with the AI service: embed what is missing, search hybrid when a key can embed, else BM25.

The AI service knows whether any provider entry has an embedding model (BYOK: the first entry that names one).
When one does, chunks are embedded in the background after an import and questions are ranked hybrid; when none
does, or AI is off, or the provider fails, everything stays offline BM25 — the knowledge base never depends on a
provider being reachable. These functions block: the UI runs them on its worker pool, the AI panel's retrieval on a
worker of the suggestion. Only the provider's calls are coroutines, and they run on the service loop the AI service
was given (``AiService.loop``), never on a loop made for the occasion: one loop owns the provider's HTTP clients and
cool-downs, and a worker waits for its answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.ai.knowledge.embedding import EmbedReport, VectorIndex, embed_chunks
from app.ai.knowledge.hybrid import hybrid_search
from app.ai.knowledge.retrieval import Passage
from app.ai.types import AIError, Provider

if TYPE_CHECKING:
    from app.ai.service import AiService
    from app.store.store import Store

log = logging.getLogger(__name__)


def embedding_model(ai: AiService | None) -> str | None:
    """The embedding model the service would use, or None when AI is off or no entry can embed."""
    if ai is None:
        return None
    config = ai.config()
    if config.mode != "byok":
        return None
    return next((e.embedding_model for e in config.entries if e.embedding_model), None)


def _embedding_provider(ai: AiService | None) -> tuple[Provider, str] | None:
    model = embedding_model(ai)
    if ai is None or model is None:
        return None
    try:
        return ai.provider(), model
    except AIError as exc:
        log.info("knowledge base without embeddings: %s", exc)
        return None


def search(
    ai: AiService | None, store: Store, query: str, limit: int, index: VectorIndex | None = None
) -> list[Passage]:
    """Hybrid when the service can embed the question, BM25 otherwise (also when the provider fails).

    The one retrieval path: "Test a question" on the Knowledge page and the AI panel's drafts both search here, so
    for the same question a draft's prompt carries the first passages of the ranking the test box shows, in its
    order and numbering."""
    chosen = _embedding_provider(ai)
    vector: list[float] | None = None
    model: str | None = None
    if ai is not None and chosen is not None and query.strip():
        try:
            embedded = ai.loop.run(chosen[0].embed([query]))
            vector, model = embedded.vectors[0], embedded.model
        except (AIError, IndexError) as exc:
            log.info("knowledge search without embeddings: %s", exc)
    return hybrid_search(store, query, vector, model, limit, index=index)


def retriever(
    ai: AiService | None, store: Store, index: VectorIndex | None = None
) -> Callable[[str, int], list[Passage]]:
    """``search`` as the ``retrieve(query, limit)`` a suggestion's context reads its passages with."""
    return lambda query, limit: search(ai, store, query, limit, index)


def embed_missing(
    ai: AiService | None, store: Store, progress: Callable[[int, int], None] | None = None
) -> EmbedReport | None:
    """Embed the chunks that have no vector for the service's embedding model; None when nothing can embed.

    ``AIError`` (bad key, provider down) is raised for the caller to show; what was stored before it stays.
    """
    chosen = _embedding_provider(ai)
    if ai is None or chosen is None:
        return None
    provider, model = chosen
    return ai.loop.run(embed_chunks(store, provider, model, progress=progress))
