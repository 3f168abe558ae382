"""The WhatsApp driver: runs WhatsApp Web in Chromium, follows the link state and captures messages into the store.

``WhatsAppDriver.start()`` opens the persistent browser profile (``open_profile``), installs the page observer
(``page_scripts.observer_script``, an init script that survives reloads) and its binding, and navigates to WhatsApp
Web. From then on the page pushes snapshots to Python; one worker task handles them in order:

- **State.** ``landing`` (QR shown) → ``scan_qr``; the logged-in marker → ``connected`` (after a ``self_test`` of the
  ``logged_in`` state, kept as ``health``); while the page shows the phone-offline banner (profile entry
  ``phone_offline``, "Trying to reach phone") → ``phone_offline``, back to ``connected`` when it goes (messages the
  page shows are still captured); a QR page while linked, or one reached through ``?post_logout=1`` → ``logged_out``
  then ``scan_qr``. Transitions go to ``on_state(state, detail)``.
- **QR.** While in ``scan_qr``, every new ``data-ref`` of the QR container is followed by a PNG screenshot of the QR
  canvas handed to ``on_qr(png)``, so the UI can show the live code. When the code expires (its reload button, profile
  entry ``qr_reload``, shows) the driver clicks reload, at most ``MAX_QR_RELOADS`` times unattended (so a forgotten
  app does not keep the browser busy forever); then the state stays ``scan_qr`` with ``QR_EXPIRED_DETAIL``,
  ``qr_expired`` is set and no code is shown until ``reload_qr()`` (the user's Connect) reloads it and resets the cap.
- **Messages.** New message rows and changed ack icons of the open chat are parsed into ``CapturedMessage`` /
  ``CapturedAck`` and written with ``record_messages`` / ``record_ack`` on a worker thread (``asyncio.to_thread``).
  The store de-duplicates by ``wa_id``; the driver also remembers what it wrote, so a reload costs no writes.
  The rows' page order goes with them: the store orders a chat as the page does (a row's time is only to the
  minute), placing each new row after the known row shown above it.
  A bare ``data-id`` (2026 markup) does not name its chat: the open chat's title does, through
  ``contact_info.ChatResolver`` (what it learnt, a phone-number title, the store when exactly one chat or contact
  has that name, else the number in the chat's "Contact info" drawer). The drawer is only opened on a fresh scan
  under ``ui_lock`` (the sweep, the catch-up): a queued report that needs it marks its chat to be read again instead,
  since the page may have moved on. Rows the store already has are not resolved again; rows whose chat stays
  unknown are counted in ``skipped``.
- **Media.** A row showing a media bubble (profile ``media_*`` entries) is captured with its ``kind`` and
  ``media`` (``app.core.media.MediaInfo``: ``pending``, or ``unavailable`` for "no longer available"), its caption as
  the body; the bytes are then read from the page in the background (``media_fetch.MediaFetcher``, capped by
  ``FETCH_CAP``) and handed to the media sink (the store's ``app.store.ops.media``). Opening another chat first
  drains the fetcher, while the rows are still shown; what another chat switch (a send) left unread waits for its
  chat to be open again, and the fetcher reopens it when nothing else is queued (see ``media_fetch``).
- **Catching up on connect.** Each time the link comes up, before anything else is read, ``backfill.Backfill``
  walks the whole (virtualized) chat list from the top, scrolling it, and opens the chats (newest first) whose
  last-message preview is not the store's latest message of that chat, records their rows and scrolls each back for
  earlier ones (at most ``BACKFILL_MESSAGES``, stopping at what the store already had), then scrolls the list back
  to the top and leaves the chat that was open before (or none). It holds ``ui_lock`` one step (a page of the list,
  one chat) at a time, so the sender can send between two chats. ``last_backfill`` says what it did.
- **Chats that are not open.** When a chat-list row shows an unread badge, or its text changed since the driver last
  saw it (a new preview without a badge, e.g. after a reload), the driver *opens that chat* (clicks its row, waits
  for the header to show its title) and reads its rows, until no such row is left. Side effect to be
  aware of: opening a chat marks it read on the phone (blue ticks for the sender), as a person reading it would.
  Its rows are read with ``Backfill.read_history``: when even the oldest row shown on opening (the latest ~30 in the
  imitation) is new to the store, the conversation is scrolled back until it is not, so a long backlog is not lost.

- **WhatsApp's notices.** Every report carries the notice the page shows, if any (profile ``notices``, matched by
  their words in the page: ``page_scripts``). When a rate-limit or ban notice (temporarily banned, banned,
  restricted) appears, every automated sender stops at once: ``automation.halt(store, RATE_LIMITED or BANNED,
  sentence)`` with a sentence quoting WhatsApp and saying what to do (``notices.halt_sentence``); the halt is kept in
  the store and alerts (``AutomationHalted``). Only the notice's appearance halts: a person may resume while it is
  still shown, and it halts again only if it goes and comes back. A popup that only warns (rate limit, restriction)
  is then closed with its button (profile ``dismiss``), so a person's replies can still be typed; a ban screen is
  left as it is. ``notice`` is what the page shows now.

Not done here: sending (``app.whatsapp.sender`` does it, holding ``ui_lock`` like the unread sweep, since both drive
the same page).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from app.store.intake import CapturedAck, CapturedMessage, record_ack, record_messages
from app.store.ops.automation import halt
from app.whatsapp.backfill import Backfill, BackfillResult
from app.whatsapp.browser import open_profile
from app.whatsapp.config import DEFAULT_URL
from app.whatsapp.contact_info import ChatResolver
from app.whatsapp.media import BYTE_KINDS, MediaSink, StoreMediaSink, media_info
from app.whatsapp.media_fetch import MediaFetcher
from app.whatsapp.notices import HALT_CODES, halt_sentence
from app.whatsapp.page_scripts import REPORT_BINDING, SCAN_FUNCTION, observer_script
from app.whatsapp.probe import ProbeReport, dismiss_notice, first_match, self_test
from app.whatsapp.profile import Profile
from app.whatsapp.rows import RowId, ack_level, parse_data_id, parse_pre_plain_text, row_dates, time_on
from app.whatsapp.status import ConnectionState

# The row parsers are re-exported for the sender and older imports.
__all__ = ["ConnectionState", "RowId", "WhatsAppDriver", "ack_level", "parse_data_id", "parse_pre_plain_text"]

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page, Playwright

    from app.store.store import Store

log = logging.getLogger(__name__)

OPEN_CHAT_TIMEOUT_MS = 5000
QR_ATTEMPTS = 3
MAX_SWEEP_OPENS = 50  # chats opened in one unread sweep before yielding to other reports
MAX_QR_RELOADS = 3  # expired QR codes reloaded unattended before waiting for the user (reload_qr)
SCAN_DETAIL = "Scan the QR code with WhatsApp on the phone"
QR_EXPIRED_DETAIL = "The QR code expired. Press Connect to get a new one."
PHONE_OFFLINE_DETAIL = "Your phone is offline. Make sure it is on and connected to the internet."
LINKED = (ConnectionState.connected, ConnectionState.phone_offline)  # logged in: the page shows the chats


StateCallback = Callable[[ConnectionState, str], None]
QrCallback = Callable[[bytes], None]


def _navigated(exc: Exception) -> bool:
    """A Playwright call that failed because the page reloaded or navigated under it: the new page reports again."""
    text = str(exc)
    return isinstance(exc, PlaywrightError) and ("context was destroyed" in text or "navigation" in text.lower())


def _own_ack(row_id: RowId, row: dict[str, Any]) -> int | None:
    """The ack level a page row shows, for our own messages (None for others' and for rows without ticks)."""
    from_me = row_id.from_me if row_id.from_me is not None else bool(row.get("out"))
    return ack_level(row.get("ack"), str(row.get("ack_label") or "")) if from_me else None


# ---- the driver -----------------------------------------------------------------------------------------------


class WhatsAppDriver:
    def __init__(
        self,
        store: Store,
        profile: Profile,
        profile_dir: Path,
        *,
        url: str = DEFAULT_URL,
        headless: bool = True,
        on_state: StateCallback | None = None,
        on_qr: QrCallback | None = None,
        media_sink: MediaSink | None = None,
    ) -> None:
        self.store = store
        self.profile = profile
        self.profile_dir = Path(profile_dir)
        self.url = url
        self.headless = headless
        self.on_state = on_state
        self.on_qr = on_qr
        self.state = ConnectionState.stopped
        self.detail = ""
        self.qr_expired = False  # the QR expired and was not reloaded (cap reached): no live code to show
        self.qr_reloads = 0  # unattended reloads since the last link, start or reload_qr()
        self.last_error: str | None = None
        self.health: ProbeReport | None = None
        self.captured = 0  # messages this driver created in the store
        self.skipped = 0  # rows it could not attribute to a chat (bare id, no known chat)
        self.chats_opened = 0  # chats this driver opened (unread sweep, history backfill)
        self.last_backfill: BackfillResult | None = None  # what the catch-up after the last connect did
        self.notice: dict[str, Any] | None = None  # WhatsApp's notice on the page now ({name, code, text}), if any
        self._playwright: Playwright | None = None
        self._context: BrowserContext | None = None
        self._page: Page | None = None
        self._reports: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()  # replaced by a fresh one each time it fires
        self._ui_lock = asyncio.Lock()  # held while the driver clicks around the page (unread sweep, sending)
        self._stopping = False
        self._qr_ref: str | None = None
        self._acks: dict[str, int | None] = {}  # wa_id -> ack level already in the store
        self.chats = ChatResolver(store, profile)  # which chat a title names when rows do not say (2026 markup)
        self._row_sigs: dict[str, str] = {}  # chat title -> text of its chat-list row when last seen
        self._backfill_due = False  # set on each connect: catch up before anything else is read
        self._reread: set[str] = set()  # chats whose rows could not be attributed from a report: read them again
        self._handling = False  # a page report is being handled (capture, catch-up, sweep)
        # Received media's bytes, read from the page in the background after capture (``media_fetch``).
        self.media = MediaFetcher(
            lambda: self.page,
            self._ui_lock,
            media_sink or StoreMediaSink(store),
            reopen=self.open_chat,
            older=self._show_older,
        )

    # ---- lifecycle -------------------------------------------------------------------------------------------
    @property
    def ui_lock(self) -> asyncio.Lock:
        """Held while the driver clicks around the page; anything else that does (sending, a test) must take it."""
        return self._ui_lock

    @property
    def page(self) -> Page:
        if self._page is None:
            raise RuntimeError("the WhatsApp driver is not running")
        return self._page

    async def start(self) -> None:
        """Launch the browser on the profile and open WhatsApp Web; the state then follows the page.

        On failure (no browser, profile in use, page unreachable) the state becomes ``failed`` with ``last_error``
        set, the browser is closed again and the error is raised.
        """
        if self.state not in (ConnectionState.stopped, ConnectionState.failed):
            raise RuntimeError(f"the WhatsApp driver is already running ({self.state.value})")
        self._stopping = False
        self.last_error = None
        self._qr_ref = None
        self.qr_expired = False
        self.qr_reloads = 0
        self._set_state(ConnectionState.starting, "Opening WhatsApp Web")
        try:
            self._playwright = await async_playwright().start()
            context = await open_profile(self._playwright, self.profile_dir, headless=self.headless)
            self._context = context
            await context.expose_binding(REPORT_BINDING, self._on_report)
            await context.add_init_script(observer_script(self.profile))
            context.on("close", lambda _context: self._on_closed("the browser closed"))
            page = context.pages[0] if context.pages else await context.new_page()
            page.on("crash", lambda _page: self._on_closed("the WhatsApp page crashed"))
            self._page = page
            self._worker = asyncio.create_task(self._work(), name="whatsapp-driver")
            self.media.start()
            await page.goto(self.url, wait_until="domcontentloaded")
        except BaseException as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            await self._shutdown()
            self._set_state(ConnectionState.failed, self.last_error)
            raise

    async def stop(self) -> None:
        """Close the browser (releasing the profile lock); safe to call twice."""
        self._stopping = True
        await self._shutdown()
        self._set_state(ConnectionState.stopped, "")

    async def _shutdown(self) -> None:
        await self.media.stop()
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        context, self._context = self._context, None
        self._page = None
        if context is not None:
            with contextlib.suppress(PlaywrightError):
                await context.close()
        playwright, self._playwright = self._playwright, None
        if playwright is not None:
            with contextlib.suppress(PlaywrightError):
                await playwright.stop()

    def _on_closed(self, why: str) -> None:
        if self._stopping or self.state is ConnectionState.stopped:
            return
        self.last_error = why
        self._set_state(ConnectionState.failed, why)

    @property
    def idle(self) -> bool:
        """No page report is waiting or being handled: whatever the page last showed has been acted on."""
        return not self._handling and self._reports.empty()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> None:
        """Wait until ``predicate()`` holds, re-checked after each state change, QR and capture; TimeoutError."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await self._changed.wait()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    # ---- state -----------------------------------------------------------------------------------------------
    def _set_state(self, state: ConnectionState, detail: str) -> None:
        """Move to ``state``; a new ``detail`` in the same state is reported too (e.g. the QR expired)."""
        if state is self.state and detail == self.detail:
            return
        log.info("WhatsApp: %s -> %s %s", self.state.value, state.value, detail)
        self.state = state
        self.detail = detail
        if self.on_state is not None:
            try:
                self.on_state(state, detail)
            except Exception:
                log.exception("on_state callback failed")
        self._notify()

    async def _apply_page_state(self, snap: dict[str, Any]) -> None:
        page_state = snap.get("state")
        if page_state == "logged_in":
            if self.state not in LINKED:
                self.health = await self_test(self.page, self.profile, "logged_in")
                self._qr_ref = None
                self._backfill_due = True
                self.qr_expired = False
                self.qr_reloads = 0
            if snap.get("phone_offline"):
                self._set_state(ConnectionState.phone_offline, PHONE_OFFLINE_DETAIL)
            else:
                self._set_state(ConnectionState.connected, self.health.message if self.health else "")
        elif page_state == "landing":
            if self.state in LINKED or (snap.get("post_logout") and self.state is ConnectionState.starting):
                self._set_state(ConnectionState.logged_out, "WhatsApp Web was logged out")
            if snap.get("qr_expired"):
                await self._on_qr_expired()
            else:
                self.qr_expired = False
                self._set_state(ConnectionState.scan_qr, SCAN_DETAIL)
                await self._capture_qr(snap.get("qr"))

    async def _watch_notice(self, snap: dict[str, Any]) -> None:
        """Halt every automated sender when a rate-limit or ban notice appears (see the module's docstring)."""
        shown = snap.get("notice")
        notice = shown if isinstance(shown, dict) and shown.get("name") else None
        before, self.notice = self.notice, notice
        if notice is None or (before is not None and before.get("name") == notice.get("name")):
            return
        code = str(notice.get("code") or "")
        if code not in HALT_CODES:
            return
        # Only the notice's name goes to the log: its words can carry the business's own number.
        log.warning("WhatsApp shows %s: all automated sending stops", notice["name"])
        await asyncio.to_thread(halt, self.store, code, halt_sentence(code, str(notice.get("text") or "")))
        self._notify()
        # A popup that merely warns (rate limit, restriction) is closed, so a person's replies can still be sent;
        # the ban screens have no such button in the profile (theirs log out).
        async with self._ui_lock:
            await dismiss_notice(self.page, self.profile, str(notice["name"]))

    async def _on_qr_expired(self) -> None:
        """Reload the expired code, up to ``MAX_QR_RELOADS`` times unattended; then wait for ``reload_qr``."""
        if self.qr_reloads < MAX_QR_RELOADS:
            outcome = await self._click_qr_reload()
            if outcome == "clicked":
                self.qr_reloads += 1
                log.info("WhatsApp: the QR code expired; reloaded it (%d of %d)", self.qr_reloads, MAX_QR_RELOADS)
            if outcome != "missing":
                return  # the page reports the new code
        self.qr_expired = True
        self._set_state(ConnectionState.scan_qr, QR_EXPIRED_DETAIL)

    async def _click_qr_reload(self) -> Literal["clicked", "live", "missing"]:
        """Click the QR's reload button if the code is (still) expired: ``live`` when it is not, ``missing`` when the
        button cannot be found."""
        async with self._ui_lock:
            snap = await self.scan()
            if snap is None or not snap.get("qr_expired"):
                return "live"  # reloaded meanwhile (a queued report can be older than the page)
            button = await first_match(self.page, self.profile, "qr_reload")
            if button is None:
                log.warning("WhatsApp: the QR code expired and its reload button was not found")
                return "missing"
            await button.click(timeout=OPEN_CHAT_TIMEOUT_MS)
            return "clicked"

    async def reload_qr(self) -> bool:
        """Show a fresh QR code now (the user pressed Connect after it expired); resets the unattended-reload cap.

        True when a live code is (or already was) on the page; False when the page shows no QR page or the reload
        button cannot be found. The new code arrives through ``on_qr`` as usual.
        """
        self.qr_reloads = 0
        if self.state is not ConnectionState.scan_qr and not self.qr_expired:
            return False
        if await self._click_qr_reload() == "missing":
            return False
        self.qr_expired = False
        self._set_state(ConnectionState.scan_qr, SCAN_DETAIL)
        return True

    @staticmethod
    async def _qr_picture(canvas: Locator) -> bytes:
        """The QR canvas as PNG. A busy computer can take longer than one screenshot's timeout: try again (the
        page sends no new report while the code stays the same, so giving up here would leave no code to scan)."""
        for attempt in range(1, QR_ATTEMPTS + 1):
            try:
                return await canvas.screenshot(timeout=OPEN_CHAT_TIMEOUT_MS)
            except PlaywrightTimeoutError:
                if attempt == QR_ATTEMPTS:
                    raise
                log.info(
                    "WhatsApp: the QR picture took longer than %d ms (try %d); trying again",
                    OPEN_CHAT_TIMEOUT_MS,
                    attempt,
                )
        raise AssertionError("unreachable")

    async def _capture_qr(self, ref: object) -> None:
        if not isinstance(ref, str) or not ref or ref == self._qr_ref:
            return
        canvas = await first_match(self.page, self.profile, "qr_canvas")
        if canvas is None:
            return
        # The code may rotate while the screenshot is taken: keep the picture only if the ref still matches after it.
        for _ in range(QR_ATTEMPTS):
            png = await self._qr_picture(canvas)
            snap = await self.scan()
            if snap is None or snap.get("qr_expired"):
                return  # expired while the picture was taken: never show a dead code
            shown = snap.get("qr")
            if shown == ref:
                break
            if not isinstance(shown, str) or not shown:
                return
            ref = shown
        else:
            return
        self._qr_ref = ref
        if self.on_qr is not None:
            try:
                self.on_qr(png)
            except Exception:
                log.exception("on_qr callback failed")
        self._notify()

    # ---- reports from the page -------------------------------------------------------------------------------
    async def _on_report(self, _source: Any, snap: Any) -> None:
        if isinstance(snap, dict):
            self._reports.put_nowait(snap)

    async def _work(self) -> None:
        while True:
            snap = await self._reports.get()
            self._handling = True
            try:
                await self._handle(snap)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 — one bad report (page navigating away, odd row) must not stop the driver
                if self._stopping or _navigated(exc):
                    log.debug("WhatsApp driver: report dropped (page navigated or closing): %s", exc)
                    continue
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("WhatsApp driver: could not handle a page report: %s", self.last_error)
            finally:
                self._handling = False
                if self._reports.empty():
                    self._notify()

    async def _handle(self, snap: dict[str, Any]) -> None:
        log.debug(
            "WhatsApp report: %s qr=%s header=%s rows=%d",
            snap.get("state"),
            bool(snap.get("qr")),
            snap.get("header"),
            len(snap.get("messages") or []),
        )
        await self._watch_notice(snap)
        await self._apply_page_state(snap)
        if self.state not in LINKED:
            return
        if self._backfill_due:
            self._backfill_due = False
            self.last_backfill = await Backfill(self).run()  # takes ui_lock a step at a time
            # ``snap`` predates the catch-up: its rows still carry the badges the catch-up cleared. Act on the page
            # as it is now. (The catch-up remembered each chat's row as it was when it read it, so a row that changed
            # since, with or without a badge, is opened by the sweep, and one that did not is left alone.)
            async with self._ui_lock:
                fresh = await self.scan()
            if fresh is None or fresh.get("state") != "logged_in":
                return  # (the next report says what the page shows instead)
            snap = fresh
            self._notify()
        await self.capture(snap)
        if self._reread or self._chats_to_open(snap, update=False):  # a hint only: the sweep decides on a fresh scan
            await self._sweep()

    async def scan(self) -> dict[str, Any] | None:
        snap = await self.page.evaluate(SCAN_FUNCTION)
        return snap if isinstance(snap, dict) else None

    @staticmethod
    def _chat_rows(snap: dict[str, Any]) -> list[dict[str, Any]]:
        return [c for c in snap.get("chats") or [] if isinstance(c, dict) and c.get("title")]

    def remember_row(self, snap: dict[str, Any], title: str) -> None:
        """Take the chat-list row of ``title`` in ``snap`` (a fresh scan, taken after its rows were recorded) as seen:
        only a later change to it makes the sweep open the chat again."""
        for chat in self._chat_rows(snap):
            if str(chat["title"]) == title:
                self._row_sigs[title] = str(chat.get("sig") or "")

    def _chats_to_open(self, snap: dict[str, Any], *, update: bool) -> list[str]:
        """Chats (other than the open one) with an unread badge, or whose row changed since it was last seen.

        A changed row catches messages that arrive without a badge (WhatsApp counts them as read when the chat was
        open on another device or before a reload). Rows seen for the first time only count with a badge. Only a
        fresh scan may ``update`` the remembered rows: a queued report can be older than what the driver has seen.
        """
        header = snap.get("header")
        targets: list[str] = []
        for chat in self._chat_rows(snap):
            title, sig = str(chat["title"]), str(chat.get("sig") or "")
            before = self._row_sigs.get(title)
            if update or before is None:
                self._row_sigs[title] = sig
            if title == header:
                continue
            if chat.get("unread") or (before is not None and before != sig):
                targets.append(title)
        return targets

    async def _sweep(self) -> None:
        """Open each chat that needs reading (see ``_chats_to_open``, on fresh scans) and read its rows."""
        async with self._ui_lock:
            pending: list[str] = []
            opened: dict[str, str] = {}  # title -> its row signature when the driver opened it
            for _ in range(MAX_SWEEP_OPENS):
                snap = await self.scan()
                if snap is None or snap.get("state") != "logged_in":
                    return
                header = snap.get("header")
                self._reread.discard(str(header))
                await self.capture(snap, locked=True)
                pending.extend(t for t in self._chats_to_open(snap, update=True) if t not in pending)
                pending.extend(t for t in sorted(self._reread) if t not in pending)
                sigs = {str(c["title"]): str(c.get("sig") or "") for c in self._chat_rows(snap)}
                # Done once open; skipped when opening it changed nothing (the page did not take the click).
                pending = [t for t in pending if t != header and t in sigs and opened.get(t) != sigs[t]]
                if not pending:
                    return
                title = pending.pop(0)
                opened[title] = sigs[title]
                if await self.open_chat(title):
                    await Backfill(self).read_history(title)  # a backlog longer than the rows shown on opening

    async def fetch_media(self, message_id: str) -> str:
        """Fetch a message's media now (the user's "click to fetch" on a ``missing`` one): open its chat, find its
        row among those shown and read the bytes. Returns the state it ends in: ``stored``, ``missing`` (its chat or
        row is not shown: older rows need scrolling back in WhatsApp) or ``too_large``. Raises RuntimeError when the
        driver is not running and KeyError for an unknown message."""
        message = await asyncio.to_thread(self.store.messages.get, message_id)
        chat = await asyncio.to_thread(self.store.chats.get, message.chat_id)
        titles = [*self.chats.titles_of(chat.wa_chat_id or ""), chat.title]
        async with self._ui_lock:
            snap = await self.scan()
            if snap is not None and snap.get("header") not in titles:
                for title in titles:
                    if await self.open_chat(title):
                        snap = await self.scan()
                        break
            shown = [str(r.get("id")) for r in (snap or {}).get("messages") or [] if isinstance(r, dict)]
            data_id = next((d for d in shown if d and parse_data_id(d).wa_id == message.wa_id), None)
            if snap is None or snap.get("header") not in titles or data_id is None:
                await asyncio.to_thread(self.media.sink.mark, message_id, "missing")
                return "missing"
            return await self.media.fetch_now(message_id, data_id)

    async def _show_older(self) -> bool:
        """Scroll the open chat back for earlier rows (the catch-up's scroll); the caller holds ``ui_lock``."""
        return await Backfill(self)._scroll_for_older(list(self.profile.entry("message_row").selectors))

    async def fetch_shown_media(self) -> None:
        """Read the bytes of the media captured so far while their rows are still shown (before the page leaves the
        open chat); the caller holds ``ui_lock``."""
        await self.media.drain()

    async def open_chat(self, title: str) -> bool:
        """Click the chat-list row titled ``title`` and wait for the header to show it; False when no such row is
        rendered. The caller holds ``ui_lock``."""
        page = self.page
        row_selector = None
        for selector in self.profile.entry("chat_row").selectors:
            if await page.locator(selector).count() > 0:
                row_selector = selector
                break
        if row_selector is None:
            return False
        row = page.locator(row_selector).filter(has=page.get_by_title(title, exact=True)).first
        if await row.count() == 0:  # scrolled out of the virtualized list meanwhile
            log.info("WhatsApp: chat %r is not in the rendered chat list; it is read when it shows up", title)
            return False
        await self.fetch_shown_media()  # the open chat's media rows are still shown: read them before leaving it
        await row.click(timeout=OPEN_CHAT_TIMEOUT_MS)
        await page.wait_for_function(
            "(title) => { const s = window.__parleyScan && window.__parleyScan(); return !!s && s.header === title; }",
            arg=title,
            timeout=OPEN_CHAT_TIMEOUT_MS,
        )
        self.chats_opened += 1
        return True

    async def capture(self, snap: dict[str, Any], *, locked: bool = False) -> None:
        """Record the new rows of the open chat and the changed ticks of known ones. ``locked``: ``snap`` is a fresh
        scan and the caller holds ``ui_lock`` (a contact-info look-up needs both)."""
        header = snap.get("header")
        title = header if isinstance(header, str) and header else None
        new: list[tuple[RowId, dict[str, Any]]] = []
        acks: list[CapturedAck] = []
        # Every row's wa_id, top to bottom (a report lists only the fresh rows, and its ``order`` all of them): the
        # store places each new row after the known one shown above it.
        shown = snap.get("order")
        if not isinstance(shown, list):
            shown = [row.get("id") for row in snap.get("messages") or [] if isinstance(row, dict)]
        page_order = [parse_data_id(str(data_id)).wa_id for data_id in shown if data_id]
        for row in snap.get("messages") or []:
            if not isinstance(row, dict) or not row.get("id"):
                continue
            row_id = parse_data_id(str(row["id"]))
            if row_id.chat_jid is not None and title:
                self.chats.learn(title, row_id.chat_jid)
            if row_id.wa_id in self._acks:
                ack = _own_ack(row_id, row)
                if ack is not None and ack != self._acks[row_id.wa_id]:
                    acks.append(CapturedAck(wa_id=row_id.wa_id, ack=ack))
            elif row.get("text") is not None or row.get("media"):  # else not rendered yet; reported again once it is
                new.append((row_id, row))
        chat_jid = None
        bare = [row_id.wa_id for row_id, _ in new if row_id.chat_jid is None]
        if bare:
            stored = await asyncio.to_thread(self._stored_ids, bare)
            for row_id, row in new:  # recorded already (the sender, an earlier session): only their ticks matter
                if row_id.wa_id in stored:
                    self._acks[row_id.wa_id] = None
                    # The first sight of a known row can already show newer ticks (the page reports a tick only
                    # when it changes, and this row's earlier report may have lost the race with the sender).
                    if (ack := _own_ack(row_id, row)) is not None:
                        acks.append(CapturedAck(wa_id=row_id.wa_id, ack=ack))
            new = [(row_id, row) for row_id, row in new if row_id.wa_id not in stored]
            if title and any(row_id.chat_jid is None for row_id, _ in new):
                chat_jid = await self._chat_of(title, snap, locked=locked)
                if chat_jid is None and self.chats.needs_page(title):
                    # Only the open chat's drawer can tell, and this report may be older than the page: read the
                    # chat again in the sweep (fresh scan, ui_lock held) rather than guess or drop its rows.
                    self._reread.add(title)
                    new = [(row_id, row) for row_id, row in new if row_id.chat_jid is not None]
        days = row_dates([row for row in snap.get("messages") or [] if isinstance(row, dict)])
        messages = [m for row_id, row in new if (m := self._parse_row(row_id, row, title, chat_jid, days)) is not None]
        data_ids = {row_id.wa_id: str(row["id"]) for row_id, row in new}
        if not messages and not acks:
            return
        created, fetch = await asyncio.to_thread(self._record, messages, acks, page_order)
        for message_id, wa_id in fetch:
            self.media.enqueue(message_id, data_ids[wa_id], title)
        for message in messages:
            self._acks[message.wa_id] = message.ack
        for captured_ack in acks:
            self._acks[captured_ack.wa_id] = captured_ack.ack
        self.captured += created
        self._notify()

    async def _chat_of(self, title: str, snap: dict[str, Any], *, locked: bool) -> str | None:
        """The chat id of the open chat ``title`` when its rows do not say (see ``contact_info``); the contact-info
        drawer is only opened for a fresh scan taken under ``ui_lock`` (``locked``)."""
        ambiguous = sum(1 for c in self._chat_rows(snap) if c["title"] == title) > 1
        jid = self.chats.known(title, ambiguous=ambiguous) or await self.chats.from_store(title, ambiguous=ambiguous)
        if jid is not None or not locked or not self.chats.needs_page(title):
            return jid
        return await self.chats.from_contact_info(self.page, title, ambiguous=ambiguous)

    def _stored_ids(self, wa_ids: list[str]) -> set[str]:
        """Runs on a worker thread: which of ``wa_ids`` the store already has."""
        return {wa_id for wa_id in wa_ids if self.store.messages.find_by_wa_id(wa_id) is not None}

    def _record(
        self, messages: list[CapturedMessage], acks: list[CapturedAck], page_order: list[str]
    ) -> tuple[int, list[tuple[str, str]]]:
        """Runs on a worker thread: the store calls are synchronous SQLCipher writes. ``messages`` are in page order
        and ``page_order`` lists every row of the open chat (the order the store keeps, not the rows' minutes).
        Returns how many were created and the (store id, wa_id) of those whose media bytes are to be fetched."""
        results = record_messages(self.store, messages, page=page_order) if messages else []
        fetch = [
            (result.message.id, result.message.wa_id)
            for result in results
            if result.created
            and result.message.wa_id
            and result.message.media
            and result.message.media.get("state") == "pending"
            and result.message.media.get("kind") in BYTE_KINDS
        ]
        for ack in acks:
            record_ack(self.store, ack)
        return sum(1 for result in results if result.created), fetch

    def _parse_row(
        self,
        row_id: RowId,
        row: dict[str, Any],
        title: str | None,
        title_jid: str | None,
        days: dict[str, date] | None = None,
    ) -> CapturedMessage | None:
        chat_jid = row_id.chat_jid or title_jid
        if chat_jid is None:
            self.skipped += 1
            log.debug("WhatsApp: skipping message %s: its chat is unknown", row_id.wa_id)
            return None
        from_me = row_id.from_me if row_id.from_me is not None else bool(row.get("out"))
        timestamp, author = parse_pre_plain_text(row.get("pre"))
        if timestamp is None:  # a media bubble without a caption: its own time, on the day of the row above
            timestamp = time_on((days or {}).get(str(row.get("id"))), row.get("time"))
        group = chat_jid.endswith("@g.us")
        media = media_info(row["media"]) if isinstance(row.get("media"), dict) else None
        return CapturedMessage(
            wa_id=row_id.wa_id,
            chat_jid=chat_jid,
            from_me=from_me,
            sender_jid=row_id.participant if group else None,
            push_name=None if from_me else author,
            body=str(row.get("text") or ""),  # a media message's caption
            kind=media.kind if media is not None else "text",
            media=media.model_dump(mode="json") if media is not None else None,
            timestamp=timestamp or datetime.now(UTC),
            ack=_own_ack(row_id, row),
            chat_title=title if group else None,
        )

    # ---- sending (see sender.py) -----------------------------------------------------------------------------
    async def send(self, chat_jid: str, text: str) -> None:
        """Not used: ``app.whatsapp.sender.Sender`` drains the send queue, holding ``ui_lock`` while it types."""
        raise NotImplementedError("queue the message (queue_outbound) and let app.whatsapp.sender.Sender send it")
