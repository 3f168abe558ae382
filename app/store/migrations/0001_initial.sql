-- Parley schema v1: every entity of a workspace.
--
-- Synced tables share one shape: a local integer `rid` (stable rowid for FTS and joins, never synced), the sync
-- identity (org_id, id) as a UNIQUE key (org_id first so the server can shard by it), created_at / updated_at in
-- milliseconds since the epoch, and deleted_at as a tombstone. Each synced table is listed in sync_tables; the
-- migration runner (re)generates its outbox triggers from that list after every migration.
-- Foreign keys are deferred so sync can apply a page of rows in any order within one transaction.

-- ---- local-only bookkeeping --------------------------------------------------------------------------------
CREATE TABLE workspace_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,            -- JSON
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE sync_tables (
    name TEXT PRIMARY KEY
) WITHOUT ROWID;

-- applying_remote is 1 only inside the transaction that applies rows pulled from the server, so those writes are
-- not echoed into the outbox; a crash rolls the flag back with the rest of the transaction.
CREATE TABLE sync_control (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    applying_remote INTEGER NOT NULL DEFAULT 0 CHECK (applying_remote IN (0, 1))
);
INSERT INTO sync_control (id, applying_remote) VALUES (1, 0);

-- seq is the client sequence: AUTOINCREMENT so a number is never reused, even after the outbox is drained.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id TEXT NOT NULL UNIQUE,
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete', 'purge')),
    changed TEXT NOT NULL,          -- JSON array of column names
    created_at INTEGER NOT NULL
);

CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    payload TEXT NOT NULL,          -- JSON
    occurred_at INTEGER NOT NULL,
    processed_at INTEGER
);
CREATE INDEX events_pending ON events (seq) WHERE processed_at IS NULL;

-- ---- organisation and people -------------------------------------------------------------------------------
CREATE TABLE orgs (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    name TEXT NOT NULL,
    default_currency TEXT NOT NULL DEFAULT 'USD',
    timezone TEXT NOT NULL DEFAULT 'UTC',
    UNIQUE (org_id, id),
    CHECK (org_id = id)
);

CREATE TABLE users (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    name TEXT NOT NULL,
    email TEXT,
    role TEXT NOT NULL DEFAULT 'staff' CHECK (role IN ('owner', 'admin', 'staff')),
    UNIQUE (org_id, id)
);

CREATE TABLE companies (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    name TEXT NOT NULL,
    domain TEXT,
    phone TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    custom_fields TEXT NOT NULL DEFAULT '{}',
    UNIQUE (org_id, id)
);

