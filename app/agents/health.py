"""The health monitor: is this workspace working? Five checks, each a status a person can act on.

- **WhatsApp**: the connection state and the page profile's self-test ("not linked", "phone offline", "profile
  broken: sending paused").
- **Database**: ``PRAGMA quick_check`` on a reader (beside the writer, never holding it) and how long it took; the
  file's size in the sentence.
- **AI**: the share of AI calls that failed in the last hour, from ``ai_interactions`` (fail above a threshold, with
  the count behind it; a single failure among few calls is not an alarm).
- **Sync**: in a team, how long ago the last successful sync was and how many changes wait to go up.
- **Disk**: free space in the workspace folder (warn under 2 GB, fail under 500 MB).

Each result is a status (ok / warn / fail), a sentence made here from figures — never from customer content or an
exception's text, which may carry it — and the figure itself. ``run`` appends one row per check to the local
``health_checks`` table in one transaction, prunes rows older than a week, and compares each status with the one
before it: a change to warn or fail is an ``Alert`` once (not on every run while it lasts), a return to ok is a
recovery alert. The statuses before are read back from the table, so a restart does not alert again for a problem
that was already told.

No Qt and no timer here: the UI runs ``run`` on a worker of the one task runner every five minutes and when an error
is seen (``app.ui.health_watch``). ``run`` is blocking and serialised by a lock (a "Check now" during a timed run
waits for it).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from app.core.errors import CorruptDatabase
from app.core.ids import from_ms, to_ms, utc_now
from app.store.sending_device import held_elsewhere
from app.store.sqlcipher import DatabaseError
from app.sync.status import SyncState, SyncStatus
from app.whatsapp.status import ConnectionState, WhatsAppStatus

if TYPE_CHECKING:
    from app.store.store import Store

log = logging.getLogger(__name__)

Status = Literal["ok", "warn", "fail"]

CHECKS: tuple[str, ...] = ("whatsapp", "database", "ai", "sync", "disk")
TITLES: dict[str, str] = {
    "whatsapp": "WhatsApp",
    "database": "Database",
    "ai": "AI replies",
    "sync": "Team sync",
    "disk": "Disk space",
}
SEVERITY: dict[str, int] = {"ok": 0, "warn": 1, "fail": 2}

INTERVAL = timedelta(minutes=5)
KEEP = timedelta(days=7)
GB = 1024**3
MB = 1024**2


@dataclass(frozen=True)
class Thresholds:
    """Where ok turns to warn and fail. Defaults are the product's; tests and a later setting may pass others."""

    disk_warn_bytes: int = 2 * GB
    disk_fail_bytes: int = 500 * MB
    ai_window: timedelta = timedelta(hours=1)
    ai_warn_rate: float = 0.2
    ai_fail_rate: float = 0.5
    ai_min_failures: int = 3  # fewer failed calls than this is never more than a warning
    sync_warn_lag: timedelta = timedelta(minutes=30)
    sync_fail_lag: timedelta = timedelta(hours=6)
    database_slow: timedelta = timedelta(seconds=30)


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    sentence: str
    value: float | None
    checked_at: datetime
    # False for a state the app already shows all the time (WhatsApp not linked or not connected: the WhatsApp
    # banner says so), so the monitor does not raise a second banner and a notification for it.
    alerts: bool = True

    @property
    def title(self) -> str:
        return TITLES.get(self.name, self.name)

    @property
    def figure(self) -> str:
        return figure_text(self.name, self.value)


@dataclass(frozen=True)
class Alert:
    """A check changed to warn or fail (``recovered`` False), or came back to ok (``recovered`` True)."""

    name: str
    status: Status
    sentence: str
    recovered: bool

    @property
    def title(self) -> str:
        check = TITLES.get(self.name, self.name)
        if self.recovered:
            return f"{check} is working again"
        return f"{check}: {'problem' if self.status == 'fail' else 'needs a look'}"


