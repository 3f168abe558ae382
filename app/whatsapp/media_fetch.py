"""Fetching received media's bytes from the WhatsApp Web page, in the background after capture.

The driver records a media message with ``state="pending"`` and hands its store id and the row's ``data-id`` to
``MediaFetcher.enqueue``. One task then reads the bytes *in the page* (``page_scripts``' ``__parleyGrabMedia``: the
row's ``blob:`` URL, or the blob the page makes when its download/play control is clicked; read as base64 and sent
back over CDP — nothing is downloaded to disk) and gives them to the ``MediaSink`` (the store encrypts them):

- more than ``FETCH_CAP`` bytes → ``too_large`` (the user may fetch it on demand);
- the page had no bytes for it (no blob, no control, an empty blob) → ``missing`` ("not downloaded — click to
  fetch");
- the row is no longer shown (the chat was left, the list scrolled) → ``missing`` too; the fetcher drains its queue
  before the driver opens another chat (``drain``, under ``ui_lock``), so this is rare.

It holds the driver's ``ui_lock`` while it clicks (voice notes and documents need a click), one message at a time.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from playwright.async_api import Error as PlaywrightError

from app.core.media import FETCH_CAP, MediaState
from app.whatsapp.page_scripts import GRAB_FUNCTION

if TYPE_CHECKING:
    from playwright.async_api import Page

    from app.whatsapp.media import MediaSink

log = logging.getLogger(__name__)

GRAB_TIMEOUT_MS = 5000  # how long the page may take to produce a blob after its control is clicked


class MediaFetcher:
    def __init__(self, page: Any, lock: asyncio.Lock, sink: MediaSink, *, cap: int = FETCH_CAP) -> None:
        self._page = page  # a callable returning the driver's current Page
        self._lock = lock
        self.sink = sink
        self.cap = cap
        self.grab_timeout_ms = GRAB_TIMEOUT_MS
        self._queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._busy = False
        self.fetched = 0  # messages whose bytes were handed to the sink
        self.failed = 0  # marked missing / too_large
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

    @property
    def idle(self) -> bool:
        return not self._busy and self._queue.empty()

    def enqueue(self, message_id: str, data_id: str) -> None:
        self._queue.put_nowait((message_id, data_id))

    async def drain(self) -> None:
        """Fetch everything queued now; the caller holds ``ui_lock`` (the rows are still shown)."""
        while not self._queue.empty():
            message_id, data_id = self._queue.get_nowait()
            await self._fetch(message_id, data_id)

    async def wait_idle(self, timeout: float) -> None:
        """Wait until nothing is queued or being fetched; TimeoutError after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            while not self.idle:
                await self._done.wait()

    async def fetch_now(self, message_id: str, data_id: str) -> MediaState:
        """Fetch one message's media at once ("click to fetch"); the caller holds ``ui_lock`` and the row is shown.
        Returns the state it ends in (``stored``, ``missing``, ``too_large``)."""
        return await self._fetch(message_id, data_id)

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            self._busy = True
            try:
                async with self._lock:
                    await self._fetch(*item)
                    await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:  # one odd message must not stop the fetcher
                log.warning("WhatsApp: fetching a media message failed", exc_info=True)
            finally:
                self._busy = False
                done, self._done = self._done, asyncio.Event()
                done.set()

    async def _fetch(self, message_id: str, data_id: str) -> MediaState:
        page: Page = self._page()
        try:
            result = await page.evaluate(GRAB_FUNCTION, [data_id, self.cap, self.grab_timeout_ms])
        except PlaywrightError as exc:
            log.info("WhatsApp: could not read a media message from the page: %s", exc)
            result = None
        result = result if isinstance(result, dict) else {}
        state = result.get("state")
        if state == "ok":
            try:
                data = base64.b64decode(str(result.get("data") or ""), validate=True)
            except (binascii.Error, ValueError):
                data = b""
            if data:
                await asyncio.to_thread(self.sink.attach, message_id, data, str(result.get("mime") or ""))
                self.fetched += 1
                return "stored"
        self.failed += 1
        final: MediaState = "too_large" if state == "too_large" else "missing"
        await asyncio.to_thread(self.sink.mark, message_id, final)
        return final
