"""A campaign's own pace, as the sender's pacing budget takes it (``Sender(stricter=...)``, app/whatsapp/sender.py).

The column ``campaigns.pace`` holds only the rules the campaign tightens (``gap_min_seconds``, ``per_day``, …). The
sender combines what this returns with the number's budget by ``pacing.stricter`` (each rule the stricter of the
two), so the override is built on a pace that limits nothing: a rule the campaign leaves out keeps the number's.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from app.core.models import Message
from app.store.store import Store
from app.whatsapp.pacing import Pace, pace_from_json

LIMITLESS = Pace(
    gap_min_seconds=0.0,
    gap_max_seconds=0.0,
    per_hour=1_000_000,
    per_day=1_000_000,
    warmup=(),
    windows=(),
    batch_size=1_000_000,
    batch_pause_seconds=0.0,
)


def campaign_pace(store: Store, message: Message) -> Pace | None:
    """The stricter pace of the campaign ``message`` belongs to (None: not a campaign message, or none set)."""
    if message.sent_by_agent != "campaign":
        return None
    with store.db.read() as conn:
        row = conn.execute(
            "SELECT c.pace FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id AND c.org_id = r.org_id "
            "WHERE r.message_id = ? AND r.org_id = ? LIMIT 1",
            (message.id, store.org_id),
        ).fetchone()
    if row is None:
        return None
    return pace_from_json(json.loads(row[0] or "{}"), LIMITLESS)


def stricter_for(store: Store) -> Callable[[Message], Pace | None]:
    """What the sender's ``stricter`` parameter takes, bound to ``store``."""
    return lambda message: campaign_pace(store, message)
