-- A key is rolled once: the replacement it was rolled into, so that two rolls at once make one.
ALTER TABLE api_keys ADD COLUMN replaced_by TEXT;
