"""The inbox: chats newest-activity first, with the figures the list shows, one page at a time.

Reads come from ``chat_stats`` (kept by triggers), so a page is an index range scan whatever the number of
messages. Pages are addressed by a keyset cursor, which stays correct while new messages reorder the list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from app.core.ids import from_ms
from app.store.database import Database


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
    tags: list[str]
    pinned: bool
    unread_count: int
    message_count: int
    last_activity_at: datetime
    last_message_body: str | None
    last_message_direction: str | None
    last_message_status: str | None
    cursor: InboxCursor

    @property
    def display_name(self) -> str:
        return self.contact_name or self.title or self.contact_phone or "Unknown"


class InboxFilter(BaseModel):
    model_config = ConfigDict(frozen=True)

    unread_only: bool = False
    assigned_user_id: str | None = None
    tag: str | None = None


_SQL = """
SELECT c.id, c.title, c.contact_id, ct.name, ct.phone, c.assigned_user_id, c.tags,
       s.pinned, s.unread_count, s.message_count, s.last_activity_at,
       m.body, m.direction, m.status, s.chat_rid
FROM chat_stats s
JOIN chats c ON c.rid = s.chat_rid
LEFT JOIN contacts ct ON ct.org_id = c.org_id AND ct.id = c.contact_id
LEFT JOIN messages m ON m.rid = s.last_message_rid
WHERE s.visible = 1 AND c.org_id = ? {extra}
ORDER BY s.pinned DESC, s.last_activity_at DESC, s.chat_rid DESC
LIMIT ?
"""


def inbox_page(
    db: Database,
    org_id: str,
    *,
    limit: int = 50,
    after: InboxCursor | None = None,
    filters: InboxFilter | None = None,
) -> list[InboxRow]:
    import json

    extra: list[str] = []
    params: list[Any] = [org_id]
    if after is not None:
        extra.append("AND (s.pinned, s.last_activity_at, s.chat_rid) < (?, ?, ?)")
        params += [after.pinned, after.last_activity_ms, after.chat_rid]
    if filters is not None:
        if filters.unread_only:
            extra.append("AND s.unread_count > 0")
        if filters.assigned_user_id:
            extra.append("AND c.assigned_user_id = ?")
            params.append(filters.assigned_user_id)
        if filters.tag:
            extra.append("AND EXISTS (SELECT 1 FROM json_each(c.tags) WHERE value = ?)")
            params.append(filters.tag)
    params.append(limit)
    with db.read() as conn:
        rows = conn.execute(_SQL.format(extra=" ".join(extra)), params).fetchall()
    return [
        InboxRow(
            chat_id=r[0],
            title=r[1],
            contact_id=r[2],
            contact_name=r[3],
            contact_phone=r[4],
            assigned_user_id=r[5],
            tags=json.loads(r[6]),
            pinned=bool(r[7]),
            unread_count=r[8],
            message_count=r[9],
            last_activity_at=from_ms(r[10]),
            last_message_body=r[11],
            last_message_direction=r[12],
            last_message_status=r[13],
            cursor=InboxCursor(pinned=r[7], last_activity_ms=r[10], chat_rid=r[14]),
        )
        for r in rows
    ]
