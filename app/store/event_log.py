"""The durable event log: events written in the same transaction as the change they describe.

A consumer (an agent) that was off or crashed picks up where it stopped by reading unprocessed events in order.
"""

from __future__ import annotations

import json

from app.core.events import Event, event_from_payload
from app.core.ids import from_ms, to_ms, utc_now
from app.core.models import StoredEvent
from app.store.database import Database


class EventLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, event: Event) -> int:
        payload = event.model_dump(mode="json")
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO events (name, payload, occurred_at) VALUES (?, ?, ?)",
                (event.name, json.dumps(payload), to_ms(event.occurred_at)),
            )
            return int(cursor.lastrowid or 0)

    def pending(self, *, limit: int = 100) -> list[StoredEvent]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT seq, name, payload, occurred_at, processed_at FROM events "
                "WHERE processed_at IS NULL ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            StoredEvent(
                seq=r[0],
                name=r[1],
                payload=json.loads(r[2]),
                occurred_at=from_ms(r[3]),
                processed_at=None if r[4] is None else from_ms(r[4]),
            )
            for r in rows
        ]

    def load(self, stored: StoredEvent) -> Event:
        return event_from_payload(stored.name, stored.payload)

    def mark_processed(self, seq: int) -> None:
        with self.db.transaction() as conn:
            conn.execute("UPDATE events SET processed_at = ? WHERE seq = ?", (to_ms(utc_now()), seq))
