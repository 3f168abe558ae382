-- Parley schema v6: which device sends for the workspace's WhatsApp number.
--
-- In a team every computer holds the same queue (messages sync), but only one of them has the number's WhatsApp
-- session: the one whose browser the phone was linked to last. That device records itself here when its phone is
-- linked ("claims" the number); the row syncs, every other device sees it and leaves its queue alone, and the UI
-- says whose turn it is ("waiting for <device name> to send"). The latest link wins: a newer claim replaces the
-- row, and the previous holder stops sending as soon as it sees it (app/store/sending_device.py).
--
-- id is the number's key: 'default' for the workspace's one number (WhatsApp Web does not show its own number).
-- claim_id is new for every link; the device that wrote it remembers it locally (workspace_meta
-- 'whatsapp.claim'), so "do I hold it" does not depend on the device id, which changes when a workspace joins a
-- team or signs in again.
CREATE TABLE wa_sessions (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    claim_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    device_name TEXT NOT NULL,
    linked_at INTEGER NOT NULL,             -- ms: when the phone was linked on that device
    last_seen_at INTEGER NOT NULL,          -- ms: that device last said it is connected
    UNIQUE (org_id, id)
);

INSERT INTO sync_tables (name) VALUES ('wa_sessions');
