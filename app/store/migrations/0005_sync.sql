-- Parley schema v5: what the team sync client keeps locally.
--
-- Conflicts the server resolved against this device (a field another member overwrote, an edit of a row someone
-- deleted, a changed text of an append-only row), kept so the status bar and Settings › Team sync can show them
-- until the user has looked. Local only: never synced.
CREATE TABLE sync_conflicts (
    id INTEGER PRIMARY KEY,
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    fields TEXT NOT NULL DEFAULT '[]',      -- JSON array of column names
    reason TEXT NOT NULL,                   -- protocol.ConflictReason
    theirs TEXT NOT NULL DEFAULT '{}',      -- JSON object: the winning values
    version INTEGER NOT NULL,
    detected_at INTEGER NOT NULL,           -- ms
    seen INTEGER NOT NULL DEFAULT 0 CHECK (seen IN (0, 1))
);
CREATE INDEX sync_conflicts_unseen ON sync_conflicts (id) WHERE seen = 0;

-- Applying a pulled page asks, for every row in it, whether that row has unpushed local changes (which the pulled
-- values must not overwrite): one index look-up per row instead of a scan of the outbox.
CREATE INDEX outbox_row ON outbox (table_name, row_id);
