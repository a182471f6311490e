-- Promotion dev → stage → prod: what a promotion into each environment
-- needs (policies), the requests with their approvals and checklist ticks,
-- approvers' delegations, and the deployment ledger.

-- A row once an admin of the environment saved a policy; without one the
-- default for the environment's place applies (core::promotion::policy).
-- Policies live here and never in a spec: a workflow's author must not be
-- able to weaken their own gate.
CREATE TABLE environment_policies (
    environment     TEXT PRIMARY KEY NOT NULL,
    policy          TEXT NOT NULL,                     -- JSON: EnvironmentPolicy
    updated_at      TEXT NOT NULL,
    updated_by_id   TEXT NOT NULL,                     -- person
    updated_by_name TEXT NOT NULL
);

CREATE TABLE promotion_requests (
    id                  TEXT PRIMARY KEY NOT NULL,     -- UUID v7: sorts by creation
    workflow_id         TEXT NOT NULL REFERENCES workflows (id),
    workflow            TEXT NOT NULL,
    version             INTEGER NOT NULL,
    content_hash        TEXT NOT NULL,                 -- what approvals are bound to
    from_environment    TEXT NOT NULL,
    to_environment      TEXT NOT NULL,
    replaces            INTEGER,                       -- active in the target when asked
    reason              TEXT NOT NULL,
    requested_by_id     TEXT NOT NULL,                 -- person
    requested_by_name   TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('pending', 'promoted', 'rejected', 'cancelled', 'expired', 'superseded')),
    decided_by_id       TEXT,
    decided_by_name     TEXT,
    decided_at          TEXT,
    comment             TEXT,
    deployment_id       TEXT,                          -- the ledger row it made
    FOREIGN KEY (workflow_id, version) REFERENCES workflow_versions (workflow_id, version)
);
-- One open request per workflow and target: a newer one supersedes it.
CREATE UNIQUE INDEX promotion_requests_one_pending
    ON promotion_requests (workflow_id, to_environment) WHERE state = 'pending';
CREATE INDEX promotion_requests_list ON promotion_requests (state, created_at);

-- An approval counts for one person (the delegator when given on their
-- behalf) and only for the content and diff it names.
CREATE TABLE promotion_approvals (
    request_id        TEXT NOT NULL REFERENCES promotion_requests (id),
    by_id             TEXT NOT NULL,                   -- person who clicked
    by_name           TEXT NOT NULL,
    on_behalf_of_id   TEXT,                            -- delegator
    on_behalf_of_name TEXT,
    at                TEXT NOT NULL,
    comment           TEXT,
    content_hash      TEXT NOT NULL,
    diff_digest       TEXT NOT NULL,
    PRIMARY KEY (request_id, by_id)
);

-- Manual checklist items as ticked now (unticking deletes the row; both
-- are audited with the person).
CREATE TABLE promotion_ticks (
    request_id   TEXT NOT NULL REFERENCES promotion_requests (id),
    item         TEXT NOT NULL,
    by_id        TEXT NOT NULL,
    by_name      TEXT NOT NULL,
    at           TEXT NOT NULL,
    evidence     TEXT,
    acknowledged TEXT NOT NULL DEFAULT '[]',           -- JSON array of hosts/references
    PRIMARY KEY (request_id, item)
);

-- An approver's rights in an environment lent to a named person for a
-- while (leave); run approvals honour them too.
CREATE TABLE approval_delegations (
    id          TEXT PRIMARY KEY NOT NULL,             -- UUID v7
    from_id     TEXT NOT NULL,
    from_name   TEXT NOT NULL,
    to_id       TEXT NOT NULL,
    to_name     TEXT NOT NULL,
    environment TEXT NOT NULL,
    from_time   TEXT NOT NULL,
    until       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX approval_delegations_to ON approval_delegations (to_id, environment);

-- The ledger: every move of an environment's pointer. Never updated or
-- deleted (the triggers refuse it), so it answers "which version was
-- active in prod at time T".
CREATE TABLE deployments (
    id           TEXT PRIMARY KEY NOT NULL,            -- UUID v7
    workflow_id  TEXT NOT NULL REFERENCES workflows (id),
    workflow     TEXT NOT NULL,
    environment  TEXT NOT NULL,
    from_version INTEGER,
    to_version   INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('apply', 'promotion', 'rollback', 'canary')),
    actor_id     TEXT NOT NULL,
    actor_name   TEXT NOT NULL,
    at           TEXT NOT NULL,
    reason       TEXT,
    request_id   TEXT,
    approvers    TEXT NOT NULL DEFAULT '[]',           -- JSON array of people
    checklist    TEXT                                  -- JSON snapshot, promotions only
);
CREATE INDEX deployments_history ON deployments (workflow_id, environment, at);
CREATE INDEX deployments_time ON deployments (at);
CREATE TRIGGER deployments_append_only_update BEFORE UPDATE ON deployments
BEGIN
    SELECT RAISE(ABORT, 'the deployment ledger is append-only');
END;
CREATE TRIGGER deployments_append_only_delete BEFORE DELETE ON deployments
BEGIN
    SELECT RAISE(ABORT, 'the deployment ledger is append-only');
END;

-- What is active today starts each environment's history.
INSERT INTO deployments (id, workflow_id, workflow, environment, from_version, to_version,
                         kind, actor_id, actor_name, at, reason)
SELECT 'initial-' || we.workflow_id || '-' || we.environment, we.workflow_id, w.name,
       we.environment, NULL, we.version, 'apply', we.activated_by, we.activated_by,
       we.activated_at, 'active before the ledger existed'
  FROM workflow_environments we JOIN workflows w ON w.id = we.workflow_id;
