-- Parley schema v2: full-text search and the inbox's derived per-chat figures.
--
-- FTS5 tables use external content (the text lives once, in its table) keyed by the stable `rid`; triggers keep
-- them current and leave tombstoned rows out. Contacts use the trigram tokenizer so part of a name or of a phone
-- number matches ("5512" finds +1 415 555 1234); messages and notes use word tokens with diacritics folded.
-- Word characters include combining marks (category M*), so scripts such as Devanagari are not split at vowel
-- signs; prefix indexes for 1 and 2 characters keep "search as you type" fast on the first keystrokes.

CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, content='messages', content_rowid='rid', prefix='1 2',
    tokenize="unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
);
CREATE VIRTUAL TABLE notes_fts USING fts5(
    body, content='notes', content_rowid='rid', prefix='1 2',
    tokenize="unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
);
CREATE VIRTUAL TABLE contacts_fts USING fts5(
    name, phone, email, tags, content='contacts', content_rowid='rid', tokenize='trigram remove_diacritics 1'
);
-- Secure delete: removing a row rewrites the index pages that held its words instead of only recording the
-- removal, so an erased contact's words (GDPR) do not linger in old index segments until a merge.
INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO notes_fts (notes_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO contacts_fts (contacts_fts, rank) VALUES ('secure-delete', 1);

INSERT INTO messages_fts (rowid, body) SELECT rid, body FROM messages WHERE deleted_at IS NULL;
INSERT INTO notes_fts (rowid, body) SELECT rid, body FROM notes WHERE deleted_at IS NULL;
INSERT INTO contacts_fts (rowid, name, phone, email, tags)
    SELECT rid, name, phone, email, tags FROM contacts WHERE deleted_at IS NULL;

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.rid, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.deleted_at IS NULL BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rid, old.body);
END;
-- One trigger per update so the old entry is removed before the new one is added (SQLite runs several triggers
-- on the same event newest first, which would add before removing and corrupt an external-content index).
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, deleted_at ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) SELECT 'delete', old.rid, old.body WHERE old.deleted_at IS NULL;
    INSERT INTO messages_fts (rowid, body) SELECT new.rid, new.body WHERE new.deleted_at IS NULL;
END;

CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO notes_fts (rowid, body) VALUES (new.rid, new.body);
END;
CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes WHEN old.deleted_at IS NULL BEGIN
    INSERT INTO notes_fts (notes_fts, rowid, body) VALUES ('delete', old.rid, old.body);
END;
CREATE TRIGGER notes_fts_update AFTER UPDATE OF body, deleted_at ON notes BEGIN
    INSERT INTO notes_fts (notes_fts, rowid, body) SELECT 'delete', old.rid, old.body WHERE old.deleted_at IS NULL;
    INSERT INTO notes_fts (rowid, body) SELECT new.rid, new.body WHERE new.deleted_at IS NULL;
END;

CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO contacts_fts (rowid, name, phone, email, tags)
        VALUES (new.rid, new.name, new.phone, new.email, new.tags);
END;
CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts WHEN old.deleted_at IS NULL BEGIN
    INSERT INTO contacts_fts (contacts_fts, rowid, name, phone, email, tags)
        VALUES ('delete', old.rid, old.name, old.phone, old.email, old.tags);
END;
CREATE TRIGGER contacts_fts_update AFTER UPDATE OF name, phone, email, tags, deleted_at ON contacts BEGIN
    INSERT INTO contacts_fts (contacts_fts, rowid, name, phone, email, tags)
        SELECT 'delete', old.rid, old.name, old.phone, old.email, old.tags WHERE old.deleted_at IS NULL;
    INSERT INTO contacts_fts (rowid, name, phone, email, tags)
        SELECT new.rid, new.name, new.phone, new.email, new.tags WHERE new.deleted_at IS NULL;
END;

