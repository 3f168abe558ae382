-- Parley schema v7: a chat's messages keep the order WhatsApp shows them in.
--
-- WhatsApp Web only shows a message's time to the minute ("[14:05, 22/11/2026]"), so ordering by sent_at put a
-- customer's answer above the seller's reply it followed in the same minute, and a reply's own sent_at (the sender's
-- clock, to the millisecond) beat every captured message of its minute. `position` is a per-chat sort key, placed
-- at capture from the page's own order (a row captured after a known row sorts after it; app/store/intake.py) and
-- synced like any column, so every computer of a team shows the same order. Ties (two devices appending at once)
-- are broken by the message id, the same everywhere. sent_at stays for display.

ALTER TABLE messages ADD COLUMN position REAL;

-- Existing messages keep the order they had: (sent_at, rid) within each chat, spaced so later ones fit between.
UPDATE messages SET position = ranked.n * 1024.0
FROM (SELECT rid, row_number() OVER (PARTITION BY org_id, chat_id ORDER BY sent_at, rid) AS n FROM messages) AS ranked
WHERE messages.rid = ranked.rid;

CREATE INDEX messages_chat_position ON messages (chat_id, position);

-- A row written without a position (a teammate's older Parley, a raw insert) goes at the end of its chat. The app
-- always places its own (app/store/repos.py, app/store/intake.py).
CREATE TRIGGER messages_position_fill AFTER INSERT ON messages WHEN new.position IS NULL BEGIN
    UPDATE messages SET position = coalesce(
        (SELECT max(m.position) FROM messages m WHERE m.org_id = new.org_id AND m.chat_id = new.chat_id
         AND m.rid <> new.rid AND m.position IS NOT NULL), 0) + 1024.0
    WHERE rid = new.rid;
END;

-- The inbox's last-message preview and unread count follow the same order: the last message is the last one shown,
-- and a reply counts as reading the messages above it (not those of its minute).
ALTER TABLE chat_stats ADD COLUMN last_outbound_position REAL;

DROP TRIGGER chat_stats_chat_insert;
DROP TRIGGER chat_stats_chat_update;
DROP TRIGGER chat_stats_message_insert;
DROP TRIGGER chat_stats_message_update;
DROP TRIGGER chat_stats_message_delete;
DROP VIEW chat_stats_computed;

CREATE VIEW chat_stats_computed AS
SELECT
    c.rid AS chat_rid,
    (c.deleted_at IS NULL AND c.archived = 0) AS visible,
    c.pinned AS pinned,
    coalesce((SELECT max(m.sent_at) FROM messages m
              WHERE m.chat_id = c.id AND m.org_id = c.org_id AND m.deleted_at IS NULL), c.created_at)
        AS last_activity_at,
    (SELECT m.rid FROM messages m WHERE m.chat_id = c.id AND m.org_id = c.org_id AND m.deleted_at IS NULL
     ORDER BY m.position DESC, m.id DESC LIMIT 1) AS last_message_rid,
    (SELECT max(m.sent_at) FROM messages m WHERE m.chat_id = c.id AND m.org_id = c.org_id AND m.deleted_at IS NULL
     AND m.direction = 'out') AS last_outbound_at,
    (SELECT count(*) FROM messages m WHERE m.chat_id = c.id AND m.org_id = c.org_id AND m.deleted_at IS NULL
     AND m.direction = 'in' AND m.sent_at > coalesce(c.last_read_at, 0) AND m.position > coalesce(
        (SELECT max(o.position) FROM messages o WHERE o.chat_id = c.id AND o.org_id = c.org_id
         AND o.deleted_at IS NULL AND o.direction = 'out'), -1e300)) AS unread_count,
    (SELECT count(*) FROM messages m WHERE m.chat_id = c.id AND m.org_id = c.org_id AND m.deleted_at IS NULL)
        AS message_count,
    (SELECT max(m.position) FROM messages m WHERE m.chat_id = c.id AND m.org_id = c.org_id AND m.deleted_at IS NULL
     AND m.direction = 'out') AS last_outbound_position,
    c.org_id AS org_id,
    c.id AS chat_id
FROM chats c;

DELETE FROM chat_stats;
INSERT INTO chat_stats (chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count,
                        message_count, last_outbound_position)
SELECT chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count,
       last_outbound_position
FROM chat_stats_computed;

CREATE TRIGGER chat_stats_chat_insert AFTER INSERT ON chats BEGIN
    INSERT OR REPLACE INTO chat_stats
        (chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count,
         last_outbound_position)
    SELECT chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count,
           last_outbound_position
    FROM chat_stats_computed WHERE chat_rid = new.rid;
END;
CREATE TRIGGER chat_stats_chat_update AFTER UPDATE OF deleted_at, archived, pinned, last_read_at ON chats BEGIN
    INSERT OR REPLACE INTO chat_stats
        (chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count,
         last_outbound_position)
    SELECT chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count,
           last_outbound_position
    FROM chat_stats_computed WHERE chat_rid = new.rid;
END;

-- The hot path: a new message (with its position) only moves its chat forward and bumps the counters. One written
-- without a position is counted when messages_position_fill gives it one (the update trigger below recomputes).
CREATE TRIGGER chat_stats_message_insert AFTER INSERT ON messages
WHEN new.deleted_at IS NULL AND new.position IS NOT NULL BEGIN
    -- (All SET expressions see the row as it was: the chat's creation time only counts while it has no message.)
    UPDATE chat_stats SET
        last_message_rid = CASE WHEN last_message_rid IS NULL
                                  OR (new.position, new.id) >= (SELECT m.position, m.id FROM messages m
                                                                WHERE m.rid = last_message_rid)
                                THEN new.rid ELSE last_message_rid END,
        last_activity_at = CASE WHEN last_message_rid IS NULL THEN new.sent_at
                                ELSE max(last_activity_at, new.sent_at) END,
        message_count = message_count + 1,
        last_outbound_at = CASE WHEN new.direction = 'out' THEN max(coalesce(last_outbound_at, 0), new.sent_at)
                                ELSE last_outbound_at END,
        last_outbound_position = CASE WHEN new.direction = 'out'
                                      THEN max(coalesce(last_outbound_position, new.position), new.position)
                                      ELSE last_outbound_position END,
        -- An inbound message counts when it is newer than the read marker and shown below our last reply; a reply
        -- recounts only the (few) inbound messages below it, using the (chat_id, position) index.
        unread_count = CASE
            WHEN new.direction = 'in' THEN unread_count + (new.sent_at > coalesce(
                (SELECT c.last_read_at FROM chats c WHERE c.org_id = new.org_id AND c.id = new.chat_id), 0)
                AND new.position > coalesce(last_outbound_position, -1e300))
            ELSE (SELECT count(*) FROM messages m
                  WHERE m.chat_id = new.chat_id AND m.org_id = new.org_id AND m.deleted_at IS NULL
                    AND m.direction = 'in' AND m.sent_at > coalesce(
                        (SELECT c.last_read_at FROM chats c WHERE c.org_id = new.org_id AND c.id = new.chat_id), 0)
                    AND m.position > max(coalesce(last_outbound_position, new.position), new.position))
        END
    WHERE chat_rid = (SELECT c.rid FROM chats c WHERE c.org_id = new.org_id AND c.id = new.chat_id);
END;
CREATE TRIGGER chat_stats_message_update AFTER UPDATE OF chat_id, deleted_at, sent_at, direction, position ON messages
BEGIN
    INSERT OR REPLACE INTO chat_stats
        (chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count,
         last_outbound_position)
    SELECT chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count,
           last_outbound_position
    FROM chat_stats_computed WHERE org_id = new.org_id AND chat_id IN (old.chat_id, new.chat_id);
END;
CREATE TRIGGER chat_stats_message_delete AFTER DELETE ON messages WHEN old.deleted_at IS NULL BEGIN
    INSERT OR REPLACE INTO chat_stats
        (chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count,
         last_outbound_position)
    SELECT chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, message_count,
           last_outbound_position
    FROM chat_stats_computed WHERE org_id = old.org_id AND chat_id = old.chat_id;
END;
