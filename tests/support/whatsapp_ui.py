"""WhatsApp status snapshots and a recording control for GUI tests and ``make screenshots``.

The control stands where the supervisor would (the boundary the UI talks to); the snapshots are real
``WhatsAppStatus`` values like the supervisor publishes. ``qr_png`` draws a QR-shaped PNG (finder squares and
seeded modules) so the page renders real image bytes, as it does with the code WhatsApp shows.
"""

from __future__ import annotations

import concurrent.futures
import random
import threading
from datetime import UTC, datetime, timedelta

from app.qt import QtCore, QtGui
from app.whatsapp.status import ConnectionState, Health, HealthEntry, QueueStatus, WhatsAppStatus

QUIET_UNTIL = "Quiet hours until 08:00"
# The sentences the probe writes (app/whatsapp/probe.py ``ProbeReport.message``).
BROKEN = (
    "Parley can't find the WhatsApp composer (entry 'composer'); sending is paused until the page profile is updated"
)
PASSED = (
    "Parley found everything it needs on the WhatsApp page (12 checks passed, 1 of them through an older or looser "
    "selector)."
)


class RecordingControl:
    """A ``WhatsAppControl`` that records each command (from whichever thread called it)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fetch_result = "stored"
        self._lock = threading.Lock()

    def _record(self, name: str) -> None:
        with self._lock:
            self.calls.append(name)

    def connect(self) -> None:
        self._record("connect")

    def disconnect(self) -> None:
        self._record("disconnect")

    def restart(self) -> None:
        self._record("restart")

    def queue_changed(self) -> None:
        self._record("queue_changed")

    def fetch_media(self, message_id: str) -> concurrent.futures.Future[str]:
        """Records ``fetch_media:<id>``; the future ends in ``fetch_result`` (set it to what the test needs)."""
        self._record(f"fetch_media:{message_id}")
        future: concurrent.futures.Future[str] = concurrent.futures.Future()
        future.set_result(self.fetch_result)
        return future

    def count(self, name: str) -> int:
        with self._lock:
            return self.calls.count(name)


def qr_png(size: int = 33, scale: int = 8, seed: int = 1) -> bytes:
    """A QR-shaped black-and-white PNG: three finder squares and seeded modules, with a quiet zone."""
    rng = random.Random(seed)
    image = QtGui.QImage((size + 8) * scale, (size + 8) * scale, QtGui.QImage.Format.Format_RGB32)
    image.fill(QtGui.QColor("white"))
    painter = QtGui.QPainter(image)
    black = QtGui.QColor("black")

    def module(x: int, y: int) -> None:
        painter.fillRect((x + 4) * scale, (y + 4) * scale, scale, scale, black)

    finders = [(0, 0), (size - 7, 0), (0, size - 7)]
    for fx, fy in finders:
        for i in range(7):
            for j in range(7):
                if i in (0, 6) or j in (0, 6) or (2 <= i <= 4 and 2 <= j <= 4):
                    module(fx + i, fy + j)
    for x in range(size):
        for y in range(size):
            near_finder = any(fx - 1 <= x <= fx + 7 and fy - 1 <= y <= fy + 7 for fx, fy in finders)
            if not near_finder and rng.random() < 0.5:
                module(x, y)
    painter.end()
    data = QtCore.QByteArray()
    buffer = QtCore.QBuffer(data)
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def health(*, broken: bool = False, at: datetime | None = None) -> Health:
    entries = (
        HealthEntry("chat_list", "the chat list", True, False, "#pane-side"),
        HealthEntry("search_box", "the chat search box", True, True, "div[role='textbox'][title*='Search']"),
        HealthEntry(
            "composer", "the WhatsApp composer", not broken, False, None if broken else "footer [contenteditable]"
        ),
        HealthEntry("send_button", "the send button", True, False, "button[aria-label='Send']"),
        HealthEntry("message_rows", "messages in a chat", True, False, "#main [data-id]"),
    )
    message = BROKEN if broken else PASSED
    return Health(at or datetime.now(UTC), "chat_open", "2026.11.2", entries, message)


def scan_qr(seed: int = 1) -> WhatsAppStatus:
    return WhatsAppStatus(
        state=ConnectionState.scan_qr,
        detail="Scan the QR code with WhatsApp on the phone",
        qr_png=qr_png(seed=seed),
        browser_rss=187 * 1_048_576,
    )


def next_eight(now: datetime) -> datetime:
    """The next 08:00 local time: when quiet hours end."""
    local = now.astimezone()
    eight = local.replace(hour=8, minute=0, second=0, microsecond=0)
    return eight if eight > local else eight + timedelta(days=1)


def connected_quiet_hours(waiting: int = 3, failed: int = 0, now: datetime | None = None) -> WhatsAppStatus:
    moment = now or datetime.now(UTC)
    return WhatsAppStatus(
        state=ConnectionState.connected,
        detail="Connected as +34 600 000 123",
        health=health(at=moment),
        browser_rss=312 * 1_048_576,
        restarts=1,
        queue=QueueStatus(waiting=waiting, failed=failed, next_send_at=next_eight(moment), next_reason=QUIET_UNTIL),
        linked=True,
    )


def failed_broken(waiting: int = 2, failed: int = 1, now: datetime | None = None) -> WhatsAppStatus:
    moment = now or datetime.now(UTC)
    return WhatsAppStatus(
        state=ConnectionState.failed,
        detail="Starting again soon",
        health=health(broken=True, at=moment - timedelta(minutes=3)),
        browser_rss=None,
        restarts=3,
        next_restart_at=moment + timedelta(seconds=40),
        last_error="TimeoutError: the WhatsApp page did not load within 60 s",
        queue=QueueStatus(waiting=waiting, failed=failed, paused=BROKEN),
        linked=True,
    )
