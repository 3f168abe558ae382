"""What the WhatsApp connection looks like from outside: one immutable snapshot, published on every change.

The supervisor (``app.whatsapp.supervisor``) builds a new ``WhatsAppStatus`` whenever anything a person would want
to see changes — the connection state, a new QR code, the self-test, browser memory, the send queue — and hands it
to its ``on_status`` callback. The UI only ever reads these snapshots; it never reaches into the driver.

``WhatsAppControl`` is the thread-safe command surface the UI calls (the supervisor runs on its own event loop).
"""

from __future__ import annotations

import concurrent.futures
import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class ConnectionState(enum.Enum):
    stopped = "stopped"
    starting = "starting"
    scan_qr = "scan_qr"
    connected = "connected"
    phone_offline = "phone_offline"
    logged_out = "logged_out"
    failed = "failed"


STATE_LABELS: dict[ConnectionState, str] = {
    ConnectionState.stopped: "Not connected",
    ConnectionState.starting: "Connecting…",
    ConnectionState.scan_qr: "Scan the QR code",
    ConnectionState.connected: "Connected",
    ConnectionState.phone_offline: "Phone offline",
    ConnectionState.logged_out: "Logged out",
    ConnectionState.failed: "Connection failed",
}


@dataclass(frozen=True)
class HealthEntry:
    """One page-profile entry as the last self-test found it."""

    name: str
    label: str  # words a shop owner understands ("the WhatsApp composer")
    ok: bool
    used_fallback: bool
    selector: str | None  # the selector that matched, None when none did


@dataclass(frozen=True)
class Health:
    """The last self-test of the page profile; ``broken`` entries pause sending."""

    checked_at: datetime
    page_state: str  # landing / logged_in / chat_open
    profile_version: str
    entries: tuple[HealthEntry, ...]
    message: str  # the sentence to show: all good, or which entry broke and what is paused

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.entries)

    @property
    def broken(self) -> list[HealthEntry]:
        return [e for e in self.entries if not e.ok]


@dataclass(frozen=True)
class QueueStatus:
    """The send queue as the supervisor sees it."""

    waiting: int = 0  # queued or typing
    failed: int = 0
    sending_id: str | None = None  # the message being typed right now
    next_send_at: datetime | None = None  # when the next message may go out (limits, quiet hours, gap)
    next_reason: str = ""  # why it waits until then ("Quiet hours until 08:00", "Pause between contacts")
    paused: str = ""  # non-empty when sending is paused and why (not connected, page profile broken)
    held_by: str = ""  # the name of the team device that sends for the number, when it is not this one


@dataclass(frozen=True)
class WhatsAppStatus:
    state: ConnectionState = ConnectionState.stopped
    detail: str = ""  # one line about the state ("Scan the QR code with WhatsApp on the phone")
    qr_png: bytes | None = None  # the current QR code while in scan_qr
    health: Health | None = None
    browser_rss: int | None = None  # bytes, the browser's whole process tree
    restarts: int = 0  # browser restarts since the service started (crashes and memory watchdog)
    next_restart_at: datetime | None = None  # set while backing off after a failure
    last_error: str | None = None
    queue: QueueStatus = field(default_factory=QueueStatus)
    linked: bool = False  # a phone has been linked to this profile (a session exists)


class WhatsAppControl(Protocol):
    """Commands the UI sends; each returns at once and the outcome shows in the next status."""

    def connect(self) -> None:
        """Start the browser (or retry now after ``failed``)."""

    def disconnect(self) -> None:
        """Close the browser; the session stays linked on the phone."""

    def restart(self) -> None:
        """Close and reopen the browser."""

    def queue_changed(self) -> None:
        """Something was queued, retried or cancelled: look at the queue now."""

    def fetch_media(self, message_id: str) -> concurrent.futures.Future[str]:
        """Fetch a received message's media again ("click to fetch"); the future gives the state it ends in."""
