-- Connected accounts and the envelope encryption of their tokens.

-- Each workspace's data key, only ever wrapped by a root key (named by its id, so that a
-- rotation knows which root key opens it). Deleting the workspace deletes its key.
CREATE TABLE workspace_keys (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    root_key_id TEXT NOT NULL,
    wrapped_key BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    rotated_at BIGINT
);

-- Tokens are sealed with the workspace's data key; NULL once erased (disconnect, revoked).
CREATE TABLE connected_accounts (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    platform_account_id TEXT NOT NULL,
    handle TEXT NOT NULL,
    display_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'expired', 'revoked')),
    access_token BYTEA,
    refresh_token BYTEA,
    token_expires_at BIGINT,
    connected_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    connected_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- Whoever holds an unexpired lease is the one refreshing (one refresh token spent once,
    -- across processes).
    refresh_lease TEXT,
    refresh_lease_until BIGINT,
    refresh_failures INTEGER NOT NULL DEFAULT 0,
    next_refresh_at BIGINT,
    last_error TEXT,
    UNIQUE (workspace_id, platform, platform_account_id)
);
CREATE INDEX connected_accounts_by_expiry ON connected_accounts(token_expires_at);

-- OAuth `state` of a connect flow in progress: only its digest is stored, with the PKCE
-- verifier sealed like a token. `user_id` is set for flows started in a browser.
CREATE TABLE oauth_states (
    state_digest TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    pkce_verifier BYTEA,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oauth_states_by_workspace ON oauth_states(workspace_id, expires_at);

-- The built-in sandbox platform's authorization codes: the platform's own data, not a
-- workspace's. Digest only, single use.
CREATE TABLE sandbox_grants (
    code_digest TEXT PRIMARY KEY,
    account_name TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Row-level security, as for the other workspace tables. Three narrow openings, each taken
-- only by one connection type in src/db/scope.rs:
-- * `app.key_rotation`: `socializer rotate-root-key` (and the start-up check) see every
--   wrapped data key, which only a root key opens;
-- * `app.refresh_scan`: the background refresher finds accounts due across workspaces
--   (read only; each refresh then runs bound to its workspace);
-- * `app.oauth_state_digest`: a platform's redirect finds its flow by the state it carries.
ALTER TABLE workspace_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE workspace_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_isolation ON workspace_keys
    USING (
        workspace_id = current_setting('app.workspace_id', true)
        OR current_setting('app.key_rotation', true) = 'on'
    )
    WITH CHECK (
        workspace_id = current_setting('app.workspace_id', true)
        OR current_setting('app.key_rotation', true) = 'on'
    );

ALTER TABLE connected_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE connected_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_isolation ON connected_accounts
    USING (workspace_id = current_setting('app.workspace_id', true))
    WITH CHECK (workspace_id = current_setting('app.workspace_id', true));
CREATE POLICY refresh_scan ON connected_accounts FOR SELECT
    USING (current_setting('app.refresh_scan', true) = 'on');

ALTER TABLE oauth_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE oauth_states FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_isolation ON oauth_states
    USING (
        workspace_id = current_setting('app.workspace_id', true)
        OR state_digest = current_setting('app.oauth_state_digest', true)
    )
    WITH CHECK (workspace_id = current_setting('app.workspace_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE
    ON workspace_keys, connected_accounts, oauth_states, sandbox_grants
    TO socializer_app;
