-- The deployment ledger stays append-only for what happened (which version
-- moved where, when, of which kind, by whose id), but the names and words
-- in it may be replaced when a departed person is erased (issue 22,
-- docs/privacy.md): an UPDATE that changes anything else is refused.
DROP TRIGGER deployments_append_only_update;
CREATE TRIGGER deployments_append_only_update BEFORE UPDATE ON deployments
WHEN NEW.id IS NOT OLD.id
  OR NEW.workflow_id IS NOT OLD.workflow_id
  OR NEW.workflow IS NOT OLD.workflow
  OR NEW.environment IS NOT OLD.environment
  OR NEW.from_version IS NOT OLD.from_version
  OR NEW.to_version IS NOT OLD.to_version
  OR NEW.kind IS NOT OLD.kind
  OR NEW.actor_id IS NOT OLD.actor_id
  OR NEW.at IS NOT OLD.at
  OR NEW.request_id IS NOT OLD.request_id
BEGIN
    SELECT RAISE(ABORT, 'the deployment ledger is append-only');
END;
