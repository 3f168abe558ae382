"""Keeping each article's chunks (local, derived) in step with the article (synced).

A chunk's id says what it was cut from: ``<article id>:<article updated_at ms>.v<chunking version>:<position>``.
So whether an article's chunks are current is one comparison of the first chunk's id with the id it would have
now — no extra table, and ``sync_chunks`` costs two indexed queries when nothing changed. An article edited or
tombstoned by sync, an article purged, or a new chunking version: its chunks (and their embeddings, which are
keyed by chunk id) are replaced or removed in one transaction, so search never sees half an article.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.ai.knowledge.chunking import CHUNKING_VERSION, chunk_article
from app.core.ids import to_ms
from app.core.models import KnowledgeArticle, KnowledgeChunk
from app.store.store import Store

_WHITESPACE = " \t\r\n\f"
GENERATION_KEY = "knowledge_generation"


def bump_generation(store: Store) -> None:
    """Count a change to chunks or their vectors (inside the writing transaction), so caches of vectors know."""
    with store.db.transaction() as conn:
        conn.execute(
            "INSERT INTO workspace_meta (key, value) VALUES (?, '1') "
            "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
            (GENERATION_KEY,),
        )


def generation(store: Store) -> str:
    """Changes whenever chunks or vectors change (see ``bump_generation``)."""
    return store.meta(GENERATION_KEY) or "0"


@dataclass(frozen=True)
class ChunkSync:
    rebuilt: int = 0  # articles whose chunks were cut again
    removed: int = 0  # articles (deleted or gone) whose chunks were dropped


def chunk_id(article: KnowledgeArticle, position: int) -> str:
    return f"{article.id}:{to_ms(article.updated_at)}.v{CHUNKING_VERSION}:{position}"


def chunks_for(article: KnowledgeArticle) -> list[KnowledgeChunk]:
    drafts = chunk_article(article.title, article.body, article.source_kind)
    return [
        KnowledgeChunk(
            id=chunk_id(article, n),
            article_id=article.id,
            position=n,
            body=d.body,
            heading=d.heading,
            token_count=d.token_count,
        )
        for n, d in enumerate(drafts)
    ]


def remove_chunks(store: Store, article_id: str) -> None:
    """Drop an article's chunks and their embeddings (its FTS rows go with them, by trigger)."""
    with store.db.transaction() as conn:
        conn.execute(
            "DELETE FROM knowledge_embeddings WHERE chunk_id IN (SELECT id FROM knowledge_chunks WHERE article_id = ?)",
            (article_id,),
        )
        conn.execute("DELETE FROM knowledge_chunks WHERE article_id = ?", (article_id,))
        bump_generation(store)


def rebuild_chunks(store: Store, article: KnowledgeArticle) -> list[KnowledgeChunk]:
    """Replace the chunks of ``article`` with fresh ones (none if it is tombstoned), atomically."""
    chunks = [] if article.deleted_at is not None else chunks_for(article)
    with store.db.transaction() as conn:
        remove_chunks(store, article.id)
        conn.executemany(
            "INSERT INTO knowledge_chunks (id, article_id, position, body, heading, token_count) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(c.id, c.article_id, c.position, c.body, c.heading, c.token_count) for c in chunks],
        )
        bump_generation(store)
    return chunks


def sync_chunks(store: Store) -> ChunkSync:
    """Bring every article's chunks up to date; cheap when nothing changed since the last call."""
    with store.db.read() as conn:
        rows = conn.execute(
            f"""SELECT a.id, a.updated_at, (a.deleted_at IS NOT NULL OR trim(a.body, '{_WHITESPACE}') = ''), c.id
                FROM knowledge_articles a
                LEFT JOIN knowledge_chunks c ON c.article_id = a.id AND c.position = 0
                WHERE a.org_id = ?""",
            (store.org_id,),
        ).fetchall()
        orphans = [
            str(r[0])
            for r in conn.execute(
                "SELECT DISTINCT article_id FROM knowledge_chunks WHERE article_id NOT IN "
                "(SELECT id FROM knowledge_articles WHERE org_id = ?)",
                (store.org_id,),
            )
        ]
    rebuilt, removed = 0, len(orphans)
    for article_id in orphans:
        remove_chunks(store, article_id)
    for article_id, updated_ms, empty, first_chunk in rows:
        if empty:
            if first_chunk is not None:
                remove_chunks(store, article_id)
                removed += 1
            continue
        if first_chunk == f"{article_id}:{updated_ms}.v{CHUNKING_VERSION}:0":
            continue
        with store.db.transaction():  # read and rebuild together, so a concurrent edit is not lost
            article = store.knowledge_articles.find(article_id, include_deleted=True)
            if article is None or (first_chunk is None and not chunks_for(article)):
                continue  # gone meanwhile, or nothing to cut (only headings): no write, no new generation
            rebuild_chunks(store, article)
            rebuilt += 1
    return ChunkSync(rebuilt=rebuilt, removed=removed)


def chunk_counts(store: Store) -> dict[str, int]:
    """How many chunks each article has (the Knowledge page's column)."""
    with store.db.read() as conn:
        rows = conn.execute("SELECT article_id, count(*) FROM knowledge_chunks GROUP BY article_id").fetchall()
    return {str(a): int(n) for a, n in rows}
