"""The number's send history as the limits and the pacing budget read it, and the budget for the WhatsApp page.

One query for both: the outbound messages WhatsApp took (sent / delivered / read) in the last 24 h at their
``sent_at`` (when typing began), keyed by the chat's contact and marked automated when an agent or a campaign sent
them (``sent_by_agent`` set, no human author), plus the number's first send ever (its age, for the warm-up). A
message typed on the phone or in Parley by a person is not automated and never draws from the automated budget.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from app.core.ids import from_ms, to_ms
from app.store.ops.automation import halted
from app.whatsapp.limits import DAY, Send
from app.whatsapp.pacing import Budget, Pace, budget

if TYPE_CHECKING:
    from app.store.store import Store

_BASE = (
    "FROM messages m JOIN chats c ON c.id = m.chat_id AND c.org_id = m.org_id "
    "WHERE m.org_id = ? AND m.direction = 'out' AND m.deleted_at IS NULL "
    "AND m.status IN ('sent', 'delivered', 'read')"
)


def history(store: Store, now: datetime) -> tuple[list[Send], datetime | None]:
    """The number's sends in the last 24 h (automated ones marked) and its first send ever."""
    org = store.org_id
    with store.db.read() as conn:
        rows = conn.execute(
            "SELECT m.sent_at, coalesce(c.contact_id, c.id), "
            f"m.author_user_id IS NULL AND m.sent_by_agent IS NOT NULL {_BASE} AND m.sent_at > ?",
            (org, to_ms(now - DAY)),
        ).fetchall()
        first = conn.execute(f"SELECT min(m.sent_at) {_BASE}", (org,)).fetchone()[0]
    sends = [Send(contact_id=str(contact), at=from_ms(int(at)), automated=bool(auto)) for at, contact, auto in rows]
    return sends, (from_ms(int(first)) if first is not None else None)


def budget_now(store: Store, pace: Pace, now: datetime) -> Budget:
    """The automated budget of the number now: used today / cap, next automated slot, why it waits."""
    sends, first = history(store, now)
    halt = halted(store)
    return budget(now, pace, [s for s in sends if s.automated], first, halt.sentence if halt else None)
