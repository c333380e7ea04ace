-- What publishing needed beyond its first tables: the post's own state (a summary of its
-- targets', kept in the same writes, so that lists filter by it), the token of the process that
-- holds a target while sending it, and the answers kept for `Idempotency-Key`.
ALTER TABLE posts ADD COLUMN state TEXT NOT NULL DEFAULT 'scheduled' CHECK (
    state IN ('scheduled', 'publishing', 'published', 'partially_published', 'failed',
              'needs_attention', 'canceled')
);
CREATE INDEX posts_by_state ON posts(workspace_id, state, created_at);

-- While `publishing`: a random token of the claim, so that only its holder records the outcome.
ALTER TABLE post_targets ADD COLUMN lease TEXT;
-- SHA-256 of the text the target sends (its own, or its post's), for X's duplicate rule: one
-- index lookup however many posts the account has.
ALTER TABLE post_targets ADD COLUMN text_digest TEXT NOT NULL DEFAULT '';
CREATE INDEX post_targets_by_text ON post_targets(account_id, text_digest);

-- A person's time zone (an IANA name) for reading and writing publishing times; UTC until set.
ALTER TABLE users ADD COLUMN time_zone TEXT;

CREATE TABLE idempotency_keys (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    -- SHA-256 of the request as understood (method, path and canonical JSON body).
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, key)
);
-- Answers older than a day are cleared as new ones are kept.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(workspace_id, created_at);

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_isolation ON idempotency_keys
    USING (workspace_id = current_setting('app.workspace_id', true))
    WITH CHECK (workspace_id = current_setting('app.workspace_id', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO socializer_app;
