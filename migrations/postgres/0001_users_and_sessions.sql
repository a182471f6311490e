-- People who can sign in. `source` says who manages the account.
CREATE TABLE users (
    id           TEXT PRIMARY KEY,                     -- UUID, never reused
    username     TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email        TEXT,
    source       TEXT NOT NULL CHECK (source IN ('dev', 'oidc', 'scim')),
    disabled     BOOLEAN NOT NULL DEFAULT FALSE,
    preferences  JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
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

-- tower-sessions' PostgreSQL store layout (tower-sessions-sqlx-store 0.15).
CREATE SCHEMA IF NOT EXISTS tower_sessions;
CREATE TABLE tower_sessions.session (
    id          TEXT PRIMARY KEY,
    data        BYTEA NOT NULL,
    expiry_date TIMESTAMPTZ NOT NULL
);
CREATE INDEX session_expiry ON tower_sessions.session (expiry_date);
