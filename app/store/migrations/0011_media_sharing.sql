-- Parley schema v11: media bytes through the team server (issue 17, docs/sync.md "Media").
--
-- Local bookkeeping only (neither table is in sync_tables): which blobs this computer has given to the team server
-- or fetched from it, and the server copies a GDPR erase still has to remove. The bytes themselves stay in
-- media_blobs (schema 10); nothing here holds any of them.

CREATE TABLE media_sharing (
    blob_id TEXT PRIMARY KEY,           -- sha256 of the bytes, hex (as in media_blobs)
    uploaded_since INTEGER,             -- the server's `since` (ms) when this computer found it there or sent it
    downloaded_at INTEGER,              -- fetched from the team server (ms): removed here when no message names it
    refused TEXT                        -- the server refused it for good (too large for it): not sent again
) WITHOUT ROWID;

CREATE TABLE media_remote_deletes (
    blob_id TEXT PRIMARY KEY,           -- a server copy to remove (a GDPR erase), kept until the server confirms
    queued_at INTEGER NOT NULL
) WITHOUT ROWID;
