"""The chat list as a Qt item model over the store, fetched a page at a time as the view scrolls.

A page is one keyset query on ``chat_stats`` (a few milliseconds even with 10k chats), so fetching a page and
re-reading the first page for new filters run inline. When messages or chats change, the page re-reads the top of
the list on a worker and hands it to ``apply_refresh``, which touches the view only where something changed: rows
that kept their place are updated in place (selection and scroll untouched), rows past the re-read part are dropped
(``canFetchMore`` fetches them again when scrolled to), and only a changed order resets the model.
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
        self.generation = 0  # bumped when the rows are replaced for other filters; older refreshes are dropped

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
        self.generation += 1
        self.beginResetModel()
        self._rows = rows
        self._exhausted = len(rows) < want
        self.endResetModel()

    def apply_refresh(self, rows: list[InboxRow], want: int) -> bool:
        """Take ``rows``, a fresh read of the first ``want`` rows; True when the model had to be reset.

        Without a reset the view keeps its selection and scroll position by itself; after one the caller restores
        them. Loaded rows beyond ``rows`` are dropped and fetched again on demand.
        """
        old = self._rows
        exhausted = len(rows) < want
        common = min(len(old), len(rows))
        if [r.chat_id for r in old[:common]] != [r.chat_id for r in rows[:common]]:
            self.beginResetModel()
            self._rows = list(rows)
            self._exhausted = exhausted
            self.endResetModel()
            return True
        changed = [i for i in range(common) if old[i] != rows[i]]
        for i in changed:
            old[i] = rows[i]
        if changed:
            self.dataChanged.emit(self.index(changed[0]), self.index(changed[-1]))
        if len(old) > len(rows):
            self.beginRemoveRows(QtCore.QModelIndex(), len(rows), len(old) - 1)
            del old[len(rows) :]
            self.endRemoveRows()
        elif len(rows) > len(old):
            self.beginInsertRows(QtCore.QModelIndex(), len(old), len(rows) - 1)
            old.extend(rows[len(old) :])
            self.endInsertRows()
        self._exhausted = exhausted
        return False