-- One row per chat with what the inbox sorts and shows, so the first page is an index range scan instead of
-- an aggregate over 500k messages. Local and derived: rebuilt from chats + messages, never synced.
CREATE TABLE chat_stats (
    chat_rid INTEGER PRIMARY KEY,
    visible INTEGER NOT NULL,               -- not deleted and not archived
    pinned INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL,      -- latest message time, or the chat's creation
    last_message_rid INTEGER,
    last_outbound_at INTEGER,               -- replying counts as reading everything before the reply
    unread_count INTEGER NOT NULL DEFAULT 0,
    message_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX chat_stats_inbox ON chat_stats (visible, pinned, last_activity_at, chat_rid);

-- The full recomputation for one chat, used when something other than a plain new message changes it.
CREATE VIEW chat_stats_computed AS
SELECT
    c.rid AS chat_rid,
    (c.deleted_at IS NULL AND c.archived = 0) AS visible,
    c.pinned AS pinned,
    coalesce((SELECT max(m.sent_at) FROM messages m
              WHERE m.chat_id = c.id AND m.org_id = c.org_id AND m.deleted_at IS NULL), c.created_at)
        AS last_activity_at,
    (SELECT m.rid FROM messages m WHERE m.chat_id = c.id AND m.org_id = c.org_id AND m.deleted_at IS NULL
     ORDER BY m.sent_at DESC, m.rid DESC LIMIT 1) AS last_message_rid,
    (SELECT max(m.sent_at) FROM messages m WHERE m.chat_id = c.id AND m.org_id = c.org_id AND m.deleted_at IS NULL
     AND m.direction = 'out') AS last_outbound_at,
    (SELECT count(*) FROM messages m WHERE m.chat_id = c.id AND m.org_id = c.org_id AND m.deleted_at IS NULL
     AND m.direction = 'in' AND m.sent_at > max(coalesce(c.last_read_at, 0), coalesce(
        (SELECT max(o.sent_at) FROM messages o WHERE o.chat_id = c.id AND o.org_id = c.org_id
         AND o.deleted_at IS NULL AND o.direction = 'out'), 0))) AS unread_count,
    (SELECT count(*) FROM messages m WHERE m.chat_id = c.id AND m.org_id = c.org_id AND m.deleted_at IS NULL)
        AS message_count,
    c.org_id AS org_id,
    c.id AS chat_id
FROM chats c;

INSERT INTO chat_stats (chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count)
SELECT chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count
FROM chat_stats_computed;

CREATE TRIGGER chat_stats_chat_insert AFTER INSERT ON chats BEGIN
    INSERT OR REPLACE INTO chat_stats
        (chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count)
    SELECT chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count
    FROM chat_stats_computed WHERE chat_rid = new.rid;
END;
CREATE TRIGGER chat_stats_chat_update AFTER UPDATE OF deleted_at, archived, pinned, last_read_at ON chats BEGIN
    INSERT OR REPLACE INTO chat_stats
        (chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count)
    SELECT chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count
    FROM chat_stats_computed WHERE chat_rid = new.rid;
END;
CREATE TRIGGER chat_stats_chat_delete AFTER DELETE ON chats BEGIN
    DELETE FROM chat_stats WHERE chat_rid = old.rid;
END;

-- The hot path: a new message only moves its chat forward and bumps the counters.
CREATE TRIGGER chat_stats_message_insert AFTER INSERT ON messages WHEN new.deleted_at IS NULL BEGIN
    -- (All SET expressions see the row as it was: the chat's creation time only counts while it has no message.)
    UPDATE chat_stats SET
        last_message_rid = CASE WHEN last_message_rid IS NULL
                                  OR new.sent_at >= (SELECT m.sent_at FROM messages m WHERE m.rid = last_message_rid)
                                THEN new.rid ELSE last_message_rid END,
        last_activity_at = CASE WHEN last_message_rid IS NULL THEN new.sent_at
                                ELSE max(last_activity_at, new.sent_at) END,
        message_count = message_count + 1,
        last_outbound_at = CASE WHEN new.direction = 'out' THEN max(coalesce(last_outbound_at, 0), new.sent_at)
                                ELSE last_outbound_at END,
        -- An inbound message counts when it is newer than both the read marker and our last reply; a reply
        -- recounts only the (few) inbound messages after it, using the (chat_id, sent_at) index.
        unread_count = CASE
            WHEN new.direction = 'in' THEN unread_count + (new.sent_at > max(
                coalesce((SELECT c.last_read_at FROM chats c WHERE c.org_id = new.org_id AND c.id = new.chat_id), 0),
                coalesce(last_outbound_at, 0)))
            ELSE (SELECT count(*) FROM messages m
                  WHERE m.chat_id = new.chat_id AND m.org_id = new.org_id AND m.deleted_at IS NULL
                    AND m.direction = 'in' AND m.sent_at > max(
                        coalesce((SELECT c.last_read_at FROM chats c
                                  WHERE c.org_id = new.org_id AND c.id = new.chat_id), 0),
                        coalesce(last_outbound_at, 0), new.sent_at))
        END
    WHERE chat_rid = (SELECT c.rid FROM chats c WHERE c.org_id = new.org_id AND c.id = new.chat_id);
END;
CREATE TRIGGER chat_stats_message_update AFTER UPDATE OF chat_id, deleted_at, sent_at, direction ON messages BEGIN
    INSERT OR REPLACE INTO chat_stats
        (chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count)
    SELECT chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count
    FROM chat_stats_computed WHERE org_id = new.org_id AND chat_id IN (old.chat_id, new.chat_id);
END;
CREATE TRIGGER chat_stats_message_delete AFTER DELETE ON messages WHEN old.deleted_at IS NULL BEGIN
    INSERT OR REPLACE INTO chat_stats
        (chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count)
    SELECT chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count
    FROM chat_stats_computed WHERE org_id = old.org_id AND chat_id = old.chat_id;
END;
