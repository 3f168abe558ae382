"""What the quick switcher (Ctrl+K) offers for a few typed letters: chats, contacts and deals to jump to.

It runs on every pause in typing, so no lookup may grow with the size of the workspace beyond one plain scan of a
small table (a few ms for 10k chats). Words of three letters or more go through the contacts' trigram index; shorter
text first walks the newest chats and stops at ``limit`` matches, and only when matches are rare scans the names.
A contact with a chat is offered as that chat (that is where one wants to go), one without a chat as the contact.
Typed ``%``, ``_`` and ``\\`` are literal characters, never LIKE wildcards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from app.store.search import like_pattern, phrase_query, words
from app.store.store import Store

Kind = Literal["chat", "contact", "deal"]

RECENT = 10


@dataclass(frozen=True)
class SwitchTarget:
    kind: Kind
    id: str
    title: str
    subtitle: str
    chat_id: str | None = None


def switch_targets(store: Store, text: str, limit: int = 20) -> list[SwitchTarget]:
    """Up to ``limit`` places matching every word of ``text``; with no text, the most recent chats."""
    tokens = words(text)
    if not tokens:
        rows = store.inbox(limit=RECENT)
        return [_chat_target(r.chat_id, r.display_name, r.contact_phone, r.last_message_body) for r in rows]
    people = _people(store, tokens, limit)
    deals = _deals(store, tokens, limit)
    deal_quota = min(len(deals), max(limit // 4, limit - len(people)))
    return people[: limit - deal_quota] + deals[:deal_quota]


def _chat_target(chat_id: str, name: str, phone: str | None, extra: str | None, archived: bool = False) -> SwitchTarget:
    parts = [p for p in (phone, _one_line(extra), "archived" if archived else None) if p]
    return SwitchTarget("chat", chat_id, name, " · ".join(parts), chat_id)


def _one_line(text: str | None, width: int = 60) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


# ---- chats and contacts ------------------------------------------------------------------------------------------
def _people(store: Store, tokens: list[str], limit: int) -> list[SwitchTarget]:
    if all(len(t) >= 3 for t in tokens):
        found = _contacts_as_targets(store, _contacts_by_trigram(store, tokens, limit))
        seen = {t.chat_id or t.id for t in found}
        found += [t for t in _matching_chats(store, tokens, limit) if t.id not in seen]
        return found[:limit]
    # Short text matches many names: walking the newest chats usually fills the list at once; when it does not,
    # the matches are rare and a scan of the names finds them all.
    found = _recent_matches(store, tokens, limit)
    return found if len(found) >= limit else _scan_short(store, tokens, limit)


def _contacts_by_trigram(store: Store, tokens: list[str], limit: int) -> list[str]:
    """Ids of contacts with every word (3+ letters) in name, phone, e-mail or tags, best first.

    The same trigram index as ``search_contacts``, without the highlighting the switcher does not show.
    """
    query = phrase_query(tokens, prefix_last=False)
    sql = """
        SELECT ct.id FROM contacts_fts f JOIN contacts ct ON ct.rid = f.rowid
        WHERE contacts_fts MATCH ? AND ct.org_id = ? AND ct.deleted_at IS NULL
        ORDER BY f.rank LIMIT ?
    """
    with store.db.read() as conn:
        return [r[0] for r in conn.execute(sql, (query, store.org_id, limit))]


def _contacts_as_targets(store: Store, contact_ids: list[str]) -> list[SwitchTarget]:
    """Each contact as its latest chat (visible ones first), or as itself when it has none; order kept."""
    if not contact_ids:
        return []
    marks = ", ".join("?" for _ in contact_ids)
    with store.db.read() as conn:
        contacts = {
            r[0]: (r[1], r[2], r[3])
            for r in conn.execute(
                f"SELECT id, name, phone, email FROM contacts WHERE org_id = ? AND id IN ({marks})",
                [store.org_id, *contact_ids],
            )
        }
        chats: dict[str, tuple[str, str, bool]] = {}
        for contact_id, chat_id, title, archived in conn.execute(
            f"""SELECT c.contact_id, c.id, c.title, c.archived FROM chats c JOIN chat_stats s ON s.chat_rid = c.rid
                WHERE c.org_id = ? AND c.deleted_at IS NULL AND c.contact_id IN ({marks})
                ORDER BY s.visible DESC, s.last_activity_at DESC""",
            [store.org_id, *contact_ids],
        ):
            chats.setdefault(contact_id, (chat_id, title, bool(archived)))
    targets = []
    for contact_id in contact_ids:
        if contact_id not in contacts:
            continue
        name, phone, email = contacts[contact_id]
        chat = chats.get(contact_id)
        if chat is not None:
            targets.append(_chat_target(chat[0], name or chat[1] or phone or "Unknown", phone, None, chat[2]))
        else:
            targets.append(_contact_target(contact_id, name, phone, email))
    return targets


def _all_words(columns: tuple[str, ...], tokens: list[str]) -> tuple[str, list[str]]:
    """A condition requiring every word in one of ``columns``, and its parameters."""
    one = "(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in columns) + ")"
    return " AND ".join(one for _ in tokens), [like_pattern(t) for t in tokens for _ in columns]


_SHOWN = """
SELECT c.id, c.title, ct.name, ct.phone, c.archived
FROM {source}
JOIN chats c ON c.rid = s.chat_rid
LEFT JOIN contacts ct ON ct.org_id = c.org_id AND ct.id = c.contact_id
WHERE c.org_id = ? AND {match}
ORDER BY s.visible DESC, s.pinned DESC, s.last_activity_at DESC, s.chat_rid DESC
LIMIT ?
"""
WALK = 400  # newest chats looked at before falling back to a scan


def _recent_matches(store: Store, tokens: list[str], limit: int) -> list[SwitchTarget]:
    """Matches among the ``WALK`` newest visible chats: all words in the title, or all in the contact's name/phone."""
    by_title, title_params = _all_words(("c.title",), tokens)
    by_name, name_params = _all_words(("ct.name", "ct.phone"), tokens)
    source = (
        "(SELECT chat_rid, visible, pinned, last_activity_at FROM chat_stats WHERE visible = 1 "
        "ORDER BY pinned DESC, last_activity_at DESC, chat_rid DESC LIMIT ?) s"
    )
    sql = _SHOWN.format(source=source, match=f"(({by_title}) OR ({by_name}))")
    return _chats(store, sql, [WALK, store.org_id, *title_params, *name_params, limit])


