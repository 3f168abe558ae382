"""A settings table in memory (``app.core.settings.SettingsStorage``), for tests of what settings turn into."""

from __future__ import annotations

from typing import Any


class Memory:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value

    def delete(self, key: str) -> None:
        self.values.pop(key, None)
