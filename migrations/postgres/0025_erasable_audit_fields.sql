-- Personal data in audit records made erasable without breaking the chain
-- (issue 22, core/src/audit/personal.rs). A record of format 2 hashes each
-- personal field (a signed-in person's name, address, browser, the words
-- they wrote, a username it names) as a salted digest listed in `personal`;
-- the salts and values live in `audit_personal`, whose rows an erasure
-- deletes. Records written before this migration (format 1) are converted
-- once by `gantry serve` at start-up (re-chained under the head lock, their
-- old hashes kept in `legacy_hash` for checkpoints signed before).
ALTER TABLE audit_log ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_log ADD COLUMN personal TEXT;     -- canonical JSON {field: {subject, digest}}
ALTER TABLE audit_log ADD COLUMN legacy_hash TEXT;
CREATE INDEX audit_log_format ON audit_log (format, seq);

CREATE TABLE audit_personal (
    seq     BIGINT NOT NULL,
    field   TEXT NOT NULL,     -- actor.name, source_ip, user_agent, details.<key>
    subject TEXT NOT NULL,     -- the user id the value is about
    salt    TEXT NOT NULL,     -- hex, 16 random bytes
    value   TEXT NOT NULL,     -- canonical JSON
    PRIMARY KEY (seq, field)
);
CREATE INDEX audit_personal_subject ON audit_personal (subject, seq);
