"""Full-text search over messages, contacts and notes (FTS5), with highlighted snippets.

What a person types is never passed to FTS5 as query syntax: each word becomes a quoted phrase (the last one a
prefix, so results appear while typing), which makes quotes, dashes or a stray ``AND`` harmless. Hits carry their
snippet as segments (text, is_match) so the UI can highlight without parsing markup.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from app.core.ids import from_ms
from app.store.database import Database

_OPEN, _CLOSE = "\x02", "\x03"
_WORD = re.compile(r"[^\s\"]+")
_ESCAPE = "\\"

Order = Literal["relevance", "recent"]
RELEVANCE_WINDOW = 5_000  # newest matches ranked by relevance


class SearchHit(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["message", "contact", "note"]
    id: str
    chat_id: str | None = None
    contact_id: str | None = None
    title: str
    snippet: str
    segments: list[tuple[str, bool]]
    at: datetime | None = None


def words(text: str) -> list[str]:
    """The words of ``text``, split at white space and double quotes (so each is safe inside an FTS5 phrase)."""
    return _WORD.findall(text)


def phrase_query(tokens: list[str], *, prefix_last: bool = True) -> str | None:
    """An FTS5 query matching every one of ``tokens`` (from :func:`words`), each a quoted phrase."""
    if not tokens:
        return None
    quoted = [f'"{t}"' for t in tokens]
    if prefix_last:
        quoted[-1] += "*"
    return " ".join(quoted)


def fts_query(text: str, *, prefix_last: bool = True) -> str | None:
    """A safe FTS5 query matching every word of ``text`` (None when there is nothing to look for)."""
    return phrase_query(words(text), prefix_last=prefix_last)


def like_pattern(word: str) -> str:
    """``%word%`` with the LIKE wildcards in ``word`` escaped (use with ``ESCAPE '\\'``)."""
    escaped = word.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    return f"%{escaped}%"


def segments(snippet: str) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for part in re.split(f"({_OPEN}[^{_CLOSE}]*{_CLOSE})", snippet):
        if not part:
            continue
        if part.startswith(_OPEN):
            out.append((part[1:-1], True))
        else:
            out.append((part, False))
    return out


def _plain(snippet: str) -> str:
    return snippet.replace(_OPEN, "").replace(_CLOSE, "")


def search_messages(
    db: Database,
    org_id: str,
    text: str,
    *,
    limit: int = 50,
    chat_id: str | None = None,
    order: Order = "recent",
) -> list[SearchHit]:
    query = fts_query(text)
    if query is None:
        return []
    # "recent" walks the index newest-first and stops at `limit`. "relevance" ranks by BM25, which must score every
    # candidate, so it ranks the RELEVANCE_WINDOW newest matches: the cost stays flat however common the words are.
    order_sql = "f.rowid DESC" if order == "recent" else "f.rank"
    chat_filter = "AND m.chat_id = ?" if chat_id else ""
    window = ""
    with db.read() as conn:
        if order == "relevance":
            floor = conn.execute(
                "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
                (query, RELEVANCE_WINDOW - 1),
            ).fetchone()
            if floor is not None:
                window = f"AND f.rowid >= {int(floor[0])}"
    sql = f"""
        SELECT m.id, m.chat_id, c.contact_id, coalesce(nullif(ct.name, ''), nullif(c.title, ''), ct.phone, ''),
               snippet(messages_fts, -1, '{_OPEN}', '{_CLOSE}', '…', 12), m.sent_at
        FROM messages_fts f
        JOIN messages m ON m.rid = f.rowid
        JOIN chats c ON c.org_id = m.org_id AND c.id = m.chat_id
        LEFT JOIN contacts ct ON ct.org_id = c.org_id AND ct.id = c.contact_id
        WHERE messages_fts MATCH ? AND m.org_id = ? AND c.deleted_at IS NULL {window} {chat_filter}
        ORDER BY {order_sql}
        LIMIT ?
    """
    params: list[Any] = [query, org_id]
    if chat_id:
        params.append(chat_id)
    params.append(limit)
    with db.read() as conn:
        rows = conn.execute(sql, params).fetchall()
    return [
        SearchHit(
            kind="message",
            id=r[0],
            chat_id=r[1],
            contact_id=r[2],
            title=r[3],
            snippet=_plain(r[4]),
            segments=segments(r[4]),
            at=from_ms(r[5]),
        )
        for r in rows
    ]


def search_contacts(db: Database, org_id: str, text: str, *, limit: int = 50) -> list[SearchHit]:
    tokens = words(text)
    if not tokens:
        return []
    if all(len(t) >= 3 for t in tokens):
        # Trigram index: every word matches anywhere inside name, phone, e-mail or tags.
        query = phrase_query(tokens, prefix_last=False)
        sql = f"""
            SELECT ct.id, ct.name, coalesce(highlight(contacts_fts, 0, '{_OPEN}', '{_CLOSE}'), ''),
                   coalesce(highlight(contacts_fts, 1, '{_OPEN}', '{_CLOSE}'), ''), ct.updated_at
            FROM contacts_fts f JOIN contacts ct ON ct.rid = f.rowid
            WHERE contacts_fts MATCH ? AND ct.org_id = ?
            ORDER BY f.rank LIMIT ?
        """
        params: list[Any] = [query, org_id, limit]
    else:
        # Words under three characters are below the trigram index's reach: a plain scan of 10k names is fast.
        likes = " AND ".join("(ct.name LIKE ? ESCAPE '\\' OR ct.phone LIKE ? ESCAPE '\\')" for _ in tokens)
        sql = f"""
            SELECT ct.id, ct.name, ct.name, coalesce(ct.phone, ''), ct.updated_at FROM contacts ct
            WHERE ct.org_id = ? AND ct.deleted_at IS NULL AND {likes}
            ORDER BY ct.name LIMIT ?
        """
        params = [org_id]
        for t in tokens:
            params += [like_pattern(t), like_pattern(t)]
        params.append(limit)
    with db.read() as conn:
        rows = conn.execute(sql, params).fetchall()
    hits = []
    for r in rows:
        shown = r[2] if _OPEN in r[2] or not r[3] else f"{r[2]} · {r[3]}"
        if _OPEN in r[3] and _OPEN not in r[2]:
            shown = f"{r[2]} · {r[3]}"
        hits.append(
            SearchHit(
                kind="contact",
                id=r[0],
                contact_id=r[0],
                title=r[1],
                snippet=_plain(shown),
                segments=segments(shown),
                at=from_ms(r[4]),
            )
        )
    return hits


def search_notes(db: Database, org_id: str, text: str, *, limit: int = 50) -> list[SearchHit]:
    query = fts_query(text)
    if query is None:
        return []
    sql = f"""
        SELECT n.id, n.chat_id, n.contact_id, coalesce(ct.name, ''),
               snippet(notes_fts, 0, '{_OPEN}', '{_CLOSE}', '…', 12), n.updated_at
        FROM notes_fts f JOIN notes n ON n.rid = f.rowid
        LEFT JOIN contacts ct ON ct.org_id = n.org_id AND ct.id = n.contact_id
        LEFT JOIN chats c ON c.org_id = n.org_id AND c.id = n.chat_id
        LEFT JOIN deals d ON d.org_id = n.org_id AND d.id = n.deal_id
        WHERE notes_fts MATCH ? AND n.org_id = ?
          AND ct.deleted_at IS NULL AND c.deleted_at IS NULL AND d.deleted_at IS NULL
        ORDER BY f.rowid DESC LIMIT ?
    """
    with db.read() as conn:
        rows = conn.execute(sql, (query, org_id, limit)).fetchall()
    return [
        SearchHit(
            kind="note",
            id=r[0],
            chat_id=r[1],
            contact_id=r[2],
            title=r[3],
            snippet=_plain(r[4]),
            segments=segments(r[4]),
            at=from_ms(r[5]),
        )
        for r in rows
    ]
