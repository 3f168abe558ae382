-- Own messages that have not gone out (queued, being typed, failed): the WhatsApp page's queue table and the
-- supervisor's counts read exactly this set on every status. Without it, finding the failed ones scans every message.
CREATE INDEX messages_unsent ON messages (status, created_at) WHERE status IN ('queued', 'typing', 'failed');
