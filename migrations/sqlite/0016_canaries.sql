-- Canary promotions (docs/canary.md): a promotion into an environment
-- whose policy has a canary plan starts one instead of moving the pointer.
-- It takes a growing share of the runs admitted there; each run records
-- which arm it got, and each change of judgement is stored.

CREATE TABLE canaries (
    id              TEXT PRIMARY KEY NOT NULL,                  -- UUID v7; also the assignment seed
    workflow_id     TEXT NOT NULL REFERENCES workflows (id),
    workflow        TEXT NOT NULL,
    environment     TEXT NOT NULL,
    stable_version  INTEGER NOT NULL,
    canary_version  INTEGER NOT NULL,
    request_id      TEXT NOT NULL REFERENCES promotion_requests (id),
    policy          TEXT NOT NULL,                    -- CanaryPolicy as it was at the start
    step            INTEGER NOT NULL,
    weight          INTEGER NOT NULL CHECK (weight BETWEEN 0 AND 100),
    state           TEXT NOT NULL CHECK (state IN ('running', 'paused', 'promoted', 'rolled_back', 'aborted')),
    started_by_id   TEXT NOT NULL,
    started_by_name TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    step_started_at TEXT NOT NULL,
    step_clock_at   TEXT NOT NULL,
    ended_at        TEXT,
    why             TEXT,
    held            INTEGER NOT NULL DEFAULT 0,
    last            TEXT,                             -- the latest CanaryEvaluation
    FOREIGN KEY (workflow_id, canary_version) REFERENCES workflow_versions (workflow_id, version)
);
-- One live canary per workflow and environment.
CREATE UNIQUE INDEX canaries_one_live ON canaries (workflow_id, environment)
    WHERE state IN ('running', 'paused');
CREATE INDEX canaries_list ON canaries (started_at);

CREATE TABLE canary_evaluations (
    canary_id  TEXT NOT NULL REFERENCES canaries (id),
    seq        INTEGER NOT NULL,
    at         TEXT NOT NULL,
    evaluation TEXT NOT NULL,                          -- CanaryEvaluation
    PRIMARY KEY (canary_id, seq)
);

-- Which arm of which canary a run got; `pinned` runs named their version
-- and are left out of the analysis.
ALTER TABLE runs ADD COLUMN canary_id TEXT;
ALTER TABLE runs ADD COLUMN canary_arm TEXT CHECK (canary_arm IN ('canary', 'stable'));
ALTER TABLE runs ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
CREATE INDEX runs_canary ON runs (canary_id, canary_arm, created_at) WHERE canary_id IS NOT NULL;
