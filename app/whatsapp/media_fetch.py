"""Fetching received media's bytes from the WhatsApp Web page, in the background after capture.

The driver records a media message with ``state="pending"`` and hands its store id, the row's ``data-id`` and the
title of the chat it was shown in to ``MediaFetcher.enqueue``. One task then reads the bytes *in the page*
(``page_scripts``' ``__parleyGrabMedia``: the row's ``blob:`` URL, or the blob the page makes when its download/play
control is clicked; read as base64 and sent back over CDP — nothing is downloaded to disk) and gives them to the
``MediaSink`` (the store encrypts them):

- more than ``FETCH_CAP`` bytes → ``too_large`` (the user may fetch it on demand);
- the page had no bytes for it (no blob, no control, an empty blob) → ``missing`` ("not downloaded — click to
  fetch");
- its chat is open but the row is not rendered even after scrolling the conversation back (``older``, at most
  ``MAX_SCROLLS`` times) → ``missing`` too.

**What WhatsApp Web allows, and so when a photo waits.** A media message's bytes are in the page only while its
bubble is rendered, that is while its chat is open (and the row within the conversation's rendered window); leaving
the chat drops the rows and their ``blob:`` URLs, and opening the chat again renders them afresh from the page's own
cache (its latest rows; older ones after scrolling back). So a message whose chat is *not* open when its turn comes
is never marked ``missing`` for that: it is *deferred* (kept with its chat's title) and fetched when its chat is open
again — the driver's capture of a new row in that chat puts it back in line (the unread sweep reopens a chat that
gets new messages), and once nothing else is queued the fetcher reopens the chat itself (``reopen``: the driver's
``open_chat``, under ``ui_lock``) and reads what it deferred, scrolling the chat back (``older``) for a row older
than those a reopened chat renders. Only when the chat cannot be opened (not in the rendered chat list) or the row
does not show up is it ``missing``. The driver's own chat switches (sweep, catch-up, ``open_chat``) still ``drain``
the queue first, since automation can afford the wait; the sender does not (a person's reply must not wait for a
photo backlog): the photos it leaves behind are deferred.

**The page lock is held for one in-page read at a time.** ``ui_lock`` (the driver's) is taken for a single item's
read (voice notes and documents need a click) and released before its bytes are thumbnailed and written, which runs
on a worker thread while the next item is read from the page (one write in flight at a time). asyncio's lock is
fair (first come, first served), so a send waiting for the page gets it between two items: a person's reply waits
for at most one read, never for the backlog.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from playwright.async_api import Error as PlaywrightError

from app.core.media import FETCH_CAP, MediaState
from app.whatsapp.page_scripts import GRAB_FUNCTION, SCAN_FUNCTION

if TYPE_CHECKING:
    from app.whatsapp.media import MediaSink

log = logging.getLogger(__name__)

GRAB_TIMEOUT_MS = 5000  # how long the page may take to produce a blob after its control is clicked
MAX_SCROLLS = 10  # times the open chat is scrolled back for a row it no longer renders

Older = Callable[[], Awaitable[bool]]  # scroll the open chat back for earlier rows; False when none came

Reopen = Callable[[str], Awaitable[bool]]  # open the chat with this title; the caller holds ``ui_lock``


@dataclass(frozen=True)
class _Item:
    message_id: str
    data_id: str
    chat: str | None  # the title of the chat whose rows showed it (None: not known, never deferred)


@dataclass(frozen=True)
class _Grab:
    state: str  # ok | too_large | missing | elsewhere (its chat is not the open one: deferred)
    data: bytes = b""
    mime: str = ""


class MediaFetcher:
    def __init__(
        self,
        page: Any,
        lock: asyncio.Lock,
        sink: MediaSink,
        *,
        cap: int = FETCH_CAP,
        reopen: Reopen | None = None,
        older: Older | None = None,
    ) -> None:
        self._page = page  # a callable returning the driver's current Page
        self._lock = lock
        self.sink = sink
        self.cap = cap
        self.reopen = reopen
        self.older = older
        self.grab_timeout_ms = GRAB_TIMEOUT_MS
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._deferred: list[_Item] = []  # their chat was not open when their turn came
        self._task: asyncio.Task[None] | None = None
        self._write: asyncio.Task[None] | None = None  # the store write in flight (thumbnail + encrypted bytes)
        self._busy = False
        self.fetched = 0  # messages whose bytes were handed to the sink
        self.failed = 0  # marked missing / too_large
        self.deferrals = 0  # times a message waited because its chat was not open
        self._done = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="whatsapp-media")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._settle_write()  # bytes already read are kept

    @property
    def idle(self) -> bool:
        return not self._busy and self._queue.empty() and not self._deferred and self._write is None

    @property
    def deferred(self) -> int:
        """Messages waiting for their chat to be open again."""
        return len(self._deferred)

    def enqueue(self, message_id: str, data_id: str, chat: str | None = None) -> None:
        """Fetch a captured message's bytes; ``chat``: the title of the (open) chat whose rows show it. A capture in
        a chat also puts back in line what was deferred for it: the chat is open again."""
        if chat is not None and any(item.chat == chat for item in self._deferred):
            for item in [item for item in self._deferred if item.chat == chat]:
                self._deferred.remove(item)
                self._queue.put_nowait(item)
        self._queue.put_nowait(_Item(message_id, data_id, chat))
        self._wake()

    async def drain(self) -> None:
        """Read everything queued now (the open chat's rows are still shown); the caller holds ``ui_lock``. Items of
        another chat are deferred; the store writes go on in the background."""
        while not self._queue.empty():
            await self._step(self._queue.get_nowait())

    async def wait_idle(self, timeout: float) -> None:
        """Wait until nothing is queued, deferred, being read or written; TimeoutError after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            while not self.idle:
                await self._done.wait()

    async def fetch_now(self, message_id: str, data_id: str) -> MediaState:
        """Fetch one message's media at once ("click to fetch"); the caller holds ``ui_lock`` and the row is shown.
        Returns the state it ends in (``stored``, ``missing``, ``too_large``)."""
        grab = await self._grab(_Item(message_id, data_id, None))
        return await self._store(message_id, grab)

    # ---- the loop ----------------------------------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            if self._queue.empty() and self._deferred:
                await self._reopen_deferred()
                continue
            item = await self._queue.get()
            self._busy = True
            try:
                async with self._lock:  # one read per hold: a waiting send goes between two items
                    grab = await self._read(item)
                if grab is not None:  # the store part, outside the lock
                    await self._start_write(item, grab)
            except asyncio.CancelledError:
                raise
            except Exception:  # one odd message must not stop the fetcher
                log.warning("WhatsApp: fetching a media message failed", exc_info=True)
            finally:
                self._busy = False
                self._wake()

    async def _step(self, item: _Item) -> None:
        """Read one item from the page and start its store write (the caller holds ``ui_lock``)."""
        grab = await self._read(item)
        if grab is not None:
            await self._start_write(item, grab)

    async def _read(self, item: _Item) -> _Grab | None:
        """One item read from the page (the caller holds ``ui_lock``); None when it was deferred: its chat is not
        the open one."""
        grab = await self._grab(item)
        if grab.state == "elsewhere":
            self._deferred.append(item)
            self.deferrals += 1
            return None
        return grab

    async def _start_write(self, item: _Item, grab: _Grab) -> None:
        """Hand ``grab`` to the store on a worker thread, after the previous write: one in flight, overlapped with
        the next read."""
        await self._settle_write()
        self._write = asyncio.create_task(self._write_one(item.message_id, grab), name="whatsapp-media-write")

    async def _reopen_deferred(self) -> None:
        """Nothing else is queued: open the chat of the oldest deferred message and put its chat's messages back in
        line (they are read one per lock hold, like any other). Without ``reopen``, or when the chat cannot be
        opened, they end ``missing`` ("click to fetch" opens the chat later)."""
        chat = self._deferred[0].chat
        items = [item for item in self._deferred if item.chat == chat]
        self._busy = True
        try:
            async with self._lock:
                opened = False
                if chat is not None and self.reopen is not None:
                    try:
                        opened = await self._header() == chat or await self.reopen(chat)
                    except (PlaywrightError, RuntimeError) as exc:  # the page went away, the click timed out
                        log.info("WhatsApp: could not reopen a chat to read its media: %s", exc)
                for item in items:
                    self._deferred.remove(item)
                    if opened:
                        self._queue.put_nowait(item)
                if not opened:
                    for item in items:
                        await self._write_one(item.message_id, _Grab("missing"))
        finally:
            self._busy = False
            self._wake()

    # ---- page and store ----------------------------------------------------------------------------------------
    async def _header(self) -> str | None:
        snap = await self._page().evaluate(SCAN_FUNCTION)
        header = snap.get("header") if isinstance(snap, dict) else None
        return header if isinstance(header, str) else None

    async def _read_page(self, data_id: str) -> dict[str, Any]:
        try:
            result = await self._page().evaluate(GRAB_FUNCTION, [data_id, self.cap, self.grab_timeout_ms])
        except PlaywrightError as exc:
            log.info("WhatsApp: could not read a media message from the page: %s", exc)
            result = None
        return result if isinstance(result, dict) else {}

    async def _grab(self, item: _Item) -> _Grab:
        result = await self._read_page(item.data_id)
        state = result.get("state")
        if state == "gone" and item.chat is not None:
            # Not rendered: because another chat is open (wait for this one), or scrolled out of this one (a
            # reopened chat renders only its latest rows: scroll back for it, as a person would).
            try:
                if await self._header() != item.chat:
                    return _Grab("elsewhere")
                for _ in range(MAX_SCROLLS):
                    if self.older is None or not await self.older():
                        break
                    result = await self._read_page(item.data_id)
                    state = result.get("state")
                    if state != "gone":
                        break
            except PlaywrightError as exc:
                log.info("WhatsApp: could not look for a media message in its chat: %s", exc)
        if state == "ok":
            try:
                data = base64.b64decode(str(result.get("data") or ""), validate=True)
            except (binascii.Error, ValueError):
                data = b""
            if data:
                return _Grab("ok", data, str(result.get("mime") or ""))
        return _Grab("too_large" if state == "too_large" else "missing")

    async def _write_one(self, message_id: str, grab: _Grab) -> None:
        try:
            await self._store(message_id, grab)
        except Exception:  # one odd message must not stop the fetcher
            log.warning("WhatsApp: storing a media message failed", exc_info=True)
        finally:
            if self._write is asyncio.current_task():
                self._write = None
                self._wake()

    async def _settle_write(self) -> None:
        """Wait for the store write in flight, if any."""
        write = self._write
        if write is not None:
            await asyncio.shield(write)  # a cancelled caller leaves the write to finish

    async def _store(self, message_id: str, grab: _Grab) -> MediaState:
        if grab.state == "ok":
            await asyncio.to_thread(self.sink.attach, message_id, grab.data, grab.mime)
            self.fetched += 1
            return "stored"
        self.failed += 1
        final: MediaState = "too_large" if grab.state == "too_large" else "missing"
        await asyncio.to_thread(self.sink.mark, message_id, final)
        return final

    def _wake(self) -> None:
        done, self._done = self._done, asyncio.Event()
        done.set()
