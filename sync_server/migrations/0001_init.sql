-- Parley sync server schema v1.
--
-- Every tenant table leads its primary key with org_id, so the schema can be distributed by org (Citus) as it is.
-- Row-level security is the backstop behind the code's own scoping: the server sets `parley.org_id` from the access
-- token at the start of every transaction, and FORCE makes the policies apply to the owning role too. The few
-- look-ups that must cross orgs before an org is known (login by e-mail, refresh by token hash, invite by token
-- hash) run with `parley.scope = 'system'`, which only the auth code sets.

CREATE TABLE server_secrets (
    name text PRIMARY KEY,
    value bytea NOT NULL
);

CREATE TABLE orgs (
    id text PRIMARY KEY,
    name text NOT NULL,
    version bigint NOT NULL DEFAULT 0,            -- gapless: bumped by one per row change, under this row's lock
    refetch_below bigint NOT NULL DEFAULT 0,      -- cursors under this predate purged tombstones: must refetch
    ai_monthly_budget_usd numeric(12, 4) NOT NULL DEFAULT 50,
    ai_requests_per_minute integer NOT NULL DEFAULT 60,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE members (
    org_id text NOT NULL REFERENCES orgs (id),
    id text NOT NULL,
    email text NOT NULL,
    name text NOT NULL,
    role text NOT NULL CHECK (role IN ('owner', 'admin', 'staff')),
    password_hash text NOT NULL,                  -- Argon2id
    created_at timestamptz NOT NULL DEFAULT now(),
    removed_at timestamptz,
    PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX members_org_email ON members (org_id, lower(email));
CREATE INDEX members_email ON members (lower(email));

CREATE TABLE devices (
    org_id text NOT NULL,
    id text NOT NULL,
    member_id text NOT NULL,
    name text NOT NULL,
    refresh_hash bytea NOT NULL,                  -- sha256 of the current refresh token; rotated on every use
    previous_refresh_hash bytea,                  -- the one it replaced: seen again, the token was copied
    refresh_expires_at timestamptz NOT NULL,
    last_seq bigint NOT NULL DEFAULT 0,           -- highest client sequence applied: pushes are idempotent by it
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz,
    revoked_at timestamptz,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, member_id) REFERENCES members (org_id, id)
);
CREATE UNIQUE INDEX devices_refresh ON devices (refresh_hash);

CREATE TABLE invites (
    org_id text NOT NULL REFERENCES orgs (id),
    id text NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    email text NOT NULL,
    role text NOT NULL CHECK (role IN ('admin', 'staff')),
    invited_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by text,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE login_attempts (
    email text NOT NULL,
    client text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_email ON login_attempts (email, at);
CREATE INDEX login_attempts_client ON login_attempts (client, at);

-- The org's data: one row per synced record, its columns as JSON, stamped with the org version of its last change.
CREATE TABLE sync_rows (
    org_id text NOT NULL,
    tbl text NOT NULL,
    id text NOT NULL,
    version bigint NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    purged boolean NOT NULL DEFAULT false,
    data jsonb NOT NULL DEFAULT '{}',
    field_versions jsonb NOT NULL DEFAULT '{}',   -- {"column": [version, "device id"]}: who last wrote each field
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, tbl, id)
);
CREATE UNIQUE INDEX sync_rows_version ON sync_rows (org_id, version);
-- The tombstone janitor's scan (deleted rows older than the retention), without reading the org's live rows.
CREATE INDEX sync_rows_tombstones ON sync_rows (org_id, changed_at) WHERE deleted;

CREATE TABLE sync_conflicts (
    org_id text NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    device_id text NOT NULL,                      -- the device whose edit lost
    tbl text NOT NULL,
    row_id text NOT NULL,
    fields jsonb NOT NULL,
    reason text NOT NULL,
    theirs jsonb NOT NULL DEFAULT '{}',
    version bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX sync_conflicts_pending ON sync_conflicts (org_id, device_id) WHERE delivered_at IS NULL;

-- AI gateway: the org's provider entries (keys encrypted with the server's secret), and usage per member.
CREATE TABLE ai_providers (
    org_id text NOT NULL REFERENCES orgs (id),
    position integer NOT NULL,
    kind text NOT NULL,
    model text NOT NULL,
    base_url text,
    embedding_model text,
    key_ciphertext bytea,
    PRIMARY KEY (org_id, position)
);

CREATE TABLE ai_usage (
    org_id text NOT NULL REFERENCES orgs (id),
    id bigint GENERATED ALWAYS AS IDENTITY,
    member_id text NOT NULL,
    model text NOT NULL,
    purpose text NOT NULL,
    prompt_tokens integer NOT NULL DEFAULT 0,
    completion_tokens integer NOT NULL DEFAULT 0,
    cost_usd numeric(12, 6) NOT NULL DEFAULT 0,
    status text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);
CREATE INDEX ai_usage_org_time ON ai_usage (org_id, at);

-- ---- row-level security -----------------------------------------------------------------------------------------
ALTER TABLE orgs ENABLE ROW LEVEL SECURITY;
ALTER TABLE orgs FORCE ROW LEVEL SECURITY;
CREATE POLICY org_scope ON orgs
    USING (id = current_setting('parley.org_id', true) OR current_setting('parley.scope', true) = 'system');

ALTER TABLE members ENABLE ROW LEVEL SECURITY;
ALTER TABLE members FORCE ROW LEVEL SECURITY;
CREATE POLICY org_scope ON members
    USING (org_id = current_setting('parley.org_id', true) OR current_setting('parley.scope', true) = 'system');

ALTER TABLE devices ENABLE ROW LEVEL SECURITY;
ALTER TABLE devices FORCE ROW LEVEL SECURITY;
CREATE POLICY org_scope ON devices
    USING (org_id = current_setting('parley.org_id', true) OR current_setting('parley.scope', true) = 'system');

ALTER TABLE invites ENABLE ROW LEVEL SECURITY;
ALTER TABLE invites FORCE ROW LEVEL SECURITY;
CREATE POLICY org_scope ON invites
    USING (org_id = current_setting('parley.org_id', true) OR current_setting('parley.scope', true) = 'system');

ALTER TABLE sync_rows ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_rows FORCE ROW LEVEL SECURITY;
CREATE POLICY org_scope ON sync_rows USING (org_id = current_setting('parley.org_id', true));

ALTER TABLE sync_conflicts ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_conflicts FORCE ROW LEVEL SECURITY;
CREATE POLICY org_scope ON sync_conflicts USING (org_id = current_setting('parley.org_id', true));

ALTER TABLE ai_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE ai_providers FORCE ROW LEVEL SECURITY;
CREATE POLICY org_scope ON ai_providers USING (org_id = current_setting('parley.org_id', true));

ALTER TABLE ai_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE ai_usage FORCE ROW LEVEL SECURITY;
CREATE POLICY org_scope ON ai_usage USING (org_id = current_setting('parley.org_id', true));
