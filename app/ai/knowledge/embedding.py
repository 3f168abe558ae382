"""Provider embeddings of chunks, kept in the encrypted store next to them.

Vectors are little-endian float32 BLOBs in ``knowledge_embeddings``, one row per (chunk, model): changing the
embedding model keeps the old vectors until the chunks change, and embedding again only sends chunks that have
no vector for the model yet, in batches. A vector is written only if its chunk still exists (a rebuild may have
replaced it while the batch was out), so nothing orphaned is left behind.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.ai.knowledge.chunks import bump_generation, generation
from app.ai.types import Provider
from app.store.store import Store

if TYPE_CHECKING:
    # numpy is imported where vectors are made, not here: this module is on the desktop's start-up path (the AI
    # panel's knowledge chain) and numpy would cost it ~80 ms.
    import numpy as np
    import numpy.typing as npt

    Matrix = npt.NDArray[np.float32]

log = logging.getLogger(__name__)

BATCH_SIZE = 64


@dataclass(frozen=True)
class EmbedReport:
    model: str
    embedded: int  # chunks sent and stored in this run
    tokens: int = 0


def to_blob(vector: list[float]) -> bytes:
    import numpy as np

    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> Matrix:
    import numpy as np

    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def missing(store: Store, model: str, limit: int) -> list[tuple[str, str]]:
    """(chunk id, text to embed) of up to ``limit`` chunks without a vector for ``model``, oldest first."""
    with store.db.read() as conn:
        rows = conn.execute(
            """SELECT c.id, c.heading, c.body FROM knowledge_chunks c
               WHERE NOT EXISTS (SELECT 1 FROM knowledge_embeddings e WHERE e.chunk_id = c.id AND e.model = ?)
               ORDER BY c.rid LIMIT ?""",
            (model, limit),
        ).fetchall()
    return [(str(i), f"{h}\n{b}" if h else str(b)) for i, h, b in rows]


def count_missing(store: Store, model: str) -> int:
    with store.db.read() as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM knowledge_chunks c WHERE NOT EXISTS "
                "(SELECT 1 FROM knowledge_embeddings e WHERE e.chunk_id = c.id AND e.model = ?)",
                (model,),
            ).fetchone()[0]
        )


def store_vectors(store: Store, model: str, ids: list[str], vectors: list[list[float]]) -> None:
    if len(ids) != len(vectors):
        raise ValueError(f"{len(vectors)} vectors came back for {len(ids)} texts")
    with store.db.transaction() as conn:
        conn.executemany(
            "INSERT OR REPLACE INTO knowledge_embeddings (chunk_id, model, dims, vector) "
            "SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM knowledge_chunks WHERE id = ?)",
            [(i, model, len(v), to_blob(v), i) for i, v in zip(ids, vectors, strict=True)],
        )
        bump_generation(store)


async def embed_chunks(
    store: Store,
    provider: Provider,
    model: str,
    *,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> EmbedReport:
    """Embed every chunk that has no vector for ``model`` yet; ``AIError`` from the provider is left to the caller
    (what was stored before it stays). ``model`` is the provider's embedding model; should the provider answer
    with another (a fallback entry), vectors are stored under the model that made them.

    The database calls are short and indexed; a caller on the UI's event loop runs this in a worker thread.
    """
    total = count_missing(store, model)
    done = tokens = 0
    while batch := missing(store, model, batch_size):
        result = await provider.embed([text for _, text in batch])
        if result.model != model:
            log.info("embeddings came from %s, not %s; stored under %s", result.model, model, result.model)
            model = result.model
        store_vectors(store, model, [i for i, _ in batch], result.vectors)
        done += len(batch)
        tokens += result.usage.prompt_tokens if result.usage else 0
        if progress is not None:
            progress(min(done, total), total)
    return EmbedReport(model=model, embedded=done, tokens=tokens)


def load_vectors(store: Store, model: str) -> tuple[list[str], Matrix]:
    """Every stored vector of ``model``, L2-normalised rows (so a dot product is the cosine), with chunk ids."""
    import numpy as np

    with store.db.read() as conn:
        rows = conn.execute(
            "SELECT chunk_id, vector FROM knowledge_embeddings WHERE model = ?",
            (model,),
        ).fetchall()
    if not rows:
        return [], np.zeros((0, 0), dtype=np.float32)
    dims = len(rows[0][1]) // 4
    kept = [(str(i), bytes(v)) for i, v in rows if len(v) == dims * 4]
    matrix = np.frombuffer(b"".join(v for _, v in kept), dtype="<f4").reshape(len(kept), dims).astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return [i for i, _ in kept], matrix / norms


class VectorIndex:
    """Stored vectors per model, loaded once and kept until chunks or vectors change (a 10k-chunk base of
    1,536-dimension vectors is 60 MB: reading it for every question would cost more than the search)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[str, list[str], Matrix]] = {}

    def vectors(self, store: Store, model: str) -> tuple[list[str], Matrix]:
        current = generation(store)
        with self._lock:
            hit = self._cache.get(model)
            if hit is not None and hit[0] == current:
                return hit[1], hit[2]
        ids, matrix = load_vectors(store, model)
        with self._lock:
            self._cache[model] = (current, ids, matrix)
        return ids, matrix
