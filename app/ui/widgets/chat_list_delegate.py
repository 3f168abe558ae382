"""Paints one chat in the list: avatar initials, name, time, last message with its ticks, unread badge (or the dot of
a chat marked unread), its state (pinned, muted, snoozed, pending, resolved) and its labels as coloured chips."""

from __future__ import annotations

import hashlib
from datetime import datetime

from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.store.inbox import InboxRow
from app.ui import theme
from app.ui.models.inbox_model import RowRole
from app.ui.widgets.label_picker import text_color

ROW_HEIGHT = 68
AVATAR = 42
_AVATAR_COLORS = ["#e57373", "#f06292", "#ba68c8", "#7986cb", "#4fc3f7", "#4db6ac", "#81c784", "#ffb74d", "#a1887f"]
TICKS = {"queued": "🕓", "typing": "…", "sent": "✓", "delivered": "✓✓", "read": "✓✓", "failed": "⚠"}


def initials(name: str) -> str:
    parts = [p for p in name.replace("+", " ").split() if p[:1].isalnum()]
    if not parts:
        return "?"
    if len(parts) == 1:
        return parts[0][:2].upper() if not parts[0][0].isdigit() else parts[0][-2:]
    return (parts[0][0] + parts[-1][0]).upper()


def avatar_color(key: str) -> QtGui.QColor:
    digest = hashlib.blake2s(key.encode(), digest_size=2).digest()
    return QtGui.QColor(_AVATAR_COLORS[int.from_bytes(digest, "big") % len(_AVATAR_COLORS)])


def short_time(when: datetime, now: datetime | None = None) -> str:
    local = when.astimezone()
    now = (now or datetime.now().astimezone()).astimezone()
    if local.date() == now.date():
        return local.strftime("%H:%M")
    delta = (now.date() - local.date()).days
    if delta == 1:
        return "Yesterday"
    if delta < 7:
        return local.strftime("%a")
    if local.year == now.year:
        return local.strftime("%d %b")
    return local.strftime("%d/%m/%y")


