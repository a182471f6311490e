-- Rate limits (docs/security.md, "Rate limits"): the overrides admins set
-- per token or group, and, with `--rate-limit-store database` (the default
-- on PostgreSQL), each principal's bucket, shared by every process.

CREATE TABLE rate_limit_overrides (
    id           TEXT PRIMARY KEY,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('token', 'group')),
    subject      TEXT NOT NULL,
    class        TEXT NOT NULL,
    quota        TEXT NOT NULL,              -- REQUESTS/WINDOW, or off
    note         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (subject_kind, subject, class)
);

-- A bucket's theoretical arrival time (GCRA), in microseconds since the
-- Unix epoch: when it would be full again. Rows whose time has passed are
-- purged; they would read as full anyway.
CREATE TABLE rate_limit_buckets (
    key TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);
