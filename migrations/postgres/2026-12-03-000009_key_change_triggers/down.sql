DROP TRIGGER workspaces_announce_deletion ON workspaces;
DROP TRIGGER workspaces_announce ON workspaces;
DROP TRIGGER memberships_announce_removal ON memberships;
DROP TRIGGER memberships_announce ON memberships;
DROP TRIGGER api_keys_announce ON api_keys;
DROP FUNCTION socializer_announce_key_change();
