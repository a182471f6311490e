//! The Promotions page's matrix: per workflow and environment, the active
//! version, its last run, the open request and what a rollback returns to.

use super::*;

impl GantryPlane {
    pub(super) async fn board_cells(
        &self,
        me: &Principal,
        workflow: &str,
    ) -> Result<Vec<BoardCell>, PortError> {
        let pointers = self.pointers(workflow).await?;
        let envs: Vec<Environment> = self.settings.environments.iter().cloned().collect();
        let mut cells = Vec::new();
        for (i, env) in envs.iter().enumerate() {
            let visible = gantry_core::rbac::decide(
                me,
                &Action::ViewEnvironment {
                    environment: env.clone(),
                },
            )
            .is_allowed();
            if !visible {
                cells.push(BoardCell {
                    environment: env.as_str().to_owned(),
                    active: None,
                    last_run: None,
                    pending: None,
                    rollback_to: None,
                    rolled_back: Vec::new(),
                    promotable: None,
                    canary: None,
                });
                continue;
            }
            let history = self
                .store
                .deployment_history(&pointers.workflow_id, env.as_str())
                .await
                .map_err(internal)?;
            let active = last_move(&history, env.as_str()).map(|d| ActiveCell {
                version: d.to_version,
                since: d.at,
                by: d.actor.name.clone(),
                kind: d.kind,
            });
            let last_run = self
                .store
                .last_finished_run(&pointers.workflow_id, env.as_str())
                .await
                .map_err(internal)?
                .map(|(id, status)| LastRunCell { id, status });
            let pending = match self
                .store
                .promotion_requests(PromotionQuery {
                    workflow: Some(workflow),
                    to_environment: Some(env.as_str()),
                    state: Some(PromotionState::Pending),
                    visible: None,
                    limit: 1,
                })
                .await
                .map_err(internal)?
                .pop()
            {
                Some(stored) => {
                    let id = stored.request.id.clone();
                    let d = self.detail_of(stored).await?;
                    let basis = ReviewBasis {
                        content_hash: d.request.content_hash.clone(),
                        diff_digest: d.diff.digest(),
                    };
                    let (done, total) = d.checklist.progress();
                    Some(PendingCell {
                        id,
                        version: d.request.version,
                        checklist_done: u32::try_from(done).unwrap_or(u32::MAX),
                        checklist_total: u32::try_from(total).unwrap_or(u32::MAX),
                        approvals: u32::try_from(
                            counted_approvals(&d.request.approvals, &basis).len(),
                        )
                        .unwrap_or(u32::MAX),
                        approvals_required: d.policy.required_approvals,
                    })
                }
                None => None,
            };
            cells.push(BoardCell {
                environment: env.as_str().to_owned(),
                rollback_to: rollback_target(&history, env.as_str(), None)
                    .ok()
                    .map(|p| p.to),
                rolled_back: rolled_back_versions(&history, env.as_str())
                    .into_iter()
                    .map(|r| r.version)
                    .collect(),
                promotable: (i + 1 < envs.len())
                    .then(|| pointers.active.get(env).copied())
                    .flatten()
                    .filter(|v| pointers.active.get(&envs[i + 1]) != Some(v)),
                active,
                last_run,
                pending,
                canary: self
                    .canary_blocks(&pointers.workflow_id, env.as_str())
                    .await?
                    .map(|(_, c)| c),
            });
        }
        Ok(cells)
    }
}
