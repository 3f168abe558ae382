-- Parley schema v10: media bytes, product photos, and document names in message search (issue 17).
--
-- A message's media is described by `messages.media` (JSON, app/core/media.py MediaInfo; `body` is the caption).
-- The bytes live here, inside the SQLCipher file, so they are encrypted by the same key, page by page, carried by
-- every backup (VACUUM INTO) and never written in plaintext anywhere (temp_store is memory). Measured against a
-- folder of files encrypted under a key derived from the workspace key: bench/media_bench.py, docs/benchmarks.md.
-- A blob is named by the SHA-256 of its bytes, so the same photo stored twice is kept once. Local to this computer:
-- media_blobs is not in sync_tables (the metadata syncs with its message; bytes follow later, docs/sync.md).

CREATE TABLE media_blobs (
    rid INTEGER PRIMARY KEY,
    blob_id TEXT NOT NULL UNIQUE,       -- sha256 of the bytes, hex
    mime TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL CHECK (size >= 0),
    created_at INTEGER NOT NULL,
    data BLOB NOT NULL
);

-- A product of the catalogue may have a photo (its bytes in media_blobs); the id syncs with the product.
ALTER TABLE products ADD COLUMN photo_blob_id TEXT;

-- Message search also finds a document by its file name: the index gets a second column, read from a view that
-- takes the name out of the media JSON. The view holds exactly the indexed rows (not the tombstoned ones), so the
-- index's integrity check against its content holds.
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
DROP TABLE messages_fts;

CREATE VIEW messages_fts_content AS
SELECT rid, body,
       coalesce(CASE WHEN json_valid(media) THEN json_extract(media, '$.file_name') END, '') AS file_name
FROM messages WHERE deleted_at IS NULL;

CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, file_name, content='messages_fts_content', content_rowid='rid', prefix='1 2',
    tokenize="unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
);
INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO messages_fts (rowid, body, file_name) VALUES (new.rid, new.body,
        coalesce(CASE WHEN json_valid(new.media) THEN json_extract(new.media, '$.file_name') END, ''));
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.deleted_at IS NULL BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body, file_name) VALUES ('delete', old.rid, old.body,
        coalesce(CASE WHEN json_valid(old.media) THEN json_extract(old.media, '$.file_name') END, ''));
END;
-- One trigger for the update, removing the old entry before adding the new one (see schema 2).
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, media, deleted_at ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body, file_name) SELECT 'delete', old.rid, old.body,
        coalesce(CASE WHEN json_valid(old.media) THEN json_extract(old.media, '$.file_name') END, '')
    WHERE old.deleted_at IS NULL;
    INSERT INTO messages_fts (rowid, body, file_name) SELECT new.rid, new.body,
        coalesce(CASE WHEN json_valid(new.media) THEN json_extract(new.media, '$.file_name') END, '')
    WHERE new.deleted_at IS NULL;
END;
