DROP TABLE sandbox_grants;
DROP TABLE oauth_states;
DROP TABLE connected_accounts;
DROP TABLE workspace_keys;
