-- Where imported versions came from (issue 15, "Moving versions between
-- installations"): one row per version a signed bundle registered here,
-- with the signer's key, the exporting installation and its ledger rows
-- that moved the version there. Written once, in the import's transaction.
CREATE TABLE bundle_imports (
    workflow_id       TEXT NOT NULL REFERENCES workflows (id),
    version           INTEGER NOT NULL,
    content_hash      TEXT NOT NULL,
    signer_key        TEXT NOT NULL,                   -- Ed25519 public key, hex
    exported_from     TEXT NOT NULL,                   -- the exporter's base URL
    source_environment TEXT,                          -- `gantry export --env`
    source_created_at TEXT NOT NULL,
    source_created_by TEXT NOT NULL,
    source_ledger     TEXT NOT NULL DEFAULT '[]',      -- JSON: the exporter's ledger rows
    imported_at       TEXT NOT NULL,
    imported_by       TEXT NOT NULL,
    PRIMARY KEY (workflow_id, version),
    FOREIGN KEY (workflow_id, version) REFERENCES workflow_versions (workflow_id, version)
);
