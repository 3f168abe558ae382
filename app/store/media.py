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
from dataclasses import dataclass

from app.core.errors import NotFound
from app.core.ids import to_ms, utc_now
from app.store import touched
from app.store.database import Database
from app.store.sqlcipher import Connection

log = logging.getLogger(__name__)

# (bytes, mime) -> a small JPEG, or None when the bytes are not an image it can read.
Thumbnailer = Callable[[bytes, str], bytes | None]
THUMB_MAX_PX = 320


class MediaMissing(NotFound):
    """The bytes of a media file are not in this workspace (never fetched, erased, or on a teammate's computer)."""

    hint = "Fetch it again from WhatsApp, or ask the teammate who has it."


def blob_id_for(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# workspace_meta: the team server's media switch as this computer last heard it ("on"/"off"; absent: not in a team
# or never asked). The bubbles of media on a teammate's computer say what a click can do from it.
TEAM_SHARING = "media.team_sharing"

# Stored media of live messages: (media blob, thumbnail blob, size, chat, sent_at), newest first.
_REFERENCED = (
    "SELECT json_extract(media, '$.blob_id'), json_extract(media, '$.thumb_blob_id'), json_extract(media, '$.size'),"
    " chat_id FROM messages WHERE media IS NOT NULL AND deleted_at IS NULL AND json_valid(media)"
    " AND json_extract(media, '$.state') = 'stored' ORDER BY sent_at DESC, rid DESC"
)


@dataclass(frozen=True)
class TeamBlob:
    """A blob that messages name, to send to the team server or fetch from it (``MediaStore.for_team``)."""

    blob_id: str
    thumbnail: bool  # a bubble's small picture (fetched first)
    size: int | None  # of the full file, when the message says
    chat_ids: frozenset[str]


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

    # ---- the team server's copies (app/sync/media_transfer.py; docs/sync.md, "Media") -----------------------------
    def for_team(self) -> tuple[list[TeamBlob], list[TeamBlob]]:
        """What live messages name, in two lists, thumbnails first then the files, newest message first: the blobs
        this computer holds, and those it does not (on a teammate's computer)."""
        with self._db.read() as conn:
            rows = conn.execute(_REFERENCED).fetchall()
            here = {str(r[0]) for r in conn.execute("SELECT blob_id FROM media_blobs")}
        found: dict[tuple[str, bool], TeamBlob] = {}
        for blob_id, thumb_id, size, chat_id in rows:
            for name, is_thumb in ((thumb_id, True), (blob_id, False)):
                if not isinstance(name, str) or not name:
                    continue
                seen = found.get((name, is_thumb))
                chats = frozenset({chat_id}) | (seen.chat_ids if seen else frozenset())
                found[(name, is_thumb)] = TeamBlob(name, is_thumb, size if isinstance(size, int) else None, chats)
        ordered = sorted(found.values(), key=lambda b: not b.thumbnail)  # stable: newest first within each
        held = [b for b in ordered if b.blob_id in here]
        missing = [b for b in ordered if b.blob_id not in here]
        return _unique(held), _unique(missing)

    def uploaded(self, since: int) -> set[str]:
        """The blobs this computer sent to (or found on) the team server since sharing was last turned on, and those
        it refused for good."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT blob_id FROM media_sharing WHERE uploaded_since = ? OR refused IS NOT NULL", (since,)
            ).fetchall()
        return {str(r[0]) for r in rows}

    def mark_uploaded(self, blob_id: str, since: int) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO media_sharing (blob_id, uploaded_since) VALUES (?, ?) "
                "ON CONFLICT (blob_id) DO UPDATE SET uploaded_since = excluded.uploaded_since",
                (blob_id, since),
            )

    def mark_refused(self, blob_id: str, reason: str) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO media_sharing (blob_id, refused) VALUES (?, ?) "
                "ON CONFLICT (blob_id) DO UPDATE SET refused = excluded.refused",
                (blob_id, reason),
            )

    def put_fetched(self, data: bytes, mime: str, chat_ids: Iterable[str] = ()) -> str:
        """Keep bytes fetched from the team server (their name checked by the caller) and say which chats show
        them, so an open conversation redraws."""
        blob_id = blob_id_for(data)
        with self._db.transaction() as conn:
            self.put(data, mime)
            conn.execute(
                "INSERT INTO media_sharing (blob_id, downloaded_at) VALUES (?, ?) "
                "ON CONFLICT (blob_id) DO UPDATE SET downloaded_at = excluded.downloaded_at",
                (blob_id, to_ms(utc_now())),
            )
            touched.mark(conn, "messages", set(chat_ids))
        return blob_id

    def sweep_downloaded(self) -> int:
        """Remove fetched bytes no message or product names any more (a teammate erased the customer)."""
        with self._db.read() as conn:
            ids = [str(r[0]) for r in conn.execute("SELECT blob_id FROM media_sharing WHERE downloaded_at IS NOT NULL")]
        gone = self.delete_unreferenced(ids)
        if gone:
            with self._db.transaction() as conn:
                conn.execute(
                    "DELETE FROM media_sharing WHERE downloaded_at IS NOT NULL "
                    "AND blob_id NOT IN (SELECT blob_id FROM media_blobs)"
                )
        return gone

    def queue_remote_deletes(self, blob_ids: Iterable[str]) -> int:
        """Queue the removal of the team server's copies of those of ``blob_ids`` no message or product names any
        more (call in the erase's transaction, after its purge); sent by the sync service, kept until done."""
        queued = 0
        with self._db.transaction() as conn:
            for blob_id in dict.fromkeys(blob_ids):
                if not _referenced(conn, blob_id):
                    queued += conn.execute(
                        "INSERT OR IGNORE INTO media_remote_deletes (blob_id, queued_at) VALUES (?, ?)",
                        (blob_id, to_ms(utc_now())),
                    ).rowcount
        return queued

    def remote_deletes(self) -> list[str]:
        with self._db.read() as conn:
            return [str(r[0]) for r in conn.execute("SELECT blob_id FROM media_remote_deletes ORDER BY queued_at")]

    def remote_deleted(self, blob_id: str) -> None:
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM media_remote_deletes WHERE blob_id = ?", (blob_id,))
            conn.execute("DELETE FROM media_sharing WHERE blob_id = ?", (blob_id,))

    def team_sharing(self) -> bool | None:
        """The team server's media switch as last heard (None: not in a team, or not heard yet)."""
        with self._db.read() as conn:
            row = conn.execute("SELECT value FROM workspace_meta WHERE key = ?", (TEAM_SHARING,)).fetchone()
        return None if row is None else row[0] == "on"

    def set_team_sharing(self, enabled: bool | None) -> None:
        """Record the switch; a change redraws every chat whose media is on a teammate's computer."""
        if enabled == self.team_sharing():
            return
        _held, missing = self.for_team()
        with self._db.transaction() as conn:
            if enabled is None:
                conn.execute("DELETE FROM workspace_meta WHERE key = ?", (TEAM_SHARING,))
            else:
                conn.execute(
                    "INSERT INTO workspace_meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (TEAM_SHARING, "on" if enabled else "off"),
                )
            touched.mark(conn, "messages", {c for b in missing for c in b.chat_ids})


def _referenced(conn: Connection, blob_id: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM messages WHERE media IS NOT NULL AND json_valid(media) "
            "AND (json_extract(media, '$.blob_id') = ?1 OR json_extract(media, '$.thumb_blob_id') = ?1) "
            "UNION ALL SELECT 1 FROM products WHERE photo_blob_id = ?1 LIMIT 1",
            (blob_id,),
        ).fetchone()
        is not None
    )


def _unique(blobs: list[TeamBlob]) -> list[TeamBlob]:
    """One entry per blob id (a photo used as its own thumbnail is fetched once)."""
    seen: set[str] = set()
    out: list[TeamBlob] = []
    for blob in blobs:
        if blob.blob_id not in seen:
            seen.add(blob.blob_id)
            out.append(blob)
    return out
