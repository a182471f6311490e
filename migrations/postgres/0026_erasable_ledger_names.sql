-- The deployment ledger stays append-only for what happened (which version
-- moved where, when, of which kind, by whose id), but the names and words
-- in it may be replaced when a departed person is erased (issue 22,
-- docs/privacy.md): an UPDATE that changes anything else is refused.
CREATE OR REPLACE FUNCTION deployments_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.id IS NOT DISTINCT FROM OLD.id
       AND NEW.workflow_id IS NOT DISTINCT FROM OLD.workflow_id
       AND NEW.workflow IS NOT DISTINCT FROM OLD.workflow
       AND NEW.environment IS NOT DISTINCT FROM OLD.environment
       AND NEW.from_version IS NOT DISTINCT FROM OLD.from_version
       AND NEW.to_version IS NOT DISTINCT FROM OLD.to_version
       AND NEW.kind IS NOT DISTINCT FROM OLD.kind
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
       AND NEW.at IS NOT DISTINCT FROM OLD.at
       AND NEW.request_id IS NOT DISTINCT FROM OLD.request_id
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the deployment ledger is append-only';
END;
$$;
