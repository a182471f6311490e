-- Four-eyes approval requests. The inputs wait here for the run that an
-- approval starts (as the requester); decided requests are kept as history.
CREATE TABLE approval_requests (
    id                TEXT PRIMARY KEY NOT NULL,           -- UUID v7
    action            TEXT NOT NULL CHECK (action IN ('run')),
    workflow_id       TEXT NOT NULL REFERENCES workflows (id),
    workflow          TEXT NOT NULL,
    version           INTEGER NOT NULL,
    environment       TEXT NOT NULL,
    inputs            TEXT NOT NULL,                       -- JSON object
    reason            TEXT,
    requested_by_id   TEXT NOT NULL,
    requested_by_name TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    expires_at        TIMESTAMPTZ NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
    decided_by_id     TEXT,
    decided_by_name   TEXT,
    decided_at        TIMESTAMPTZ,
    comment           TEXT,
    run_id            TEXT
);
CREATE INDEX approval_requests_status ON approval_requests (status, created_at);
