"""The send queue as a table: chat, text, status, queued at, and why it waits or failed."""

from __future__ import annotations

from typing import Any

from app.qt import Qt, QtCore, QtGui
from app.store.send_queue_view import UnsentMessage
from app.ui import theme
from app.ui.widgets.whatsapp_indicator import clock

COLUMNS = ("Chat", "Message", "Status", "Queued", "Reason")
STATUS_LABELS = {"queued": "Waiting", "typing": "Typing now", "failed": "Failed"}
PREVIEW = 90


class UnsentModel(QtCore.QAbstractTableModel):
    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[UnsentMessage] = []
        self.waiting_reason = ""  # from the status: why queued messages wait (quiet hours, a pause, paused)

    def rowCount(self, parent: QtCore.QModelIndex | QtCore.QPersistentModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QtCore.QModelIndex | QtCore.QPersistentModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, column = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole and column in (1, 4):
            return row.body if column == 1 else self._text(row, 4)
        if role == Qt.ItemDataRole.ForegroundRole and row.status == "failed" and column in (2, 4):
            return QtGui.QBrush(QtGui.QColor(theme.colors().danger))
        return None

    def _text(self, row: UnsentMessage, column: int) -> str:
        if column == 0:
            return row.chat_name
        if column == 1:
            line = " ".join(row.body.split())
            return line if len(line) <= PREVIEW else line[: PREVIEW - 1] + "…"
        if column == 2:
            return STATUS_LABELS.get(row.status, row.status)
        if column == 3:
            return clock(row.queued_at)
        if row.status == "failed":
            return row.reason or "WhatsApp did not take the message."
        if row.waiting_on:
            return f"Waiting for {row.waiting_on} to send"
        if row.status == "typing":
            return "Being typed in WhatsApp"
        return self.waiting_reason

    # ---- rows ------------------------------------------------------------------------------------------------
    def set_rows(self, rows: list[UnsentMessage]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def set_waiting_reason(self, reason: str) -> None:
        if reason != self.waiting_reason:
            self.waiting_reason = reason
            if self._rows:
                last = self.index(len(self._rows) - 1, 4)
                self.dataChanged.emit(self.index(0, 4), last, [Qt.ItemDataRole.DisplayRole])

    def row(self, row: int) -> UnsentMessage:
        return self._rows[row]

    def row_of(self, message_id: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.message_id == message_id), -1)
