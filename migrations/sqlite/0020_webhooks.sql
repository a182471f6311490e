-- Inbound webhooks (docs/webhooks.md): hooks that start a workflow in an
-- environment when a signed delivery arrives, and the deliveries received.

-- A hook. Its signing secrets (the current one and, during a rotation, the
-- previous one) are sealed under the alert credentials key, bound to the
-- hook's name: the database alone never reveals them.
CREATE TABLE webhooks (
    name            TEXT PRIMARY KEY NOT NULL,
    environment     TEXT NOT NULL,
    workflow        TEXT NOT NULL,
    mode            TEXT NOT NULL CHECK (mode IN ('gantry', 'github')),
    inputs          TEXT NOT NULL,                 -- JSON: input -> JSON pointer
    events          TEXT NOT NULL,                 -- JSON: allowed event types
    sealed_secrets  TEXT NOT NULL,
    previous_active INTEGER NOT NULL DEFAULT 0,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    rotated_at      TEXT,
    retired_at      TEXT
);

-- Deliveries, kept for the hook's page and for replay protection: a
-- delivery id is accepted once per hook.
CREATE TABLE webhook_deliveries (
    webhook      TEXT NOT NULL REFERENCES webhooks (name) ON DELETE CASCADE,
    delivery_id  TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    event        TEXT,
    outcome      TEXT NOT NULL,
    status       INTEGER NOT NULL,
    run_id       TEXT,
    approval_id  TEXT,
    error        TEXT,
    PRIMARY KEY (webhook, delivery_id)
);
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (webhook, received_at);
