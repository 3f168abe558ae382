"""The knowledge base as the Knowledge page lists it, and deleting an article with its passages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.ai.knowledge.chunks import remove_chunks
from app.core.ids import from_ms
from app.store.store import Store


@dataclass(frozen=True)
class ArticleSummary:
    id: str
    title: str
    source_kind: str
    source_name: str | None
    created_at: datetime
    chunks: int
    chars: int


def article_summaries(store: Store) -> list[ArticleSummary]:
    """Every live article, newest first, with its passage count — without loading the bodies."""
    with store.db.read() as conn:
        rows = conn.execute(
            """SELECT a.id, a.title, a.source_kind, a.source_name, a.created_at, length(a.body),
                      (SELECT count(*) FROM knowledge_chunks c WHERE c.article_id = a.id)
               FROM knowledge_articles a
               WHERE a.org_id = ? AND a.deleted_at IS NULL
               ORDER BY a.created_at DESC, a.rid DESC""",
            (store.org_id,),
        ).fetchall()
    return [
        ArticleSummary(str(i), str(t), str(k), None if n is None else str(n), from_ms(int(c)), int(ch), int(ln))
        for i, t, k, n, c, ln, ch in rows
    ]


def delete_article(store: Store, article_id: str) -> None:
    """Tombstone the article (the delete syncs) and drop its passages and vectors, in one transaction."""
    with store.db.transaction():
        store.knowledge_articles.delete(article_id)
        remove_chunks(store, article_id)
