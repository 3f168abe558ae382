-- Parley schema v12: durable jobs (issue 18), the table the agents and campaigns schedule their work in.
--
-- A job names its handler by `kind` (a registry of handlers in app/agents/job_kinds.py: never a pickled callable)
-- and carries its data as JSON (`payload`, checked against the kind's pydantic model when it runs). `dedupe_key` is
-- unique: scheduling the same key twice keeps the first job (e.g. `followup:sale:<id>:d3` runs once, ever).
-- A runner claims due jobs in one write transaction by setting a lease (`lease_owner`, `lease_until`); a lease that
-- runs out (the app crashed or was killed mid-job) makes the job claimable again. Times are ms since the epoch.
-- `last_error` is a sentence written by the runner, never an exception's text; `result` is what the handler
-- returned, or the skip reason code (`too_late`, ...).
--
-- Local to this computer: not in sync_tables (no outbox triggers), see app/store/jobs.py for why.

CREATE TABLE jobs (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,                -- UUIDv7
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
    -- A running job always has a lease, and no other job does.
    CHECK ((status = 'running') = (lease_owner IS NOT NULL AND lease_until IS NOT NULL))
);

-- A timer tick asks "what is due now?" (status = 'due' AND run_at <= now) and "whose lease ran out?" (status =
-- 'running' AND lease_until <= now): both are a range of this index, so 10,000 jobs waiting for next week cost a
-- tick one probe. Running jobs are few, and their lease_until is read from the row.
CREATE INDEX jobs_due ON jobs (status, run_at);
-- The jobs list (done and failed, newest first).
CREATE INDEX jobs_finished ON jobs (status, finished_at) WHERE finished_at IS NOT NULL;
