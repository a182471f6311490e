-- Verification after promotion (docs/promotions.md#verification): an
-- environment's policy may name a workflow run there after every promotion
-- and rollback into it. The row is written in the ledger row's own
-- transaction, so no move goes unverified even if the process stops; the
-- promotion pass starts its run (the verification's id is the run's id)
-- and records the outcome.
CREATE TABLE verifications (
    id            TEXT PRIMARY KEY,                    -- UUID v7; also its run's id
    deployment_id TEXT NOT NULL UNIQUE REFERENCES deployments (id),
    workflow_id   TEXT NOT NULL REFERENCES workflows (id),
    workflow      TEXT NOT NULL,
    environment   TEXT NOT NULL,
    version       INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('promotion', 'rollback')),
    verifier      TEXT NOT NULL,                       -- the verification workflow's name
    on_failure    TEXT NOT NULL CHECK (on_failure IN ('hold', 'rollback')),
    state         TEXT NOT NULL CHECK (state IN ('pending', 'running', 'passed', 'failed')),
    run_id        TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    started_at    TIMESTAMPTZ,
    finished_at   TIMESTAMPTZ,
    why           TEXT,
    rollback_id   TEXT REFERENCES deployments (id)
);
CREATE INDEX verifications_open ON verifications (created_at) WHERE state IN ('pending', 'running');
CREATE INDEX verifications_latest ON verifications (workflow_id, environment, created_at);
