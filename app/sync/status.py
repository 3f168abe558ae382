"""What the sync loop tells the rest of the app: its state, figures for the status bar, and the controls the UI
calls. Plain data, no Qt: the UI's bridge turns ``SyncStatus`` updates into signals on the main thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class SyncState(StrEnum):
    SIGNED_OUT = "signed_out"  # no account on this workspace (sync is optional): nothing is shown
    CONNECTING = "connecting"
    INITIAL = "initial"  # first download or upload, with progress
    SYNCING = "syncing"
    SYNCED = "synced"  # outbox empty, cursor at the org's version, socket listening
    OFFLINE = "offline"  # server unreachable: working locally, retrying with back-off
    SIGN_IN_AGAIN = "sign_in_again"  # refresh token refused or expired: the user must sign in (data kept)
    REVOKED = "revoked"  # this device was removed by an admin: signed out, local data kept
    ERROR = "error"  # the server refused something it should not have (e.g. protocol): message says what


@dataclass(frozen=True)
class SyncStatus:
    state: SyncState = SyncState.SIGNED_OUT
    server_url: str | None = None
    email: str | None = None
    org_name: str | None = None
    role: str | None = None
    pending: int = 0  # local changes not yet acknowledged by the server
    cursor: int = 0
    server_version: int = 0
    last_synced_at: datetime | None = None
    next_retry_at: datetime | None = None
    progress: float | None = None  # 0..1 during INITIAL
    progress_text: str | None = None  # "Downloading 12,400 of 100,000 rows"
    unseen_conflicts: int = 0
    message: str | None = None  # a sentence for people: why offline, why signed out, what failed

    @property
    def signed_in(self) -> bool:
        return self.state not in (SyncState.SIGNED_OUT, SyncState.SIGN_IN_AGAIN, SyncState.REVOKED)


@dataclass(frozen=True)
class ConflictNote:
    """A local edit the server resolved against, as shown to the user."""

    id: int
    table: str
    row_id: str
    fields: list[str]
    reason: str  # protocol.ConflictReason
    theirs: dict[str, object]
    detected_at: datetime
    seen: bool


class SyncControl(Protocol):
    """What the UI asks of the sync service. Every call is cheap and thread-safe; the work happens on the loop."""

    def status(self) -> SyncStatus: ...

    def sync_now(self) -> None: ...

    def conflicts(self, *, limit: int = 200) -> list[ConflictNote]: ...

    def mark_conflicts_seen(self) -> None: ...