def _matching_chats(store: Store, tokens: list[str], limit: int, contact_ids: str = "[]") -> list[SwitchTarget]:
    """Every chat whose title has all the words, or whose contact is in ``contact_ids`` (a JSON list); archived last.

    Matching titles come from a plain scan (``+org_id`` keeps SQLite from walking the org index, which costs a
    random page read per row), so only matches pay for the joins and the sort.
    """
    by_title, params = _all_words(("title",), tokens)
    matching = f"""
        SELECT rid FROM chats WHERE +org_id = ? AND deleted_at IS NULL AND {by_title}
        UNION ALL
        SELECT rid FROM chats WHERE org_id = ? AND deleted_at IS NULL
          AND contact_id IN (SELECT value FROM json_each(?))"""
    sql = _SHOWN.format(source="chat_stats s", match=f"s.chat_rid IN ({matching})")
    return _chats(store, sql, [store.org_id, store.org_id, *params, store.org_id, contact_ids, limit])


def _chats(store: Store, sql: str, params: list[Any]) -> list[SwitchTarget]:
    with store.db.read() as conn:
        rows = conn.execute(sql, params).fetchall()
    return [
        _chat_target(chat_id, name or title or phone or "Unknown", phone, None, bool(archived))
        for chat_id, title, name, phone, archived in rows
    ]


def _scan_short(store: Store, tokens: list[str], limit: int) -> list[SwitchTarget]:
    """All matches of short text: chats by title or contact name/phone, then contacts that have no chat."""
    by_name, params = _all_words(("name", "phone"), tokens)
    with store.db.read() as conn:
        people = conn.execute(
            f"SELECT id, name, phone, email FROM contacts WHERE +org_id = ? AND deleted_at IS NULL AND {by_name} "
            "ORDER BY name",
            [store.org_id, *params],
        ).fetchall()
    ids = json.dumps([p[0] for p in people])
    found = _matching_chats(store, tokens, limit, ids)
    if len(found) < limit and people:
        with store.db.read() as conn:
            chatted = {
                r[0]
                for r in conn.execute(
                    "SELECT DISTINCT contact_id FROM chats WHERE org_id = ? AND deleted_at IS NULL "
                    "AND contact_id IN (SELECT value FROM json_each(?))",
                    [store.org_id, ids],
                )
            }
        found += [_contact_target(*p) for p in people if p[0] not in chatted][: limit - len(found)]
    return found


def _contact_target(contact_id: str, name: str, phone: str | None, email: str | None) -> SwitchTarget:
    subtitle = " · ".join(p for p in (phone, email, "no chat yet") if p)
    return SwitchTarget("contact", contact_id, name or phone or email or "Unknown", subtitle)


# ---- deals -------------------------------------------------------------------------------------------------------
def _deals(store: Store, tokens: list[str], limit: int) -> list[SwitchTarget]:
    match = " AND ".join("d.title LIKE ? ESCAPE '\\'" for _ in tokens)
    sql = f"""
        SELECT d.id, d.title, d.status, st.name, ct.name,
               (SELECT c.id FROM chats c WHERE c.org_id = d.org_id AND c.contact_id = d.contact_id
                AND c.deleted_at IS NULL ORDER BY c.updated_at DESC LIMIT 1)
        FROM deals d
        LEFT JOIN pipeline_stages st ON st.org_id = d.org_id AND st.id = d.stage_id
        LEFT JOIN contacts ct ON ct.org_id = d.org_id AND ct.id = d.contact_id
        WHERE +d.org_id = ? AND d.deleted_at IS NULL AND {match}
        ORDER BY d.status = 'open' DESC, d.updated_at DESC
        LIMIT ?
    """
    with store.db.read() as conn:
        rows = conn.execute(sql, [store.org_id, *(like_pattern(t) for t in tokens), limit]).fetchall()
    targets = []
    for deal_id, title, status, stage, contact, chat_id in rows:
        state = stage or status
        if status != "open" and stage and status not in stage.lower():
            state = f"{stage} ({status})"
        subtitle = " · ".join(p for p in (state, contact) if p)
        targets.append(SwitchTarget("deal", deal_id, title, subtitle, chat_id))
    return targets