def paint_avatar(painter: QtGui.QPainter, rect: QtCore.QRect, name: str, key: str) -> None:
    painter.save()
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(avatar_color(key))
    painter.drawEllipse(rect)
    font = painter.font()
    font.setBold(True)
    font.setPixelSize(max(10, rect.height() // 3))
    painter.setFont(font)
    painter.setPen(QtGui.QColor("#ffffff"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, initials(name))
    painter.restore()


class ChatListDelegate(QtWidgets.QStyledItemDelegate):
    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.user_names: dict[str, str] = {}  # user id → name, for the assignment marker
        self.label_colors: dict[str, str] = {}  # casefolded label name → its colour

    def sizeHint(
        self, option: QtWidgets.QStyleOptionViewItem, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex
    ) -> QtCore.QSize:
        return QtCore.QSize(option.rect.width(), ROW_HEIGHT)

    def paint(
        self,
        painter: QtGui.QPainter,
        option: QtWidgets.QStyleOptionViewItem,
        index: QtCore.QModelIndex | QtCore.QPersistentModelIndex,
    ) -> None:
        row: InboxRow | None = index.data(RowRole)
        if row is None:
            return
        c = theme.colors()
        rect = option.rect
        state = option.state
        painter.save()
        selected = bool(state & QtWidgets.QStyle.StateFlag.State_Selected)
        hovered = bool(state & QtWidgets.QStyle.StateFlag.State_MouseOver)
        if selected or hovered:
            painter.fillRect(rect, QtGui.QColor(c.surface_alt))
        if selected:
            painter.fillRect(QtCore.QRect(rect.left(), rect.top(), 3, rect.height()), QtGui.QColor(c.accent))
        pad = 12
        avatar = QtCore.QRect(rect.left() + pad, rect.top() + (ROW_HEIGHT - AVATAR) // 2, AVATAR, AVATAR)
        paint_avatar(painter, avatar, row.display_name, row.chat_id)

        left = avatar.right() + 12
        right = rect.right() - pad
        base = QtGui.QFont(option.font)
        name_font = QtGui.QFont(base)
        name_font.setBold(row.unread)
        name_font.setPointSizeF(base.pointSizeF() + 0.5)
        time_text = short_time(row.last_activity_at)
        painter.setFont(base)
        fm = painter.fontMetrics()
        time_width = fm.horizontalAdvance(time_text)
        painter.setPen(QtGui.QColor(c.accent if row.unread else c.muted))
        painter.drawText(QtCore.QRect(right - time_width, rect.top() + 12, time_width, fm.height()), 0, time_text)

        assignee_w = 0
        assignee = self.user_names.get(row.assigned_user_id or "")
        if assignee:
            small = QtGui.QFont(base)
            small.setPixelSize(9)
            small.setBold(True)
            assignee_w = 20
            marker = QtCore.QRect(right - time_width - 6 - assignee_w, rect.top() + 12, 18, 18)
            painter.save()
            painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
            painter.setPen(QtGui.QPen(QtGui.QColor(c.accent), 1.2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(marker)
            painter.setFont(small)
            painter.setPen(QtGui.QColor(c.accent))
            painter.drawText(marker, Qt.AlignmentFlag.AlignCenter, initials(assignee))
            painter.restore()
        painter.setFont(name_font)
        painter.setPen(QtGui.QColor(c.text))
        name_w = right - time_width - 8 - assignee_w - left
        title = row.display_name
        name_rect = QtCore.QRect(left, rect.top() + 11, name_w, painter.fontMetrics().height())
        painter.drawText(name_rect, 0, painter.fontMetrics().elidedText(title, Qt.TextElideMode.ElideRight, name_w))

        painter.setFont(base)
        fm = painter.fontMetrics()
        line2 = rect.top() + 36
        badge_w = 0
        marks = state_marks(row)
        if marks:
            painter.setPen(QtGui.QColor(c.muted))
            marks_w = fm.horizontalAdvance(marks) + 4
            painter.drawText(QtCore.QRect(right - marks_w, line2, marks_w, fm.height()), 0, marks)
            right -= marks_w + 4
        if row.unread_count or row.marked_unread:
            text = "" if not row.unread_count else str(row.unread_count) if row.unread_count < 1000 else "999+"
            badge_w = max(20, fm.horizontalAdvance(text) + 10) if text else 14
            # (a chat marked unread by hand shows a dot, as in WhatsApp)
            badge = (
                QtCore.QRect(right - badge_w, line2 - 1, badge_w, 20)
                if text
                else QtCore.QRect(right - 14, line2 + 3, 12, 12)
            )
            painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QtGui.QColor(c.badge))
            painter.drawRoundedRect(badge, badge.height() / 2, badge.height() / 2)
            painter.setPen(QtGui.QColor(c.accent_text))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        preview = preview_text(row)
        width = right - left - (badge_w + 8 if badge_w else 0)
        if row.tags:
            chips_w = self._paint_chips(painter, row.tags, left, line2, min(width // 2, 180))
            left += chips_w
            width -= chips_w
        painter.setPen(QtGui.QColor(c.muted))
        painter.drawText(
            QtCore.QRect(left, line2, width, fm.height()), 0, fm.elidedText(preview, Qt.TextElideMode.ElideRight, width)
        )
        painter.setPen(QtGui.QColor(c.border))
        painter.drawLine(avatar.right() + 12, rect.bottom(), rect.right(), rect.bottom())
        painter.restore()

    def _paint_chips(self, painter: QtGui.QPainter, names: list[str], x: int, y: int, room: int) -> int:
        """The labels as small rounded chips in their colours, as many as fit in ``room``; returns the width used."""
        small = QtGui.QFont(painter.font())
        small.setPointSizeF(max(6.5, small.pointSizeF() - 1.5))
        painter.save()
        painter.setFont(small)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        fm = QtGui.QFontMetrics(small, painter.device())  # the painter's own metrics were narrower than its text
        used = 0
        for shown, name in enumerate(names):
            text_w = min(fm.horizontalAdvance(name) + 2, 90)
            chip_w = text_w + 12
            if used + chip_w > room and shown:
                more = f"+{len(names) - shown}"
                painter.setPen(QtGui.QColor(theme.colors().muted))
                painter.drawText(QtCore.QRect(x + used, y, fm.horizontalAdvance(more) + 4, 18), 0, more)
                used += fm.horizontalAdvance(more) + 6
                break
            color = QtGui.QColor(self.label_colors.get(name.casefold(), "#7f8c8d"))
            chip = QtCore.QRect(x + used, y, chip_w, 17)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawRoundedRect(chip, 8, 8)
            painter.setPen(QtGui.QColor(text_color(color.name())))
            painter.drawText(
                chip.adjusted(6, 0, -6, 0),
                Qt.AlignmentFlag.AlignVCenter,
                fm.elidedText(name, Qt.TextElideMode.ElideRight, text_w),
            )
            used += chip_w + 4
        painter.restore()
        return used + (4 if used else 0)


def preview_text(row: InboxRow) -> str:
    """The row's second line: the last message in one line (a media message named: "Photo — caption", "Voice note
    0:12"), after the ticks of an own message."""
    preview = row.preview.replace("\n", " ")
    if row.last_message_direction == "out" and row.last_message_status:
        preview = f"{TICKS.get(row.last_message_status, '')} {preview}"
    return preview


def state_marks(row: InboxRow) -> str:
    """Small marks for how the chat stands: pinned, muted, snoozed, and pending / resolved."""
    marks = []
    if row.pinned:
        marks.append("📌")
    if row.muted:
        marks.append("🔕")
    if row.snoozed_until is not None:
        marks.append("⏰")
    if row.status == "pending":
        marks.append("⏳")
    elif row.status == "resolved":
        marks.append("✔")
    return " ".join(marks)
