"""Hybrid ranking end to end: chunk embeddings through the real BYOK provider (litellm over HTTP to the local
OpenAI-compatible test server, whose embeddings are a deterministic hashed bag of words), stored as float32, and
fused with BM25."""

from __future__ import annotations

import numpy as np
import pytest

from app.ai.byok import ByokProvider
from app.ai.keys import ProviderKeys
from app.ai.knowledge.chunks import sync_chunks
from app.ai.knowledge.embedding import VectorIndex, embed_chunks, load_vectors
from app.ai.knowledge.hybrid import fuse, hybrid_search, search_with, vector_ranking
from app.ai.knowledge.importers import add_text
from app.ai.knowledge.retrieval import search
from app.store.store import Store
from tests.ai.openai_server import OpenAIServer, embed_text
from tests.support.ai_fixtures import KEY, POLICY, entry, run

pytestmark = pytest.mark.usefixtures("loader")
MODEL = "embed-small"
DELIVERY = "Parcels reach Leeds and the rest of the UK within 2 to 3 working days."


def _provider(server: OpenAIServer, keys: ProviderKeys, *, embeds: bool = True) -> ByokProvider:
    extra = {"embedding_model": MODEL} if embeds else {}
    main = entry(server, "main", "chat-model", **extra)
    keys.set("main", KEY)
    return ByokProvider([main], keys, policy=POLICY)


@pytest.fixture
def shop(store: Store) -> Store:
    add_text(store, "Shipping", f"## Delivery times\n\n{DELIVERY}\n\n## Packaging\n\nRecycled boxes and paper.")
    add_text(store, "Returns policy", "## Refunds\n\nMoney back within 14 days, minus postage.")
    add_text(store, "About us", "A family shop in Leeds since 1998, selling linen and wool.")
    return store


def _embedded(store: Store) -> dict[str, tuple[int, bytes]]:
    with store.db.read() as conn:
        rows = conn.execute("SELECT chunk_id, dims, vector FROM knowledge_embeddings WHERE model = ?", (MODEL,))
        return {str(c): (int(d), bytes(v)) for c, d, v in rows}


def test_chunks_are_embedded_in_batches_once_per_model(shop: Store, server: OpenAIServer, keys: ProviderKeys) -> None:
    provider = _provider(server, keys)
    seen: list[tuple[int, int]] = []
    report = run(embed_chunks(shop, provider, MODEL, batch_size=2, progress=lambda d, t: seen.append((d, t))))
    assert (report.model, report.embedded) == (MODEL, 4)
    assert report.tokens > 0
    assert seen == [(2, 4), (4, 4)]
    calls = server.calls("/v1/embeddings")
    assert [len(c.body["input"]) for c in calls] == [2, 2]
    assert {c.body["model"] for c in calls} == {MODEL}

    stored = _embedded(shop)
    with shop.db.read() as conn:
        chunks = conn.execute("SELECT id, heading, body FROM knowledge_chunks").fetchall()
    assert set(stored) == {str(c[0]) for c in chunks}
    for chunk_id, heading, body in chunks:
        dims, blob = stored[str(chunk_id)]
        vector = np.frombuffer(blob, dtype="<f4")
        assert dims == len(vector) == 64
        assert vector == pytest.approx(embed_text(f"{heading}\n{body}"), abs=1e-6)

    assert run(embed_chunks(shop, provider, MODEL)).embedded == 0, "already embedded with this model"
    assert len(server.calls("/v1/embeddings")) == 2
    add_text(shop, "Sizes", "S to XL in every colour.")
    assert run(embed_chunks(shop, provider, MODEL)).embedded == 1
    assert len(load_vectors(shop, MODEL)[0]) == 5


def test_hybrid_search_fuses_bm25_and_vectors(shop: Store, server: OpenAIServer, keys: ProviderKeys) -> None:
    provider = _provider(server, keys)
    run(embed_chunks(shop, provider, MODEL))
    [best, *_] = run(search_with(shop, provider, "how long does delivery to Leeds take?", limit=3))
    assert (best.text, best.citation) == (DELIVERY, "[1] Shipping › Delivery times")
    assert server.calls("/v1/embeddings")[-1].body["input"] == ["how long does delivery to Leeds take?"]

    # A passage that shares no word with the query is still found through its vector, and ranks first when the
    # query's vector is its own; BM25 alone finds nothing.
    target = f"Delivery times\n{DELIVERY}"
    assert search(shop, "zzyzx") == []
    [hit] = hybrid_search(shop, "zzyzx", embed_text(target), MODEL, limit=1)
    assert hit.text == DELIVERY
    assert hit.score == pytest.approx(1 / 61)


def test_vector_index_reloads_only_after_a_change(shop: Store, server: OpenAIServer, keys: ProviderKeys) -> None:
    provider = _provider(server, keys)
    run(embed_chunks(shop, provider, MODEL))
    index = VectorIndex()
    ids, matrix = index.vectors(shop, MODEL)
    assert len(ids) == 4
    assert index.vectors(shop, MODEL)[1] is matrix, "nothing changed: the loaded vectors are reused"
    query = "how long does delivery to Leeds take?"
    vector = embed_text(query)
    assert hybrid_search(shop, query, vector, MODEL, 3, index=index) == hybrid_search(shop, query, vector, MODEL, 3)

    add_text(shop, "Sizes", "S to XL in every colour.")  # a new chunk, not embedded yet
    assert index.vectors(shop, MODEL)[1] is not matrix
    run(embed_chunks(shop, provider, MODEL))
    assert len(index.vectors(shop, MODEL)[0]) == 5
    [article] = shop.knowledge_articles.find_all({"title": "Sizes"})
    shop.knowledge_articles.update(article.id, body="XS to XXL.")
    sync_chunks(shop)  # the edited article's chunk and its vector are replaced
    assert len(index.vectors(shop, MODEL)[0]) == 4


def test_without_embeddings_search_is_bm25(shop: Store, server: OpenAIServer, keys: ProviderKeys) -> None:
    bm25 = search(shop, "refunds postage", limit=3)
    no_embed = _provider(server, keys, embeds=False)
    assert run(search_with(shop, no_embed, "refunds postage", limit=3)) == bm25, "embed fails: BM25 alone"
    assert run(search_with(shop, None, "refunds postage", limit=3)) == bm25
    nothing_stored = _provider(server, keys)
    assert run(search_with(shop, nothing_stored, "refunds postage", limit=3)) == bm25


def test_fusion_and_vector_ranking() -> None:
    assert fuse([("a", 9.0), ("b", 5.0)], [("b", 0.9), ("c", 0.8)], k=60) == [
        ("b", 1 / 62 + 1 / 61),
        ("a", 1 / 61),
        ("c", 1 / 62),
    ]
    matrix = np.eye(3, dtype=np.float32)
    assert [i for i, _ in vector_ranking(["x", "y", "z"], matrix, [0.1, 0.9, 0.3], 2)] == ["y", "z"]
    assert vector_ranking(["x", "y", "z"], matrix, [1.0, 0.0], 2) == [], "wrong dimensions: no vector ranking"
