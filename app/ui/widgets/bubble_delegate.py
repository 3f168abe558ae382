"""Paints a conversation: bubbles left (customer) and right (us), ticks, quoted replies, notes, day separators.

Own messages that have not gone out say so: "queued" (with the send queue's next send time while it waits, or in a
team the device that will send it, when another one holds the WhatsApp number) in place of the ticks, and a failed
one carries its reason in red under the text.

Media (``app.ui.widgets.media_bubble``) sits above its caption; a click on it opens a photo or a video in the viewer,
plays a voice note or audio, offers a document to "Save as…", or asks for bytes that are not here
(``fetch_requested``). A right click adds Open, Save as… and Copy to the message's menu (``media_actions``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from app.core.media import EXTENSIONS, describe
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.ui import theme
from app.ui.models.chat_model import VIEWABLE, ChatItem, ChatModel, ItemRole
from app.ui.widgets.chat_list_delegate import TICKS
from app.ui.widgets.media_bubble import PLAYABLE, can_fetch, media_size, paint_media
from app.ui.widgets.media_viewer import MediaViewer
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
    media: QtCore.QRect  # the photo, document, voice note… above the caption (empty for text)


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

    fetch_requested = Signal(str)  # a message id whose media is not here: ask WhatsApp for it again

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._heights: dict[tuple[ChatItem, int, str, str | None], int] = {}
        self.viewer: MediaViewer | None = None
        self.voice: QtWidgets.QDialog | None = None

    def _width(self, option: QtWidgets.QStyleOptionViewItem) -> int:
        widget = option.widget
        full = widget.viewport().width() if isinstance(widget, QtWidgets.QAbstractScrollArea) else 600
        return int(max(full, 200))

    def _layout(
        self, item: ChatItem, width: int, font: QtGui.QFont, meta: str, picture: QtGui.QPixmap | None = None
    ) -> Layout:
        fm = QtGui.QFontMetrics(font)
        max_w = int(width * MAX_RATIO) if item.kind == "message" else int(width * 0.8)
        meta_w = fm.horizontalAdvance(f" {meta} ") + 6
        wrap = QtCore.QRect(0, 0, max_w - 2 * PAD, 100000)
        text_rect = fm.boundingRect(wrap, Qt.TextFlag.TextWordWrap, item.text or " ")
        media_box, media_h = QtCore.QSize(0, 0), 0
        if item.media is not None:
            media_box = media_size(item.media, max_w - 2 * PAD, font, picture)
            media_h = media_box.height() + 6
            if not item.text:  # no caption: the time goes on its own line under the media
                text_rect = QtCore.QRect(0, 0, 0, 0)
        quote_h = 0
        inner_w = max(text_rect.width(), min(fm.horizontalAdvance(item.text or " "), max_w - 2 * PAD))
        inner_w = max(inner_w, media_box.width())
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
        same_line = same_line and not (item.media is not None and not item.text)
        extra_line = 0 if same_line else fm.height()
        if same_line:
            inner_w += meta_w
        else:
            inner_w = max(inner_w, min(meta_w, max_w - 2 * PAD))
        header = fm.height() + 2 if item.kind == "note" else 0
        h = text_rect.height() + reason_h + extra_line + quote_h + header + media_h + 2 * PAD - 2
        w = min(max_w, inner_w + 2 * PAD)
        x = width - w - 14 if item.direction == "out" else 14
        if item.kind == "note":
            x = (width - w) // 2
        media = QtCore.QRect(x + PAD, GAP + PAD + quote_h + header, media_box.width(), media_box.height())
        top = GAP + PAD + quote_h + header + media_h
        text = QtCore.QRect(x + PAD, top, w - 2 * PAD, text_rect.height())
        reason_box = QtCore.QRect(x + PAD, top + text_rect.height() + 4, w - 2 * PAD, reason_h - 4)
        return Layout(QtCore.QRect(x, GAP, w, h), text, quote_h, reason_box, media)

    def _picture(
        self, item: ChatItem, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex
    ) -> QtGui.QPixmap | None:
        model = index.model()
        if item.media is None or not isinstance(model, ChatModel):
            return None
        return model.thumbnail(item.media)

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
            layout = self._layout(
                item, width, font, meta if meta is not None else self._meta(item, index), self._picture(item, index)
            )
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
        picture = self._picture(item, index)
        layout = self._layout(item, rect.width(), font, meta, picture)
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
        if item.media is not None:
            paint_media(painter, layout.media.translated(rect.left(), rect.top()), item.media, picture, c, font)
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

    # ---- media clicks ------------------------------------------------------------------------------------------
    def media_rect(
        self, option: QtWidgets.QStyleOptionViewItem, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex
    ) -> QtCore.QRect:
        """Where the media of the row at ``index`` is drawn (in the view's viewport), empty without media."""
        item: ChatItem | None = index.data(ItemRole)
        if item is None or item.media is None:
            return QtCore.QRect()
        rect: QtCore.QRect = option.rect
        layout = self._layout(item, rect.width(), option.font, self._meta(item, index), self._picture(item, index))
        return layout.media.translated(rect.left(), rect.top())

    def editorEvent(
        self,
        event: QtCore.QEvent,
        model: QtCore.QAbstractItemModel,
        option: QtWidgets.QStyleOptionViewItem,
        index: QtCore.QModelIndex | QtCore.QPersistentModelIndex,
    ) -> bool:
        if (
            event.type() == QtCore.QEvent.Type.MouseButtonRelease
            and isinstance(event, QtGui.QMouseEvent)
            and event.button() == Qt.MouseButton.LeftButton
            and self.media_rect(option, index).contains(event.position().toPoint())
        ):
            item: ChatItem = index.data(ItemRole)
            self.open_media(item, option.widget)
            return True
        return super().editorEvent(event, model, option, index)

    def open_media(self, item: ChatItem, widget: QtWidgets.QWidget | None) -> None:
        """What a click on a bubble's media does: view a photo or play a video in the viewer, play a voice note or
        audio, save a document where the person chooses, or ask again for bytes that are not here."""
        from app.ui.widgets.voice_player import VoicePopup  # Qt Multimedia only once something plays

        info = item.media
        model = widget.model() if isinstance(widget, QtWidgets.QAbstractItemView) else None
        if info is None or not isinstance(model, ChatModel):
            return
        if can_fetch(info):
            self.fetch_requested.emit(item.id)
            return
        if info.state != "stored":
            return
        window = widget.window() if widget is not None else None
        if info.kind in VIEWABLE:
            items = model.viewables()
            start = next((i for i, v in enumerate(items) if v.key == item.id), 0)
            if self.viewer is not None:
                self.viewer.close()
            self.viewer = MediaViewer(items, model.viewable_bytes, start, window)
            self.viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.viewer.destroyed.connect(lambda: setattr(self, "viewer", None))
            self.viewer.show()
            self.viewer.activateWindow()
            self.viewer.setFocus()
            return
        data = model.media_bytes(info.blob_id)
        if data is None:
            self.fetch_requested.emit(item.id)
            return
        if info.kind in PLAYABLE:
            if self.voice is None:
                self.voice = VoicePopup(window)
            popup = self.voice
            assert isinstance(popup, VoicePopup)
            suffix = EXTENSIONS.get(info.mime, "ogg")
            name = (
                info.file_name
                or f"{'Voice note' if info.kind == 'voice' else 'Audio'} {item.at:%Y-%m-%d %H.%M}.{suffix}"
            )
            popup.load(data, info.mime, describe(info, item.text), name)
            popup.show()
            popup.player.play()
            return
        name = info.file_name or f"{info.kind}.{(info.mime or 'application/octet-stream').split('/')[-1]}"
        path, _ = QtWidgets.QFileDialog.getSaveFileName(window, "Save as", name)
        if path:
            file = QtCore.QSaveFile(path)
            if file.open(QtCore.QIODevice.OpenModeFlag.WriteOnly) and file.write(data) >= 0:
                file.commit()
