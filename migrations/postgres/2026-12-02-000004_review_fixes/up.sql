-- A sandbox code is bound to the flow (its state digest) it was approved for: a leaked code is
-- useless with another state.
ALTER TABLE sandbox_grants ADD COLUMN state_digest TEXT NOT NULL DEFAULT '';
-- A key made by a key records its parent, so that a chain of keys can be traced.
ALTER TABLE api_keys ADD COLUMN created_by_key TEXT;
