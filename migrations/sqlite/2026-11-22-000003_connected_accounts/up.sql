-- Connected accounts and the envelope encryption of their tokens.

-- Each workspace's data key, only ever wrapped by a root key (named by its id, so that a
-- rotation knows which root key opens it). Deleting the workspace deletes its key.
CREATE TABLE workspace_keys (
    workspace_id TEXT PRIMARY KEY NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    root_key_id TEXT NOT NULL,
    wrapped_key BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    rotated_at BIGINT
);

-- Tokens are sealed with the workspace's data key; NULL once erased (disconnect, revoked).
CREATE TABLE connected_accounts (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    platform_account_id TEXT NOT NULL,
    handle TEXT NOT NULL,
    display_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'expired', 'revoked')),
    access_token BLOB,
    refresh_token BLOB,
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
    state_digest TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    pkce_verifier BLOB,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oauth_states_by_workspace ON oauth_states(workspace_id, expires_at);

-- The built-in sandbox platform's authorization codes: the platform's own data, not a
-- workspace's. Digest only, single use.
CREATE TABLE sandbox_grants (
    code_digest TEXT PRIMARY KEY NOT NULL,
    account_name TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
