DROP TABLE login_throttle;
DROP TABLE email_tokens;
DROP TABLE sessions;
DROP TABLE memberships;
DROP TABLE workspaces;
DROP TABLE users;
