-- Four eyes are people, and sessions are stored hashed.
--
-- Every token names the person answerable for it: whoever made it, or for a
-- token made by a token, that token's person; 'system' for the bootstrap
-- token and tokens made with `gantry token create`. Tokens made before this
-- migration don't know theirs (NULL): they can't approve anything.
ALTER TABLE api_tokens ADD COLUMN made_by_person TEXT;
ALTER TABLE api_tokens ADD COLUMN made_by_person_name TEXT;
-- Whether the token may make tokens itself (the bootstrap token may).
ALTER TABLE api_tokens ADD COLUMN can_create_tokens BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE api_tokens
   SET made_by_person = 'system', made_by_person_name = 'system', can_create_tokens = TRUE
 WHERE name = 'bootstrap';

-- The person behind who asked for a run, and behind who wrote each version:
-- neither may approve it. NULL where that was not recorded yet.
ALTER TABLE approval_requests ADD COLUMN requested_by_person TEXT;
ALTER TABLE workflow_versions ADD COLUMN created_by_person TEXT;

-- Sessions keyed by the SHA-256 of their id: the cookie's value is never
-- stored, so reading the database yields no usable session. Every existing
-- session ends here (their ids were stored in the clear): people sign in
-- again once after the upgrade.
DROP SCHEMA tower_sessions CASCADE;
CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,                      -- hex SHA-256 of the session id
    data        TEXT NOT NULL,                         -- JSON object
    expiry_date BIGINT NOT NULL                        -- unix seconds
);
CREATE INDEX sessions_expiry ON sessions (expiry_date);
