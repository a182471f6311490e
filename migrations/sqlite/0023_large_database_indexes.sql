-- Reads that stay fast with a million runs (issue 20, `gantry-bench --only
-- large`): before these, the Workflows, Runs and Overview pages each read
-- every run.

-- The newest run of one workflow in one environment (finished or not) is
-- one step down this index: the workflows list's "last run" and the
-- Overview's last finished runs ask it once per workflow and environment.
CREATE INDEX runs_workflow_env_id ON runs (workflow_id, environment, id);

-- The Overview's counts of the last hours read that range only, from the
-- index alone.
CREATE INDEX runs_created ON runs (created_at, environment, status);

-- The runs needing attention per environment (every page's Overview
-- health) counted from the index alone: old failures nobody dismissed
-- pile up here, and counting them must not read each run's row.
CREATE INDEX runs_attention_environment ON runs (environment)
    WHERE status IN ('failed', 'timed_out') AND attention_closed_at IS NULL;

-- The runs list filtered by status, newest first: fifty rows read, not
-- every run walked back until fifty match (a rare status, `cancelled`,
-- walked the whole table).
CREATE INDEX runs_status_id ON runs (status, id);
