"""Paints a conversation: bubbles left (customer) and right (us), ticks, quoted replies, notes, day separators.

Own messages that have not gone out say so: "queued" (with the send queue's next send time while it waits, or in a
team the device that will send it, when another one holds the WhatsApp number) in place of the ticks, and a failed
one carries its reason in red under the text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.ui import theme
from app.ui.models.chat_model import ChatItem, ItemRole
from app.ui.widgets.chat_list_delegate import TICKS
from app.ui.widgets.whatsapp_indicator import clock

PAD = 10
GAP = 4
MAX_RATIO = 0.68
HEIGHTS_KEPT = 5000  # bubble heights remembered (a few loaded chats' worth); all are forgotten past that


class Layout(NamedTuple):
    bubble: QtCore.QRect  # relative to the row
    text: QtCore.QRect
    quote_h: int
    reason: QtCore.QRect  # why an own message failed (empty otherwise)


def failure_text(item: ChatItem) -> str:
    """Under an own message that did not go out: why, and what can be done about it."""
    if item.kind != "message" or item.direction != "out" or item.status != "failed":
        return ""
    reason = (item.status_reason or "WhatsApp did not take the message").rstrip(".")
    return f"Not sent: {reason}. Right-click to try again or cancel."


def meta_text(
    item: ChatItem, next_send_at: datetime | None = None, now: datetime | None = None, waiting_on: str = ""
) -> str:
    """The time, then for own messages the ticks — or, while it waits in the send queue, that it is queued (and for
    which team device, when another one sends for the number)."""
    meta = item.at.astimezone().strftime("%H:%M")
    if item.kind != "message" or item.direction != "out":
        return meta
    if item.status == "queued" and waiting_on:
        return f"{meta} · waiting for {waiting_on} to send"
    if item.status == "queued":
        waits = next_send_at is not None and next_send_at > (now or datetime.now(UTC))
        return f"{meta} · queued, next send {clock(next_send_at)}" if waits and next_send_at else f"{meta} · queued"
    if item.status == "typing":
        return f"{meta} · sending…"
    return f"{meta} {TICKS.get(item.status, '')}".rstrip()


class BubbleDelegate(QtWidgets.QStyledItemDelegate):
    """Bubble heights are kept by what decides them (the item, the width, the font and the time/ticks line): the
    open chat is reloaded as messages arrive and the view asks every row's size again, while only the new rows
    need measuring (``bench/inbox_stall_bench.py``)."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._heights: dict[tuple[ChatItem, int, str, str | None], int] = {}

    def _width(self, option: QtWidgets.QStyleOptionViewItem) -> int:
        widget = option.widget
        full = widget.viewport().width() if isinstance(widget, QtWidgets.QAbstractScrollArea) else 600
        return int(max(full, 200))

    def _layout(self, item: ChatItem, width: int, font: QtGui.QFont, meta: str) -> Layout:
        fm = QtGui.QFontMetrics(font)
        max_w = int(width * MAX_RATIO) if item.kind == "message" else int(width * 0.8)
        meta_w = fm.horizontalAdvance(f" {meta} ") + 6
        wrap = QtCore.QRect(0, 0, max_w - 2 * PAD, 100000)
        text_rect = fm.boundingRect(wrap, Qt.TextFlag.TextWordWrap, item.text or " ")
        quote_h = 0
        inner_w = max(text_rect.width(), min(fm.horizontalAdvance(item.text or " "), max_w - 2 * PAD))
        if item.quoted:
            quote_h = fm.height() * 2 + 10
            inner_w = max(inner_w, min(220, max_w - 2 * PAD))
        if item.kind == "note":
            inner_w = max(inner_w, fm.horizontalAdvance("Internal note · only your team sees this"))
        reason = failure_text(item)
        reason_h = 0
        if reason:
            reason_rect = fm.boundingRect(wrap, Qt.TextFlag.TextWordWrap, reason)
            reason_h = reason_rect.height() + 4
            inner_w = max(inner_w, reason_rect.width())
        # The time and ticks share the text's line only when the text is one line and both fit in the widest bubble.
        single_line = text_rect.height() <= fm.height()
        same_line = not reason and single_line and inner_w + meta_w <= max_w - 2 * PAD
        extra_line = 0 if same_line else fm.height()
        if same_line:
            inner_w += meta_w
        else:
            inner_w = max(inner_w, min(meta_w, max_w - 2 * PAD))
        header = fm.height() + 2 if item.kind == "note" else 0
        h = text_rect.height() + reason_h + extra_line + quote_h + header + 2 * PAD - 2
        w = min(max_w, inner_w + 2 * PAD)
        x = width - w - 14 if item.direction == "out" else 14
        if item.kind == "note":
            x = (width - w) // 2
        top = GAP + PAD + quote_h + header
        text = QtCore.QRect(x + PAD, top, w - 2 * PAD, text_rect.height())
        reason_box = QtCore.QRect(x + PAD, top + text_rect.height() + 4, w - 2 * PAD, reason_h - 4)
        return Layout(QtCore.QRect(x, GAP, w, h), text, quote_h, reason_box)

    def _meta(self, item: ChatItem, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex) -> str:
        model = index.model()
        return meta_text(item, getattr(model, "next_send_at", None), waiting_on=getattr(model, "waiting_on", ""))

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
        # The time and ticks line follows from the item, except a queued message's (the send queue's next send).
        meta = self._meta(item, index) if item.status == "queued" else None
        key = (item, width, font.key(), meta)
        height = self._heights.get(key)
        if height is None:
            if len(self._heights) >= HEIGHTS_KEPT:
                self._heights.clear()
            layout = self._layout(item, width, font, meta if meta is not None else self._meta(item, index))
            height = self._heights[key] = layout.bubble.height() + 2 * GAP
        return QtCore.QSize(width, height)

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
        meta = self._meta(item, index)
        layout = self._layout(item, rect.width(), font, meta)
        bubble, text_rect, quote_h = layout.bubble, layout.text, layout.quote_h
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
        reason = failure_text(item)
        if reason:
            painter.setPen(QtGui.QColor(c.danger))
            painter.drawText(layout.reason.translated(rect.left(), rect.top()), Qt.TextFlag.TextWordWrap, reason)
        meta_color = (
            QtGui.QColor("#34b7f1") if item.status == "read" and item.direction == "out" else QtGui.QColor(c.muted)
        )
        if item.status == "failed":
            meta_color = QtGui.QColor(c.danger)
        painter.setPen(meta_color)
        mw = fm.horizontalAdvance(meta)
        painter.drawText(bubble.right() - PAD - mw, bubble.bottom() - PAD + 2 - fm.descent(), meta)
        painter.restore()
