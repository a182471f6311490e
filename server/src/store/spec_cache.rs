//! Parsed specs by (workflow id, version). Versions are immutable, so an
//! entry never goes stale; the hot path (every attempt's completion) skips
//! re-reading and re-parsing the spec JSON.

use gantry_core::spec::WorkflowSpec;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct SpecCache(Mutex<HashMap<(String, u32), Arc<WorkflowSpec>>>);

impl SpecCache {
    pub fn get(&self, key: &(String, u32)) -> Option<Arc<WorkflowSpec>> {
        self.0.lock().ok()?.get(key).cloned()
    }

    pub fn insert(&self, key: (String, u32), spec: WorkflowSpec) -> Arc<WorkflowSpec> {
        let spec = Arc::new(spec);
        if let Ok(mut map) = self.0.lock() {
            map.insert(key, spec.clone());
        }
        spec
    }
}
