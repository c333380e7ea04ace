-- Publishing (see src/publishing): a post, one target per chosen account, and every attempt
-- to deliver a target. Targets are the queue: the publisher claims due ones from this table,
-- so nothing about a schedule lives only in memory.
CREATE TABLE posts (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    mode TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    -- The person who wrote it, or the creator of the key that did (`author_key_id`).
    author_user_id TEXT,
    author_key_id TEXT,
    text TEXT NOT NULL,
    publish_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    canceled_at BIGINT,
    deleted_at BIGINT
);
CREATE INDEX posts_by_workspace ON posts(workspace_id, created_at);

CREATE TABLE post_targets (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    post_id TEXT NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    -- The account as it was chosen; kept when the account is later disconnected.
    account_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    -- Its own text instead of the post's, when given.
    text TEXT,
    state TEXT NOT NULL CHECK (
        state IN ('scheduled', 'publishing', 'published', 'failed', 'unknown', 'canceled')
    ),
    due_at BIGINT NOT NULL,
    -- While `publishing`: until when the claiming process holds it.
    lease_until BIGINT,
    platform_post_id TEXT,
    url TEXT,
    error_code TEXT,
    error_message TEXT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX post_targets_due ON post_targets(state, due_at);
CREATE INDEX post_targets_by_post ON post_targets(post_id);

CREATE TABLE post_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    target_id TEXT NOT NULL REFERENCES post_targets(id) ON DELETE CASCADE,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    outcome TEXT NOT NULL CHECK (
        outcome IN ('publishing', 'published', 'failed', 'unknown', 'rescheduled')
    ),
    status_code INTEGER,
    detail TEXT
);
CREATE INDEX post_attempts_by_target ON post_attempts(target_id, started_at);
