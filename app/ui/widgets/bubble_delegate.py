"""Paints a conversation: bubbles left (customer) and right (us), ticks, quoted replies, notes, day separators."""

from __future__ import annotations

from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.ui import theme
from app.ui.models.chat_model import ChatItem, ItemRole
from app.ui.widgets.chat_list_delegate import TICKS

PAD = 10
GAP = 4
MAX_RATIO = 0.68


class BubbleDelegate(QtWidgets.QStyledItemDelegate):
    def _width(self, option: QtWidgets.QStyleOptionViewItem) -> int:
        widget = option.widget
        full = widget.viewport().width() if isinstance(widget, QtWidgets.QAbstractScrollArea) else 600
        return int(max(full, 200))

    def _layout(self, item: ChatItem, width: int, font: QtGui.QFont) -> tuple[QtCore.QRect, QtCore.QRect, int]:
        """(bubble rect relative to the row, text rect, quote height)."""
        fm = QtGui.QFontMetrics(font)
        max_w = int(width * MAX_RATIO) if item.kind == "message" else int(width * 0.8)
        meta_w = fm.horizontalAdvance(" 00:00 ✓✓ ") + 6
        text_rect = fm.boundingRect(
            QtCore.QRect(0, 0, max_w - 2 * PAD, 100000), Qt.TextFlag.TextWordWrap, item.text or " "
        )
        quote_h = 0
        inner_w = max(text_rect.width(), min(fm.horizontalAdvance(item.text or " "), max_w - 2 * PAD))
        if item.quoted:
            quote_h = fm.height() * 2 + 10
            inner_w = max(inner_w, min(220, max_w - 2 * PAD))
        if item.kind == "note":
            inner_w = max(inner_w, fm.horizontalAdvance("Internal note · only your team sees this"))
        last_line_room = inner_w - fm.horizontalAdvance(item.text.split("\n")[-1][-40:]) if item.text else inner_w
        extra_line = 0 if last_line_room > meta_w and text_rect.height() <= fm.height() else fm.height()
        if extra_line == 0 and text_rect.height() <= fm.height():
            inner_w += meta_w
        header = fm.height() + 2 if item.kind == "note" else 0
        h = text_rect.height() + extra_line + quote_h + header + 2 * PAD - 2
        w = min(max_w, inner_w + 2 * PAD)
        x = width - w - 14 if item.direction == "out" else 14
        if item.kind == "note":
            x = (width - w) // 2
        bubble = QtCore.QRect(x, GAP, w, h)
        text = QtCore.QRect(x + PAD, GAP + PAD + quote_h + header, w - 2 * PAD, text_rect.height())
        return bubble, text, quote_h

    def sizeHint(
        self, option: QtWidgets.QStyleOptionViewItem, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex
    ) -> QtCore.QSize:
        item: ChatItem | None = index.data(ItemRole)
        width = self._width(option)
        if item is None:
            return QtCore.QSize(width, 0)
        font = option.font
        if item.kind == "day":
            return QtCore.QSize(width, QtGui.QFontMetrics(font).height() + 20)
        bubble, _, _ = self._layout(item, width, font)
        return QtCore.QSize(width, bubble.height() + 2 * GAP)

    def paint(
        self,
        painter: QtGui.QPainter,
        option: QtWidgets.QStyleOptionViewItem,
        index: QtCore.QModelIndex | QtCore.QPersistentModelIndex,
    ) -> None:
        item: ChatItem | None = index.data(ItemRole)
        if item is None:
            return
        c = theme.colors()
        rect: QtCore.QRect = option.rect
        font: QtGui.QFont = option.font
        painter.save()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setFont(font)
        fm = painter.fontMetrics()
        if item.kind == "day":
            w = fm.horizontalAdvance(item.text) + 24
            pill = QtCore.QRect(rect.center().x() - w // 2, rect.top() + 6, w, fm.height() + 8)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QtGui.QColor(c.surface_alt))
            painter.drawRoundedRect(pill, 8, 8)
            painter.setPen(QtGui.QColor(c.muted))
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, item.text)
            painter.restore()
            return
        model = index.model()
        highlighted = getattr(model, "highlight_id", None) == item.id
        bubble, text_rect, quote_h = self._layout(item, rect.width(), font)
        bubble.translate(rect.left(), rect.top())
        text_rect.translate(rect.left(), rect.top())
        fill = c.note if item.kind == "note" else (c.bubble_out if item.direction == "out" else c.bubble_in)
        painter.setPen(QtGui.QPen(QtGui.QColor(c.highlight if highlighted else c.border), 2 if highlighted else 1))
        painter.setBrush(QtGui.QColor(fill))
        painter.drawRoundedRect(bubble, 9, 9)
        top = bubble.top() + PAD
        if item.kind == "note":
            small = QtGui.QFont(font)
            small.setPointSizeF(font.pointSizeF() - 1)
            small.setBold(True)
            painter.setFont(small)
            painter.setPen(QtGui.QColor(c.muted))
            painter.drawText(bubble.left() + PAD, top + fm.ascent(), "Internal note · only your team sees this")
            painter.setFont(font)
        if item.quoted:
            quote = QtCore.QRect(bubble.left() + PAD, top, bubble.width() - 2 * PAD, quote_h - 6)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QtGui.QColor(c.surface_alt))
            painter.drawRoundedRect(quote, 4, 4)
            painter.fillRect(QtCore.QRect(quote.left(), quote.top(), 3, quote.height()), QtGui.QColor(c.accent))
            painter.setPen(QtGui.QColor(c.muted))
            painter.drawText(
                quote.adjusted(8, 2, -4, -2),
                Qt.TextFlag.TextWordWrap,
                fm.elidedText(item.quoted, Qt.TextElideMode.ElideRight, (quote.width() - 12) * 2),
            )
        painter.setPen(QtGui.QColor(c.text))
        painter.drawText(text_rect, Qt.TextFlag.TextWordWrap, item.text)
        meta = item.at.astimezone().strftime("%H:%M")
        if item.kind == "message" and item.direction == "out":
            meta += " " + TICKS.get(item.status, "")
        meta_color = (
            QtGui.QColor("#34b7f1") if item.status == "read" and item.direction == "out" else QtGui.QColor(c.muted)
        )
        if item.status == "failed":
            meta_color = QtGui.QColor(c.danger)
        painter.setPen(meta_color)
        mw = fm.horizontalAdvance(meta)
        painter.drawText(bubble.right() - PAD - mw, bubble.bottom() - PAD + 2 - fm.descent(), meta)
        painter.restore()
