ALTER TABLE api_keys DROP COLUMN created_by_key;
ALTER TABLE sandbox_grants DROP COLUMN state_digest;
