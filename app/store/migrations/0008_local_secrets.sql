-- Parley schema v8: secrets kept inside the workspace when this computer has no secure keyring.
--
-- On a computer without a keyring that really protects secrets (a headless or minimal Linux, some KDE setups) a
-- passphrase protects the workspace, and the secrets that would otherwise go to the keyring live here instead: AI
-- provider keys (service 'parley-ai', by provider entry id) and the team sync sign-in (service 'parley-sync', by
-- workspace id). The database is encrypted, so they are never on disk in plain text; they travel with an
-- encrypted backup like the rest of the workspace. Which of the two homes a workspace uses is recorded in
-- workspace_meta ('secrets.home'; app/store/secrets.py).
--
-- Local only: never synced (not in sync_tables, so no outbox triggers), and no page shows it (not tracked).
CREATE TABLE local_secrets (
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,            -- ms
    PRIMARY KEY (service, name)
) WITHOUT ROWID;
