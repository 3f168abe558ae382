"""The inbox: chats newest-activity first, with the figures the list shows, one page at a time.

Reads come from ``chat_stats`` (kept by triggers), so a page is an index range scan whatever the number of
messages. Pages are addressed by a keyset cursor, which stays correct while new messages reorder the list.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.ids import from_ms, to_ms, utc_now
from app.core.media import MediaInfo, describe
from app.core.models import ChatStatus
from app.store.database import Database

# The inbox's views (Chatwoot's conversation states, WhatsApp's archive): ``all`` is every chat not archived.
View = Literal["open", "pending", "resolved", "snoozed", "archived", "all"]
VIEWS: tuple[View, ...] = ("open", "pending", "resolved", "snoozed", "archived", "all")
Owner = Literal["all", "mine", "unassigned"]


class InboxCursor(BaseModel):
    model_config = ConfigDict(frozen=True)

    pinned: int
    last_activity_ms: int
    chat_rid: int


class InboxRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    chat_id: str
    title: str
    contact_id: str | None
    contact_name: str | None
    contact_phone: str | None
    assigned_user_id: str | None
    tags: list[str]  # the chat's labels, then its contact's (each name once)
    pinned: bool
    unread_count: int
    status: ChatStatus = "open"
    snoozed_until: datetime | None = None
    muted: bool = False
    marked_unread: bool = False
    archived: bool = False
    message_count: int
    last_activity_at: datetime
    last_message_body: str | None
    last_message_direction: str | None
    last_message_status: str | None
    cursor: InboxCursor
    last_message_kind: str | None = None
    last_message_media: dict[str, Any] | None = None

    @property
    def preview(self) -> str:
        """The last message as the list and notifications show it: its text, or its media named ("Photo — caption",
        "Voice note 0:12", "Document: prices.pdf")."""
        return message_preview(self.last_message_body or "", self.last_message_kind, self.last_message_media)

    @property
    def display_name(self) -> str:
        return self.contact_name or self.title or self.contact_phone or "Unknown"

    @property
    def unread(self) -> bool:
        """Shown as unread: messages not read yet, or marked unread by hand."""
        return self.unread_count > 0 or self.marked_unread


def message_preview(body: str, kind: str | None, media: dict[str, Any] | None) -> str:
    """A message in one line of text: the body of a text message, ``describe`` of a media one."""
    if not media and kind in (None, "text"):
        return body
    try:
        info = MediaInfo.model_validate(media or {"kind": kind})
    except ValidationError:  # a kind this version does not know (a newer teammate's Parley): its caption at least
        return body
    return describe(info, body)


class InboxFilter(BaseModel):
    model_config = ConfigDict(frozen=True)

    view: View = "all"
    unread_only: bool = False
    assigned_user_id: str | None = None  # "mine" is the local user's id here
    unassigned: bool = False
    tag: str | None = None  # a label on the chat or on its contact (any case)


# The chats each view shows (``:now`` in ms: a snooze that has run out no longer hides its chat).
_SNOOZED = "(c.snoozed_until IS NOT NULL AND c.snoozed_until > :now)"
_VIEW_SQL: dict[str, str] = {
    "all": "s.visible = 1",
    "open": f"s.visible = 1 AND c.status = 'open' AND NOT {_SNOOZED}",
    "pending": f"s.visible = 1 AND c.status = 'pending' AND NOT {_SNOOZED}",
    "resolved": "s.visible = 1 AND c.status = 'resolved'",
    "snoozed": f"s.visible = 1 AND {_SNOOZED}",
    "archived": "s.visible = 0 AND c.deleted_at IS NULL AND c.archived = 1",
}

_SQL = """
SELECT c.id, c.title, c.contact_id, ct.name, ct.phone, c.assigned_user_id, c.tags, ct.tags,
       s.pinned, s.unread_count, s.message_count, s.last_activity_at,
       m.body, m.direction, m.status, s.chat_rid,
       c.status, c.snoozed_until, c.muted_until, c.marked_unread, c.archived, m.kind, m.media
