DROP TABLE idempotency_keys;
ALTER TABLE users DROP COLUMN time_zone;
DROP INDEX post_targets_by_text;
ALTER TABLE post_targets DROP COLUMN text_digest;
ALTER TABLE post_targets DROP COLUMN lease;
DROP INDEX posts_by_state;
ALTER TABLE posts DROP COLUMN state;
