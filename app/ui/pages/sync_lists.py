"""The pieces of Settings › Team sync's lists: words for conflicts, dates and short tables. (Labels, headings and
the confirmation that does not block are ``app.ui.kit``'s.)"""

from __future__ import annotations

import json
from datetime import datetime

from app.qt import QtWidgets
from app.sync.status import ConflictNote

REASONS = {
    "deleted": "Deleted on another device",
    "append_only": "Message text cannot change once sent",
    "overwritten": "Changed on another device at the same time",
    "forbidden": "Your role may not change this",
}


def when_ms(ms: int | None) -> str:
    if ms is None:
        return "Never"
    return datetime.fromtimestamp(ms / 1000).astimezone().strftime("%d %b %Y, %H:%M")


def what_text(note: ConflictNote) -> str:
    return f"{note.table.rstrip('s').replace('_', ' ').capitalize()} {note.row_id}"


BOOKKEEPING = frozenset({"created_at", "updated_at", "deleted_at"})  # every edit carries them: not worth showing


def shown_fields(note: ConflictNote) -> list[str]:
    fields = [f for f in note.fields if f not in BOOKKEEPING]
    return fields or list(note.fields)


def fields_text(note: ConflictNote) -> str:
    return ", ".join(f.replace("_", " ") for f in shown_fields(note))


def theirs_text(note: ConflictNote) -> str:
    fields = set(shown_fields(note))
    values = {k: v for k, v in note.theirs.items() if k in fields or k not in BOOKKEEPING}
    if not values:
        return "—"
    shown = (f"{k.replace('_', ' ')}: {json.dumps(v) if isinstance(v, dict | list) else v}" for k, v in values.items())
    return "; ".join(shown)


def fit_rows(table: QtWidgets.QTableWidget, *, least: int = 1, most: int = 6) -> None:
    """Make a short list's table as tall as its rows (between ``least`` and ``most``), not a block of empty space."""
    rows = max(least, min(most, table.rowCount()))
    row_height = table.verticalHeader().defaultSectionSize()
    height = table.horizontalHeader().sizeHint().height() + rows * row_height + 2 * table.frameWidth() + 4
    table.setFixedHeight(height)
