"""Media bytes through the team server, in the background (docs/sync.md, "Media").

A message's media description syncs with the message; its bytes are kept on the computer that received them (the
one holding the WhatsApp session). Devices have no path to each other, so a teammate gets the bytes only through
the sync server, and only once the owner turned "share media through the team server" on (off by default: nothing
of a message's content goes anywhere it did not go before without the owner's say).

One pass (``MediaTransfer.run_pass``, on the sync service's loop; every database step in a worker thread):
1. read the team's switch and record it (``store.media.set_team_sharing``: the bubbles say what a click can do);
2. send the server deletes a GDPR erase queued (whatever the switch says: removing is always allowed);
3. when sharing is on: upload the blobs live messages name that this computer holds and has not sent since the
   switch was last turned on (thumbnails first, newest message first); then download those named but not here,
   thumbnails first, then files up to ``FETCH_CAP`` (a bigger one on a click, ``fetch``), newest first; each
   download is checked against its name (SHA-256) before it is kept;
4. remove fetched bytes no message names any more (a teammate erased the customer).

A failure ends the pass with a state (``MediaStatus``) and the service tries again later; nothing is lost: what was
not sent or fetched is found again by the next pass, and the queued deletes stay queued until the server confirms.
No bytes, blob ids or mime types are logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from app.core.errors import InvalidInput
from app.core.media import FETCH_CAP, MediaInfo
from app.store.media import MediaMissing, TeamBlob
from app.store.store import Store
from app.sync.protocol import MediaSettings
from app.sync.transport import DeviceRevoked, RequestRefused, ServerUnreachable, SyncApi, SyncError, Unauthorized

log = logging.getLogger(__name__)

TransferState = Literal["unknown", "off", "on", "quota", "offline", "sign_in", "error"]
ABSENT_RETRY_SECONDS = (30.0, 60.0, 120.0, 300.0, 600.0)  # a blob the server does not have (yet): ask again later


@dataclass(frozen=True)
class MediaStatus:
    """How media sharing stands for this computer, for Settings › Team and the tests."""

    state: TransferState = "unknown"
    enabled: bool | None = None
    quota_bytes: int = 0
    used_bytes: int = 0
    uploaded: int = 0  # in the last pass
    downloaded: int = 0
    waiting: int = 0  # blobs named by messages that neither this computer nor the server has yet
    message: str | None = None


class MediaTransfer:
    def __init__(self, store: Store, api: Callable[[], SyncApi], *, fetch_cap: int = FETCH_CAP) -> None:
        self.store = store
        self._api = api
        self.fetch_cap = fetch_cap
        self.status = MediaStatus()
        self._absent: dict[str, tuple[int, float]] = {}  # blob id -> (misses, monotonic time to ask again)
        self._lock = asyncio.Lock()  # one pass (or click) at a time

    async def run_pass(self) -> MediaStatus:
        """Run one pass; raises the sync errors (offline, signed out…) after recording them in ``status``."""
        async with self._lock:
            try:
                self.status = await self._pass()
            except SyncError as exc:
                self.status = replace(self.status, state=_state_for(exc), message=str(exc))
                raise
            return self.status

    async def fetch(self, message_id: str) -> None:
        """A click on a bubble whose bytes are on a teammate's computer: fetch them now, whatever their size."""
        message = await asyncio.to_thread(self.store.messages.get, message_id)
        if not message.media:
            raise InvalidInput("This message has no media.")
        info = MediaInfo.model_validate(message.media)
        async with self._lock:
            api = self._api()
            for blob_id in (info.thumb_blob_id, info.blob_id):
                if blob_id and not await asyncio.to_thread(self.store.media.exists, blob_id):
                    blob = TeamBlob(blob_id, blob_id == info.thumb_blob_id, info.size, frozenset({message.chat_id}))
                    if not await self._download(api, blob, forced=True):
                        raise RequestRefused(
                            "The team server does not have this file yet: the computer that received it sends it "
                            "the next time it syncs."
                        )

    async def set_sharing(self, enabled: bool) -> MediaSettings:
        settings = await self._api().put_media_settings(enabled)
        await asyncio.to_thread(self.store.media.set_team_sharing, settings.enabled)
        self.status = replace(
            self.status,
            state="on" if settings.enabled else "off",
            enabled=settings.enabled,
            quota_bytes=settings.quota_bytes,
            used_bytes=settings.used_bytes,
        )
        return settings

    # ---- one pass ----------------------------------------------------------------------------------------------
    async def _pass(self) -> MediaStatus:
        api = self._api()
        settings = await api.media_settings()
        media = self.store.media
        await asyncio.to_thread(media.set_team_sharing, settings.enabled)
        for blob_id in await asyncio.to_thread(media.remote_deletes):
            try:
                await api.delete_media(blob_id)
            except RequestRefused as exc:
                if exc.status != 404:  # not there (never sent, or removed already): done too
                    raise
            await asyncio.to_thread(media.remote_deleted, blob_id)
        status = MediaStatus(
            state="on" if settings.enabled else "off",
            enabled=settings.enabled,
            quota_bytes=settings.quota_bytes,
            used_bytes=settings.used_bytes,
        )
        # The server answered: that is the state from now on, not only once every file of the pass has moved (a
        # photo fetched after an outage showed while the state still said "offline" — seen in a loaded run).
        self.status = status
        if not settings.enabled or settings.since is None:
            await asyncio.to_thread(media.sweep_downloaded)
            return status
        held, missing = await asyncio.to_thread(media.for_team)
        sent = await asyncio.to_thread(media.uploaded, settings.since)
        uploaded = 0
        for blob in held:
            if blob.blob_id in sent:
                continue
            try:
                data = await asyncio.to_thread(media.get, blob.blob_id)
                mime = await asyncio.to_thread(media.mime, blob.blob_id) or ""
            except MediaMissing:
                continue  # erased meanwhile
            try:
                await api.put_media(blob.blob_id, data, mime)
            except RequestRefused as exc:
                if exc.code == "too_large":
                    await asyncio.to_thread(media.mark_refused, blob.blob_id, "too_large")
                    continue
                if exc.code == "media_quota":
                    status = replace(status, state="quota", message=str(exc))
                    break
                raise
            await asyncio.to_thread(media.mark_uploaded, blob.blob_id, settings.since)
            status = replace(status, used_bytes=status.used_bytes + len(data))
            uploaded += 1
        downloaded = waiting = 0
        for blob in missing:
            if not blob.thumbnail and blob.size is not None and blob.size > self.fetch_cap:
                continue  # fetched on a click
            if await self._download(api, blob, forced=False):
                downloaded += 1
            else:
                waiting += 1
        await asyncio.to_thread(media.sweep_downloaded)
        return replace(status, uploaded=uploaded, downloaded=downloaded, waiting=waiting)

    async def _download(self, api: SyncApi, blob: TeamBlob, *, forced: bool) -> bool:
        """Fetch and keep one blob; False when the server does not have it (asked again later)."""
        misses, due = self._absent.get(blob.blob_id, (0, 0.0))
        if not forced and time.monotonic() < due:
            return False
        try:
            data, mime = await api.get_media(blob.blob_id)
        except RequestRefused as exc:
            if exc.status != 404:
                raise
            data, mime = b"", ""
        if not data or hashlib.sha256(data).hexdigest() != blob.blob_id:
            if data:
                log.warning("a media file from the team server did not match its name; not kept")
            wait = ABSENT_RETRY_SECONDS[min(misses, len(ABSENT_RETRY_SECONDS) - 1)]
            self._absent[blob.blob_id] = (misses + 1, time.monotonic() + wait)
            return False
        self._absent.pop(blob.blob_id, None)
        await asyncio.to_thread(self.store.media.put_fetched, data, mime, blob.chat_ids)
        return True


def _state_for(exc: SyncError) -> TransferState:
    if isinstance(exc, ServerUnreachable):
        return "offline"
    if isinstance(exc, Unauthorized | DeviceRevoked):
        return "sign_in"
    if exc.code == "media_sharing_off":
        return "off"
    return "error"
