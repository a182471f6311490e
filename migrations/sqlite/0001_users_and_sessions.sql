-- People who can sign in. `source` says who manages the account.
CREATE TABLE users (
    id           TEXT PRIMARY KEY NOT NULL,            -- UUID, never reused
    username     TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email        TEXT,
    source       TEXT NOT NULL CHECK (source IN ('dev', 'oidc', 'scim')),
    disabled     INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    preferences  TEXT NOT NULL DEFAULT '{}',           -- JSON
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- Roles per environment scope ('*' = every environment), with where each
-- grant came from so the UI can explain it.
CREATE TABLE role_grants (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'approver', 'admin', 'auditor')),
    environment TEXT NOT NULL,
    source      TEXT NOT NULL,
    PRIMARY KEY (user_id, role, environment, source)
);

-- tower-sessions' SQLite store layout (tower-sessions-sqlx-store 0.15).
CREATE TABLE tower_sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BLOB NOT NULL,
    expiry_date INTEGER NOT NULL
);
CREATE INDEX tower_sessions_expiry ON tower_sessions (expiry_date);
