"""Per-device settings as JSON values in a local-only table (nothing here is synced or written to the outbox).

The declared schema of settings (type, default, help) belongs to the settings service; this is only storage.
"""

from __future__ import annotations

import json
from typing import Any

from app.core.ids import to_ms, utc_now
from app.store.database import Database


class SettingsTable:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, key: str, default: Any = None) -> Any:
        with self.db.read() as conn:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set(self, key: str, value: Any) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (key, json.dumps(value), to_ms(utc_now())),
            )

    def all(self) -> dict[str, Any]:
        with self.db.read() as conn:
            return {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM settings")}

    def delete(self, key: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM settings WHERE key = ?", (key,))
