"""Media on a message: what kind it is, what is known about it, how the list and notifications name it, and what
WhatsApp accepts — shared by the WhatsApp driver (capture, sending), the store (encrypted bytes) and the UI.

A message's ``media`` column holds ``MediaInfo.model_dump(mode="json")``; its text (``body``) is the caption. The
bytes live apart, encrypted (``app/store/media.py``), named by ``blob_id`` once stored; ``state`` says whether they
are here, still to fetch, or gone from WhatsApp.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.errors import InvalidInput

MediaKind = Literal["image", "video", "audio", "voice", "document", "sticker", "location", "contact"]
# pending: the page has them, Parley has not fetched them yet; stored: encrypted here (blob_id); missing: the page
# did not have them when asked (slow link, old media) — "click to fetch" asks again; unavailable: WhatsApp says they
# are no longer available; too_large: over the size cap, not fetched.
MediaState = Literal["pending", "stored", "missing", "unavailable", "too_large"]

MB = 1024 * 1024
# What WhatsApp accepts per kind when sending (bytes), checked before a message is queued.
SEND_LIMITS: dict[str, int] = {
    "image": 16 * MB,
    "video": 16 * MB,
    "audio": 16 * MB,
    "voice": 16 * MB,
    "document": 100 * MB,
    "sticker": 1 * MB,
}
# The most Parley fetches from the page by itself for a received message (bigger: "click to fetch").
FETCH_CAP = 64 * MB
# A file's usual suffix by MIME type: the name "Save as…" proposes, and the format hint Qt's FFmpeg backend reads
# from the (never opened) URL of bytes it plays from memory.
EXTENSIONS: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "video/mp4": "mp4",
    "video/3gpp": "3gp",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "audio/amr": "amr",
    "audio/wav": "wav",
    "audio/webm": "webm",
    "application/pdf": "pdf",
}
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
VIDEO_TYPES = frozenset({"video/mp4", "video/3gpp", "video/quicktime"})
AUDIO_TYPES = frozenset({"audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr", "audio/wav", "audio/webm"})


class MediaInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: MediaKind
    mime: str = ""
    file_name: str | None = None  # documents (and what a sent file was called)
    size: int | None = Field(default=None, ge=0)  # bytes, when known
    duration_s: float | None = Field(default=None, ge=0)  # video, audio, voice
    width: int | None = None
    height: int | None = None
    state: MediaState = "pending"
    blob_id: str | None = None  # the encrypted bytes (app/store/media.py), once stored
    thumb_blob_id: str | None = None  # a small JPEG for bubbles and rows (images, video posters, stickers)
    gif: bool = False  # a video WhatsApp shows as a GIF (short, muted, looping)
    # view once: WhatsApp Web can neither open nor send these (since Nov 2022); the bytes stay on the phone
    view_once: bool = False
    # location and contact cards carry their data here instead of bytes
    latitude: float | None = None
    longitude: float | None = None
    place: str | None = None
    vcard: str | None = None
    # a product card sent from the catalogue, with the name and price it went out with (for its bubble)
    product_id: str | None = None
    product_name: str | None = None
    product_price: str | None = None


def clock(seconds: float | None) -> str:
    """0:12, 3:05, 1:02:09."""
    total = round(seconds or 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def describe(info: MediaInfo, caption: str = "") -> str:
    """How the chat list, notifications and the AI name a media message: "Photo", "Voice note 0:12",
    "Document: prices.pdf", with the caption after a dash when there is one."""
    if info.view_once:
        what = {"video": "video", "voice": "voice note"}.get(info.kind, "media")  # the badge rarely says which
        text = f"View-once {what} — open it on your phone"
        caption = " ".join(caption.split())
        return f"{text} — {caption}" if caption else text
    match info.kind:
        case "image":
            text = "Photo"
        case "video" if info.gif:
            text = "GIF"
        case "video":
            text = f"Video {clock(info.duration_s)}" if info.duration_s else "Video"
        case "voice":
            text = f"Voice note {clock(info.duration_s)}" if info.duration_s else "Voice note"
        case "audio":
            text = f"Audio {clock(info.duration_s)}" if info.duration_s else "Audio"
        case "document":
            text = f"Document: {info.file_name}" if info.file_name else "Document"
        case "sticker":
            text = "Sticker"
        case "location":
            text = f"Location: {info.place}" if info.place else "Location"
        case "contact":
            text = "Contact card"
    caption = " ".join(caption.split())
    return f"{text} — {caption}" if caption else text


def shown_as(kind: str) -> str:
    """What WhatsApp shows a file we send as: photos and videos as themselves, anything else (audio too) goes as a
    document. Used to recognise our own sent media when it comes back from the page."""
    return kind if kind in ("image", "video") else "document"


def kind_for(mime: str, file_name: str = "") -> MediaKind:
    """What a file is sent as: a photo, a video, audio, or a document (anything else, as WhatsApp does)."""
    if mime in IMAGE_TYPES and mime != "image/gif":
        return "image"
    if mime in VIDEO_TYPES:
        return "video"
    if mime in AUDIO_TYPES:
        return "audio"
    return "document"


class MediaTooLarge(InvalidInput):
    pass


def check_sendable(kind: MediaKind, size: int, file_name: str = "") -> None:
    """Refuse, with a sentence, a file WhatsApp would not take."""
    if size <= 0:
        raise InvalidInput(f"{file_name or 'The file'} is empty.")
    limit = SEND_LIMITS.get(kind)
    if limit is not None and size > limit:
        what = {"image": "A photo", "video": "A video", "audio": "Audio", "voice": "A voice note"}.get(kind, "A file")
        raise MediaTooLarge(
            f"{file_name or 'This file'} is {size / MB:.1f} MB; {what.lower()} "
            f"sent on WhatsApp can be at most {limit // MB} MB."
        )
