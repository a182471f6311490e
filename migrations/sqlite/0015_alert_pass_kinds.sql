-- Alert kinds judged on each evaluation pass (docs/alerting.md): what
-- tells their instances apart beyond workflow × environment, and how far
-- the privilege-escalation rules have read the audit log.

-- A source address (per-source authentication failures) or an audit
-- record (`audit:SEQ`, privilege escalation); '' for the others.
ALTER TABLE alert_instances ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE alert_transitions ADD COLUMN subject TEXT NOT NULL DEFAULT '';

-- The last audit record a pass judged; NULL until the first pass, which
-- starts at the head (records from before alerting existed don't fire).
ALTER TABLE alert_evaluator ADD COLUMN audit_seq INTEGER;

-- Authentication failures by time, for the auth_failures window.
CREATE INDEX audit_log_auth_failures ON audit_log (at)
    WHERE action IN ('session.sign_in', 'token.rejected') AND outcome <> 'succeeded';
