"""Reading and draining the outbox the triggers fill (the sync client's side of it)."""

from __future__ import annotations

import json

from app.core.ids import from_ms
from app.core.models import OutboxEntry
from app.store.database import Database


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    def pending(self, *, limit: int = 500, after_seq: int = 0) -> list[OutboxEntry]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT seq, op_id, table_name, row_id, org_id, op, changed, created_at FROM outbox "
                "WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [
            OutboxEntry(
                seq=r[0],
                op_id=r[1],
                table_name=r[2],
                row_id=r[3],
                org_id=r[4],
                op=r[5],
                changed=json.loads(r[6]),
                created_at=from_ms(r[7]),
            )
            for r in rows
        ]

    def count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def acknowledge(self, up_to_seq: int) -> int:
        """Drop entries the server has confirmed. Sequence numbers are never reused (AUTOINCREMENT)."""
        with self.db.transaction() as conn:
            return int(conn.execute("DELETE FROM outbox WHERE seq <= ?", (up_to_seq,)).rowcount)
