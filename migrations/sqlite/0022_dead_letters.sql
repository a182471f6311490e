-- Dead letters (docs/runs.md, "Needs attention"): a run that failed or
-- timed out stays on the Needs attention list until it is re-run or
-- dismissed; a re-run links to the run it re-ran, and a re-run from the
-- failed step keeps the steps that had succeeded, marked as reused.

ALTER TABLE runs ADD COLUMN rerun_of TEXT;
ALTER TABLE runs ADD COLUMN rerun_mode TEXT
    CHECK (rerun_mode IN ('same_version', 'active_version', 'from_failed_step'));
ALTER TABLE runs ADD COLUMN attention_closed_at TEXT;
ALTER TABLE runs ADD COLUMN attention_closed_by TEXT;
ALTER TABLE runs ADD COLUMN attention_note TEXT;
ALTER TABLE runs ADD COLUMN attention_rerun TEXT;
ALTER TABLE run_steps ADD COLUMN reused_from TEXT;

-- Failures from before the list existed are not put on it.
UPDATE runs SET attention_closed_at = COALESCE(finished_at, created_at),
                attention_closed_by = 'Gantry (upgrade)',
                attention_note = 'failed before the Needs attention list existed'
WHERE status IN ('failed', 'timed_out');

CREATE INDEX runs_attention ON runs (id)
    WHERE status IN ('failed', 'timed_out') AND attention_closed_at IS NULL;
