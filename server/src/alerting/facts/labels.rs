//! Workflows' labels, for rules that select workflows by label: the labels
//! of the version active in each environment (a label added in dev
//! selects the workflow there before it is promoted).

use crate::store::SharedStore;
use std::collections::{BTreeMap, HashMap};

/// Labels per workflow × environment.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    by_pair: HashMap<(String, String), BTreeMap<String, String>>,
    none: BTreeMap<String, String>,
}

impl Labels {
    /// Reads every active version's labels (specs come from the version
    /// cache: versions never change).
    pub async fn load(store: &SharedStore) -> anyhow::Result<Self> {
        let mut by_pair = HashMap::new();
        for active in store.active_versions().await? {
            let spec = store
                .version_spec(&active.workflow_id, active.version)
                .await?;
            if !spec.labels.is_empty() {
                by_pair.insert((active.workflow, active.environment), spec.labels.clone());
            }
        }
        Ok(Self {
            by_pair,
            none: BTreeMap::new(),
        })
    }

    /// A workflow's labels in an environment (none if it isn't active there).
    pub fn of(&self, workflow: &str, environment: &str) -> &BTreeMap<String, String> {
        self.by_pair
            .get(&(workflow.to_owned(), environment.to_owned()))
            .unwrap_or(&self.none)
    }
}
