//! The version active in each environment, with its spec: what label
//! selectors match against (a label added in dev selects the workflow
//! there before it is promoted) and where a workflow's own rules come
//! from (`super::super::spec_rules`).

use crate::store::SharedStore;
use crate::store::alert_facts::ActiveVersion;
use gantry_core::spec::WorkflowSpec;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Every workflow × environment's active version and spec.
#[derive(Debug, Clone, Default)]
pub struct ActiveSpecs {
    pub versions: Vec<(ActiveVersion, Arc<WorkflowSpec>)>,
    by_pair: HashMap<(String, String), usize>,
}

impl ActiveSpecs {
    /// One query, then specs from the version cache (versions never
    /// change, so a pass reads the database once however many there are).
    pub async fn load(store: &SharedStore) -> anyhow::Result<Self> {
        let mut out = Self::default();
        for active in store.active_versions().await? {
            let spec = store
                .version_spec(&active.workflow_id, active.version)
                .await?;
            out.by_pair.insert(
                (active.workflow.clone(), active.environment.clone()),
                out.versions.len(),
            );
            out.versions.push((active, spec));
        }
        Ok(out)
    }

    /// A workflow's labels in an environment (none where it isn't active).
    pub fn labels(&self, workflow: &str, environment: &str) -> &BTreeMap<String, String> {
        static NONE: BTreeMap<String, String> = BTreeMap::new();
        self.by_pair
            .get(&(workflow.to_owned(), environment.to_owned()))
            .and_then(|&i| self.versions.get(i))
            .map_or(&NONE, |(_, spec)| &spec.labels)
    }
}
