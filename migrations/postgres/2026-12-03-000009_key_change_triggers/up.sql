-- Every change that can make a server process's cached key wrong announces itself on the
-- `socializer_key_changes` channel, from inside its transaction (delivered on commit, never for
-- a rollback). Triggers, not the service's code, so that nothing can change a key behind the
-- caches: not a query added later, not an operator's SQL.
CREATE FUNCTION socializer_announce_key_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'api_keys' THEN
        PERFORM pg_notify('socializer_key_changes', 'key:' || OLD.id);
    ELSIF TG_TABLE_NAME = 'memberships' THEN
        -- Keys act with their creator's role.
        PERFORM pg_notify('socializer_key_changes', 'workspace:' || OLD.workspace_id);
    ELSE
        -- A key carries its workspace's name and plan.
        PERFORM pg_notify('socializer_key_changes', 'workspace:' || OLD.id);
    END IF;
    RETURN NULL;
END
$$;

-- Not on every update: recording a key's last use must stay silent.
CREATE TRIGGER api_keys_announce AFTER UPDATE OF revoked_at, expires_at ON api_keys
    FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
          OR OLD.expires_at IS DISTINCT FROM NEW.expires_at)
    EXECUTE FUNCTION socializer_announce_key_change();
-- A key's row goes only with its workspace, which announces itself.
CREATE TRIGGER memberships_announce AFTER UPDATE OF role ON memberships
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION socializer_announce_key_change();
CREATE TRIGGER memberships_announce_removal AFTER DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION socializer_announce_key_change();
-- Taking a workspace's row (`SET name = name`) changes nothing and says nothing.
CREATE TRIGGER workspaces_announce AFTER UPDATE OF name, plan ON workspaces
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.plan IS DISTINCT FROM NEW.plan)
    EXECUTE FUNCTION socializer_announce_key_change();
CREATE TRIGGER workspaces_announce_deletion AFTER DELETE ON workspaces
    FOR EACH ROW EXECUTE FUNCTION socializer_announce_key_change();
