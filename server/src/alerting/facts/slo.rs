//! The `slo_burn` kind's facts: every workflow × environment whose active
//! version declares an SLO there, with each objective's exact counts in
//! every burn window ending at `now` (one query per SLO, the same tallies
//! the SLO page shows, so the page and the alert cannot disagree).

use super::ActiveSpecs;
use crate::store::SharedStore;
use crate::store::slo::SloQuery;
use anyhow::Context;
use chrono::{DateTime, Utc};
use gantry_core::alert::kinds::{SloFacts, SloInstance};
use gantry_core::slo::view::objective_counts;

/// `active`: the pass's active versions and specs, which say where an SLO
/// is declared (read once per pass for every kind that needs them).
pub async fn slo_facts(
    store: &SharedStore,
    active: &ActiveSpecs,
    now: DateTime<Utc>,
) -> anyhow::Result<SloFacts> {
    let mut instances = Vec::new();
    for (version, spec) in &active.versions {
        let Some(slo) = spec.slo.get(&version.environment) else {
            continue;
        };
        let tallies = store
            .slo_tallies(SloQuery {
                workflow: &version.workflow,
                environment: &version.environment,
                slo,
                now,
            })
            .await
            .with_context(|| {
                format!(
                    "counting the runs of {} in {} for its SLO",
                    version.workflow, version.environment
                )
            })?;
        instances.push(SloInstance {
            objectives: objective_counts(slo, &tallies),
            workflow: version.workflow.clone(),
            environment: version.environment.clone(),
        });
    }
    Ok(SloFacts { instances })
}
