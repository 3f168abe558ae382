"""Hybrid ranking: BM25 and embedding similarity fused by reciprocal rank fusion (RRF).

BM25 finds the passages that share the question's words; cosine similarity of provider embeddings finds passages
that say the same thing in other words. Their scores live on different scales, so they are fused by rank:
``score = Σ 1 / (RRF_K + rank)`` over the two lists (Cormack et al., 2009), each cut to ``CANDIDATES``. A passage
near the top of both lists wins; one found by only one of them can still make the cut. Without a provider, or
without stored vectors for its model, or when embedding the question fails, ranking is BM25 alone — search keeps
working offline.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from app.ai.knowledge.embedding import VectorIndex, load_vectors
from app.ai.knowledge.retrieval import SLACK, Passage, bm25_ranking, cite, load_passages, search
from app.ai.types import AIError, Provider
from app.store.store import Store

if TYPE_CHECKING:
    from app.ai.knowledge.embedding import Matrix

log = logging.getLogger(__name__)

RRF_K = 60
CANDIDATES = 50  # from each ranking, before fusion


def vector_ranking(ids: list[str], matrix: Matrix, query: list[float], limit: int) -> list[tuple[str, float]]:
    """(chunk id, cosine) of the ``limit`` rows of ``matrix`` (normalised) nearest to ``query``, best first."""
    if not ids or limit <= 0:
        return []
    import numpy as np  # only when there are vectors to rank: numpy stays off the start-up path

    q = np.asarray(query, dtype=np.float32)
    if q.shape != (matrix.shape[1],):
        log.warning("query vector has %s dimensions, stored vectors %s", q.shape, matrix.shape[1])
        return []
    norm = float(np.linalg.norm(q))
    if norm == 0.0:
        return []
    scores = matrix @ (q / norm)
    top = min(limit, len(ids))
    best = np.argpartition(-scores, top - 1)[:top]
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(ids[i], float(scores[i])) for i in best]


def fuse(*rankings: list[tuple[str, float]], k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal rank fusion of rankings (best first) into one, best first."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, (key, _) in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: -item[1])


def hybrid_search(
    store: Store,
    query: str,
    query_vector: list[float] | None,
    model: str | None,
    limit: int = 5,
    *,
    index: VectorIndex | None = None,
) -> list[Passage]:
    """BM25 fused with cosine similarity to ``query_vector`` over the stored vectors of ``model``; BM25 alone when
    there is no vector or nothing stored for the model. ``index`` keeps the vectors loaded between searches."""
    if query_vector is None or model is None:
        return search(store, query, limit)
    ids, matrix = index.vectors(store, model) if index is not None else load_vectors(store, model)
    if not ids:
        return search(store, query, limit)
    fused = fuse(bm25_ranking(store, query, CANDIDATES), vector_ranking(ids, matrix, query_vector, CANDIDATES))
    return cite(load_passages(store, fused[: limit + SLACK])[:limit])


async def search_with(
    store: Store, provider: Provider | None, query: str, limit: int = 5, *, index: VectorIndex | None = None
) -> list[Passage]:
    """Search with the provider's embeddings when it has them, else offline; database work runs off the loop."""
    vector: list[float] | None = None
    model: str | None = None
    if provider is not None and query.strip():
        try:
            embedded = await provider.embed([query])
            vector, model = embedded.vectors[0], embedded.model
        except (AIError, IndexError) as exc:
            log.info("knowledge search without embeddings: %s", exc)
    return await asyncio.to_thread(hybrid_search, store, query, vector, model, limit, index=index)
