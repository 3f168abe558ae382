-- Parley schema v14: the jobs that send on the WhatsApp number are a team's, not one computer's (issue 18).
--
-- In a team only the device that holds the number's WhatsApp session sends (schema 6), but a sale recorded on any
-- computer schedules its follow-up where it was recorded. A follow-up kept local to a computer that does not hold
-- the number would wait there for ever; so jobs that send (`shared = 1`: kinds that need WhatsApp, see
-- app/agents/job_kinds.py) sync like other rows: the holder runs them, every teammate sees them due, done, failed or
-- cancelled, and a cancel made on any computer reaches the holder.
--
-- A shared job's id is derived from its dedupe key (app/store/jobs.py), so the same follow-up scheduled on two
-- computers is ONE row everywhere: arriving twice through sync, it is kept — and run — once.
--
-- The lease (`lease_owner`, `lease_until`) stays on the computer that claimed the job: it is not on the wire, and an
-- update of it alone writes no outbox row (app/store/outbox_triggers.py). A pulled job can be `running` without a
-- lease here (it runs on the holder): the CHECK that tied the two together is relaxed to "a lease only while
-- running", kept by a trigger that drops the lease when a pulled status ends the run. Jobs local to this computer
-- (`shared = 0`: the daily revenue check, its alerts) never leave it.

CREATE TABLE jobs_v14 (
    rid INTEGER PRIMARY KEY,
    org_id TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind <> ''),
    payload TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload) AND json_type(payload) = 'object'),
    run_at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'due'
        CHECK (status IN ('due', 'running', 'done', 'failed', 'cancelled', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts INTEGER NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    last_error TEXT,
    result TEXT,
    dedupe_key TEXT NOT NULL UNIQUE CHECK (dedupe_key <> ''),
    lease_owner TEXT,
    lease_until INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finished_at INTEGER,
    deleted_at INTEGER,
    shared INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),
    UNIQUE (org_id, id),
    CHECK ((lease_owner IS NULL) = (lease_until IS NULL))
);

INSERT INTO jobs_v14 (
    rid, org_id, id, kind, payload, run_at, status, attempts, max_attempts, last_error, result, dedupe_key,
    lease_owner, lease_until, created_at, updated_at, finished_at
)
SELECT
    rid, coalesce((SELECT id FROM orgs ORDER BY rid LIMIT 1), 'local'), id, kind, payload, run_at, status, attempts,
    max_attempts, last_error, result, dedupe_key, lease_owner, lease_until, created_at, updated_at, finished_at
FROM jobs;

DROP TABLE jobs;
ALTER TABLE jobs_v14 RENAME TO jobs;

CREATE INDEX jobs_due ON jobs (status, run_at);
CREATE INDEX jobs_finished ON jobs (status, finished_at) WHERE finished_at IS NOT NULL;

-- A lease only while running: a status that ends the run (written here or pulled) takes the lease with it.
CREATE TRIGGER jobs_lease_ends AFTER UPDATE OF status ON jobs
WHEN new.status <> 'running' AND new.lease_owner IS NOT NULL
BEGIN
    UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE rid = new.rid;
END;

INSERT INTO sync_tables (name) VALUES ('jobs');
