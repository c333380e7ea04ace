-- Identities at an OpenID Connect provider (Google), by the provider's issuer and its subject:
-- never by email, which a provider account may change or claim without proof.
CREATE TABLE identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- The email the provider gave at linking, shown on the security page.
    email TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject),
    -- One identity per provider per user.
    UNIQUE (user_id, issuer)
);

-- Sign-ins with the provider in progress, for ten minutes: the `state` by digest, bound to the
-- browser that started it by the digest of a cookie only that browser holds.
CREATE TABLE google_sign_ins (
    state_digest TEXT PRIMARY KEY,
    browser_digest TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX google_sign_ins_by_expiry ON google_sign_ins(expires_at);

-- People's data, like users and sessions: not a workspace's, so no row-level policy.
GRANT SELECT, INSERT, UPDATE, DELETE ON identities, google_sign_ins TO socializer_app;