CREATE TABLE contacts (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    name TEXT NOT NULL DEFAULT '',
    phone TEXT,                     -- E.164
    wa_id TEXT,                     -- 15551234567@c.us
    lid TEXT,                       -- WhatsApp's linked-device id, 1234@lid
    email TEXT,
    company_id TEXT,
    owner_user_id TEXT,
    language TEXT,
    lifecycle TEXT NOT NULL DEFAULT 'new' CHECK (lifecycle IN ('new', 'lead', 'qualified', 'customer', 'churned')),
    tags TEXT NOT NULL DEFAULT '[]',
    custom_fields TEXT NOT NULL DEFAULT '{}',
    lead_score INTEGER NOT NULL DEFAULT 0,
    lifetime_value_minor INTEGER NOT NULL DEFAULT 0,
    currency TEXT NOT NULL DEFAULT 'USD',
    last_contacted_at INTEGER,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, company_id) REFERENCES companies (org_id, id) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (org_id, owner_user_id) REFERENCES users (org_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX contacts_phone ON contacts (phone) WHERE phone IS NOT NULL;
CREATE INDEX contacts_wa_id ON contacts (wa_id) WHERE wa_id IS NOT NULL;
CREATE INDEX contacts_lid ON contacts (lid) WHERE lid IS NOT NULL;
CREATE INDEX contacts_company ON contacts (company_id) WHERE company_id IS NOT NULL;
CREATE INDEX contacts_owner ON contacts (owner_user_id) WHERE owner_user_id IS NOT NULL;

CREATE TABLE tags (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    name TEXT NOT NULL,
    color TEXT NOT NULL DEFAULT '#7f8c8d',
    UNIQUE (org_id, id)
);

CREATE TABLE custom_field_defs (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    entity TEXT NOT NULL CHECK (entity IN ('contact', 'company', 'deal')),
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    field_type TEXT NOT NULL DEFAULT 'text' CHECK (field_type IN ('text', 'number', 'date', 'bool', 'choice')),
    options TEXT NOT NULL DEFAULT '[]',
    UNIQUE (org_id, id)
);

-- ---- conversations -----------------------------------------------------------------------------------------
CREATE TABLE chats (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    contact_id TEXT,
    wa_chat_id TEXT,
    kind TEXT NOT NULL DEFAULT 'direct' CHECK (kind IN ('direct', 'group')),
    title TEXT NOT NULL DEFAULT '',
    assigned_user_id TEXT,
    last_read_at INTEGER,
    archived INTEGER NOT NULL DEFAULT 0,
    pinned INTEGER NOT NULL DEFAULT 0,
    muted_until INTEGER,
    tags TEXT NOT NULL DEFAULT '[]',
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (org_id, assigned_user_id) REFERENCES users (org_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX chats_contact ON chats (contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX chats_wa_chat_id ON chats (wa_chat_id) WHERE wa_chat_id IS NOT NULL;
CREATE INDEX chats_assigned ON chats (assigned_user_id) WHERE assigned_user_id IS NOT NULL;

CREATE TABLE messages (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    chat_id TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    body TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT 'text',
    status TEXT NOT NULL DEFAULT 'received'
        CHECK (status IN ('received', 'queued', 'typing', 'sent', 'delivered', 'read', 'failed')),
    status_reason TEXT,
    wa_id TEXT,                     -- WhatsApp's message id: the de-duplication key for captured messages
    sender_wa_id TEXT,
    author_user_id TEXT,
    quoted_message_id TEXT,
    quoted_wa_id TEXT,
    media TEXT,                     -- JSON: mime, size, file name, sha256, duration, ...
    sent_at INTEGER NOT NULL,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, chat_id) REFERENCES chats (org_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX messages_wa_id ON messages (org_id, wa_id) WHERE wa_id IS NOT NULL;
CREATE INDEX messages_chat_time ON messages (chat_id, sent_at);
CREATE INDEX messages_send_queue ON messages (status, created_at) WHERE status IN ('queued', 'typing');

CREATE TABLE notes (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    body TEXT NOT NULL,
    contact_id TEXT,
    chat_id TEXT,
    deal_id TEXT,
    author_user_id TEXT,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (org_id, chat_id) REFERENCES chats (org_id, id) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (org_id, deal_id) REFERENCES deals (org_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX notes_contact ON notes (contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX notes_chat ON notes (chat_id) WHERE chat_id IS NOT NULL;
CREATE INDEX notes_deal ON notes (deal_id) WHERE deal_id IS NOT NULL;

CREATE TABLE quick_replies (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    shortcut TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    UNIQUE (org_id, id)
);

-- ---- sales -------------------------------------------------------------------------------------------------
CREATE TABLE pipelines (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    name TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    is_default INTEGER NOT NULL DEFAULT 0,
    UNIQUE (org_id, id)
);

CREATE TABLE pipeline_stages (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    pipeline_id TEXT NOT NULL,
    name TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    probability INTEGER NOT NULL DEFAULT 0 CHECK (probability BETWEEN 0 AND 100),
    stage_kind TEXT NOT NULL DEFAULT 'open' CHECK (stage_kind IN ('open', 'won', 'lost')),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, pipeline_id) REFERENCES pipelines (org_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX pipeline_stages_pipeline ON pipeline_stages (pipeline_id, position);

CREATE TABLE deals (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    pipeline_id TEXT NOT NULL,
    stage_id TEXT NOT NULL,
    title TEXT NOT NULL,
    contact_id TEXT,
    company_id TEXT,
    owner_user_id TEXT,
    value_minor INTEGER NOT NULL DEFAULT 0,
    currency TEXT NOT NULL DEFAULT 'USD',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
    position REAL NOT NULL DEFAULT 0,
    expected_close_at INTEGER,
    closed_at INTEGER,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, pipeline_id) REFERENCES pipelines (org_id, id) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (org_id, stage_id) REFERENCES pipeline_stages (org_id, id) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (org_id, company_id) REFERENCES companies (org_id, id) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (org_id, owner_user_id) REFERENCES users (org_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX deals_stage ON deals (stage_id, position);
CREATE INDEX deals_pipeline ON deals (pipeline_id);
CREATE INDEX deals_contact ON deals (contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX deals_company ON deals (company_id) WHERE company_id IS NOT NULL;

CREATE TABLE products (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    name TEXT NOT NULL,
    sku TEXT,
    description TEXT NOT NULL DEFAULT '',
    price_minor INTEGER NOT NULL DEFAULT 0 CHECK (price_minor >= 0),
    currency TEXT NOT NULL DEFAULT 'USD',
    stock INTEGER,                  -- NULL: stock not tracked
    active INTEGER NOT NULL DEFAULT 1,
    UNIQUE (org_id, id)
);

CREATE TABLE sales (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    contact_id TEXT,
    deal_id TEXT,
    chat_id TEXT,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL DEFAULT 'USD',
    sold_at INTEGER NOT NULL,
    recorded_by_user_id TEXT,
    source TEXT NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'agent', 'import')),
    note TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (org_id, deal_id) REFERENCES deals (org_id, id) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (org_id, chat_id) REFERENCES chats (org_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX sales_time ON sales (sold_at);
CREATE INDEX sales_contact ON sales (contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX sales_deal ON sales (deal_id) WHERE deal_id IS NOT NULL;
CREATE INDEX sales_chat ON sales (chat_id) WHERE chat_id IS NOT NULL;

CREATE TABLE sale_items (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    sale_id TEXT NOT NULL,
    product_id TEXT,
    description TEXT NOT NULL DEFAULT '',
    quantity INTEGER NOT NULL DEFAULT 1 CHECK (quantity > 0),
    unit_price_minor INTEGER NOT NULL DEFAULT 0,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, sale_id) REFERENCES sales (org_id, id) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (org_id, product_id) REFERENCES products (org_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX sale_items_sale ON sale_items (sale_id);
CREATE INDEX sale_items_product ON sale_items (product_id) WHERE product_id IS NOT NULL;

-- ---- campaigns ---------------------------------------------------------------------------------------------
CREATE TABLE campaigns (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'done', 'cancelled')),
    audience TEXT NOT NULL DEFAULT '{}',
    template TEXT NOT NULL DEFAULT '',
    variants TEXT NOT NULL DEFAULT '[]',
    scheduled_at INTEGER,
    started_at INTEGER,
    finished_at INTEGER,
    UNIQUE (org_id, id)
);

CREATE TABLE campaign_recipients (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    campaign_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    variant INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sent', 'delivered', 'read', 'replied', 'failed')),
    message_id TEXT,
    error TEXT,
    sent_at INTEGER,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, campaign_id) REFERENCES campaigns (org_id, id) DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (org_id, contact_id) REFERENCES contacts (org_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX campaign_recipients_campaign ON campaign_recipients (campaign_id, status);
CREATE INDEX campaign_recipients_contact ON campaign_recipients (contact_id);

-- ---- knowledge, agents, AI, audit --------------------------------------------------------------------------
CREATE TABLE knowledge_articles (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    source_kind TEXT NOT NULL DEFAULT 'text' CHECK (source_kind IN ('text', 'markdown', 'pdf', 'url')),
    source_name TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    UNIQUE (org_id, id)
);

-- Chunks are derived from articles on each device (and rebuilt when chunking changes): local-only, not synced.
CREATE TABLE knowledge_chunks (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    article_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    body TEXT NOT NULL,
    token_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX knowledge_chunks_article ON knowledge_chunks (article_id, position);

CREATE TABLE agent_configs (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    agent TEXT NOT NULL CHECK (agent IN ('acquisition', 'finance', 'retention', 'health')),
    enabled INTEGER NOT NULL DEFAULT 0,
    mode TEXT NOT NULL DEFAULT 'draft' CHECK (mode IN ('off', 'draft', 'autopilot')),
    config TEXT NOT NULL DEFAULT '{}',
    UNIQUE (org_id, id)
);

CREATE TABLE agent_executions (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    agent TEXT NOT NULL,
    trigger TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    detail TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    UNIQUE (org_id, id)
);
CREATE INDEX agent_executions_time ON agent_executions (agent, started_at);

CREATE TABLE ai_interactions (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    purpose TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('byok', 'cloud')),
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    chat_id TEXT,
    user_id TEXT,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cost_micro_usd INTEGER NOT NULL DEFAULT 0,
    latency_ms INTEGER NOT NULL DEFAULT 0,
    outcome TEXT NOT NULL DEFAULT 'pending'
        CHECK (outcome IN ('pending', 'accepted', 'edited', 'discarded', 'failed', 'handoff')),
    UNIQUE (org_id, id)
);
CREATE INDEX ai_interactions_chat ON ai_interactions (chat_id) WHERE chat_id IS NOT NULL;

CREATE TABLE audit_log (
    rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER,
    action TEXT NOT NULL,
    actor_user_id TEXT,
    entity TEXT,
    entity_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}',
    UNIQUE (org_id, id)
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

INSERT INTO sync_tables (name) VALUES
    ('orgs'), ('users'), ('companies'), ('contacts'), ('tags'), ('custom_field_defs'), ('chats'), ('messages'),
    ('notes'), ('quick_replies'), ('pipelines'), ('pipeline_stages'), ('deals'), ('products'), ('sales'),
    ('sale_items'), ('campaigns'), ('campaign_recipients'), ('knowledge_articles'), ('agent_configs'),
    ('agent_executions'), ('ai_interactions'), ('audit_log');
