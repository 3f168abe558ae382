"""The send queue as a person reviews it: every own message that has not reached WhatsApp, with the chat it is for.

``MessageRepository.send_queue`` is what the sender drains (queued and typing only); the WhatsApp page also lists
failed messages, so they can be tried again or cancelled, and names each chat the way the inbox does. In a team,
waiting messages name the device that sends them when it is not this one (``app.store.sending_device``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.core.ids import from_ms
from app.store.sending_device import held_elsewhere
from app.store.store import Store

_COLUMNS = "id, chat_id, body, kind, status, status_reason, created_at, rid"
# Waiting messages come through the send-queue index (``+org_id`` keeps the planner off the (org_id, id) index,
# which every row matches). Failed ones are few but have no index yet, so reading them scans the table; the query
# repeats the IN term so that an index ``WHERE status IN ('queued', 'typing', 'failed')`` would serve it, and it
# keeps only the newest ``failed_limit``.
_WAITING = f"""
SELECT {_COLUMNS} FROM messages
WHERE +org_id = ? AND status IN ('queued', 'typing') AND deleted_at IS NULL
"""
_FAILED = f"""
SELECT {_COLUMNS} FROM messages
WHERE +org_id = ? AND status IN ('queued', 'typing', 'failed') AND status = 'failed' AND direction = 'out'
  AND deleted_at IS NULL
ORDER BY created_at DESC, rid DESC
LIMIT ?
"""

_CHATS = """
SELECT c.id, c.title, ct.name, ct.phone
FROM chats c
LEFT JOIN contacts ct ON ct.org_id = c.org_id AND ct.id = c.contact_id
WHERE c.org_id = ? AND c.id IN ({marks})
"""


@dataclass(frozen=True)
class UnsentMessage:
    message_id: str
    chat_id: str
    chat_name: str
    body: str
    status: str  # queued / typing / failed
    reason: str | None  # why it failed (the sender's words), None while waiting
    queued_at: datetime
    waiting_on: str = ""  # the team device that will send it, when another device holds the WhatsApp number


def unsent_messages(store: Store, *, failed_limit: int = 500) -> list[UnsentMessage]:
    """Queued, typing and failed outbound messages, oldest first (the order the sender works through them)."""
    elsewhere = held_elsewhere(store)
    waiting_on = elsewhere.device_name if elsewhere is not None else ""
    with store.db.read() as conn:
        rows = conn.execute(_WAITING, (store.org_id,)).fetchall()
        rows += conn.execute(_FAILED, (store.org_id, failed_limit)).fetchall()
        rows.sort(key=lambda r: (r[6], r[7]))
        chat_ids = sorted({r[1] for r in rows})
        names: dict[str, str] = {}
        for start in range(0, len(chat_ids), 500):
            part = chat_ids[start : start + 500]
            sql = _CHATS.format(marks=", ".join("?" * len(part)))
            for chat_id, title, name, phone in conn.execute(sql, (store.org_id, *part)):
                names[chat_id] = name or title or phone or "Unknown"
    return [
        UnsentMessage(
            message_id=r[0],
            chat_id=r[1],
            chat_name=names.get(r[1], "Unknown"),
            body=r[2] or (f"[{r[3]}]" if r[3] != "text" else ""),
            status=r[4],
            reason=r[5],
            queued_at=from_ms(r[6]),
            waiting_on=waiting_on if r[4] != "failed" else "",
        )
        for r in rows
    ]
