-- Parley sync server schema v2: an AI call reserves the most it can cost while it runs (docs/sync.md, "AI gateway").
--
-- reserved_usd is held against the org's monthly budget from admission until the call settles (reserved_until set
-- back to NULL, cost_usd the real cost) or, for a call whose process died, until reserved_until passes.
ALTER TABLE ai_usage ADD COLUMN reserved_usd numeric(12, 6) NOT NULL DEFAULT 0;
ALTER TABLE ai_usage ADD COLUMN reserved_until timestamptz;
