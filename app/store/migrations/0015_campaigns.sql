-- Parley schema v15: campaigns with a real state machine, per-recipient outcomes, and consent on contacts (issue 19).
--
-- A campaign is draft → prepared (its audience frozen: one recipient row per contact, excluded ones kept as
-- `skipped` with their reason) → running ⇄ paused → completed | cancelled. The old values are renamed: 'scheduled'
-- was a prepared campaign, 'done' a completed one. `pace` is an optional stricter pacing for this campaign only
-- (gap_min_seconds, gap_max_seconds, per_hour, per_day, batch_size, batch_pause_seconds): it may make the number's
-- budget stricter, never looser. `next_variant` is the campaign's own rotation counter (Whaticket shares one global
-- counter across every campaign). A test send goes to `test_contact_id` before the real run.
--
-- A recipient is queued → sending (its message written to the send queue in the same transaction that marks it,
-- with `message_id`) → sent → delivered → read (the message's ticks) → replied, or failed (reason) / skipped
-- (reason: opted_out, not_on_whatsapp, no_consent, duplicate_24h, not_recent, ...). `body` is the text rendered at
-- preparation (frozen: an edit of the contact later does not change what was shown as the audience). A recipient's
-- id is derived from its campaign and contact (app/campaigns/audience.py), so a contact is in a campaign once.
--
-- Contacts carry their consent (`consent`: unknown, opted_in, opted_out), where it came from (`consent_source`:
-- keyword, person, import, form) and when (`consent_at`), exported with the contact's GDPR data.
-- SQLite cannot change a CHECK in place: both campaign tables are rebuilt (the outbox triggers are regenerated from
-- the new columns by the migration runner).

CREATE TABLE campaigns_v15 (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'prepared', 'running', 'paused', 'completed', 'cancelled')),
    audience TEXT NOT NULL DEFAULT '{}',
    template TEXT NOT NULL DEFAULT '',
    variants TEXT NOT NULL DEFAULT '[]',
    scheduled_at INTEGER,
    started_at INTEGER,
    finished_at INTEGER,
    pace TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(pace) AND json_type(pace) = 'object'),
    next_variant INTEGER NOT NULL DEFAULT 0 CHECK (next_variant >= 0),
    test_contact_id TEXT,
    test_message_id TEXT,
    prepared_at INTEGER,
    require_consent INTEGER NOT NULL DEFAULT 0 CHECK (require_consent IN (0, 1)),
    recent_days INTEGER CHECK (recent_days IS NULL OR recent_days >= 1),
    reply_window_hours INTEGER NOT NULL DEFAULT 72 CHECK (reply_window_hours >= 1),
    sale_window_hours INTEGER NOT NULL DEFAULT 168 CHECK (sale_window_hours >= 1),
    UNIQUE (org_id, id)
);

INSERT INTO campaigns_v15 (
    rid, org_id, id, created_at, updated_at, deleted_at, name, status, audience, template, variants, scheduled_at,
    started_at, finished_at
)
SELECT
    rid, org_id, id, created_at, updated_at, deleted_at, name,
    CASE status WHEN 'scheduled' THEN 'prepared' WHEN 'done' THEN 'completed' ELSE status END,
    audience, template, variants, scheduled_at, started_at, finished_at
FROM campaigns;

DROP TABLE campaigns;
ALTER TABLE campaigns_v15 RENAME TO campaigns;
CREATE INDEX campaigns_status ON campaigns (status) WHERE deleted_at IS NULL;

CREATE TABLE campaign_recipients_v15 (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    campaign_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    variant INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'read', 'replied', 'failed', 'skipped')),
    reason TEXT,
    body TEXT NOT NULL DEFAULT '',
    chat_id TEXT,
    message_id TEXT,
    sent_at INTEGER,
    replied_at INTEGER,
    position INTEGER NOT NULL DEFAULT 0,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, campaign_id) REFERENCES campaigns (org_id, id) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id) DEFERRABLE INITIALLY DEFERRED
);

INSERT INTO campaign_recipients_v15 (
    rid, org_id, id, created_at, updated_at, deleted_at, campaign_id, contact_id, variant, status, reason,
    message_id, sent_at, position
)
SELECT
    rid, org_id, id, created_at, updated_at, deleted_at, campaign_id, contact_id, variant,
    CASE status WHEN 'pending' THEN 'queued' ELSE status END, error, message_id, sent_at, rid
FROM campaign_recipients;

DROP TABLE campaign_recipients;
ALTER TABLE campaign_recipients_v15 RENAME TO campaign_recipients;
CREATE INDEX campaign_recipients_campaign ON campaign_recipients (campaign_id, status, position);
CREATE INDEX campaign_recipients_contact ON campaign_recipients (contact_id);
CREATE INDEX campaign_recipients_message ON campaign_recipients (message_id) WHERE message_id IS NOT NULL;

ALTER TABLE contacts ADD COLUMN consent TEXT NOT NULL DEFAULT 'unknown'
    CHECK (consent IN ('unknown', 'opted_in', 'opted_out'));
ALTER TABLE contacts ADD COLUMN consent_source TEXT;
ALTER TABLE contacts ADD COLUMN consent_at INTEGER;
