-- Parley sync server schema v4: media bytes shared through the team server (issue 17, docs/sync.md "Media").
--
-- Off by default (`orgs.media_shared_since` NULL): only the owner turns it on, because a message's photo, voice note or
-- document then reaches the server, where it did not go before (BYOK's rule). The bytes are stored sealed:
-- AES-256-GCM under a key derived (HKDF, its own info label) from PARLEY_SYNC_SECRET, with the org id and the blob id
-- as associated data, so the database alone gives nothing away and a ciphertext copied to another org's or blob's row
-- does not open. A blob is named by the SHA-256 of its plaintext, as in the app (`media_blobs` there).

-- When the owner turned sharing on (NULL: off). Turning it off removes the org's blobs; a client that uploaded
-- before sees a new time once it is back on, and uploads again.
ALTER TABLE orgs ADD COLUMN media_shared_since timestamptz;

CREATE TABLE media_blobs (
    org_id text NOT NULL REFERENCES orgs (id),
    blob_id text NOT NULL CHECK (blob_id ~ '^[0-9a-f]{64}$'),
    mime text NOT NULL DEFAULT '',
    size bigint NOT NULL CHECK (size >= 0),       -- of the plaintext, counted against the org's quota
    sealed bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, blob_id)
);

ALTER TABLE media_blobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE media_blobs FORCE ROW LEVEL SECURITY;
CREATE POLICY org_scope ON media_blobs USING (org_id = current_setting('parley.org_id', true));
