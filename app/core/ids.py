"""Identifiers and timestamps shared by every layer.

Ids are UUIDv7 text: time-ordered, so new rows land at the end of B-tree indexes, and generated on the device,
so a workspace can work offline and later sync without renaming anything.
"""

from __future__ import annotations

from datetime import UTC, datetime

import uuid_utils


def new_id() -> str:
    """A fresh UUIDv7 as canonical lower-case text."""
    return str(uuid_utils.uuid7())


def utc_now() -> datetime:
    """Now, timezone-aware UTC, truncated to milliseconds (the precision the store keeps)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def to_ms(value: datetime) -> int:
    """Milliseconds since the Unix epoch; naive datetimes are refused rather than guessed."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: Parley stores only timezone-aware times")
    return int(value.timestamp() * 1000)


def from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)
