-- Parley schema v9: conversation states and managed labels.
--
-- A chat is open, pending (waiting on someone: the customer, a teammate, a delivery) or resolved, as in Chatwoot;
-- it can be snoozed until a time (hidden from the Open and Pending views until then, or until the customer writes
-- again) and marked as unread by hand, as in WhatsApp. All three are synced like any column, so a teammate sees the
-- same state. A new message from the customer re-opens a resolved or snoozed chat and brings an archived one back
-- (app/store/intake.py): a customer is never left unseen in a view nobody looks at.
--
-- Labels are the `tags` rows (name, colour), managed as a list: created, renamed, merged and deleted through
-- app/store/ops/labels.py, which rewrites the names carried by contacts and chats in the same transaction. Names
-- are unique in an org whatever their case.

ALTER TABLE chats ADD COLUMN status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'pending', 'resolved'));
ALTER TABLE chats ADD COLUMN snoozed_until INTEGER;
ALTER TABLE chats ADD COLUMN marked_unread INTEGER NOT NULL DEFAULT 0;

CREATE INDEX chats_snoozed ON chats (snoozed_until) WHERE snoozed_until IS NOT NULL;

-- Names in use on contacts and chats that are not yet in the managed list become labels (grey), one per name
-- whatever its case, so nothing a user typed before is lost from the label list. The id comes from the name, so
-- two computers of a team upgrading apart make the same label, not two.
INSERT INTO tags (org_id, id, created_at, updated_at, name)
SELECT used.org_id,
       't-' || substr(lower(hex(lower(min(used.name)))), 1, 60),
       CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER), min(used.name)
FROM (
    SELECT c.org_id, trim(j.value) AS name FROM contacts c, json_each(c.tags) j WHERE c.deleted_at IS NULL
    UNION ALL
    SELECT c.org_id, trim(j.value) AS name FROM chats c, json_each(c.tags) j WHERE c.deleted_at IS NULL
) AS used
WHERE used.name <> '' AND NOT EXISTS (
    SELECT 1 FROM tags t WHERE t.org_id = used.org_id AND t.deleted_at IS NULL AND lower(t.name) = lower(used.name)
)
GROUP BY used.org_id, lower(used.name);
