-- Alerting (docs/alerting.md): channels, rules, the state of each alert
-- instance and its history, silences, and the notification outbox (which
-- is also the notification history).

-- Where notifications go. Credentials live only in `sealed` (AES-256-GCM
-- under the server's credentials key); `url` is what may be shown back.
CREATE TABLE alert_channels (
    name            TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('webhook', 'slack', 'pagerduty', 'alertmanager')),
    url             TEXT NOT NULL,
    signing_key_ids TEXT NOT NULL,                -- JSON array of key ids
    sealed          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- Rules. `spec` is the RuleSpec as JSON; `origin` is 'api' or
-- 'workflow:NAME' for rules a workflow's spec carries.
CREATE TABLE alert_rules (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    spec        TEXT NOT NULL,
    origin      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- One row per alert instance (rule × workflow × environment).
CREATE TABLE alert_instances (
    fingerprint TEXT PRIMARY KEY NOT NULL,
    rule_id     TEXT NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    workflow    TEXT NOT NULL,
    environment TEXT NOT NULL,
    phase       TEXT NOT NULL CHECK (phase IN ('ok', 'pending', 'firing', 'resolved')),
    state       TEXT NOT NULL,                    -- core::alert::Instance as JSON
    summary     TEXT NOT NULL,
    last_run_id TEXT,
    -- Bumped by every write: an evaluation pass commits only over the
    -- versions it read, so two processes' passes can't both move one.
    version     INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT NOT NULL
);
CREATE INDEX alert_instances_rule ON alert_instances (rule_id);
CREATE INDEX alert_instances_phase ON alert_instances (phase);

-- Every phase change of every instance.
CREATE TABLE alert_transitions (
    id          TEXT PRIMARY KEY NOT NULL,        -- UUIDv7: time-ordered
    fingerprint TEXT NOT NULL,
    rule_id     TEXT NOT NULL,
    rule_name   TEXT NOT NULL,
    workflow    TEXT NOT NULL,
    environment TEXT NOT NULL,
    from_phase  TEXT NOT NULL,
    to_phase    TEXT NOT NULL,
    silenced    INTEGER NOT NULL,
    run_id      TEXT,
    summary     TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX alert_transitions_instance ON alert_transitions (fingerprint, id);

-- Silences (one-off) and mute windows (recurring: a cron start and a
-- duration, in a time zone). Empty matchers match everything.
CREATE TABLE alert_silences (
    id            TEXT PRIMARY KEY NOT NULL,
    rule          TEXT,
    workflow      TEXT,
    environment   TEXT,
    starts_at     TEXT NOT NULL,
    ends_at       TEXT,                           -- NULL for mute windows
    cron          TEXT,
    time_zone     TEXT,
    duration_secs INTEGER,
    reason        TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expired_at    TEXT                            -- ended early by someone
);

-- Finished runs waiting for alert evaluation, filled by the trigger below
-- in the very transaction that finishes the run, so no path that ends a
-- run (a step's report, cancel, the reaper, a timeout) can be missed, and
-- drained by the evaluation pass in the transaction that records what the
-- run did to its alerts: each finished run is judged exactly once.
CREATE TABLE alert_run_inbox (
    run_id TEXT PRIMARY KEY NOT NULL
);
CREATE TRIGGER runs_finished_alert_inbox AFTER UPDATE OF status ON runs
WHEN NEW.status IN ('succeeded', 'failed', 'timed_out', 'cancelled')
 AND OLD.status IN ('queued', 'running')
BEGIN
    INSERT OR IGNORE INTO alert_run_inbox (run_id) VALUES (NEW.id);
END;

-- The one row evaluation passes lock, so passes in several processes take
-- turns.
CREATE TABLE alert_evaluator (
    id        INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    last_pass TEXT
);
INSERT INTO alert_evaluator (id, last_pass) VALUES (1, NULL);

-- The outbox: one row per notification per channel, written in the
-- transaction of the transition that caused it; kept as the history.
CREATE TABLE alert_notifications (
    id              TEXT PRIMARY KEY NOT NULL,    -- UUIDv7
    fingerprint     TEXT NOT NULL,
    rule_name       TEXT NOT NULL,
    environment     TEXT NOT NULL,              -- '' for tests of a channel
    channel         TEXT NOT NULL,
    notice          TEXT NOT NULL CHECK (notice IN ('firing', 'reminder', 'resolved', 'test')),
    body            TEXT NOT NULL,                -- core::alert::Notification as JSON
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_until   TEXT,
    last_status     INTEGER,
    last_error      TEXT,
    request         TEXT,                         -- the last request, credentials masked
    created_at      TEXT NOT NULL,
    finished_at     TEXT
);
CREATE INDEX alert_notifications_due ON alert_notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX alert_notifications_instance ON alert_notifications (fingerprint, id);

-- A workflow's finished runs in an environment, newest first: what rules
-- and backtests read.
CREATE INDEX runs_finished ON runs (workflow_name, environment, finished_at);
