"""Media bytes shared through the team server (docs/sync.md, "Media"): the owner's switch and the sealed blobs.

Only one device holds the team's WhatsApp session and devices have no path to each other, so a teammate can get a
photo's bytes only through this server. That sends a message's content where it did not go before, so it happens
only once the owner turns it on (``PUT /api/media/settings``; off by default), and turning it off removes the org's
copies. Blobs are named by the SHA-256 of their bytes (checked here), capped per blob and per org
(``ServerConfig.media_max_bytes`` / ``media_quota_bytes``), and stored sealed: AES-256-GCM under a key derived
(HKDF, its own info label) from ``PARLEY_SYNC_SECRET``, with the org id and the blob id as associated data, so a
dump of the database gives nothing away and a ciphertext copied to another org's or blob's row does not open.

Every query runs in the caller's org (``Db.org``): another org's blob answers 404 like one that does not exist.
No bytes, blob ids or mime types go into a log line (the request line names the route template only).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import re
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.sync.protocol import MediaSettings, MediaSettingsChange
from sync_server import logs
from sync_server.access import authenticate, require
from sync_server.db import Conn
from sync_server.errors import ApiError, read_body, read_model
from sync_server.principal import Principal
from sync_server.server_context import context

log = logging.getLogger(__name__)

_INFO = b"parley-sync media blobs v1"
_NONCE = 12
_VERSION = b"\x01"
_BLOB_ID = re.compile(r"[0-9a-f]{64}")
_MIME = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}")
_LOCK = "parley media quota"  # per-org advisory lock: two uploads cannot both fit the last free bytes
SEAL_INLINE_BYTES = 256 * 1024  # larger blobs are sealed and opened on a worker thread, off the event loop

SHARING_OFF = "Media sharing through the team server is off: the owner can turn it on in Settings → Team."


class BlobUnreadable(Exception):
    """A stored blob does not open: another secret, another org's or blob's row, or damaged. Never says more."""


@functools.lru_cache(maxsize=4)
def _aead(secret: bytes) -> AESGCM:
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret))


def _aad(org_id: str, blob_id: str) -> bytes:
    return org_id.encode() + b"\x00" + blob_id.encode()


def seal(secret: bytes, org_id: str, blob_id: str, data: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return _VERSION + nonce + _aead(secret).encrypt(nonce, data, _aad(org_id, blob_id))


def open_blob(secret: bytes, org_id: str, blob_id: str, sealed: bytes) -> bytes:
    if len(sealed) <= 1 + _NONCE or sealed[:1] != _VERSION:
        raise BlobUnreadable("stored blob has an unknown format")
    try:
        return _aead(secret).decrypt(sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :], _aad(org_id, blob_id))
    except InvalidTag:
        raise BlobUnreadable("stored blob does not open with this server's secret for this org and id") from None


async def _off_loop(size: int, fn: functools.partial[bytes]) -> bytes:
    return fn() if size <= SEAL_INLINE_BYTES else await asyncio.to_thread(fn)


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "No such media file in this team.")


def _blob_id(request: Request) -> str:
    blob_id = str(request.path_params["id"])
    if not _BLOB_ID.fullmatch(blob_id):
        raise _not_found()  # no blob has such a name, in any org
    return blob_id


def _ms(at: datetime | None) -> int | None:
    return None if at is None else int(at.timestamp() * 1000)


async def _settings(db: Conn, principal: Principal, quota: int) -> MediaSettings:
    cur = await db.execute(
        "SELECT o.media_shared_since, (SELECT coalesce(sum(size), 0) FROM media_blobs WHERE org_id = o.id)"
        " FROM orgs o WHERE o.id = %s",
        (principal.org_id,),
    )
    row = await cur.fetchone()
    if row is None:
        raise _not_found()
    return MediaSettings(enabled=row[0] is not None, quota_bytes=quota, used_bytes=int(row[1]), since=_ms(row[0]))


async def _require_sharing(db: Conn, org_id: str) -> None:
    cur = await db.execute("SELECT media_shared_since IS NOT NULL FROM orgs WHERE id = %s", (org_id,))
    row = await cur.fetchone()
    if row is None or not row[0]:
        raise ApiError(403, "media_sharing_off", SHARING_OFF)


async def get_settings(request: Request) -> Response:
    principal = await authenticate(request)
    ctx = context(request)
    async with ctx.db.org(principal.org_id) as db:
        found = await _settings(db, principal, ctx.settings.media_quota_bytes)
    return JSONResponse(found.model_dump())


async def put_settings(request: Request) -> Response:
    principal = await authenticate(request)
    require(principal, "owner")
    body = await read_model(request, MediaSettingsChange)
    ctx = context(request)
    removed = 0
    async with ctx.db.org(principal.org_id) as db:
        await db.execute("SELECT pg_advisory_xact_lock(hashtext(%s || %s))", (_LOCK, principal.org_id))
        if body.enabled:
            await db.execute(
                "UPDATE orgs SET media_shared_since = coalesce(media_shared_since, now()) WHERE id = %s",
                (principal.org_id,),
            )
        else:
            await db.execute("UPDATE orgs SET media_shared_since = NULL WHERE id = %s", (principal.org_id,))
            cur = await db.execute(
                "WITH gone AS (DELETE FROM media_blobs WHERE org_id = %s RETURNING 1) SELECT count(*) FROM gone",
                (principal.org_id,),
            )
            counted = await cur.fetchone()
            removed = int(counted[0]) if counted else 0
        found = await _settings(db, principal, ctx.settings.media_quota_bytes)
    logs.event(log, "media_sharing", org=principal.org_id, enabled=body.enabled, removed=removed)
    return JSONResponse(found.model_dump())


async def put_blob(request: Request) -> Response:
    principal = await authenticate(request)
    ctx = context(request)
    blob_id = str(request.path_params["id"])
    if not _BLOB_ID.fullmatch(blob_id):
        raise ApiError(422, "invalid", "A media file is named by the SHA-256 of its bytes (64 lowercase hex digits).")
    async with ctx.db.org(principal.org_id) as db:
        await _require_sharing(db, principal.org_id)
    limit = ctx.settings.media_max_bytes
    try:
        data = await read_body(request, limit=limit)
    except ApiError as exc:
        if exc.status != 413:
            raise
        raise ApiError(413, "too_large", f"A media file may be at most {limit / 1024 / 1024:.0f} MB.") from None
    if hashlib.sha256(data).hexdigest() != blob_id:
        raise ApiError(422, "blob_mismatch", "The bytes sent are not those of this media file (SHA-256 differs).")
    mime = request.headers.get("content-type", "").split(";", 1)[0].strip()
    if not _MIME.fullmatch(mime):
        mime = "application/octet-stream"
    sealed: bytes | None = None
    async with ctx.db.org(principal.org_id) as db:
        # Under the org's lock: the switch and the quota are read as they stand when the row is written.
        await db.execute("SELECT pg_advisory_xact_lock(hashtext(%s || %s))", (_LOCK, principal.org_id))
        await _require_sharing(db, principal.org_id)
        cur = await db.execute(
            "SELECT EXISTS (SELECT 1 FROM media_blobs WHERE org_id = %s AND blob_id = %s),"
            " (SELECT coalesce(sum(size), 0) FROM media_blobs WHERE org_id = %s)",
            (principal.org_id, blob_id, principal.org_id),
        )
        row = await cur.fetchone()
        assert row is not None
        exists, used = bool(row[0]), int(row[1])
        if not exists:
            quota = ctx.settings.media_quota_bytes
            if used + len(data) > quota:
                raise ApiError(
                    413,
                    "media_quota",
                    f"The team's media space on the server is full ({used / 1024 / 1024:.0f} of "
                    f"{quota / 1024 / 1024:.0f} MB used): older media stays on the computers that have it.",
                )
            sealed = await _off_loop(
                len(data), functools.partial(seal, ctx.settings.secret, principal.org_id, blob_id, data)
            )
            await db.execute(
                "INSERT INTO media_blobs (org_id, blob_id, mime, size, sealed) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (org_id, blob_id) DO NOTHING",
                (principal.org_id, blob_id, mime, len(data), sealed),
            )
    if sealed is not None:
        logs.event(log, "media_stored", org=principal.org_id, size=len(data))
    return Response(status_code=201 if sealed is not None else 200)


async def get_blob(request: Request) -> Response:
    principal = await authenticate(request)
    ctx = context(request)
    blob_id = _blob_id(request)
    async with ctx.db.org(principal.org_id) as db:
        await _require_sharing(db, principal.org_id)
        cur = await db.execute(
            "SELECT mime, sealed FROM media_blobs WHERE org_id = %s AND blob_id = %s", (principal.org_id, blob_id)
        )
        row = await cur.fetchone()
    if row is None:
        raise _not_found()
    sealed = bytes(row[1])
    try:
        data = await _off_loop(
            len(sealed), functools.partial(open_blob, ctx.settings.secret, principal.org_id, blob_id, sealed)
        )
    except BlobUnreadable:
        log.warning("a stored media file does not open for its org (another secret, or a damaged row)")
        raise _not_found() from None
    return Response(data, media_type=str(row[0]), headers={"Cache-Control": "no-store"})


async def delete_blob(request: Request) -> Response:
    """Remove the server's copy (GDPR erase, from any member's device): allowed whether sharing is on or off."""
    principal = await authenticate(request)
    blob_id = _blob_id(request)
    async with context(request).db.org(principal.org_id) as db:
        cur = await db.execute(
            "DELETE FROM media_blobs WHERE org_id = %s AND blob_id = %s RETURNING size", (principal.org_id, blob_id)
        )
        if await cur.fetchone() is None:
            raise _not_found()
    logs.event(log, "media_deleted", org=principal.org_id, by=principal.member_id)
    return Response(status_code=204)


def routes() -> list[BaseRoute]:
    return [
        Route("/api/media/settings", get_settings, methods=["GET"]),
        Route("/api/media/settings", put_settings, methods=["PUT"]),
        Route("/api/media/{id}", get_blob, methods=["GET"]),
        Route("/api/media/{id}", put_blob, methods=["PUT"]),
        Route("/api/media/{id}", delete_blob, methods=["DELETE"]),
    ]
