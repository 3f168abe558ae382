"""The page side of sending a file: attach it through WhatsApp Web's own file input, and see its bubble appear.

``attach_file`` reads the queued message's bytes from the store (decrypted in memory), clicks the composer's attach
button (profile ``media_attach_button``), waits for the attach menu's hidden input (``media_input_photos`` for
photos and videos — it accepts video too, unlike the sticker maker's decoy — ``media_input_document`` for anything
else) and sets the file on it from memory (Playwright's ``{"name", "mimeType", "buffer"}``: nothing is written to
disk), then waits for the media preview's caption box (``media_caption``). The sender types the caption there with
the humanizer and presses Enter; ``wait_media_row`` waits for our new media bubble with that caption to show a tick
(the clock stays while the file uploads).
"""

from __future__ import annotations

import asyncio
import mimetypes
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import FilePayload
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from app.core.media import MediaInfo, shown_as
from app.whatsapp.probe import first_match

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

    from app.core.models import Message
    from app.store.store import Store
    from app.whatsapp.profile import Profile

STEP_TIMEOUT_MS = 8000
UPLOAD_TIMEOUT_MS = 30_000  # from Enter until the bubble shows a tick; later, the message is settled by recovery

_NEW_MEDIA_ROW = """([known, kind, caption]) => {
    const s = window.__parleyScan && window.__parleyScan();
    if (!s) return null;
    // Sent once the clock gave way to a tick: until then the file is still uploading (a big one for a while).
    return (s.messages || []).find((m) => m.id && m.out && !known.includes(m.id) && m.media
        && m.media.kind === kind && (m.text || '').trim() === caption.trim()
        && m.ack && m.ack !== 'msg-time' && !m.ack.includes('error')) || null;
}"""


@dataclass(frozen=True)
class Attached:
    caption_box: Locator | None  # the preview's caption box, once the file is attached
    problem: str = ""  # why not, for the message's failure reason


def _file_name(info: MediaInfo) -> str:
    if info.file_name:
        return info.file_name
    extension = mimetypes.guess_extension(info.mime or "") or ""
    return {"image": "photo", "video": "video"}.get(info.kind, "file") + extension


async def _wait_for(page: Page, profile: Profile, name: str) -> Locator | None:
    """The first fallback of entry ``name`` once any of them is on the page (within ``STEP_TIMEOUT_MS``)."""
    try:
        await page.wait_for_selector(
            ", ".join(profile.entry(name).selectors), state="attached", timeout=STEP_TIMEOUT_MS
        )
    except (PlaywrightTimeoutError, PlaywrightError):
        return None
    return await first_match(page, profile, name)


async def attach_file(page: Page, profile: Profile, store: Store, message: Message) -> Attached:
    """Attach ``message``'s file in the open chat; the caller holds ``ui_lock`` and has opened the chat."""
    info = MediaInfo.model_validate(message.media)
    if not info.blob_id or not await asyncio.to_thread(store.media.exists, info.blob_id):
        return Attached(None, "the file to send is no longer on this computer")
    data = await asyncio.to_thread(store.media.get, info.blob_id)
    stored_mime: str | None = await asyncio.to_thread(store.media.mime, info.blob_id)
    mime = info.mime or stored_mime or "application/octet-stream"
    button = await first_match(page, profile, "media_attach_button")
    if button is None:
        return Attached(None, "the WhatsApp attach button was not found")
    await button.click(timeout=STEP_TIMEOUT_MS)
    entry = "media_input_photos" if shown_as(info.kind) in ("image", "video") else "media_input_document"
    file_input = await _wait_for(page, profile, entry)
    if file_input is None:
        return Attached(None, "the WhatsApp attach menu did not offer a file input")
    payload: FilePayload = {"name": _file_name(info), "mimeType": mime, "buffer": data}
    await file_input.set_input_files(files=[payload], timeout=STEP_TIMEOUT_MS)
    caption = await _wait_for(page, profile, "media_caption")
    if caption is None:
        return Attached(None, "the WhatsApp media preview did not open")
    return Attached(caption)


async def wait_media_row(page: Page, message: Message, known: list[str], timeout_ms: int) -> dict[str, Any] | None:
    """Our new media row (not in ``known``) of ``message``'s kind and caption, as the scan reports it, once it shows
    a tick (uploaded: WhatsApp has it); None when that does not happen in time."""
    try:
        handle = await page.wait_for_function(
            _NEW_MEDIA_ROW, arg=[known, shown_as(message.kind), message.body], timeout=timeout_ms
        )
    except PlaywrightTimeoutError:
        return None
    row = await handle.json_value()
    return row if isinstance(row, dict) else None
