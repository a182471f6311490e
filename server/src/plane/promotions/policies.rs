//! Saving an environment's promotion policy (its admins, with a recent
//! sign-in where the policy asks for one).

use super::*;

impl GantryPlane {
    pub(super) async fn policy_checked(
        &self,
        ctx: &RequestContext,
        environment: &str,
        policy: EnvironmentPolicy,
        event: &mut AuditEvent,
    ) -> Result<PolicyView, PortError> {
        let me = ctx.require_principal()?;
        let env = self.environment(environment)?;
        event.environment = Some(env.as_str().to_owned());
        let position = self.position(&env);
        let (current, _) = self.policy_in(&env).await?;
        let target = Target {
            environment: &env,
            position,
            policy: &current,
        };
        let person = self.acting_person(me).await?;
        let actor = Actor {
            principal: me,
            person: Some(&person.id),
        };
        may_edit_policy(&actor, &target, &self.freshness())?;
        policy.validate(&env, position)?;
        let stored = StoredPolicy {
            environment: env.as_str().to_owned(),
            policy,
            updated_by: person,
            updated_at: self.clock.now(),
        };
        event.set_detail("required_approvals", stored.policy.required_approvals);
        event.set_detail("checklist_items", stored.policy.checklist.len());
        self.store
            .save_policy(&stored, event.clone())
            .await
            .map_err(internal)?;
        Ok(PolicyView {
            environment: stored.environment,
            position,
            policy: stored.policy,
            is_default: false,
            updated_by: Some(stored.updated_by),
            updated_at: Some(stored.updated_at),
        })
    }
}
