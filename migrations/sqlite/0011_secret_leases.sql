-- Leases of dynamic credentials (`vault-db:` references) taken for step
-- attempts: the lease keeper revokes those of attempts that ended (a worker
-- killed before it could revoke included) and renews those the server took
-- for remote workers. Lease ids name leases; they are not credentials.
CREATE TABLE secret_leases (
    lease_id      TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    environment   TEXT NOT NULL,
    run_id        TEXT NOT NULL,
    step_id       TEXT NOT NULL,
    attempt       INTEGER NOT NULL,
    reference     TEXT NOT NULL,
    -- 1: the server fetched it (for a remote worker) and renews it.
    server_renews INTEGER NOT NULL,
    duration_secs INTEGER NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT,
    last_error    TEXT,
    retry_at      TEXT
);
CREATE INDEX secret_leases_open ON secret_leases (expires_at) WHERE revoked_at IS NULL;
