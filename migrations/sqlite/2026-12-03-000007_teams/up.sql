-- Invitations to join a workspace with a role, by a single-use emailed link (its digest only).
-- Resending replaces the digest, so only the newest link works.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    -- Normalised like users.email.
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    token_digest TEXT NOT NULL UNIQUE,
    invited_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    accepted_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    revoked_at BIGINT
);
CREATE INDEX invitations_by_workspace ON invitations(workspace_id, email);

-- The audit log. No foreign key to workspaces: entries outlive what they describe, the
-- workspace included, and the service never changes or deletes one.
CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    workspace_id TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user', 'key', 'operator', 'service')),
    actor_id TEXT,
    -- The user's email, or the key as `sk_live_…a1b2`, as it was at the time.
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT,
    address TEXT
);
CREATE INDEX audit_events_by_workspace ON audit_events(workspace_id, seq);

-- SQLite has no roles to grant by; the file refuses changes to entries itself.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only');
END;