@dataclass(frozen=True)
class HealthReport:
    results: tuple[CheckResult, ...]
    alerts: tuple[Alert, ...] = ()

    @property
    def problems(self) -> list[CheckResult]:
        """The checks not ok that the app does not already show elsewhere (``alerts``), worst first: what the
        health banner names."""
        bad = [r for r in self.results if r.status != "ok" and r.alerts]
        return sorted(bad, key=lambda r: -SEVERITY[r.status])

    @property
    def worst(self) -> Status:
        statuses = [r.status for r in self.results] or ["ok"]
        return max(statuses, key=lambda s: SEVERITY[s])


def figure_text(name: str, value: float | None) -> str:
    """The figure behind a check in a few characters ("12.4 GB free", "40 % failed")."""
    if value is None:
        return ""
    if name == "disk":
        return f"{value / 1024:.1f} GB free" if value >= 1024 else f"{value:.0f} MB free"
    if name == "ai":
        return f"{value:.0f} % failed"
    if name == "database":
        return f"checked in {value:.0f} ms" if value < 1000 else f"checked in {value / 1000:.1f} s"
    if name == "sync":
        return f"last sync {_duration(timedelta(seconds=value))} ago"
    if name == "whatsapp":
        return f"{value:.0f} waiting to send"
    return f"{value:g}"


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{round(seconds / 86400)} days"


def _size(nbytes: int) -> str:
    return f"{nbytes / GB:.1f} GB" if nbytes >= GB else f"{max(nbytes, 1) / MB:.0f} MB"


def free_space(folder: Path) -> int:
    """Bytes free for this user on the file system holding ``folder``."""
    return shutil.disk_usage(folder).free


