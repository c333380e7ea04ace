-- API keys. Only the SHA-256 of a key is stored, with its last 4 characters for display.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    label TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    -- Space-separated; empty means full access.
    scopes TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    last4 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    last_used_at BIGINT,
    last_used_ip TEXT
);
CREATE INDEX api_keys_by_workspace ON api_keys(workspace_id, created_at);

-- A key is found by its digest before its workspace is known: a transaction that names a
-- digest in `app.api_key_digest` sees that one row. Knowing the digest means holding the key.
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_isolation ON api_keys
    USING (
        workspace_id = current_setting('app.workspace_id', true)
        OR digest = current_setting('app.api_key_digest', true)
    )
    WITH CHECK (workspace_id = current_setting('app.workspace_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON api_keys TO socializer_app;
