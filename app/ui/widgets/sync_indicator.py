"""Team sync at a glance in the status bar: one line for the state, and a badge when the server replaced edits.

Hidden while the workspace is not signed in to a team (sync is optional). Clicking the line opens Settings › Team
sync; clicking the badge opens the conflicts list there. The words live here as plain functions so the indicator,
the Settings card and the tests agree on them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.sync.status import SyncState, SyncStatus
from app.ui import theme
from app.ui.widgets.whatsapp_indicator import clock, dot_pixmap

STATE_WORDS = {
    SyncState.SIGNED_OUT: "Not signed in",
    SyncState.CONNECTING: "Connecting…",
    SyncState.INITIAL: "Downloading…",
    SyncState.SYNCING: "Syncing…",
    SyncState.SYNCED: "Synced",
    SyncState.OFFLINE: "Offline",
    SyncState.SIGN_IN_AGAIN: "Sign in again",
    SyncState.REVOKED: "Removed from team",
    SyncState.ERROR: "Sync problem",
}


def state_color(state: SyncState) -> str:
    c = theme.colors()
    if state is SyncState.SYNCED:
        return c.accent
    if state is SyncState.OFFLINE:
        return c.warning
    if state in (SyncState.SIGN_IN_AGAIN, SyncState.REVOKED, SyncState.ERROR):
        return c.danger
    return c.muted


def changes_text(count: int) -> str:
    return f"{count:,} change{'s' if count != 1 else ''}"


def retry_seconds(status: SyncStatus, now: datetime | None = None) -> int | None:
    if status.next_retry_at is None:
        return None
    now = now or datetime.now(UTC)
    at = status.next_retry_at if status.next_retry_at.tzinfo else status.next_retry_at.replace(tzinfo=UTC)
    return max(0, round((at - now).total_seconds()))


def initial_text(status: SyncStatus) -> str:
    """'Downloading 45 %' (an owner's first upload says 'Uploading')."""
    verb = "Uploading" if (status.progress_text or "").lower().startswith("upload") else "Downloading"
    if status.progress is None:
        return f"{verb}…"
    return f"{verb} {round(max(0.0, min(1.0, status.progress)) * 100)} %"


def indicator_text(status: SyncStatus, now: datetime | None = None) -> str:
    """'Synced', 'Downloading 45 %', 'Offline — 12 changes waiting · retry in 20 s', ..."""
    if status.state is SyncState.INITIAL:
        return initial_text(status)
    if status.state is SyncState.OFFLINE:
        parts = []
        if status.pending:
            parts.append(f"{changes_text(status.pending)} waiting")
        seconds = retry_seconds(status, now)
        if seconds is not None:
            parts.append(f"retry in {seconds} s" if seconds else "retrying…")
        return "Offline — " + " · ".join(parts) if parts else "Offline"
    if status.state is SyncState.SYNCING and status.pending:
        return f"Syncing… {changes_text(status.pending)} to upload"
    return STATE_WORDS[status.state]


def conflicts_text(count: int) -> str:
    return f"{count} edit{'s' if count != 1 else ''} replaced"


def last_synced_text(status: SyncStatus, now: datetime | None = None) -> str:
    if status.last_synced_at is None:
        return "Not yet"
    return clock(status.last_synced_at, seconds=True, now=now)


def tooltip(status: SyncStatus) -> str:
    lines = [f"Team sync: {STATE_WORDS[status.state]}"]
    if status.org_name:
        lines.append(f"Team: {status.org_name}")
    if status.server_url:
        lines.append(f"Server: {status.server_url}")
    if status.email:
        lines.append(f"Signed in as {status.email}" + (f" ({status.role})" if status.role else ""))
    lines.append(f"Last synced: {last_synced_text(status)}")
    if status.pending:
        lines.append(f"{changes_text(status.pending)} not uploaded yet")
    if status.state is SyncState.INITIAL and status.progress_text:
        lines.append(status.progress_text)
    if status.message:
        lines.append(status.message)
    lines.append("Click to open Settings › Team.")
    return "\n".join(lines)


class SyncIndicator(QtWidgets.QWidget):
    """Status-bar widget: a coloured dot and one line, and a conflicts badge beside it when there are some."""

    clicked = Signal()
    conflicts_requested = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncIndicator")
        self.button = QtWidgets.QToolButton()
        self.button.setObjectName("syncState")
        self.button.setAutoRaise(True)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.setIconSize(QtCore.QSize(10, 10))
        self.button.clicked.connect(self.clicked.emit)
        self.badge = QtWidgets.QToolButton()
        self.badge.setObjectName("syncConflicts")
        self.badge.setAutoRaise(True)
        self.badge.setCursor(Qt.CursorShape.PointingHandCursor)
        self.badge.setToolTip("The server kept another value for some of your edits. Click to see which.")
        self.badge.clicked.connect(self.conflicts_requested.emit)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.button)
        layout.addWidget(self.badge)
        # Offline: the "retry in N s" countdown moves every second without the service publishing anything.
        self._ticker = QtCore.QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._tick)
        self._status = SyncStatus()
        self.show_status(self._status)

    @property
    def text(self) -> str:
        return self.button.text()

    def show_status(self, status: SyncStatus) -> None:
        self._status = status
        if status.state is SyncState.SIGNED_OUT:
            self._ticker.stop()
            self.hide()
            return
        self.button.setText(indicator_text(status))
        self.button.setIcon(QtGui.QIcon(dot_pixmap(state_color(status.state), 10, self.devicePixelRatioF())))
        self.button.setToolTip(tooltip(status))
        self.button.setAccessibleName(f"Team sync: {self.button.text()}")
        self.badge.setText(f"⚠ {conflicts_text(status.unseen_conflicts)}")
        self.badge.setAccessibleName(conflicts_text(status.unseen_conflicts))
        self.badge.setStyleSheet(f"color: {theme.colors().warning}; font-weight: 600;")
        self.badge.setVisible(status.unseen_conflicts > 0 and status.signed_in)
        if status.state is SyncState.OFFLINE and status.next_retry_at is not None:
            self._ticker.start()
        else:
            self._ticker.stop()
        self.show()

    def _tick(self) -> None:
        self.button.setText(indicator_text(self._status))

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.PaletteChange:  # light/dark switched: colours are re-read
            self.show_status(self._status)
