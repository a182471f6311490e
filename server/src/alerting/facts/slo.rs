//! The `slo_burn` kind's facts: every workflow × environment whose active
//! version declares an SLO there, with each objective's exact counts in
//! every burn window ending at `now` (one query per SLO, the same tallies
//! the SLO page shows, so the page and the alert cannot disagree).

use crate::store::SharedStore;
use crate::store::slo::SloQuery;
use anyhow::Context;
use chrono::{DateTime, Utc};
use gantry_core::alert::kinds::{SloFacts, SloInstance};
use gantry_core::slo::view::objective_counts;

pub async fn slo_facts(store: &SharedStore, now: DateTime<Utc>) -> anyhow::Result<SloFacts> {
    let mut instances = Vec::new();
    for active in store
        .active_slos()
        .await
        .context("listing the active SLOs")?
    {
        let tallies = store
            .slo_tallies(SloQuery {
                workflow: &active.workflow,
                environment: &active.environment,
                slo: &active.slo,
                now,
            })
            .await
            .with_context(|| {
                format!(
                    "counting the runs of {} in {} for its SLO",
                    active.workflow, active.environment
                )
            })?;
        instances.push(SloInstance {
            objectives: objective_counts(&active.slo, &tallies),
            workflow: active.workflow,
            environment: active.environment,
        });
    }
    Ok(SloFacts { instances })
}
