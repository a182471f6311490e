-- Admission reads a lane's queued runs oldest first (`SELECT id FROM runs
-- WHERE workflow_id AND environment AND status = 'queued' ORDER BY id`)
-- on every trigger and every run's end. With runs_lane ending at
-- `status`, SQLite chose runs_workflow_env_id (0023) to skip the sort and
-- walked every run the workflow ever had in that environment: a trigger
-- slowed by about 0.3 ms per 1,000 past runs (docs/benchmarks.md). With
-- `id` in the lane's index both the queued list and the running count
-- are one range of it, whatever the history.
DROP INDEX runs_lane;
CREATE INDEX runs_lane ON runs (workflow_id, environment, status, id);
