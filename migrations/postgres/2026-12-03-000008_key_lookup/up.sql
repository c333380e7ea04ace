-- Authenticating a request's key in one statement, one round trip: the function binds its
-- statement to the key's digest, then to the key's workspace, exactly as the service's scopes
-- do for a transaction, and reads the key, its creator's email and role, and its workspace.
-- It runs as its caller (SECURITY INVOKER), so the service's role and row-level security apply
-- to every table it reads. The settings are transaction-local, and a lone statement is its own
-- transaction: nothing stays set on the pooled connection afterwards. PL/pgSQL prepares the
-- queries below once per connection and reuses their plans.
CREATE FUNCTION socializer_key_for_request(p_digest TEXT)
RETURNS TABLE (
    id TEXT,
    workspace_id TEXT,
    created_by TEXT,
    created_by_email TEXT,
    label TEXT,
    mode TEXT,
    scopes TEXT,
    last4 TEXT,
    created_at BIGINT,
    expires_at BIGINT,
    revoked_at BIGINT,
    last_used_at BIGINT,
    last_used_ip TEXT,
    created_by_key TEXT,
    workspace_name TEXT,
    workspace_plan TEXT,
    creator_role TEXT
)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
#variable_conflict use_column
DECLARE
    key_workspace TEXT;
BEGIN
    PERFORM set_config('app.api_key_digest', p_digest, true);
    SELECT k.workspace_id INTO key_workspace FROM api_keys k WHERE k.digest = p_digest;
    IF key_workspace IS NULL THEN
        RETURN;
    END IF;
    PERFORM set_config('app.workspace_id', key_workspace, true);
    RETURN QUERY
        SELECT k.id, k.workspace_id, k.created_by, u.email, k.label, k.mode, k.scopes, k.last4,
               k.created_at, k.expires_at, k.revoked_at, k.last_used_at, k.last_used_ip,
               k.created_by_key, w.name, w.plan, m.role
        FROM api_keys k
        JOIN workspaces w ON w.id = k.workspace_id
        LEFT JOIN users u ON u.id = k.created_by
        LEFT JOIN memberships m ON m.workspace_id = k.workspace_id AND m.user_id = k.created_by
        WHERE k.digest = p_digest;
END
$$;

REVOKE ALL ON FUNCTION socializer_key_for_request(TEXT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION socializer_key_for_request(TEXT) TO socializer_app;
