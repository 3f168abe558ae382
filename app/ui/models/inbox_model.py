"""The chat list as a Qt item model over the store, fetched a page at a time as the view scrolls.

A page is one keyset query on ``chat_stats`` (a few milliseconds even with 10k chats), so fetching runs inline;
``refresh`` reloads as many rows as are loaded, keeping the scroll position meaningful after new messages.
"""

from __future__ import annotations

from typing import Any

from app.qt import Qt, QtCore
from app.store.inbox import InboxFilter, InboxRow
from app.store.store import Store

PAGE = 100
RowRole = Qt.ItemDataRole.UserRole + 1


class InboxModel(QtCore.QAbstractListModel):
    def __init__(self, store: Store, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.filters = InboxFilter()
        self._rows: list[InboxRow] = []
        self._exhausted = False

    # ---- Qt model interface ----------------------------------------------------------------------------------
    def rowCount(self, parent: QtCore.QModelIndex | QtCore.QPersistentModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == RowRole:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            return row.display_name
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.contact_phone or row.display_name
        return None

    def canFetchMore(self, parent: QtCore.QModelIndex | QtCore.QPersistentModelIndex) -> bool:
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: QtCore.QModelIndex | QtCore.QPersistentModelIndex) -> None:
        if parent.isValid() or self._exhausted:
            return
        after = self._rows[-1].cursor if self._rows else None
        page = self.store.inbox(limit=PAGE, after=after, filters=self.filters)
        if len(page) < PAGE:
            self._exhausted = True
        if page:
            start = len(self._rows)
            self.beginInsertRows(QtCore.QModelIndex(), start, start + len(page) - 1)
            self._rows.extend(page)
            self.endInsertRows()

    # ---- ours ------------------------------------------------------------------------------------------------
    def row(self, i: int) -> InboxRow:
        return self._rows[i]

    def index_of(self, chat_id: str) -> QtCore.QModelIndex:
        for i, row in enumerate(self._rows):
            if row.chat_id == chat_id:
                return self.index(i)
        return QtCore.QModelIndex()

    def set_filters(self, filters: InboxFilter) -> None:
        self.filters = filters
        self.reload(keep=0)

    def reload(self, keep: int | None = None) -> None:
        """Re-read the list from the top; ``keep`` rows (default: as many as are loaded) come back at once."""
        want = max(PAGE, len(self._rows) if keep is None else keep)
        rows = self.store.inbox(limit=want, filters=self.filters)
        self.beginResetModel()
        self._rows = rows
        self._exhausted = len(rows) < want
        self.endResetModel()

    def total_unread(self) -> int:
        return sum(r.unread_count for r in self._rows)
