"""Media in WhatsApp Web rows: what the page's scan says about a media bubble, turned into ``MediaInfo``; and where
the bytes fetched from the page go.

The observer (``page_scripts``) reports, per message row, the media kind it recognised from the profile's
``media_*`` entries and the raw texts around it (a document's ``title='Download "name.ext"'``, a duration
``"0:12"`` or a slider's ``"0:00/0:12"``, a size ``"12 kB"``, a location's maps link). ``media_info`` parses them;
nothing here knows any selector. The bytes are read in the page (``window.__parleyGrabMedia``) by the driver's media
fetcher and handed to a ``MediaSink``: the store's (``StoreMediaSink``) encrypts and keeps them.

Pure Python: no Playwright here.
"""

from __future__ import annotations

import mimetypes
import re
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from app.core.media import MediaInfo, MediaKind, MediaState
from app.store.ops import media as ops_media
from app.store.store import Store

__all__ = [
    "BYTE_KINDS",
    "MediaSink",
    "StoreMediaSink",
    "media_info",
    "parse_duration",
    "parse_size",
]

# Kinds whose bytes are fetched; location and contact cards carry their data in MediaInfo.
BYTE_KINDS: frozenset[str] = frozenset({"image", "video", "voice", "audio", "document", "sticker"})
_KINDS: frozenset[str] = BYTE_KINDS | {"location", "contact"}
_QUOTED = re.compile(r"[\"“«„](?P<name>.+)[\"”»“]")
_CLOCK = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})")
_SIZE = re.compile(r"(?P<n>\d+(?:[.,]\d+)?)\s*(?P<unit>[kKMG]?)B\b")
_DEFAULT_MIME = {"image": "image/jpeg", "video": "video/mp4", "voice": "audio/ogg", "sticker": "image/webp"}


def parse_duration(text: str | None) -> float | None:
    """``"0:12"`` → 12.0; a slider's ``"0:03/1:05"`` → 65.0 (the total); ``"1:02:09"`` → 3729.0."""
    if not text:
        return None
    found = _CLOCK.findall(text.split("/")[-1])
    if not found:
        return None
    hours, minutes, seconds = found[-1]
    return float(int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds))


def parse_size(text: str | None) -> int | None:
    """``"12 kB"`` → 12288, ``"1.5 MB"`` → 1572864 (as the page rounds it)."""
    if not text:
        return None
    match = _SIZE.search(text)
    if match is None:
        return None
    factor = {"": 1, "k": 1024, "K": 1024, "M": 1024**2, "G": 1024**3}[match["unit"]]
    return round(float(match["n"].replace(",", ".")) * factor)


def _file_name(title: str | None) -> str | None:
    """``Download "prices.pdf"`` (``Ver "…"`` in Spanish) → ``prices.pdf``."""
    if not title:
        return None
    match = _QUOTED.search(title)
    return match["name"].strip() if match else None


def _location(href: str | None) -> tuple[float | None, float | None]:
    if not href:
        return None, None
    query = parse_qs(urlsplit(href).query).get("q", [""])[0]
    parts = [p.strip() for p in query.split(",")]
    try:
        return (float(parts[0]), float(parts[1])) if len(parts) == 2 else (None, None)
    except ValueError:
        return None, None


def media_info(raw: dict[str, Any]) -> MediaInfo | None:
    """The ``MediaInfo`` of a row's scanned media (``None`` when the row shows none): state ``pending`` for a kind
    whose bytes the page should have, ``unavailable`` for the "no longer available" bubble."""
    kind = str(raw.get("kind") or "")
    if kind not in _KINDS:
        return None
    media_kind: MediaKind = kind  # type: ignore[assignment]  # checked against _KINDS just above
    title = raw.get("title") if isinstance(raw.get("title"), str) else None
    view_once = raw.get("view_once") is True
    state: MediaState = "unavailable" if raw.get("unavailable") or view_once else "pending"
    info = MediaInfo(kind=media_kind, state=state, view_once=view_once, gif=kind == "video" and raw.get("gif") is True)
    if kind == "document":
        name = _file_name(title)
        mime = (mimetypes.guess_type(name)[0] if name else None) or "application/octet-stream"
        info = info.model_copy(update={"file_name": name, "mime": mime, "size": parse_size(raw.get("size"))})
    elif kind in ("video", "voice", "audio"):
        info = info.model_copy(update={"duration_s": parse_duration(raw.get("duration"))})
    elif kind == "location":
        latitude, longitude = _location(raw.get("href") if isinstance(raw.get("href"), str) else None)
        info = info.model_copy(update={"latitude": latitude, "longitude": longitude, "place": title, "state": "stored"})
    elif kind == "contact":
        card = f"BEGIN:VCARD\nVERSION:3.0\nFN:{title}\nEND:VCARD" if title else None
        info = info.model_copy(update={"vcard": card, "state": "stored"})
    if not info.mime and kind in _DEFAULT_MIME:
        info = info.model_copy(update={"mime": _DEFAULT_MIME[kind]})
    return info


class MediaSink(Protocol):
    """Where fetched media goes (runs on a worker thread: the store's calls are synchronous)."""

    def attach(self, message_id: str, data: bytes, mime: str) -> None: ...

    def mark(self, message_id: str, state: MediaState) -> None: ...


class StoreMediaSink:
    """The store's media operations (``app.store.ops.media``): encrypted bytes under a blob id, or a new state."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def attach(self, message_id: str, data: bytes, mime: str) -> None:
        ops_media.attach_received(self.store, message_id, data, mime)

    def mark(self, message_id: str, state: MediaState) -> None:
        ops_media.mark_media_state(self.store, message_id, state)
