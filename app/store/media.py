"""Media bytes, encrypted: kept inside the workspace's SQLCipher file (``media_blobs``), named by their SHA-256.

Why the database and not a folder of files encrypted under a key derived from the workspace key: measured in
``bench/media_bench.py`` (docs/benchmarks.md), the database writes and reads a 10 MB photo and 200 shop photos at
the same order of speed, and it needs no second cipher, no file naming, no crash cleanup of half-written files and
no change to backups (``VACUUM INTO`` carries the bytes, a restore brings them back, GDPR erase and rekey cover
them). Nothing decrypted ever reaches the disk: pages are encrypted by SQLCipher before they are written (the WAL
too) and ``temp_store`` is memory on every connection (``sqlcipher.configure``). The only plaintext copy is the one
a person asks for ("Save as…", a GDPR export).

Thumbnails are small JPEGs made by a ``Thumbnailer`` the composition root passes in (Qt's QImage in
``app/thumbnails.py``): the store does not import Qt (house rule 1), so without one there are no thumbnails.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable

from app.core.errors import NotFound
from app.core.ids import to_ms, utc_now
from app.store.database import Database

log = logging.getLogger(__name__)

# (bytes, mime) -> a small JPEG, or None when the bytes are not an image it can read.
Thumbnailer = Callable[[bytes, str], bytes | None]
THUMB_MAX_PX = 320


class MediaMissing(NotFound):
    """The bytes of a media file are not in this workspace (never fetched, erased, or on a teammate's computer)."""

    hint = "Fetch it again from WhatsApp, or ask the teammate who has it."


def blob_id_for(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class MediaStore:
    """Put, get and delete encrypted media bytes (``store.media``)."""

    def __init__(self, db: Database, *, thumbnailer: Thumbnailer | None = None) -> None:
        self._db = db
        self._thumbnailer = thumbnailer

    def put(self, data: bytes, mime: str) -> str:
        """Keep ``data`` and return its blob id; the same bytes twice are kept once under the same id."""
        blob_id = blob_id_for(data)
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO media_blobs (blob_id, mime, size, created_at, data) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (blob_id) DO NOTHING",
                (blob_id, mime, len(data), to_ms(utc_now()), data),
            )
        return blob_id

    def get(self, blob_id: str) -> bytes:
        with self._db.read() as conn:
            row = conn.execute("SELECT data FROM media_blobs WHERE blob_id = ?", (blob_id,)).fetchone()
        if row is None:
            raise MediaMissing("This media file is not on this computer.")
        return bytes(row[0])

    def mime(self, blob_id: str) -> str | None:
        with self._db.read() as conn:
            row = conn.execute("SELECT mime FROM media_blobs WHERE blob_id = ?", (blob_id,)).fetchone()
        return None if row is None else str(row[0])

    def exists(self, blob_id: str) -> bool:
        with self._db.read() as conn:
            return conn.execute("SELECT 1 FROM media_blobs WHERE blob_id = ?", (blob_id,)).fetchone() is not None

    def delete(self, blob_id: str) -> None:
        """Remove the bytes (secure_delete zeroes the freed pages). Deleting a missing blob is not an error."""
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM media_blobs WHERE blob_id = ?", (blob_id,))

    def delete_unreferenced(self, blob_ids: Iterable[str]) -> int:
        """Delete those of ``blob_ids`` that no message (tombstones included) or product still names; the same
        photo sent to two customers is one blob, so erasing one customer must not take the other's copy."""
        deleted = 0
        with self._db.transaction() as conn:
            for blob_id in dict.fromkeys(blob_ids):
                in_use = conn.execute(
                    "SELECT 1 FROM messages WHERE media IS NOT NULL AND json_valid(media) "
                    "AND (json_extract(media, '$.blob_id') = ?1 OR json_extract(media, '$.thumb_blob_id') = ?1) "
                    "UNION ALL SELECT 1 FROM products WHERE photo_blob_id = ?1 LIMIT 1",
                    (blob_id,),
                ).fetchone()
                if in_use is None:
                    deleted += conn.execute("DELETE FROM media_blobs WHERE blob_id = ?", (blob_id,)).rowcount
        return deleted

    def total_bytes(self) -> int:
        with self._db.read() as conn:
            return int(conn.execute("SELECT coalesce(sum(size), 0) FROM media_blobs").fetchone()[0])

    def thumbnail(self, data: bytes, mime: str) -> bytes | None:
        """A small JPEG (at most ``THUMB_MAX_PX`` on its longer side) of an image, or None (not an image, not
        readable, or no thumbnailer). Made in memory: the caller stores it with :meth:`put`."""
        if self._thumbnailer is None or not mime.startswith("image/"):
            return None
        try:
            return self._thumbnailer(data, mime)
        except Exception:  # a damaged image must not stop its message from being stored
            log.warning("could not make a thumbnail of a %s image", mime, exc_info=True)
            return None
