"""Search hits with the matched words highlighted (from the store's snippet segments, no HTML parsing)."""

from __future__ import annotations

from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.store.search import SearchHit
from app.ui import theme
from app.ui.widgets.chat_list_delegate import short_time

HitRole = Qt.ItemDataRole.UserRole + 20


class SearchResultDelegate(QtWidgets.QStyledItemDelegate):
    def sizeHint(
        self, option: QtWidgets.QStyleOptionViewItem, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex
    ) -> QtCore.QSize:
        return QtCore.QSize(option.rect.width(), 58)

    def paint(
        self,
        painter: QtGui.QPainter,
        option: QtWidgets.QStyleOptionViewItem,
        index: QtCore.QModelIndex | QtCore.QPersistentModelIndex,
    ) -> None:
        hit: SearchHit | None = index.data(HitRole)
        if hit is None:
            return
        c = theme.colors()
        rect: QtCore.QRect = option.rect
        painter.save()
        if option.state & QtWidgets.QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, QtGui.QColor(c.surface_alt))
        font = QtGui.QFont(option.font)
        bold = QtGui.QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        kind = {"message": "💬", "contact": "👤", "note": "📝"}[hit.kind]
        painter.setPen(QtGui.QColor(c.text))
        painter.drawText(rect.adjusted(12, 8, -70, 0), 0, f"{kind} {hit.title or 'Unknown'}")
        if hit.at is not None:
            painter.setFont(font)
            painter.setPen(QtGui.QColor(c.muted))
            painter.drawText(rect.adjusted(0, 8, -12, 0), Qt.AlignmentFlag.AlignRight, short_time(hit.at))
        x = rect.left() + 12
        y = rect.top() + 30
        limit = rect.right() - 12
        for text, matched in hit.segments:
            painter.setFont(bold if matched else font)
            fm = painter.fontMetrics()
            piece = text.replace("\n", " ")
            width = fm.horizontalAdvance(piece)
            if x + width > limit:
                piece = fm.elidedText(piece, Qt.TextElideMode.ElideRight, max(0, limit - x))
                width = fm.horizontalAdvance(piece)
            if matched:
                painter.fillRect(QtCore.QRect(x, y, width, fm.height()), QtGui.QColor(c.highlight))
            painter.setPen(QtGui.QColor(c.text if matched else c.muted))
            painter.drawText(QtCore.QRect(x, y, width + 1, fm.height()), 0, piece)
            x += width
            if x >= limit:
                break
        painter.restore()
