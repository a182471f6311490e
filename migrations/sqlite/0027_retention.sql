-- Retention (issue 22, docs/privacy.md): the purge finds finished runs by
-- environment and age, and notification history by age, without scanning;
-- a run whose step logs were purged says when.
ALTER TABLE runs ADD COLUMN logs_purged_at TEXT;
CREATE INDEX runs_retention ON runs (environment, finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX alert_notifications_finished ON alert_notifications (finished_at) WHERE status <> 'pending';
CREATE INDEX alert_transitions_at ON alert_transitions (at);
