-- Parley sync server schema v3: a revoked device or a removed member is announced to every server process.
--
-- The notice goes out on `parley_access` at commit, whichever path revoked (member removal, device revocation,
-- sign-out, a copied refresh token coming back, an UPDATE by hand), so no path can forget it. Each process LISTENs
-- there next to `parley_sync` and closes that device's or member's sockets at once (sync_server/realtime.py); before,
-- an open socket kept hearing the team's rows until its access token expired. The triggers fire only when the column
-- is set (UPDATE OF ... WHEN), so a push's update of devices.last_seq never calls them.

CREATE FUNCTION notify_access_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- TG_ARGV[0] is 'device' or 'member': {"org": ..., "device": ...} or {"org": ..., "member": ...}
    PERFORM pg_notify('parley_access', json_build_object('org', NEW.org_id, TG_ARGV[0], NEW.id)::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER devices_revoked AFTER UPDATE OF revoked_at ON devices FOR EACH ROW
    WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION notify_access_revoked('device');

CREATE TRIGGER members_removed AFTER UPDATE OF removed_at ON members FOR EACH ROW
    WHEN (OLD.removed_at IS NULL AND NEW.removed_at IS NOT NULL)
    EXECUTE FUNCTION notify_access_revoked('member');
