-- Webhooks (see src/webhooks): the endpoints a workspace tells, the events it reports, one
-- delivery per event and endpoint, and every attempt at one. Events and their deliveries are
-- written in the transaction of the change they report, so the deliveries are the outbox: any
-- server process claims due ones from this table, and nothing waits only in memory.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    -- Space-separated event types, or `*` for every type.
    event_types TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('enabled', 'disabled')),
    -- Why it is disabled: by a person, the receiver answered 410, or five days of failures.
    disabled_reason TEXT CHECK (disabled_reason IN ('by_person', 'gone', 'failing')),
    -- The signing secret, sealed with the workspace's data key; while it rolls, the one before
    -- it signs too, until `previous_secret_until`.
    secret BYTEA NOT NULL,
    previous_secret BYTEA,
    previous_secret_until BIGINT,
    -- The first failure of a run of failures (no success since), for the five-day rule.
    failing_since BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_by_workspace ON webhook_endpoints(workspace_id, created_at);

CREATE TABLE webhook_events (
    -- The `webhook-id` every delivery of the event carries, retries and resends included.
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    -- The JSON body, as signed and sent.
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_events_by_age ON webhook_events(workspace_id, created_at);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivering', 'delivered', 'failed')),
    attempts INTEGER NOT NULL,
    -- When it is next sent (`pending`).
    due_at BIGINT NOT NULL,
    -- While `delivering`: the claim's token and until when it holds.
    lease TEXT,
    lease_until BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, due_at);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries(endpoint_id, created_at);

CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    started_at BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    -- The receiver's status, or none when no answer came (refused address, timeout).
    status_code INTEGER,
    -- The first 1 KiB of the answer's body.
    answer TEXT NOT NULL,
    -- Why it failed without a status, in words.
    error TEXT
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts(delivery_id, number);

-- Row-level security, as for the other workspace tables. The deliverer finds due deliveries
-- across workspaces through one narrow opening, `app.webhook_scan` (read only, deliveries
-- only); each claim then runs bound to its delivery's workspace.
ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_isolation ON webhook_endpoints
    USING (workspace_id = current_setting('app.workspace_id', true))
    WITH CHECK (workspace_id = current_setting('app.workspace_id', true));

ALTER TABLE webhook_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_events FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_isolation ON webhook_events
    USING (workspace_id = current_setting('app.workspace_id', true))
    WITH CHECK (workspace_id = current_setting('app.workspace_id', true));

ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_isolation ON webhook_deliveries
    USING (workspace_id = current_setting('app.workspace_id', true))
    WITH CHECK (workspace_id = current_setting('app.workspace_id', true));
CREATE POLICY webhook_scan ON webhook_deliveries FOR SELECT
    USING (current_setting('app.webhook_scan', true) = 'on');

ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_isolation ON webhook_attempts
    USING (workspace_id = current_setting('app.workspace_id', true))
    WITH CHECK (workspace_id = current_setting('app.workspace_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE
    ON webhook_endpoints, webhook_events, webhook_deliveries, webhook_attempts TO socializer_app;
