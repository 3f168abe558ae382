"""The WhatsApp connection at a glance, wherever the user is: a status-bar indicator and a "sending is paused" banner.

Both render a ``WhatsAppStatus`` snapshot and nothing else; clicking either opens the WhatsApp page. The words and
colours live here as plain functions so the page, the indicator and the tests agree on them.
"""

from __future__ import annotations

from datetime import datetime

from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.ui import theme
from app.whatsapp.status import STATE_LABELS, ConnectionState, WhatsAppStatus

_WAITING_STATES = {ConnectionState.starting, ConnectionState.scan_qr, ConnectionState.phone_offline}


def state_color(state: ConnectionState) -> str:
    c = theme.colors()
    if state is ConnectionState.connected:
        return c.accent
    if state is ConnectionState.failed:
        return c.danger
    if state in _WAITING_STATES or state is ConnectionState.logged_out:
        return c.warning
    return c.muted


def clock(at: datetime, *, seconds: bool = False, now: datetime | None = None) -> str:
    """A local time of day; with the weekday when it is not today (quiet hours often end tomorrow)."""
    local = at.astimezone()
    today = (now or datetime.now().astimezone()).astimezone().date()
    text = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    days = (local.date() - today).days
    if days == 0:
        return text
    if 0 < days < 7:
        return f"{local.strftime('%a')} {text}"
    return f"{local.strftime('%d %b')} {text}"


def indicator_text(status: WhatsAppStatus) -> str:
    """'WhatsApp: Connected · 3 waiting · next 14:05'."""
    queue = status.queue
    parts = [f"WhatsApp: {STATE_LABELS[status.state]}"]
    if queue.waiting:
        parts.append(f"{queue.waiting} waiting")
    if queue.failed:
        parts.append(f"{queue.failed} failed")
    if queue.held_by:
        parts.append(f"sent by {queue.held_by}")
    elif queue.paused:
        parts.append("sending paused")
    elif queue.waiting and queue.next_send_at is not None:
        parts.append(f"next {clock(queue.next_send_at)}")
    return " · ".join(parts)


def paused_sentence(reason: str) -> str:
    """'Sending is paused: <reason>', unless the reason already says that sending is paused."""
    return reason if "paused" in reason.lower() else f"Sending is paused: {reason}"


def paused_message(status: WhatsAppStatus) -> str | None:
    """The banner's sentence, or None when sending is not held back by anything the user should look at."""
    if status.queue.held_by:
        return None  # another team device sends for the number: the normal way of a team, nothing to look at
    reason = status.queue.paused
    if not reason and status.health is not None and status.health.broken:
        reason = status.health.message or "Parley cannot find what it needs on the WhatsApp page."
    return paused_sentence(reason) if reason else None


def dot_pixmap(color: str, size: int = 10, ratio: float = 1.0) -> QtGui.QPixmap:
    pixmap = QtGui.QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QtGui.QColor(color))
    painter.drawEllipse(QtCore.QRectF(0.5, 0.5, size - 1, size - 1))
    painter.end()
    return pixmap


class WhatsAppIndicator(QtWidgets.QToolButton):
    """Status-bar button: a coloured dot and one line; the tooltip says more."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("whatsappIndicator")
        self.setAutoRaise(True)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setIconSize(QtCore.QSize(10, 10))
        self._status = WhatsAppStatus()
        self.show_status(self._status)

    def show_status(self, status: WhatsAppStatus) -> None:
        self._status = status
        self.setText(indicator_text(status))
        self.setIcon(QtGui.QIcon(dot_pixmap(state_color(status.state), 10, self.devicePixelRatioF())))
        tip = [status.detail or STATE_LABELS[status.state]]
        if status.queue.paused:
            tip.append(f"Sending is paused: {status.queue.paused}")
        elif status.queue.next_reason:
            tip.append(status.queue.next_reason)
        tip.append("Click to open the WhatsApp page.")
        self.setToolTip("\n".join(tip))
        self.setAccessibleName(self.text())

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.PaletteChange:  # light/dark switched: the dot's colour is re-read
            self.show_status(self._status)


class HealthBanner(QtWidgets.QFrame):
    """A strip above the pages while sending is paused; "Details" opens the WhatsApp page. Hidden otherwise."""

    details_requested = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.icon = QtWidgets.QLabel("⚠")
        self.icon.setObjectName("bannerIcon")
        self.message = QtWidgets.QLabel()
        self.message.setObjectName("bannerText")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QtWidgets.QLabel()
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.details.linkActivated.connect(lambda _link: self.details_requested.emit())
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.details, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_status(self, status: WhatsAppStatus) -> None:
        text = paused_message(status)
        if text is None:
            self.hide()
            return
        self.message.setText(text)
        # The link in the banner's own text colour: the accent is too faint on the banner's yellow.
        colour = theme.colors().text
        self.details.setText(f'<a href="details" style="color: {colour}; font-weight: 600;">Details</a>')
        self.show()
