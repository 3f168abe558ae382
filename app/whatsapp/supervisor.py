"""Keeps WhatsApp running: starts the browser, restarts it when it dies or grows, and drains the send queue.

One ``Supervisor`` per workspace, on one asyncio loop (``app.whatsapp.host`` gives it a thread of its own so the
browser's traffic never competes with the Qt loop). ``run()`` is a single loop of steps; each step does at most one
thing and says how long to wait before the next, and any command or page change wakes it early:

- **Wanted or not.** ``connect()`` / ``disconnect()`` / ``restart()`` set what the user wants; the loop makes it so.
- **Starting, with back-off.** A browser that fails to start, crashes or is closed counts as a failure; the next
  start waits ``restart_backoff_seconds[n]`` (2 s, 5 s, 15 s, 30 s, 60 s by default) and after the last one the state
  stays ``failed`` with the reason until the user presses Connect again. Staying connected for a while clears the
  count. A profile already in use by another Parley is not retried: that needs a person.
- **Sending.** Only while ``connected`` and the last self-test found nothing broken; otherwise ``queue.paused`` says
  why. ``Sender.send_next`` sends one message at a time and says when the next may go (limits, quiet hours, the
  pause between contacts); a send that did not show up in time is looked at again after ``retry_seconds``, through
  the sender's crash recovery, so it is never typed twice.
- **One sending device per number.** In a team only the device that holds the number's WhatsApp session sends
  (``app.store.sending_device``). A phone linked here (``connected`` after a QR) claims the number, and so does a
  connection when nobody holds it; a reconnect of an older link leaves a newer device's claim alone. While another
  device holds it the queue is not drained and ``queue.held_by`` / ``queue.paused`` name that device. A teammate's
  claim or message pulled by sync wakes the loop (the store's ``TablesChanged`` with origin ``remote``).
- **Memory watchdog.** Between two sends, a browser whose process tree is above ``memory_limit_bytes`` is closed and
  reopened (not counted as a failure; ``restarts`` counts it). Its memory is sampled in a worker thread, at most
  every few seconds while sending, never on the send path.
- **Status.** Every change produces a fresh ``WhatsAppStatus`` for ``on_status``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.async_api import Error as PlaywrightError

from app.core.events import TablesChanged
from app.core.ids import utc_now
from app.store import sending_device
from app.whatsapp.browser import browser_memory_bytes, browser_pid
from app.whatsapp.config import ServiceConfig
from app.whatsapp.driver import WhatsAppDriver
from app.whatsapp.humanizer import Humanizer
from app.whatsapp.probe import ProbeReport
from app.whatsapp.profile import Profile
from app.whatsapp.profile_lock import ProfileInUse
from app.whatsapp.sender import Sender, SendOutcome
from app.whatsapp.status import ConnectionState, Health, HealthEntry, QueueStatus, WhatsAppStatus

if TYPE_CHECKING:
    from app.core.models import Message
    from app.store.store import Store
    from app.whatsapp.pacing import Pace

log = logging.getLogger(__name__)

STABLE_SECONDS = 120.0  # connected this long clears the failure count
WATCH_SECONDS = 30.0  # memory is sampled at most this often while idle
MEMORY_SAMPLE_SECONDS = 5.0  # while sending, at most this often, in the background
CONNECTED_DETAIL = "New messages arrive here and replies go out through WhatsApp Web."
StatusCallback = Callable[[WhatsAppStatus], None]


def health_of(report: ProbeReport, checked_at: datetime) -> Health:
    entries = tuple(
        HealthEntry(r.name, r.entry.label, not r.broken, r.used_fallback, r.selector) for r in report.results
    )
    return Health(checked_at, report.state, report.profile_version, entries, report.message)


class Supervisor:
    def __init__(
        self,
        store: Store,
        profile: Profile,
        profile_dir: Path,
        config: ServiceConfig,
        *,
        on_status: StatusCallback | None = None,
        stricter: Callable[[Message], Pace | None] | None = None,
    ) -> None:
        self.store = store
        self.stricter = stricter  # a campaign's own stricter pace for its messages (``app.campaigns.pace``)
        self.profile = profile
        self.profile_dir = Path(profile_dir)
        self.config = config
        self.on_status = on_status
        self.driver: WhatsAppDriver | None = None
        self.sender: Sender | None = None
        self.humanizer = Humanizer(config.typing, random.Random(config.seed))
        self._wanted = False
        self._closing = False
        self._restart_requested = False
        self._qr_reload = False
        self._wake = asyncio.Event()
        self._failures = 0
        self._connected_since: float | None = None
        self._next_restart_at: datetime | None = None
        self._restarts = 0
        self._last_error: str | None = None
        self._qr_png: bytes | None = None
        self._detail = ""
        self._health: Health | None = None
        self._rss: int | None = None
        self._rss_at = 0.0
        self._sampling: asyncio.Task[None] | None = None
        self._next_send: SendOutcome | None = None
        self._sending_id: str | None = None
        self._status = WhatsAppStatus()
        self._linked = store.settings.internal.whatsapp_linked
        self._published: WhatsAppStatus | None = None
        self._held_by: sending_device.Claim | None = None  # another device's claim on the number, when it holds it

    # ---- commands (call on the supervisor's loop; the host marshals them there) --------------------------------
    def connect(self) -> None:
        driver = self.driver
        if driver is not None and driver.qr_expired:  # Connect on an expired QR: a new series of codes
            self._qr_reload = True
        self._wanted = True
        self._failures = 0
        self._next_restart_at = None
        self._last_error = None
        self.wake()

    def disconnect(self) -> None:
        self._wanted = False
        self.wake()

    def restart(self) -> None:
        self._wanted = True
        self._restart_requested = True
        self._failures = 0
        self._next_restart_at = None
        self.wake()

    def queue_changed(self) -> None:
        self.wake()

    async def fetch_media(self, message_id: str) -> str:
        """A received message's media fetched again now ("click to fetch"); see ``WhatsAppDriver.fetch_media``.
        ``missing`` when WhatsApp is not connected."""
        driver = self.driver
        if driver is None or driver.state not in (ConnectionState.connected, ConnectionState.phone_offline):
            return "missing"
        return await driver.fetch_media(message_id)

    def reconfigure(self, config: ServiceConfig) -> None:
        """New settings: pacing and limits apply from the next message; the address and browser window on the
        next start."""
        self.config = config
        self.humanizer.settings = config.typing
        if self.sender is not None:
            self.sender.limits = config.limits
            self.sender.pace = config.pacing
        self.wake()

    def close(self) -> None:
        self._closing = True
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    @property
    def _health_state(self) -> str | None:
        return self._health.page_state if self._health is not None else None

    @property
    def linked(self) -> bool:
        return self._linked

    @property
    def status(self) -> WhatsAppStatus:
        return self._status

    # ---- the loop --------------------------------------------------------------------------------------------
    async def run(self) -> None:
        loop = asyncio.get_running_loop()

        def pulled(event: TablesChanged) -> None:  # on the committing thread: hand it to this loop
            if event.origin == "remote" and event.tables & {"messages", sending_device.TABLE}:
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(self.wake)

        unsubscribe = self.store.bus.subscribe(TablesChanged, pulled)
        self.publish()
        try:
            while not self._closing:
                delay = await self._step()
                self.publish()
                await self._pause(delay)
        finally:
            unsubscribe()
            await self._stop_browser()
            self.publish()

    async def _pause(self, delay: float | None) -> None:
        if delay is not None and delay <= 0:
            self._wake.clear()
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._wake.wait()
        self._wake.clear()

    async def _step(self) -> float | None:
        if not self._wanted:
            if self.driver is not None:
                await self._stop_browser()
            return None
        if self._restart_requested:
            self._restart_requested = False
            if self.driver is not None:
                self._restarts += 1
                await self._stop_browser()
        driver = self.driver
        if driver is None:
            return await self._start_browser()
        if driver.state is ConnectionState.failed:
            return await self._browser_died(driver.last_error or "the browser stopped")
        if driver.state is not ConnectionState.connected:
            self._connected_since = None
            if self._qr_reload:
                self._qr_reload = False
                await driver.reload_qr()
            return None
        self._on_connected()
        if self._memory_exceeded():
            log.warning("WhatsApp: the browser uses %d MB; restarting it between sends", (self._rss or 0) >> 20)
            self._restarts += 1
            await self._stop_browser()
            return 0
        if self._health is not None and not self._health.ok:
            return None  # sending paused until the page is healthy again (a new profile, a reconnect)
        self._held_by = await asyncio.to_thread(sending_device.held_elsewhere, self.store)
        if self._held_by is not None:
            self._next_send = None
            return None  # another device sends for the number; a pulled claim or message wakes the loop
        await asyncio.to_thread(sending_device.seen, self.store)
        return await self._send_one()

    def _on_connected(self) -> None:
        now = time.monotonic()
        if self._connected_since is None:
            self._connected_since = now
            newly_linked = not self._linked
            if newly_linked:
                self._linked = True
                self.store.settings.internal.whatsapp_linked = True
            # The latest link sends: a phone linked here claims the number; a reconnect only when nobody holds it.
            sending_device.on_connected(self.store, newly_linked=newly_linked)
        elif self._failures and now - self._connected_since >= STABLE_SECONDS:
            self._failures = 0

    # ---- browser ---------------------------------------------------------------------------------------------
    async def _start_browser(self) -> float | None:
        if self._next_restart_at is not None:
            wait = (self._next_restart_at - utc_now()).total_seconds()
            if wait > 0:
                return wait
            self._next_restart_at = None
        driver = WhatsAppDriver(
            self.store,
            self.profile,
            self.profile_dir,
            url=self.config.url,
            headless=self.config.headless,
            on_state=self._on_state,
            on_qr=self._on_qr,
        )
        self.driver = driver
        self.sender = Sender(
            driver, self.store, self.humanizer, self.config.limits, pace=self.config.pacing, stricter=self.stricter
        )
        self._qr_png = None
        self._rss, self._rss_at = None, 0.0
        try:
            await driver.start()
        except ProfileInUse as exc:
            self.driver = self.sender = None
            self._wanted = False
            self._last_error = str(exc)
            return None
        except Exception as exc:  # noqa: BLE001 — no browser, page unreachable, …: back off and try again
            self.driver = self.sender = None
            return self._failed(f"{type(exc).__name__}: {exc}")
        self._last_error = None
        return 0

    async def _browser_died(self, why: str) -> float | None:
        log.warning("WhatsApp: the browser stopped (%s)", why)
        await self._stop_browser()
        self._restarts += 1
        return self._failed(why)

    def _failed(self, why: str) -> float | None:
        self._last_error = why
        self._connected_since = None
        backoff = self.config.restart_backoff_seconds
        if self._failures >= len(backoff):
            self._wanted = False
            self._last_error = f"WhatsApp could not be started after {self._failures + 1} attempts: {why}"
            log.error("WhatsApp: giving up: %s", self._last_error)
            return None
        delay = backoff[self._failures]
        self._failures += 1
        self._next_restart_at = utc_now() + timedelta(seconds=delay)
        log.info("WhatsApp: starting again in %.0f s (attempt %d)", delay, self._failures + 1)
        return delay

    async def _stop_browser(self) -> None:
        driver, self.driver = self.driver, None
        self.sender = None
        self._connected_since = None
        self._qr_png = None
        self._rss = None
        if driver is not None:
            with contextlib.suppress(Exception):
                await driver.stop()

    def _memory_exceeded(self) -> bool:
        """Whether the browser's last memory sample is over the limit. A fresh sample is taken in a worker thread
        when the last is older than ``MEMORY_SAMPLE_SECONDS``: reading a browser's process tree from /proc costs
        ~30 ms, which was paid on this loop before every send (most of the pacing bench's "due → typing")."""
        now = time.monotonic()
        stale = self._rss is None or now - self._rss_at >= MEMORY_SAMPLE_SECONDS
        if stale and self._sampling is None and self.driver is not None:
            self._rss_at = now
            self._sampling = asyncio.ensure_future(self._sample_memory(self.driver))
        return self._memory_exceeded_now()

    async def _sample_memory(self, driver: WhatsAppDriver) -> None:
        try:
            pid = await asyncio.to_thread(browser_pid, self.profile_dir)
            rss = await asyncio.to_thread(browser_memory_bytes, pid) if pid is not None else None
        except Exception:  # a sample that fails is no reason to stop sending; the next one tries again
            log.warning("WhatsApp: the browser's memory could not be read", exc_info=True)
            return
        finally:
            self._sampling = None
        if self.driver is driver:  # still the same browser: a restarted one starts with no sample
            self._rss = rss
            self.publish()
            if self._memory_exceeded_now():
                self.wake()  # restart it between sends, now rather than at the next step

    def _memory_exceeded_now(self) -> bool:
        return self._rss is not None and self._rss > self.config.memory_limit_bytes

    # ---- sending ---------------------------------------------------------------------------------------------
    async def _send_one(self) -> float | None:
        sender, driver = self.sender, self.driver
        assert sender is not None
        assert driver is not None
        queue = await asyncio.to_thread(self.store.messages.send_queue)
        self._sending_id = queue[0].id if queue else None
        if not queue:
            self._next_send = None
            return WATCH_SECONDS
        self.publish()
        try:
            outcome = await sender.send_next()
        except (PlaywrightError, RuntimeError) as exc:
            # The browser went away under the sender (killed, crashed): the message stays in ``typing`` and is
            # looked up in the chat after the restart, never retyped blindly.
            self._sending_id = None
            if driver.state is ConnectionState.failed or driver.page.is_closed():
                return await self._browser_died(f"the browser stopped while sending: {exc}")
            log.warning("WhatsApp: sending was interrupted: %s", exc)
            return self.config.retry_seconds
        finally:
            self._sending_id = None
        log.debug("WhatsApp: send outcome %s %s %s", outcome.kind, outcome.message_id, outcome.reason)
        if sender.page_report is not None and self._health_state != "chat_open":
            self._health = health_of(sender.page_report, utc_now())  # now covers the open chat's entries too
        self._next_send = outcome if outcome.kind == "waiting" else None
        if outcome.kind == "waiting":
            assert outcome.not_before is not None
            log.info("WhatsApp: next send at %s (%s)", outcome.not_before.isoformat(), outcome.reason)
            return max(0.05, (outcome.not_before - utc_now()).total_seconds())
        if outcome.kind == "retry":
            return self.config.retry_seconds
        if outcome.kind == "paused" and outcome.report is not None:
            self._health = health_of(outcome.report, utc_now())
            log.warning("WhatsApp: sending paused: %s", outcome.report.message)
            return None
        return 0 if outcome.kind != "idle" else WATCH_SECONDS

    # ---- callbacks from the driver ---------------------------------------------------------------------------
    def _on_state(self, state: ConnectionState, detail: str) -> None:
        self._detail = detail
        driver = self.driver
        if state is ConnectionState.connected and driver is not None and driver.health is not None:
            self._health = health_of(driver.health, utc_now())
        if state is ConnectionState.logged_out and self._linked:
            self._linked = False
            self.store.settings.internal.whatsapp_linked = False
        if state is not ConnectionState.scan_qr:
            self._qr_png = None
        self.publish()
        self.wake()

    def _on_qr(self, png: bytes) -> None:
        self._qr_png = png
        self.publish()

    # ---- status ----------------------------------------------------------------------------------------------
    def _queue_status(self, state: ConnectionState) -> QueueStatus:
        with self.store.db.read() as conn:
            waiting, failed = conn.execute(
                "SELECT count(*) FILTER (WHERE status IN ('queued', 'typing')),"
                " count(*) FILTER (WHERE status = 'failed') FROM messages"
                " WHERE org_id = ? AND direction = 'out' AND status IN ('queued', 'typing', 'failed')"
                " AND deleted_at IS NULL",
                (self.store.org_id,),
            ).fetchone()
        paused = ""
        held_by = self._held_by
        if state is not ConnectionState.connected:
            # Not connected here: whoever holds the number sends (nobody, when this device does).
            held_by = sending_device.held_elsewhere(self.store)
        if waiting:
            if held_by is not None:
                paused = sending_device.waiting_sentence(held_by)
            elif state is not ConnectionState.connected:
                paused = "WhatsApp is not connected"
            elif self._health is not None and not self._health.ok:
                paused = self._health.message
        nxt = self._next_send
        return QueueStatus(
            waiting=int(waiting),
            failed=int(failed),
            sending_id=self._sending_id,
            next_send_at=nxt.not_before if nxt is not None and waiting else None,
            next_reason=nxt.reason if nxt is not None and waiting else "",
            paused=paused,
            held_by=held_by.device_name if held_by is not None else "",
        )

    def publish(self) -> None:
        driver = self.driver
        state: ConnectionState
        if driver is not None and driver.state is ConnectionState.failed:
            state, detail = driver.state, driver.last_error or self._detail
        elif driver is not None and driver.state is ConnectionState.connected:
            state = driver.state
            healthy = self._health is None or self._health.ok
            detail = CONNECTED_DETAIL if healthy else self._health.message if self._health else self._detail
        elif driver is not None:
            state, detail = driver.state, self._detail
        elif self._wanted and self._next_restart_at is not None:
            state, detail = ConnectionState.failed, f"Starting again at {self._next_restart_at.astimezone():%H:%M:%S}"
        elif self._last_error is not None:
            state, detail = ConnectionState.failed, self._last_error
        else:
            state, detail = ConnectionState.stopped, "WhatsApp is not connected"
        status = WhatsAppStatus(
            state=state,
            detail=detail,
            qr_png=self._qr_png if state is ConnectionState.scan_qr and not (driver and driver.qr_expired) else None,
            health=self._health,
            browser_rss=self._rss,
            restarts=self._restarts,
            next_restart_at=self._next_restart_at,
            last_error=self._last_error,
            queue=self._queue_status(state),
            linked=self._linked,
        )
        self._status = status
        if status == self._published:
            return
        self._published = status
        if self.on_status is not None:
            try:
                self.on_status(status)
            except Exception:
                log.exception("on_status callback failed")
