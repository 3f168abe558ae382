"""Tray icon with the unread count, window-title badge, and desktop notifications for new customer messages (and
for the agents' alerts: a revenue drop, a chat handed to a person, automated sending stopped by WhatsApp's notice).

A notification shows the sender; the message text only when the user allowed previews (off by default, so
customers' words stay off lock screens and shared screens). In a busy hour they come at most one per
``NOTIFY_GAP_MS``: what arrives meanwhile is told in one summary ("4 new messages from 3 customers").
"""

from __future__ import annotations

from app.agents.health import Alert
from app.core.events import AutomationHalted, ChatHandedOff, Event, MessageReceived, RevenueDropped
from app.core.ids import utc_now
from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.store.inbox import message_preview
from app.ui.context import AppContext
from app.ui.format import display_name
from app.ui.icons import icon

NOTIFY_GAP_MS = 3000


def badge_icon(count: int) -> QtGui.QIcon:
    pixmap = icon("app").pixmap(64, 64)
    if count:
        painter = QtGui.QPainter(pixmap)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setBrush(QtGui.QColor("#d32f2f"))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(QtCore.QRect(30, 0, 34, 34))
        font = painter.font()
        font.setPixelSize(20 if count < 100 else 15)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QtGui.QColor("#ffffff"))
        painter.drawText(
            QtCore.QRect(30, 0, 34, 34), Qt.AlignmentFlag.AlignCenter, str(count) if count < 100 else "99+"
        )
        painter.end()
    return QtGui.QIcon(pixmap)


class Tray(QtCore.QObject):
    def __init__(self, ctx: AppContext, window: QtWidgets.QMainWindow) -> None:
        super().__init__(window)
        self.ctx = ctx
        self.window = window
        self.unread = 0
        self.notified: list[tuple[str, str]] = []  # (title, body) of shown notifications, newest last
        self.icon: QtWidgets.QSystemTrayIcon | None = None
        if QtWidgets.QSystemTrayIcon.isSystemTrayAvailable():
            self.icon = QtWidgets.QSystemTrayIcon(badge_icon(0), window)
            menu = QtWidgets.QMenu(window)
            menu.addAction("Show Parley", self._show)
            menu.addAction("Quit", QtWidgets.QApplication.quit)
            self.icon.setContextMenu(menu)
            self.icon.activated.connect(lambda _reason: self._show())
            self.icon.show()
        self._held: list[tuple[str, str]] = []  # notifications waiting for the gap to end
        self._gap = QtCore.QTimer(self, singleShot=True, interval=NOTIFY_GAP_MS)
        self._gap.timeout.connect(self._gap_over)
        ctx.changes.changed.connect(self._changed)
        ctx.changes.core_event.connect(self._event)
        if ctx.health is not None:
            ctx.health.alerted.connect(self._health_alert)
        self.refresh()

    def refresh(self) -> None:
        self.unread = self.ctx.store.total_unread()
        prefix = f"({self.unread}) " if self.unread else ""
        self.window.setWindowTitle(f"{prefix}{self.ctx.business_name} — Parley")
        if self.icon is not None:
            self.icon.setIcon(badge_icon(self.unread))
            self.icon.setToolTip(f"Parley — {self.unread} unread" if self.unread else "Parley")

    def _changed(self, tables: frozenset[str]) -> None:
        # Unread counts live in chat_stats (muting in chats); the business name in the org row (renamed here or by
        # a teammate).
        if tables & {"chat_stats", "chats", "orgs"}:
            self.refresh()

    def _event(self, event: Event) -> None:
        if isinstance(event, RevenueDropped) and self.ctx.settings.notifications.desktop:
            self.notified.append(("Revenue drop", event.sentence))  # once a day and currency (its job's key)
            if self.icon is not None:
                self.icon.showMessage("Revenue drop", event.sentence, badge_icon(self.unread), 10000)
            return
        if isinstance(event, AutomationHalted) and self.ctx.settings.notifications.desktop:
            # WhatsApp's rate-limit or ban notice (or a person) stopped every automated sender: said at once, outside
            # the message gap. The sentence quotes WhatsApp and says what to do; no customer text.
            self.notified.append(("Automated sending stopped", event.sentence))
            if self.icon is not None:
                self.icon.showMessage("Automated sending stopped", event.sentence, badge_icon(self.unread), 15000)
            return
        if isinstance(event, ChatHandedOff) and self.ctx.settings.notifications.desktop:
            self.notified.append(("Chat handed to a person", event.sentence))  # no customer text in it
            if self.icon is not None:
                self.icon.showMessage("Chat handed to a person", event.sentence, badge_icon(self.unread), 10000)
            return
        if not isinstance(event, MessageReceived) or not self.ctx.settings.notifications.desktop:
            return
        if self.window.isActiveWindow():
            return
        store = self.ctx.store
        chat = store.chats.find(event.chat_id)
        if chat is not None and chat.muted_until is not None and chat.muted_until > utc_now():
            return  # muted: the message arrives, quietly
        message = store.messages.find(event.message_id)
        contact = store.contacts.find(event.contact_id) if event.contact_id else None
        title = display_name(contact.name, contact.phone, "Customer") if contact else "New message"
        shown = message_preview(message.body, message.kind, message.media) if message else ""  # "Photo — caption"
        body = shown if self.ctx.settings.notifications.show_preview else "New message"
        if self._gap.isActive():
            self._held.append((title, body))
            return
        self._notify(title, body)

    def _health_alert(self, alert: Alert) -> None:
        """A health check changed or recovered: told at once, outside the message gap (alerts come once a change)."""
        if not self.ctx.settings.notifications.desktop:
            return
        self.notified.append((alert.title, alert.sentence))
        if self.icon is not None:
            self.icon.showMessage(alert.title, alert.sentence, badge_icon(self.unread), 10000)

    def _notify(self, title: str, body: str) -> None:
        self.notified.append((title, body))
        if self.icon is not None:
            self.icon.showMessage(title, body, badge_icon(self.unread), 6000)
        self._gap.start()

    def _gap_over(self) -> None:
        held, self._held = self._held, []
        if len(held) == 1:
            self._notify(*held[0])
        elif held:
            senders = list(dict.fromkeys(title for title, _ in held))
            who = senders[0] if len(senders) == 1 else f"{len(senders)} customers"
            self._notify(f"{len(held)} new messages", f"From {who}")

    def _show(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
