"""Finding the passages that answer a question, offline: FTS5 BM25 over chunk headings and bodies.

A customer's question is free text, never FTS5 syntax: it is cut into words, common words ("how", "does",
"the"…) are dropped, and each remaining word becomes a quoted term OR-ed with the others — a question rarely uses
every word of the passage that answers it, so requiring all of them (an AND phrase) would find nothing. Words of
five letters or more are also matched by a light stem as a prefix ("deliveries" finds "delivery"). BM25 weighs a
match in the heading ``HEADING_WEIGHT`` times a match in the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from app.store.store import Store

HEADING_WEIGHT = 3.0
BODY_WEIGHT = 1.0
MAX_TERMS = 24  # a pasted paragraph is not a question; its first words are enough to rank by

_TOKEN = re.compile(r"[^\W_]+")
_SUFFIXES = ("ies", "ing", "ed", "es", "s")
_STOPWORDS_TEXT = """a an and are as at be been but by can could did do does doing for from had has have how i if in
into is it its me my no nor not of on or our please so than that the their them then there these they this to too us
was we were what when where which while who whom why will with would you your near"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


@dataclass(frozen=True)
class Passage:
    chunk_id: str
    article_id: str
    title: str  # the article's title
    heading: str  # the section the passage sits under
    text: str
    score: float  # higher is better; BM25 (sign flipped) or the fused score of hybrid ranking
    citation: str = ""  # "[1] Returns policy › Refunds"

    @property
    def source(self) -> str:
        """The article and, when it differs, the section: what a citation names."""
        return self.title if not self.heading or self.heading == self.title else f"{self.title} › {self.heading}"


def cite(passages: list[Passage]) -> list[Passage]:
    """Number ``passages`` in order: ``[1] Title › Heading``."""
    return [replace(p, citation=f"[{n}] {p.source}") for n, p in enumerate(passages, start=1)]


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def terms(text: str) -> list[str]:
    """The significant words of ``text``, lower-cased, in order, without repeats (all words if all are common)."""
    words = [w.lower() for w in _TOKEN.findall(text)]
    significant = [w for w in words if w not in STOPWORDS] or words
    return list(dict.fromkeys(significant))[:MAX_TERMS]


def match_query(text: str) -> str | None:
    """A safe FTS5 query OR-ing the significant words of ``text`` (None when there is nothing to look for)."""
    parts: list[str] = []
    for word in terms(text):
        stem = _stem(word)
        # A word of 4+ letters also matches as a prefix, so "return" finds "returns" and "deliver" "delivery".
        parts.append(f'"{word}"*' if len(word) >= 4 else f'"{word}"')
        if len(word) >= 5 and stem != word:
            parts.append(f'"{stem}"*')
    return " OR ".join(dict.fromkeys(parts)) or None


def bm25_ranking(store: Store, text: str, limit: int) -> list[tuple[str, float]]:
    """(chunk id, score) of the best ``limit`` chunks, best first; higher scores are better."""
    query = match_query(text)
    if query is None or limit <= 0:
        return []
    with store.db.read() as conn:
        rows = conn.execute(
            "SELECT c.id, bm25(knowledge_fts, ?, ?) AS score FROM knowledge_fts "
            "JOIN knowledge_chunks c ON c.rid = knowledge_fts.rowid "
            "WHERE knowledge_fts MATCH ? ORDER BY score LIMIT ?",
            (HEADING_WEIGHT, BODY_WEIGHT, query, limit),
        ).fetchall()
    return [(str(chunk_id), -float(score)) for chunk_id, score in rows]


def load_passages(store: Store, scored: list[tuple[str, float]]) -> list[Passage]:
    """Passages for (chunk id, score) pairs, in that order. Chunks of articles deleted since the last
    ``sync_chunks`` are left out."""
    if not scored:
        return []
    keys = [k for k, _ in scored]
    marks = ", ".join("?" for _ in keys)
    with store.db.read() as conn:
        rows = conn.execute(
            f"""SELECT c.id, c.article_id, a.title, c.heading, c.body
                FROM knowledge_chunks c
                JOIN knowledge_articles a ON a.id = c.article_id AND a.org_id = ? AND a.deleted_at IS NULL
                WHERE c.id IN ({marks})""",
            [store.org_id, *keys],
        ).fetchall()
    found = {str(r[0]): r for r in rows}
    out = []
    for key, score in scored:
        row = found.get(key)
        if row is not None:
            out.append(Passage(str(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]), score))
    return out


SLACK = 10  # extra candidates, in case some belong to articles deleted since chunks were last reconciled


def search(store: Store, query: str, limit: int = 5) -> list[Passage]:
    """The ``limit`` passages that best answer ``query`` by BM25, best first, numbered for citation."""
    return cite(load_passages(store, bm25_ranking(store, query, limit + SLACK))[:limit])
