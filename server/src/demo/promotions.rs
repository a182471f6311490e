//! The promotion demo `--dev` seeds, so the Promotions page is alive on a
//! first start: `backup-verify` has version 1 in prod, 2 in stage and 3 in
//! dev, and version 2 waits to go to prod with its manual item ticked and
//! its automatic ones still failing (stage has no runs yet).

use crate::plane::GantryPlane;
use crate::store::SharedStore;
use crate::store::promotions::{LedgerQuery, PointerMove};
use gantry_core::Principal;
use gantry_core::approval::Person;
use gantry_core::audit::AuditAction;
use gantry_core::port::RequestContext;
use gantry_core::port::prelude::*;
use gantry_core::promotion::ledger::DeploymentKind;
use gantry_core::promotion::view::{ChecklistMark, PromotionAsk};

const WORKFLOW: &str = "backup-verify";

fn context(principal: Principal) -> RequestContext {
    RequestContext {
        principal: Some(principal),
        request_id: "dev-seed".into(),
        trace_id: None,
        source_ip: None,
        user_agent: Some("gantry --dev".into()),
    }
}

fn promote(to: &str, reason: &str) -> PromotionAsk {
    PromotionAsk {
        to_environment: to.into(),
        version: None,
        reason: reason.into(),
        confirm_rolled_back: false,
    }
}

/// Seeds the demo once: a database whose `backup-verify` already reached
/// prod is left alone, so restarts are harmless.
pub async fn seed(
    plane: &GantryPlane,
    store: &SharedStore,
    admin: Principal,
    operator: Principal,
    source: &str,
) -> anyhow::Result<()> {
    let reached_prod = !store
        .deployments(LedgerQuery {
            workflow: Some(WORKFLOW),
            environment: Some("prod"),
            limit: 1,
            ..LedgerQuery::default()
        })
        .await?
        .is_empty();
    if reached_prod {
        return Ok(());
    }
    let fail =
        |what: &str, e: gantry_core::PortError| anyhow::anyhow!("demo promotion, {what}: {e}");
    let admin_ctx = context(admin.clone());
    let operator_ctx = context(operator);
    // Version 1 to stage through the port (stage asks for nothing) …
    plane
        .request_promotion(
            &operator_ctx,
            WORKFLOW,
            promote("stage", "nightly check is green in dev"),
        )
        .await
        .map_err(|e| fail("v1 to stage", e))?;
    // … and into prod as if it had passed prod's gate long ago: the demo
    // starts with history, not with a week of waiting.
    let workflow_id = store
        .workflow_id(WORKFLOW)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo workflow {WORKFLOW} is missing"))?;
    let at = chrono::Utc::now();
    let actor = Person {
        id: admin.id.0.clone(),
        name: admin.display_name.clone(),
    };
    let mut event = gantry_core::audit::AuditEvent::new(
        at,
        crate::plane::actor_of(&admin),
        AuditAction::WorkflowPromote,
        format!("workflow/{WORKFLOW}"),
    );
    event.environment = Some("prod".into());
    event.set_detail("seed", "gantry --dev");
    store
        .move_pointer(
            PointerMove {
                workflow_id: &workflow_id,
                workflow: WORKFLOW,
                environment: "prod",
                expected: None,
                to_version: 1,
                kind: DeploymentKind::Promotion,
                actor: &actor,
                at,
                reason: Some("demo seed: version 1 has been live for a while"),
                request: None,
                approvers: &[],
                checklist: None,
                next_fire_at: None,
            },
            event,
        )
        .await?;
    // Version 2 reaches stage, version 3 waits in dev.
    let v2 = source.replace(
        "echo \"checksum verified\"",
        "echo \"checksum verified against the replica too\"",
    );
    plane
        .apply_workflow(&admin_ctx, &v2)
        .await
        .map_err(|e| fail("v2", e))?;
    plane
        .request_promotion(
            &operator_ctx,
            WORKFLOW,
            promote("stage", "verifies the replica as well"),
        )
        .await
        .map_err(|e| fail("v2 to stage", e))?;
    let v3 = v2.replace("timeout: 10m", "timeout: 15m");
    plane
        .apply_workflow(&admin_ctx, &v3)
        .await
        .map_err(|e| fail("v3", e))?;
    // Version 2 asks for prod: pending, the on-call item ticked.
    let outcome = plane
        .request_promotion(
            &operator_ctx,
            WORKFLOW,
            promote("prod", "replica check ran clean in stage"),
        )
        .await
        .map_err(|e| fail("v2 to prod", e))?;
    if let gantry_core::promotion::view::PromotionOutcome::Pending { promotion } = outcome {
        plane
            .mark_checklist_item(
                &operator_ctx,
                &promotion.request.id,
                "on_call_aware",
                ChecklistMark {
                    checked: true,
                    evidence: Some("announced in #ops".into()),
                },
            )
            .await
            .map_err(|e| fail("ticking on_call_aware", e))?;
    }
    Ok(())
}
