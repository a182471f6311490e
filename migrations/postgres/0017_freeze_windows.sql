-- Freeze windows (docs/ops/freezes.md): spans in which promotions into an
-- environment wait, and the promotions an admin let through one anyway.

-- A window: one-off (starts_at..ends_at) or recurring (cron in timezone,
-- each occurrence lasting duration_secs of wall-clock time). Deleting one
-- stamps deleted_at: breaks keep naming the window they went through.
CREATE TABLE freeze_windows (
    id              TEXT PRIMARY KEY,     -- UUID v7
    environment     TEXT NOT NULL,
    reason          TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('one_off', 'recurring')),
    starts_at       TIMESTAMPTZ,                        -- one_off
    ends_at         TIMESTAMPTZ,                        -- one_off
    cron            TEXT,                          -- recurring
    duration_secs   BIGINT,                        -- recurring
    timezone        TEXT,                          -- recurring, IANA
    created_by_id   TEXT NOT NULL,
    created_by_name TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    deleted_at      TIMESTAMPTZ,
    deleted_by_id   TEXT,
    deleted_by_name TEXT
);
CREATE INDEX freeze_windows_live ON freeze_windows (environment) WHERE deleted_at IS NULL;

-- A freeze broken for one promotion request, with its follow-up review by
-- another admin.
CREATE TABLE freeze_breaks (
    id               TEXT PRIMARY KEY,    -- UUID v7
    environment      TEXT NOT NULL,
    window_id        TEXT NOT NULL REFERENCES freeze_windows (id),
    freeze_reason    TEXT NOT NULL,
    frozen_until     TIMESTAMPTZ NOT NULL,
    request_id       TEXT NOT NULL UNIQUE REFERENCES promotion_requests (id),
    by_id            TEXT NOT NULL,
    by_name          TEXT NOT NULL,
    reason           TEXT NOT NULL,
    at               TIMESTAMPTZ NOT NULL,
    reviewed_by_id   TEXT,
    reviewed_by_name TEXT,
    reviewed_at      TIMESTAMPTZ,
    review_comment   TEXT
);
CREATE INDEX freeze_breaks_unreviewed ON freeze_breaks (at) WHERE reviewed_at IS NULL;

-- The ledger row of a promotion that went through a broken freeze (JSON:
-- the break's id, who, why, until when). Adding a column rewrites no row,
-- so the append-only triggers stay as they are.
ALTER TABLE deployments ADD COLUMN freeze_break TEXT;