class HealthMonitor:
    def __init__(
        self,
        store: Store,
        folder: Path,
        *,
        whatsapp: Callable[[], WhatsAppStatus | None] = lambda: None,
        sync: Callable[[], SyncStatus | None] = lambda: None,
        free_bytes: Callable[[Path], int] = free_space,
        thresholds: Thresholds | None = None,
        clock: Callable[[], datetime] = utc_now,
        keep: timedelta = KEEP,
    ) -> None:
        self.store = store
        self.folder = Path(folder)
        self.whatsapp = whatsapp
        self.sync = sync
        self.free_bytes = free_bytes
        self.thresholds = thresholds or Thresholds()
        self.clock = clock
        self.keep = keep
        self._lock = threading.Lock()
        self._last: dict[str, Status] | None = None  # the status each check had before this run

    # ---- one run ---------------------------------------------------------------------------------------------
    def run(self) -> HealthReport:
        """Run every check, record the results, prune old rows, and say what changed (blocking)."""
        with self._lock:
            now = self.clock()
            results = tuple(self._guarded(name, now) for name in CHECKS)
            if self._last is None:
                self._last = {r.name: r.status for r in self.latest()}
            alerts: list[Alert] = []
            for result in results:
                before = self._last.get(result.name)
                if not result.alerts:
                    pass
                elif result.status != "ok" and result.status != before:
                    alerts.append(Alert(result.name, result.status, result.sentence, recovered=False))
                elif result.status == "ok" and before in ("warn", "fail"):
                    alerts.append(Alert(result.name, "ok", result.sentence, recovered=True))
                self._last[result.name] = result.status
            self._record(results, now)
            return HealthReport(results, tuple(alerts))

    def _guarded(self, name: str, now: datetime) -> CheckResult:
        check: Callable[[datetime], CheckResult] = getattr(self, f"check_{name}")
        try:
            return check(now)
        except Exception:  # one check's bug must not stop the others; its text may carry anything: log only
            log.exception("the %s health check failed", name)
            return CheckResult(name, "warn", "This check could not run; the log has the details.", None, now)

    def _record(self, results: tuple[CheckResult, ...], now: datetime) -> None:
        cutoff = to_ms(now - self.keep)
        with self.store.db.transaction() as conn:
            conn.executemany(
                "INSERT INTO health_checks (checked_at, name, status, sentence, value) VALUES (?, ?, ?, ?, ?)",
                [(to_ms(r.checked_at), r.name, r.status, r.sentence, r.value) for r in results],
            )
            conn.execute("DELETE FROM health_checks WHERE checked_at < ?", (cutoff,))

    # ---- reading the history ---------------------------------------------------------------------------------
    def latest(self) -> list[CheckResult]:
        """The newest result of each check that has one, in ``CHECKS`` order."""
        with self.store.db.read() as conn:
            rows = conn.execute(
                "SELECT h.checked_at, h.name, h.status, h.sentence, h.value FROM health_checks h "
                "JOIN (SELECT name, MAX(rid) AS rid FROM health_checks GROUP BY name) m ON m.rid = h.rid"
            ).fetchall()
        found = {row[1]: _row(row) for row in rows}
        return [found[name] for name in CHECKS if name in found]

    def history(self, span: timedelta = timedelta(hours=24)) -> dict[str, list[CheckResult]]:
        """Each check's results over the last ``span``, oldest first."""
        since = to_ms(self.clock() - span)
        with self.store.db.read() as conn:
            rows = conn.execute(
                "SELECT checked_at, name, status, sentence, value FROM health_checks "
                "WHERE checked_at >= ? ORDER BY checked_at, rid",
                (since,),
            ).fetchall()
        history: dict[str, list[CheckResult]] = {name: [] for name in CHECKS}
        for row in rows:
            history.setdefault(row[1], []).append(_row(row))
        return history

    # ---- the checks ------------------------------------------------------------------------------------------
    def check_whatsapp(self, now: datetime) -> CheckResult:
        status = self.whatsapp() or WhatsAppStatus()
        waiting = float(status.queue.waiting)

        def result(level: Status, sentence: str, *, alerts: bool = True) -> CheckResult:
            return CheckResult("whatsapp", level, sentence, waiting, now, alerts)

        state = status.state
        if state is not ConnectionState.connected and (other := held_elsewhere(self.store)) is not None:
            # One sending device per number: a teammate's computer holds this number's WhatsApp; nothing is wrong.
            return result("ok", f"{other.device_name} sends for this number; this computer does not need WhatsApp.")
        if state is ConnectionState.connected and status.health is not None and status.health.broken:
            parts = ", ".join(e.label for e in status.health.broken)
            return result("fail", f"Profile broken: sending paused. Parley cannot find {parts} on the WhatsApp page.")
        if state is ConnectionState.failed:
            return result("fail", "WhatsApp could not connect; Parley keeps retrying. Sending is paused.")
        if state is ConnectionState.logged_out:
            return result("fail", "WhatsApp was logged out: link the phone again on the WhatsApp page.")
        if state is ConnectionState.phone_offline:
            return result("warn", "The phone is offline: messages wait until it is back online.")
        if not status.linked and state in (ConnectionState.stopped, ConnectionState.scan_qr):
            return result("warn", "WhatsApp is not linked: scan the QR code on the WhatsApp page.", alerts=False)
        if state is ConnectionState.stopped:
            return result("warn", "WhatsApp is not connected: messages wait until you connect.", alerts=False)
        if state is ConnectionState.connected:
            tested = " and the page self-test passed" if status.health is not None else ""
            return result("ok", f"Connected{tested}.")
        return result("ok", "Connecting to WhatsApp.")

    def check_database(self, now: datetime) -> CheckResult:
        size = sum(p.stat().st_size for p in self._database_files())
        started = time.perf_counter()
        try:
            with self.store.db.read() as conn:
                problems = [str(row[0]) for row in conn.execute("PRAGMA quick_check").fetchall()]
        except (DatabaseError, CorruptDatabase) as exc:  # a damaged page fails the read itself; its text: not shown
            log.warning("the database quick check could not read the file: %s", type(exc).__name__)
            problems = ["unreadable"]
        took = time.perf_counter() - started
        millis = round(took * 1000, 1)
        if problems != ["ok"]:
            log.warning("the database quick check found %d problem(s)", len(problems))
            return CheckResult(
                "database",
                "fail",
                f"The database ({_size(size)}) failed its integrity check: restore the latest backup "
                "(Settings → Backups) before more is lost.",
                millis,
                now,
            )
        if took > self.thresholds.database_slow.total_seconds():
            return CheckResult(
                "database",
                "warn",
                f"The database ({_size(size)}) is intact but took {took:.0f} s to check.",
                millis,
                now,
            )
        return CheckResult("database", "ok", f"The database ({_size(size)}) is intact.", millis, now)

    def _database_files(self) -> list[Path]:
        path = self.store.db.path
        candidates = [path, path.with_name(path.name + "-wal")]
        return [p for p in candidates if p.exists()]

    def check_ai(self, now: datetime) -> CheckResult:
        t = self.thresholds
        since = to_ms(now - t.ai_window)
        with self.store.db.read() as conn:
            total, failed = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(outcome = 'failed'), 0) FROM ai_interactions "
                "WHERE created_at >= ? AND deleted_at IS NULL",
                (since,),
            ).fetchone()
        if not total:
            return CheckResult("ai", "ok", "No AI calls in the last hour.", None, now)
        rate = failed / total
        counted = f"{failed} of {total} AI call{'s' if total != 1 else ''} in the last hour failed"
        if rate > t.ai_fail_rate and failed >= t.ai_min_failures:
            level: Status = "fail"
            sentence = f"{counted}: check the AI provider and its key in Settings → AI."
        elif rate > t.ai_warn_rate and failed >= 2:
            level, sentence = "warn", f"{counted}."
        else:
            level = "ok"
            sentence = f"{counted}." if failed else f"All {total} AI calls in the last hour worked."
        return CheckResult("ai", level, sentence, round(rate * 100, 1), now)

    def check_sync(self, now: datetime) -> CheckResult:
        t = self.thresholds
        status = self.sync()
        if status is None or status.state is SyncState.SIGNED_OUT:
            return CheckResult("sync", "ok", "Not in a team: nothing to sync.", None, now)
        if status.state is SyncState.SIGN_IN_AGAIN:
            return CheckResult("sync", "warn", "Sign in again to keep syncing with your team.", None, now)
        if status.state is SyncState.REVOKED:
            return CheckResult("sync", "warn", "This computer was removed from the team: nothing syncs.", None, now)
        waiting = f"{status.pending} change{'s' if status.pending != 1 else ''} waiting to go up"
        last = status.last_synced_at
        lag = (now - last) if last is not None else None
        value = round(max(lag.total_seconds(), 0.0)) if lag is not None else None
        if status.state is SyncState.SYNCED:
            return CheckResult("sync", "ok", "In sync with the team.", 0.0, now)
        if status.state is SyncState.ERROR:
            return CheckResult("sync", "fail", f"Team sync stopped on an error; {waiting}.", value, now)
        if status.state in (SyncState.CONNECTING, SyncState.INITIAL) and last is None:
            return CheckResult("sync", "ok", "Syncing with the team for the first time.", None, now)
        if lag is None:
            return CheckResult("sync", "warn", f"Not synced with the team yet; {waiting}.", None, now)
        ago = _duration(lag)
        if lag >= t.sync_fail_lag:
            return CheckResult("sync", "fail", f"Last synced with the team {ago} ago; {waiting}.", value, now)
        if lag >= t.sync_warn_lag:
            return CheckResult("sync", "warn", f"Last synced with the team {ago} ago; {waiting}.", value, now)
        return CheckResult("sync", "ok", f"Synced {ago} ago; {waiting}.", value, now)

    def check_disk(self, now: datetime) -> CheckResult:
        t = self.thresholds
        free = self.free_bytes(self.folder)
        value = round(free / MB, 1)
        if free < t.disk_fail_bytes:
            sentence = f"Only {_size(free)} free on the workspace's disk: Parley may stop saving. Free some space."
            return CheckResult("disk", "fail", sentence, value, now)
        if free < t.disk_warn_bytes:
            return CheckResult("disk", "warn", f"{_size(free)} free on the workspace's disk: running low.", value, now)
        return CheckResult("disk", "ok", f"{_size(free)} free on the workspace's disk.", value, now)


def _row(row: tuple[int, str, str, str, float | None]) -> CheckResult:
    checked_at, name, status, sentence, value = row
    level: Status = status if status in ("ok", "warn", "fail") else "warn"  # type: ignore[assignment]
    return CheckResult(name, level, sentence, value, from_ms(checked_at))
