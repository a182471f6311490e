-- Workflows, their immutable versions, and which version is active where.
CREATE TABLE workflows (
    id         TEXT PRIMARY KEY NOT NULL,              -- UUID
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

-- One row per distinct spec; never updated.
CREATE TABLE workflow_versions (
    workflow_id  TEXT NOT NULL REFERENCES workflows (id),
    version      INTEGER NOT NULL CHECK (version >= 1),
    content_hash TEXT NOT NULL,                        -- sha256 of the canonical spec
    spec         TEXT NOT NULL,                        -- canonical JSON
    source       TEXT NOT NULL,                        -- the text as applied
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    PRIMARY KEY (workflow_id, version),
    UNIQUE (workflow_id, content_hash)
);

-- The active version per environment, and its schedule's state.
CREATE TABLE workflow_environments (
    workflow_id      TEXT NOT NULL REFERENCES workflows (id),
    environment      TEXT NOT NULL,
    version          INTEGER NOT NULL,
    schedule_enabled INTEGER NOT NULL DEFAULT 1 CHECK (schedule_enabled IN (0, 1)),
    next_fire_at     TEXT,                             -- NULL: no schedule
    activated_at     TEXT NOT NULL,
    activated_by     TEXT NOT NULL,
    PRIMARY KEY (workflow_id, environment),
    FOREIGN KEY (workflow_id, version) REFERENCES workflow_versions (workflow_id, version)
);
CREATE INDEX workflow_environments_due ON workflow_environments (next_fire_at)
    WHERE next_fire_at IS NOT NULL;

-- Runs; ids are UUIDv7 so they sort by creation time.
CREATE TABLE runs (
    id               TEXT PRIMARY KEY NOT NULL,
    workflow_id      TEXT NOT NULL REFERENCES workflows (id),
    workflow_name    TEXT NOT NULL,
    version          INTEGER NOT NULL,
    environment      TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out')),
    stopping         TEXT CHECK (stopping IN ('cancel', 'timeout')),
    trigger_kind     TEXT NOT NULL CHECK (trigger_kind IN ('manual', 'schedule', 'api')),
    triggered_by     TEXT NOT NULL,                    -- display name
    triggered_by_id  TEXT NOT NULL,                    -- user or token id, or 'scheduler'
    inputs           TEXT NOT NULL,                    -- JSON object
    error            TEXT,
    timeout_ms       INTEGER,                          -- whole-run timeout from the spec
    scheduled_for    TEXT,
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    deadline         TEXT,
    finished_at      TEXT,
    FOREIGN KEY (workflow_id, version) REFERENCES workflow_versions (workflow_id, version)
);
CREATE INDEX runs_lane ON runs (workflow_id, environment, status);
CREATE INDEX runs_active ON runs (status) WHERE status IN ('queued', 'running');
CREATE INDEX runs_workflow ON runs (workflow_name, id);

-- Steps of runs; this table is also the work queue: a step with status
-- 'queued' and ready_at_ms <= now is claimable.
CREATE TABLE run_steps (
    run_id         TEXT NOT NULL REFERENCES runs (id),
    step_id        TEXT NOT NULL,
    position       INTEGER NOT NULL,                   -- order in the spec
    status         TEXT NOT NULL CHECK (status IN ('pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'skipped')),
    attempt        INTEGER NOT NULL DEFAULT 0,         -- attempts started so far
    ready_at_ms    INTEGER,                            -- epoch ms; set while queued
    lease_owner    TEXT,                               -- worker id while running
    lease_until_ms INTEGER,                            -- epoch ms
    outputs        TEXT NOT NULL DEFAULT '{}',         -- JSON object of strings
    started_at     TEXT,
    finished_at    TEXT,
    PRIMARY KEY (run_id, step_id)
);
CREATE INDEX run_steps_ready ON run_steps (ready_at_ms) WHERE status = 'queued';
CREATE INDEX run_steps_leases ON run_steps (lease_until_ms) WHERE status = 'running';

CREATE TABLE step_attempts (
    run_id      TEXT NOT NULL,
    step_id     TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'lost')),
    worker      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    exit_code   INTEGER,
    error       TEXT,
    PRIMARY KEY (run_id, step_id, attempt),
    FOREIGN KEY (run_id, step_id) REFERENCES run_steps (run_id, step_id)
);

-- Captured output, one row per line; `line` counts within the attempt.
CREATE TABLE step_logs (
    run_id  TEXT NOT NULL,
    step_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    line    INTEGER NOT NULL,
    stream  TEXT NOT NULL CHECK (stream IN ('stdout', 'stderr', 'system')),
    at      TEXT NOT NULL,
    text    TEXT NOT NULL,
    PRIMARY KEY (run_id, step_id, attempt, line),
    FOREIGN KEY (run_id, step_id) REFERENCES run_steps (run_id, step_id)
);

-- API bearer tokens. Only a SHA-256 of each token is kept. The bootstrap
-- token lives here; the identity work adds admin-made service tokens.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL UNIQUE,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT
);

CREATE TABLE api_token_grants (
    token_id    TEXT NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'approver', 'admin', 'auditor')),
    environment TEXT NOT NULL,
    PRIMARY KEY (token_id, role, environment)
);
