-- Times are unix seconds (BIGINT) on both backends; IDs are opaque text.

-- The role the service's queries run as (see src/db/pool.rs). It owns nothing and cannot bypass
-- row-level security. Roles are cluster-wide, so another database may have made it already,
-- possibly at this very moment.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'socializer_app') THEN
        BEGIN
            CREATE ROLE socializer_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user, 'socializer_app', 'MEMBER') THEN
        EXECUTE format('GRANT socializer_app TO %I', current_user);
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO socializer_app', current_schema());
END
$$;

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    -- Stored lower-cased: emails compare case-insensitively.
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    email_verified_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    plan TEXT NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'paid')),
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships(user_id);

-- Server-side sessions. Only a digest of the cookie's session key is stored.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    user_agent TEXT,
    ip TEXT,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    absolute_expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);

-- Single-use email links (verification now, password reset later). Digest only.
CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX email_tokens_by_user ON email_tokens(user_id);

-- Failed sign-in counters, shared by every server process through the database.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    failures INTEGER NOT NULL
);

-- Workspace tables: the database itself keeps tenants apart. The setting is made per
-- transaction by the service (src/db/scope.rs); when it is absent it reads as NULL and no row
-- matches. `app.user_id` lets a signed-in user see their own memberships across workspaces (and
-- those workspaces' names) for the workspace switcher, and nothing else of those workspaces.
ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE workspaces FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_isolation ON workspaces
    USING (
        id = current_setting('app.workspace_id', true)
        OR id IN (SELECT m.workspace_id FROM memberships m
                  WHERE m.user_id = current_setting('app.user_id', true))
    )
    WITH CHECK (id = current_setting('app.workspace_id', true));

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_isolation ON memberships
    USING (
        workspace_id = current_setting('app.workspace_id', true)
        OR user_id = current_setting('app.user_id', true)
    )
    WITH CHECK (workspace_id = current_setting('app.workspace_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE
    ON users, workspaces, memberships, sessions, email_tokens, login_throttle
    TO socializer_app;
