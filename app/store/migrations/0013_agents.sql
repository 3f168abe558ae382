-- Parley schema v13: what the agents stand on (issue 18).
--
-- Who owns a conversation is explicit. `chats.ai_mode` is the chat's own choice (autopilot, draft = suggest, off),
-- NULL meaning the acquisition agent's mode. A person's takeover is derived from the messages, never declared on one
-- path and forgotten on another: any outgoing message with no `sent_by_agent` (typed in Parley, on the phone, in
-- WhatsApp Web) pauses the AI on that chat until `sent_at` + the pause (a setting, 12 h by default) unless the chat
-- was handed back (`ai_handed_back_at`) after it. All three columns sync, so every teammate sees the same owner.
--
-- `messages.sent_by_agent` names the agent that sent a message and `agent_execution_id` the run that decided it:
-- events caused by automated sends never start automations, and reports can leave automated messages out.
--
-- `agent_configs` keeps every version of an agent's settings (a new row per edit; the highest version is the one in
-- force; a roll-back is a new version copying an old one). `agent_executions` gains the columns that answer "why
-- didn't it fire?": the event, the config version, the chat, the action or the skip reason code, model, tokens,
-- cost, duration, and the causation chain (`causation_id`, `depth`).
--
-- `orgs.business_hours` is the weekly schedule and holidays in the org's time zone (JSON, app/agents/hours.py).
--
-- Local to this computer: `agent_cursors` (the last durable event each agent consumed: nothing is missed across
-- restarts and nothing runs twice) and `health_checks` (the health monitor's history).

ALTER TABLE chats ADD COLUMN ai_mode TEXT CHECK (ai_mode IS NULL OR ai_mode IN ('off', 'draft', 'autopilot'));
ALTER TABLE chats ADD COLUMN ai_handed_back_at INTEGER;

ALTER TABLE messages ADD COLUMN sent_by_agent TEXT;
ALTER TABLE messages ADD COLUMN agent_execution_id TEXT;
-- "the latest person's message in this chat": the takeover check runs before every automated send.
CREATE INDEX messages_human_out ON messages (chat_id, sent_at) WHERE direction = 'out' AND sent_by_agent IS NULL;

ALTER TABLE agent_configs ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1);
ALTER TABLE agent_configs ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE agent_configs ADD COLUMN author_user_id TEXT;
CREATE INDEX agent_configs_version ON agent_configs (agent, version);

ALTER TABLE agent_executions ADD COLUMN config_version INTEGER;
ALTER TABLE agent_executions ADD COLUMN event_name TEXT;
ALTER TABLE agent_executions ADD COLUMN event_seq INTEGER;
ALTER TABLE agent_executions ADD COLUMN chat_id TEXT;
ALTER TABLE agent_executions ADD COLUMN action TEXT;
ALTER TABLE agent_executions ADD COLUMN skip_reason TEXT;
ALTER TABLE agent_executions ADD COLUMN model TEXT;
ALTER TABLE agent_executions ADD COLUMN tokens INTEGER;
ALTER TABLE agent_executions ADD COLUMN cost_usd REAL;
ALTER TABLE agent_executions ADD COLUMN duration_ms INTEGER;
ALTER TABLE agent_executions ADD COLUMN causation_id TEXT;
ALTER TABLE agent_executions ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent_executions ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0;
CREATE INDEX agent_executions_chat ON agent_executions (chat_id, started_at) WHERE chat_id IS NOT NULL;
CREATE INDEX agent_executions_skips ON agent_executions (skip_reason, started_at) WHERE skip_reason IS NOT NULL;

ALTER TABLE orgs ADD COLUMN business_hours TEXT NOT NULL DEFAULT '{}';

CREATE TABLE agent_cursors (
    agent TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0),  -- events.seq consumed up to here
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE health_checks (
    rid INTEGER PRIMARY KEY,
    checked_at INTEGER NOT NULL,
    name TEXT NOT NULL,                 -- whatsapp, database, ai, sync, disk
    status TEXT NOT NULL CHECK (status IN ('ok', 'warn', 'fail')),
    sentence TEXT NOT NULL DEFAULT '',  -- what a person reads; never customer content
    value REAL                          -- the figure behind it (error rate, lag in s, free MB), when there is one
);
CREATE INDEX health_checks_time ON health_checks (name, checked_at);
