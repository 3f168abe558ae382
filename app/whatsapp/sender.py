"""Drains the store's send queue through the WhatsApp Web page, one message at a time, like a person would.

``Sender.send_next()`` takes the oldest message of ``store.messages.send_queue()`` and returns a ``SendOutcome``:

- **Limits first.** The number's send history comes from the store (outbound messages sent / delivered / read in the
  last 24 h, keyed by the chat's contact, at their ``sent_at``; the number's first send is the oldest such message).
  When ``limits.check`` refuses, the outcome is ``waiting`` with ``not_before`` and the reason; nothing is touched.
- **Crash recovery.** A message already in ``typing`` is one we were sending when the app stopped. Its chat is opened
  and its rows are read: an outgoing row with the same text that the store has not recorded is the message WhatsApp
  already took, so it is recorded through ``intake`` (which adopts the typing row) → ``recovered``, never retyped.
  If the driver's own capture adopted it meanwhile, that is ``recovered`` too. Only when no such row is there is the
  message typed again (the composer is cleared first, in case half of it was typed).
- **Sending.** The row is marked ``typing`` (and its ``sent_at`` set to now) and committed *before* the page is
  touched, so a crash leaves evidence. Then, holding ``driver.ui_lock`` for the whole page interaction: open the chat
  (click its chat-list row found by the chat's title and wait for the header to show it; when the list does not show
  it, navigate to ``/send?phone=<digits>``, which WhatsApp Web and the imitation both support), wait the reading time
  if the chat ends with inbound messages, click the composer, clear it, type the humanizer's plan grapheme by grapheme
  with its delays (ASCII with ``keyboard.type``, everything else with ``keyboard.insert_text``, a newline with
  Shift+Enter), press Enter, wait for the new outgoing row with a ``data-id`` and record it through ``intake`` (the
  driver's capture may do the same first; intake de-duplicates by ``wa_id``). The store row ends with its ``wa_id``
  and status ``sent``; later acks move it on through the driver.
- **Files.** A queued media message (``media`` with the encrypted bytes' ``blob_id``, ``app.store.ops.media``)
  goes the same way up to the composer; then ``sender_media.attach_file`` sets the file from memory on the page's
  file input (photos and videos through "Photos & videos", anything else as a document), the caption is typed in the
  preview's caption box with the humanizer, Enter sends, and the message is ``sent`` once our media bubble with that
  caption shows a tick (the clock stays while the file uploads). Crash recovery matches a media row by kind and
  caption (none is a caption too), and both the sender and the driver's capture let such a row claim its queued
  message first (``intake``, by kind and caption): a photo without a caption is never sent twice.
- **One sending device per number.** In a team the queue syncs to every computer, but only the device that holds
  the number's WhatsApp session sends (``app.store.sending_device``): when another device holds it, the outcome is
  ``elsewhere`` ("Waiting for <device> to send") and nothing is touched. It is checked again in the transaction that
  marks the message ``typing``, so a claim pulled meanwhile stops the send before anything is typed. A message the
  previous holder left ``typing`` goes through crash recovery here too: found in the chat, it is adopted, not
  retyped.

Failure policy:

- Before anything is typed (no chat to open, composer missing — the ``chat_open`` self-test then names what broke):
  status ``failed`` with ``status_reason`` and a ``MessageStatusChanged`` event; outcome ``failed``. Not retried
  automatically: a person must look (wrong number, page profile out of date).
- After Enter, when the row does not show up in time: the message stays ``typing`` (WhatsApp may have it) and the
  outcome is ``retry``; the next ``send_next`` goes through crash recovery, so it is never sent twice.
  ``run_until_empty`` stops at the first outcome that is not ``sent`` / ``recovered``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from app.core.errors import ParleyError
from app.core.events import MessageStatusChanged
from app.core.media import shown_as
from app.core.models import Chat, Message
from app.store.intake import CapturedMessage, record_messages
from app.store.ops.automation import halted
from app.store.sending_device import Claim, held_elsewhere, waiting_sentence
from app.whatsapp.driver import ack_level, parse_data_id, parse_pre_plain_text
from app.whatsapp.humanizer import Humanizer
from app.whatsapp.limits import Decision, Send, SendLimits, check
from app.whatsapp.media import media_info
from app.whatsapp.notices import NOT_ON_WHATSAPP
from app.whatsapp.pacing import Pace, next_slot, stricter
from app.whatsapp.pacing_history import history
from app.whatsapp.page_scripts import OPENED_BY_PHONE, SCAN_FUNCTION
from app.whatsapp.probe import ProbeReport, dismiss_notice, first_match, self_test
from app.whatsapp.sender_media import UPLOAD_TIMEOUT_MS, attach_file, wait_media_row

if TYPE_CHECKING:
    from playwright.async_api import Page

    from app.store.store import Store
    from app.whatsapp.driver import WhatsAppDriver

log = logging.getLogger(__name__)

OPEN_TIMEOUT_MS = 8000
ROW_TIMEOUT_MS = 10_000
SENT_STATUSES = ("sent", "delivered", "read")
HALT_RECHECK = timedelta(seconds=60)  # automated messages look again this often while sending is halted
UPLOAD_RECHECK = timedelta(seconds=60)  # a file still uploading after the settle wait steps aside this long
# Our bubble with this wa_id once its clock gave way to a tick or the error mark.
_SETTLED_ROW = """(wa) => {
    const s = window.__parleyScan && window.__parleyScan();
    if (!s) return null;
    return (s.messages || []).find((m) => m.id && (m.id === wa || m.id.split('_').includes(wa))
        && m.ack && !m.ack.endsWith('time')) || null;
}"""
_HEADER_IS = "(t) => { const s = window.__parleyScan && window.__parleyScan(); return !!s && s.header === t; }"

OutcomeKind = Literal["sent", "recovered", "waiting", "failed", "retry", "paused", "idle", "elsewhere"]


@dataclass(frozen=True)
class SendOutcome:
    kind: OutcomeKind
    message_id: str | None = None
    wa_id: str | None = None
    not_before: datetime | None = None
    reason: str = ""
    report: ProbeReport | None = None  # with ``paused``: the self-test that found the page broken


class SendFailed(ParleyError):
    """Nothing was typed and the message cannot go out as it is: it becomes ``failed`` with this reason."""

    hint = "Check the chat's number, then choose Try again in the message's menu."


class NotReady(ParleyError):
    """Nothing was typed because WhatsApp Web is not in a state to send (logged out, reloading): try later."""

    hint = "Parley sends it once WhatsApp is connected again."


class PageBroken(ParleyError):
    """Nothing was typed because the page profile no longer matches WhatsApp Web: every send pauses."""

    hint = "Sending is paused until Parley's page profile matches WhatsApp Web again (update Parley)."

    def __init__(self, report: ProbeReport) -> None:
        super().__init__(report.message)
        self.report = report


def _utc_now() -> datetime:
    return datetime.now(UTC)


def automated(message: Message) -> bool:
    """Queued without a human author: a campaign, an agent, an away or welcome message."""
    return message.author_user_id is None


def _settled_ack(row: dict[str, Any]) -> bool:
    """The row shows a tick or the error mark, not the clock (nor nothing)."""
    return ack_level(row.get("ack"), str(row.get("ack_label") or "")) not in (None, 0)


def _same_text(a: object, b: str) -> bool:
    return isinstance(a, str) and a.strip() == b.strip()


def _same_row(row: dict[str, Any], message: Message) -> bool:
    """The page row shows ``message``: its text, or for a media message its kind and caption (maybe none)."""
    if message.media and message.kind != "text":
        media = row.get("media")
        caption = row.get("text") if isinstance(row.get("text"), str) else ""
        same_kind = isinstance(media, dict) and media.get("kind") == shown_as(message.kind)
        return same_kind and _same_text(caption, message.body)
    return _same_text(row.get("text"), message.body)


class Sender:
    def __init__(
        self,
        driver: WhatsAppDriver,
        store: Store,
        humanizer: Humanizer,
        limits_settings: SendLimits | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        pace: Pace | None = None,
        stricter: Callable[[Message], Pace | None] | None = None,
    ) -> None:
        self.driver = driver
        self.store = store
        self.humanizer = humanizer
        self.limits = limits_settings or SendLimits()
        self.clock = clock
        self._sleep = sleep
        self.page_report: ProbeReport | None = None  # the self-test of an open chat, once per sender (connection)
        # The number's budget for automated messages (``app.whatsapp.pacing``); None: only the bulk gap between
        # contacts from the humanizer's settings (a sender built without the app's settings, as in most tests).
        self.pace = pace
        self.stricter = stricter  # a campaign's own, stricter pace for its messages (never looser)
        self._draw: tuple[datetime, float] | None = None  # the gap's random draw for the latest automated send
        self._last_auto_done: datetime | None = None  # when the latest automated send finished (this session)
        self.upload_timeout_ms = UPLOAD_TIMEOUT_MS  # how long settling a file caught uploading waits for its tick
        self._uploading: dict[str, datetime] = {}  # message id -> when to look at its still-uploading file again

    # ---- public ----------------------------------------------------------------------------------------------
    async def run_until_empty(self, max_messages: int = 1000) -> list[SendOutcome]:
        """Send until the queue is empty or an outcome other than sent / recovered (waiting, failed, retry)."""
        outcomes: list[SendOutcome] = []
        for _ in range(max_messages):
            outcome = await self.send_next()
            if outcome.kind == "idle":
                break
            outcomes.append(outcome)
            if outcome.kind not in ("sent", "recovered"):
                break
        return outcomes

    async def send_next(self) -> SendOutcome:
        queue = await asyncio.to_thread(self.store.messages.send_queue)
        if not queue:
            return SendOutcome("idle")
        # One sending device per number: another device holds the WhatsApp session, so it sends; this queue waits.
        elsewhere = await asyncio.to_thread(held_elsewhere, self.store)
        if elsewhere is not None:
            return SendOutcome("elsewhere", queue[0].id, reason=waiting_sentence(elsewhere))
        picked = await asyncio.to_thread(self._pick, queue)
        if isinstance(picked, SendOutcome):
            return picked
        message, chat = picked
        # Caught mid-send, or already holding the wa_id of a bubble WhatsApp has (a file still uploading).
        recovering = message.status == "typing" or message.wa_id is not None
        if not recovering:
            marked = await asyncio.to_thread(self._mark_typing, message)
            if isinstance(marked, Claim):
                return SendOutcome("elsewhere", message.id, reason=waiting_sentence(marked))
            message = marked
        try:
            async with self.driver.ui_lock:
                outcome = await self._drive(message, chat, recovering)
        except SendFailed as exc:
            await asyncio.to_thread(self._fail, message.id, str(exc))
            return SendOutcome("failed", message.id, reason=str(exc))
        except (PageBroken, NotReady) as exc:
            # Nothing was typed this time. A message caught mid-send earlier stays ``typing``: WhatsApp may hold it,
            # so it must be looked up in the chat before it is ever typed again.
            if not recovering:
                await asyncio.to_thread(self._requeue, message.id)
            if isinstance(exc, PageBroken):
                return SendOutcome("paused", message.id, reason=str(exc), report=exc.report)
            return SendOutcome("retry", message.id, reason=str(exc))
        if outcome.kind in ("sent", "recovered") and automated(message):
            self._last_auto_done = self.clock()
        if outcome.kind == "retry" and message.id in self._uploading:
            return await self.send_next()  # it steps aside while WhatsApp uploads it: the rest of the queue goes on
        return outcome

    # ---- choosing the next message ---------------------------------------------------------------------------
    def _pick(self, queue: list[Message]) -> tuple[Message, Chat] | SendOutcome:
        """The first message that may go now, or a ``waiting`` outcome saying when the earliest one may.

        A message caught mid-send (``typing``) is settled first, then a person's messages, then automated ones (no
        human author: campaigns, agents). Within a chat a person's messages go strictly in order and so do the
        automated ones (only the oldest of each is a candidate), but a person's reply does not wait behind an
        automated message held by the budget; across chats, a chat held back by a limit does not hold the others.
        A person's messages keep quiet hours and the per-contact cap and are counted only against each other for
        the number's hourly and daily caps; automated ones draw from the number's pacing budget as well
        (``app.whatsapp.pacing``) and none goes while automated sending is halted (``app.store.ops.automation``).
        """
        now = self.clock()
        candidates: list[Message] = []
        seen: set[tuple[str, bool]] = set()
        settling: set[str] = set()  # chats with a message caught mid-send: nothing else of theirs goes first
        aside: list[tuple[datetime, Message]] = []
        for message in sorted(queue, key=lambda m: (m.status != "typing", automated(m))):
            recheck = self._uploading.get(message.id)
            if message.wa_id is not None and recheck is not None and now < recheck:
                # A file WhatsApp holds and still uploads: its tick is followed by the driver; it does not hold up
                # the queue (WhatsApp keeps the chat's order), and it is looked at again at ``recheck``.
                aside.append((recheck, message))
                continue
            key = (message.chat_id, automated(message))
            if message.chat_id in settling or key in seen:
                continue
            seen.add(key)
            if message.status == "typing":
                settling.add(message.chat_id)
            candidates.append(message)
        if not candidates:
            recheck, message = min(aside, key=lambda pair: pair[0])
            return SendOutcome("waiting", message.id, not_before=recheck, reason="WhatsApp is still uploading a file")
        sends, first_send = self._history()
        own = [s for s in sends if not s.automated]
        halt = halted(self.store) if any(automated(m) for m in candidates) else None
        earliest: SendOutcome | None = None
        for message in candidates:
            chat = self.store.chats.get(message.chat_id)
            contact = chat.contact_id or chat.id
            if not automated(message):
                mine = own + [s for s in sends if s.automated and s.contact_id == contact]
                decision = check(now, contact, mine, first_send, self.limits)
            elif halt is not None:
                decision = Decision(False, now + HALT_RECHECK, f"automated sending is stopped: {halt.sentence}")
            else:
                decision = check(now, contact, sends, first_send, self.limits)
                if decision.allowed and message.status != "typing" and message.wa_id is None:  # settled first
                    decision = self._paced(message, contact, [s for s in sends if s.automated], first_send, now)
            if decision.allowed:
                return message, chat
            if earliest is None or (decision.not_before or now) < (earliest.not_before or now):
                earliest = SendOutcome("waiting", message.id, not_before=decision.not_before, reason=decision.reason)
        assert earliest is not None
        return earliest

    def _paced(
        self, message: Message, contact: str, sends: list[Send], first_send: datetime | None, now: datetime
    ) -> Decision:
        """The pacing budget's word on an automated ``message`` (the number's pace, or a campaign's stricter one)."""
        base = self.pace or self._bulk_gap_only()
        pace = stricter(base, self.stricter(message) if self.stricter is not None else None)
        latest = max((s.at for s in sends), default=None)
        if latest is not None and (self._draw is None or self._draw[0] != latest):
            self._draw = (latest, self.humanizer.rng.random())  # one draw per automated send, kept across picks
        fraction = self._draw[1] if self._draw is not None else 0.0
        wait = next_slot(
            now, pace, sends, first_send, contact=contact, gap_fraction=fraction, last_done=self._last_auto_done
        )
        return Decision(True) if wait is None else Decision(False, wait.until, wait.reason)

    def _bulk_gap_only(self) -> Pace:
        typing = self.humanizer.settings
        unlimited = 10**9
        return Pace(
            gap_min_seconds=typing.gap_seconds_min,
            gap_max_seconds=typing.gap_seconds_max,
            per_hour=unlimited,
            per_day=unlimited,
            warmup=(),
            windows=(),
            batch_size=unlimited,
            batch_pause_seconds=0.0,
            timezone=self.limits.timezone,
        )

    # ---- store -----------------------------------------------------------------------------------------------
    def _history(self) -> tuple[list[Send], datetime | None]:
        """The number's sends in the last 24 h (at their ``sent_at``, keyed by contact, automated ones marked) and
        its first send ever (``app.whatsapp.pacing_history``)."""
        return history(self.store, self.clock())

    def _mark_typing(self, message: Message) -> Message | Claim:
        """Mark ``message`` typing, or return the claim of the device that holds the number instead (checked in the
        same write transaction, so a claim pulled meanwhile is never missed)."""
        with self.store.db.transaction():
            elsewhere = held_elsewhere(self.store)
            if elsewhere is not None:
                return elsewhere
            updated = self.store.messages.update(message.id, status="typing", status_reason=None, sent_at=self.clock())
            self.store.emit(
                MessageStatusChanged(
                    org_id=self.store.org_id, message_id=message.id, status="typing", previous=message.status
                )
            )
        return updated

    def _fail(self, message_id: str, reason: str, forget_bubble: bool = False) -> None:
        """``forget_bubble``: WhatsApp dropped the bubble it had taken (upload failed or gone): its ``wa_id`` goes,
        so "Try again" sends the message afresh."""
        with self.store.db.transaction():
            message = self.store.messages.get(message_id)
            if message.status not in ("queued", "typing") and not (forget_bubble and message.status == "failed"):
                return  # adopted meanwhile: it went out after all (or the driver failed it by the error mark)
            changes: dict[str, Any] = {"status": "failed", "status_reason": reason}
            if forget_bubble:
                changes["wa_id"] = None
            self.store.messages.update(message_id, **changes)
            if message.status != "failed":
                self.store.emit(
                    MessageStatusChanged(
                        org_id=self.store.org_id, message_id=message_id, status="failed", previous=message.status
                    )
                )
        log.warning("WhatsApp: message %s failed: %s", message_id, reason)

    def _requeue(self, message_id: str) -> None:
        """Back to ``queued``: nothing was typed, so the message waits for a working page."""
        with self.store.db.transaction():
            message = self.store.messages.get(message_id)
            if message.status != "typing" or message.wa_id is not None:
                return
            self.store.messages.update(message_id, status="queued")
            requeued = MessageStatusChanged(
                org_id=self.store.org_id, message_id=message_id, status="queued", previous="typing"
            )
            self.store.emit(requeued)

    def _record_row(self, chat: Chat, row: dict[str, Any]) -> None:
        row_id = parse_data_id(str(row["id"]))
        when, _author = parse_pre_plain_text(row.get("pre"))
        media = media_info(row["media"]) if isinstance(row.get("media"), dict) else None
        captured = CapturedMessage(
            wa_id=row_id.wa_id,
            chat_jid=row_id.chat_jid or chat.wa_chat_id or "",
            from_me=True,
            body=str(row.get("text") or ""),
            kind=media.kind if media is not None else "text",
            media=media.model_dump(mode="json") if media is not None else None,
            timestamp=when or self.clock(),
            ack=ack_level(row.get("ack"), str(row.get("ack_label") or "")),
        )
        record_messages(self.store, [captured])

    # ---- page ------------------------------------------------------------------------------------------------
    async def _drive(self, message: Message, chat: Chat, recovering: bool) -> SendOutcome:
        if not chat.wa_chat_id:
            raise SendFailed(f"the chat '{chat.title}' has no WhatsApp id")
        page = self.driver.page
        await self._open_chat(page, chat)
        if self.page_report is None:
            # The first chat opened on this connection: check every entry of an open chat before anything is typed.
            self.page_report = await self_test(page, self.driver.profile, "chat_open")
            if self.page_report.broken:
                report, self.page_report = self.page_report, None
                raise PageBroken(report)
        snap = await self._scan(page)
        rows = [r for r in snap.get("messages") or [] if isinstance(r, dict) and r.get("id")]
        if recovering:
            found = await self._recover(page, message, chat, rows)
            if found is not None:
                return found
        reading = self._unread_text(message, chat)
        if reading:
            await self._sleep(self.humanizer.reading_seconds(reading))
        if message.media and message.kind != "text":
            return await self._send_media(page, message, chat, rows)
        composer = await first_match(page, self.driver.profile, "composer")
        if composer is None:
            report = await self_test(page, self.driver.profile, "chat_open")
            if report.broken:
                raise PageBroken(report)
            raise SendFailed("the WhatsApp composer was not found")
        await composer.click(timeout=OPEN_TIMEOUT_MS)
        await page.keyboard.press("Control+A")
        await page.keyboard.press("Backspace")
        await self._type(page, message.body)
        known = [str(r["id"]) for r in rows]
        await page.keyboard.press("Enter")
        try:
            handle = await page.wait_for_function(
                """([text, known]) => {
                    const s = window.__parleyScan && window.__parleyScan();
                    if (!s) return null;
                    return (s.messages || []).find((m) => m.id && m.out && !known.includes(m.id)
                        && typeof m.text === 'string' && m.text.trim() === text.trim()) || null;
                }""",
                arg=[message.body, known],
                timeout=ROW_TIMEOUT_MS,
            )
            row = await handle.json_value()
        except PlaywrightTimeoutError:
            reason = "the sent message did not show up in WhatsApp in time; it is checked again before any retry"
            log.warning("WhatsApp: message %s: %s", message.id, reason)
            return SendOutcome("retry", message.id, reason=reason)
        await asyncio.to_thread(self._record_row, chat, row)
        stored = await asyncio.to_thread(self.store.messages.get, message.id)
        if stored.wa_id is None or stored.status not in SENT_STATUSES:
            # The page row was taken by another stored message with the same text: leave ours for recovery.
            return SendOutcome("retry", message.id, reason="the sent row was not adopted by this message")
        return SendOutcome("sent", message.id, wa_id=stored.wa_id)

    async def _type(self, page: Page, text: str) -> None:
        """Type ``text`` into the focused box with the humanizer's keystrokes and delays."""
        # Each key is due at its planned time from the first one, so the time a keystroke itself takes (a round trip
        # to the browser, ~30 ms) is absorbed instead of slowing the whole message below its planned pace.
        started, due = time.monotonic(), 0.0
        for key in self.humanizer.typing_plan(text).keystrokes:
            due += key.delay
            await self._sleep(max(0.0, started + due - time.monotonic()))
            if key.text == "\n":
                await page.keyboard.press("Shift+Enter")
            elif key.text.isascii():
                await page.keyboard.type(key.text)
            else:
                await page.keyboard.insert_text(key.text)

    async def _send_media(self, page: Page, message: Message, chat: Chat, rows: list[dict[str, Any]]) -> SendOutcome:
        """Attach the message's file through the page's file input (from memory: no file on disk), type its caption
        in the preview's caption box, send with Enter, and wait for our media bubble (see ``sender_media``)."""
        attached = await attach_file(page, self.driver.profile, self.store, message)
        if attached.caption_box is None:
            raise SendFailed(attached.problem or "the WhatsApp media preview did not open")
        await attached.caption_box.click(timeout=OPEN_TIMEOUT_MS)
        await self._type(page, message.body)
        known = [str(r["id"]) for r in rows]
        await page.keyboard.press("Enter")  # Enter only: Enter plus a click on send has sent twice (alright#89)
        row = await wait_media_row(page, message, known, UPLOAD_TIMEOUT_MS)
        if row is None:
            reason = "the sent file did not show up in WhatsApp in time; it is checked again before any retry"
            log.warning("WhatsApp: message %s: %s", message.id, reason)
            return SendOutcome("retry", message.id, reason=reason)
        await asyncio.to_thread(self._record_row, chat, row)
        stored = await asyncio.to_thread(self.store.messages.get, message.id)
        if stored.wa_id is None or stored.status not in SENT_STATUSES:
            return SendOutcome("retry", message.id, reason="the sent row was not adopted by this message")
        return SendOutcome("sent", message.id, wa_id=stored.wa_id)

    async def _recover(
        self, page: Page, message: Message, chat: Chat, rows: list[dict[str, Any]]
    ) -> SendOutcome | None:
        """The outcome when WhatsApp already holds the typing message (not retyped), else None."""
        current = await asyncio.to_thread(self.store.messages.get, message.id)
        if current.wa_id is not None:  # the driver's capture adopted it (when the chat opened, or mid-upload)
            if current.status in SENT_STATUSES:
                return SendOutcome("recovered", message.id, wa_id=current.wa_id)
            return await self._settle_upload(page, current, chat, rows)
        for row in reversed(rows):
            if not row.get("out") or not _same_row(row, message):
                continue
            wa_id = parse_data_id(str(row["id"])).wa_id
            known = await asyncio.to_thread(self.store.messages.find_by_wa_id, wa_id)
            if known is not None and known.id != message.id:
                continue  # an earlier message with the same text
            if known is None:
                await asyncio.to_thread(self._record_row, chat, row)
            current = await asyncio.to_thread(self.store.messages.get, message.id)
            if current.wa_id is not None:
                log.info("WhatsApp: message %s was already sent before a restart; not typed again", message.id)
                return SendOutcome("recovered", message.id, wa_id=current.wa_id)
        return None

    async def _settle_upload(self, page: Page, message: Message, chat: Chat, rows: list[dict[str, Any]]) -> SendOutcome:
        """A file WhatsApp took (its bubble has our ``wa_id``) but not yet shown sent: the app stopped, or the sender
        gave up waiting, while it uploaded. Never attached again. Its bubble, looked at in the open chat:

        - a tick → ``sent`` (``recovered``);
        - the clock still after ``upload_timeout_ms`` → it stays ``typing`` (WhatsApp may still deliver it: failing
          it would invite a second send) and steps aside for ``UPLOAD_RECHECK``; the driver follows its tick;
        - the error mark (upload failed), or no bubble with that id after ``ROW_TIMEOUT_MS`` (WhatsApp dropped it)
          → ``failed`` with a sentence and without the ``wa_id``, so "Try again" attaches it afresh.
        """
        wa_id = message.wa_id
        assert wa_id is not None
        shown = next((r for r in rows if parse_data_id(str(r["id"])).wa_id == wa_id), None)
        row = shown if shown is not None and _settled_ack(shown) else None
        if row is None:
            timeout = self.upload_timeout_ms if shown is not None else ROW_TIMEOUT_MS
            try:
                handle = await page.wait_for_function(_SETTLED_ROW, arg=wa_id, timeout=timeout)
                found = await handle.json_value()
                row = found if isinstance(found, dict) else None
            except PlaywrightTimeoutError:
                row = None
        if row is None:
            snap = await self._scan(page)
            still = any(parse_data_id(str(r.get("id"))).wa_id == wa_id for r in snap.get("messages") or [])
            if still:
                self._uploading[message.id] = self.clock() + UPLOAD_RECHECK
                reason = "WhatsApp is still uploading the file; it is marked sent when the page shows it sent"
                log.info("WhatsApp: message %s: %s", message.id, reason)
                return SendOutcome("retry", message.id, reason=reason)
            return await self._upload_failed(
                message, "WhatsApp no longer shows the file in the chat, so it was not sent."
            )
        if (ack_level(row.get("ack"), str(row.get("ack_label") or "")) or 0) < 0:
            return await self._upload_failed(message, "WhatsApp could not send the file (it shows it as not sent).")
        await asyncio.to_thread(self._record_row, chat, row)
        self._uploading.pop(message.id, None)
        stored = await asyncio.to_thread(self.store.messages.get, message.id)
        if stored.status not in SENT_STATUSES:
            return SendOutcome("retry", message.id, reason="the sent file was not recorded for this message")
        log.info("WhatsApp: message %s: the file caught uploading has been sent; not attached again", message.id)
        return SendOutcome("recovered", message.id, wa_id=stored.wa_id)

    async def _upload_failed(self, message: Message, reason: str) -> SendOutcome:
        self._uploading.pop(message.id, None)
        await asyncio.to_thread(self._fail, message.id, reason, True)
        return SendOutcome("failed", message.id, reason=reason)

    def _unread_text(self, message: Message, chat: Chat) -> str:
        """Inbound messages at the end of the chat (after our last outbound one): what a person reads first."""
        recent = self.store.messages.for_chat(chat.id, limit=20)
        tail: list[str] = []
        for item in reversed(recent):
            if item.id == message.id:
                continue
            if item.direction != "in":
                break
            tail.append(item.body)
        return "\n".join(reversed(tail))

    async def _scan(self, page: Page) -> dict[str, Any]:
        snap = await page.evaluate(SCAN_FUNCTION)
        return snap if isinstance(snap, dict) else {}

    async def _open_chat(self, page: Page, chat: Chat) -> None:
        """Open ``chat``: its chat-list row when the list shows it, else ``/send?phone=<digits>``; SendFailed if not."""
        snap = await self._scan(page)
        if snap.get("state") != "logged_in":
            raise NotReady("WhatsApp Web is not logged in")
        if snap.get("header") == chat.title:
            return
        titles = {str(c.get("title")) for c in snap.get("chats") or [] if isinstance(c, dict)}
        if chat.title in titles:
            for selector in self.driver.profile.entry("chat_row").selectors:
                rows = page.locator(selector).filter(has=page.get_by_title(chat.title, exact=True))
                if await rows.count() == 0:
                    continue
                with contextlib.suppress(PlaywrightTimeoutError):
                    await rows.first.click(timeout=OPEN_TIMEOUT_MS)
                    await page.wait_for_function(
                        _HEADER_IS,
                        arg=chat.title,
                        timeout=OPEN_TIMEOUT_MS,
                    )
                    return
        await self._open_by_phone(page, chat)

    async def _open_by_phone(self, page: Page, chat: Chat) -> None:
        user, _, server = (chat.wa_chat_id or "").partition("@")
        digits = re.sub(r"\D", "", user)
        if server != "c.us" or not 7 <= len(digits) <= 15:
            raise SendFailed(f"the chat '{chat.title}' is not in the WhatsApp chat list and has no phone number")
        parts = urlsplit(self.driver.url)
        url = urlunsplit((parts.scheme, parts.netloc, "/send", f"phone={digits}", ""))
        try:
            await page.goto(url, wait_until="domcontentloaded")
            handle = await page.wait_for_function(OPENED_BY_PHONE, timeout=OPEN_TIMEOUT_MS + 10_000)
            opened = await handle.json_value()
        except (PlaywrightTimeoutError, PlaywrightError) as exc:
            log.warning("opening a chat by its number failed: %s", type(exc).__name__)
            raise SendFailed(f"WhatsApp could not open a chat with +{digits}.") from exc
        if opened != "open":  # WhatsApp says the number has no account: fail with the reason campaigns skip on
            await dismiss_notice(page, self.driver.profile, str(opened))
            raise SendFailed(NOT_ON_WHATSAPP)
