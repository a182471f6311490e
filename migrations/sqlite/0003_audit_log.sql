-- The tamper-evident audit log. Each record's hash covers the previous
-- record's hash and this record's canonical encoding (see core/src/audit).
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 1),  -- 1, 2, 3, … no gaps
    at          TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    resource    TEXT NOT NULL,
    environment TEXT,
    outcome     TEXT NOT NULL,
    request_id  TEXT,
    trace_id    TEXT,
    source_ip   TEXT,
    user_agent  TEXT,
    details     TEXT NOT NULL,          -- canonical JSON object, never a secret
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_resource ON audit_log (resource, seq);
CREATE INDEX audit_log_at ON audit_log (at);

-- The chain's head: one row that every append locks, so writers in several
-- processes still make one gap-free chain. The anchor is the last record
-- moved to an archive (0 and the genesis hash until the first archive).
CREATE TABLE audit_chain (
    id          INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    head_seq    INTEGER NOT NULL,
    head_hash   TEXT NOT NULL,
    anchor_seq  INTEGER NOT NULL,
    anchor_hash TEXT NOT NULL
);
INSERT INTO audit_chain (id, head_seq, head_hash, anchor_seq, anchor_hash) VALUES
    (1, 0, '0000000000000000000000000000000000000000000000000000000000000000',
        0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Ed25519-signed statements that the chain up to seq ends in hash.
CREATE TABLE audit_checkpoints (
    seq       INTEGER PRIMARY KEY NOT NULL,
    hash      TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    key_id    TEXT NOT NULL,             -- hex public key
    signature TEXT NOT NULL              -- hex
);

-- How far each streaming sink has delivered (at-least-once, in order), and
-- which process holds the right to send (a lease, so that with several
-- processes only one sends and order holds).
CREATE TABLE audit_sink_cursors (
    sink          TEXT PRIMARY KEY NOT NULL,
    delivered_seq INTEGER NOT NULL,
    updated_at    TEXT NOT NULL,
    leased_by     TEXT,
    lease_until   TEXT
);