FROM chat_stats s
JOIN chats c ON c.rid = s.chat_rid
LEFT JOIN contacts ct ON ct.org_id = c.org_id AND ct.id = c.contact_id
LEFT JOIN messages m ON m.rid = s.last_message_rid
WHERE c.org_id = :org AND {where}
ORDER BY s.pinned DESC, s.last_activity_at DESC, s.chat_rid DESC
LIMIT :limit
"""


def _conditions(filters: InboxFilter, params: dict[str, Any]) -> list[str]:
    where = [_VIEW_SQL[filters.view]]
    if filters.unread_only:
        where.append("(s.unread_count > 0 OR c.marked_unread = 1)")
    if filters.assigned_user_id:
        where.append("c.assigned_user_id = :user")
        params["user"] = filters.assigned_user_id
    if filters.unassigned:
        where.append("c.assigned_user_id IS NULL")
    if filters.tag:
        where.append(
            "(EXISTS (SELECT 1 FROM json_each(c.tags) WHERE lower(value) = lower(:tag))"
            " OR EXISTS (SELECT 1 FROM json_each(ct.tags) WHERE lower(value) = lower(:tag)))"
        )
        params["tag"] = filters.tag
    return where


def inbox_page(
    db: Database,
    org_id: str,
    *,
    limit: int = 50,
    after: InboxCursor | None = None,
    filters: InboxFilter | None = None,
) -> list[InboxRow]:
    now = to_ms(utc_now())
    params: dict[str, Any] = {"org": org_id, "limit": limit, "now": now}
    where = _conditions(filters or InboxFilter(), params)
    if after is not None:
        where.append("(s.pinned, s.last_activity_at, s.chat_rid) < (:a_pinned, :a_activity, :a_rid)")
        params |= {"a_pinned": after.pinned, "a_activity": after.last_activity_ms, "a_rid": after.chat_rid}
    with db.read() as conn:
        rows = conn.execute(_SQL.format(where=" AND ".join(where)), params).fetchall()
    return [_row(r, now) for r in rows]


def _row(r: Any, now: int) -> InboxRow:
    return InboxRow(
        chat_id=r[0],
        title=r[1],
        contact_id=r[2],
        contact_name=r[3],
        contact_phone=r[4],
        assigned_user_id=r[5],
        tags=list(dict.fromkeys([*json.loads(r[6]), *json.loads(r[7] or "[]")])),
        pinned=bool(r[8]),
        unread_count=r[9],
        message_count=r[10],
        last_activity_at=from_ms(r[11]),
        last_message_body=r[12],
        last_message_direction=r[13],
        last_message_status=r[14],
        cursor=InboxCursor(pinned=r[8], last_activity_ms=r[11], chat_rid=r[15]),
        status=r[16],
        snoozed_until=from_ms(r[17]) if r[17] is not None and r[17] > now else None,
        muted=r[18] is not None and r[18] > now,
        marked_unread=bool(r[19]),
        archived=bool(r[20]),
        last_message_kind=r[21],
        last_message_media=json.loads(r[22]) if r[22] else None,
    )


def view_counts(db: Database, org_id: str, filters: InboxFilter | None = None) -> dict[View, int]:
    """How many chats each view holds under the other filters (owner, unread, label): the numbers on the tabs."""
    counts: dict[View, int] = {}
    base = filters or InboxFilter()
    with db.read() as conn:
        for view in VIEWS:
            params: dict[str, Any] = {"org": org_id, "now": to_ms(utc_now())}
            where = _conditions(base.model_copy(update={"view": view}), params)
            sql = (
                "SELECT count(*) FROM chat_stats s JOIN chats c ON c.rid = s.chat_rid "
                "LEFT JOIN contacts ct ON ct.org_id = c.org_id AND ct.id = c.contact_id "
                f"WHERE c.org_id = :org AND {' AND '.join(where)}"
            )
            counts[view] = int(conn.execute(sql, params).fetchone()[0])
    return counts


def next_snooze_end(db: Database, org_id: str) -> datetime | None:
    """When the next snooze runs out (the inbox refreshes then, so the chat comes back on time)."""
    with db.read() as conn:
        row = conn.execute(
            "SELECT min(snoozed_until) FROM chats WHERE org_id = ? AND deleted_at IS NULL AND snoozed_until > ?",
            (org_id, to_ms(utc_now())),
        ).fetchone()
    return from_ms(row[0]) if row and row[0] is not None else None
