//! Keeps the stored rules that workflows' specs carry in step with the
//! versions active now (`core::alert::spec_rules`): each pass derives them
//! from the active specs and writes only what changed. Applying,
//! promoting or rolling back a workflow is the audited change; this is
//! its consequence, so it writes no audit record of its own.

use super::facts::ActiveSpecs;
use crate::store::SharedStore;
use crate::store::alerts::{SpecRuleChanges, StoredRule, Withdrawal};
use chrono::{DateTime, Utc};
use gantry_core::alert::notification::Links;
use gantry_core::alert::spec_rules::{derive, is_spec_origin};
use std::collections::BTreeMap;

/// The rules to evaluate this pass: `rules` with the spec rules brought
/// up to date (stored first, so the page and the API show the same).
pub async fn sync(
    store: &SharedStore,
    rules: Vec<StoredRule>,
    active: &ActiveSpecs,
    links: &Links,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<StoredRule>> {
    let changes = changes(&rules, active, now);
    if changes.is_empty() {
        return Ok(rules);
    }
    let withdrawal = Withdrawal {
        links: links.clone(),
        at: now,
    };
    store.sync_spec_rules(&changes, &withdrawal).await?;
    Ok(store.alert_rules().await?)
}

/// What to insert, update and delete so the stored spec rules are the
/// derived ones.
fn changes(rules: &[StoredRule], active: &ActiveSpecs, now: DateTime<Utc>) -> SpecRuleChanges {
    let stored: BTreeMap<&str, &StoredRule> = rules
        .iter()
        .filter(|r| is_spec_origin(&r.origin))
        .map(|r| (r.id.as_str(), r))
        .collect();
    let mut wanted = BTreeMap::new();
    for (version, spec) in &active.versions {
        for rule in derive(spec, &version.environment) {
            wanted.insert(
                rule.id.clone(),
                StoredRule {
                    id: rule.id,
                    spec: rule.spec,
                    origin: rule.origin,
                    created_by: format!("{} v{}", version.workflow, version.version),
                    created_at: now,
                    updated_at: now,
                },
            );
        }
    }
    let mut out = SpecRuleChanges {
        delete: stored
            .keys()
            .filter(|id| !wanted.contains_key(**id))
            .map(|id| (*id).to_owned())
            .collect(),
        ..SpecRuleChanges::default()
    };
    for (id, rule) in wanted {
        match stored.get(id.as_str()) {
            None => out.insert.push(rule),
            Some(old) if old.spec != rule.spec => {
                // What it watches changed: its instances start over.
                let reset = old.spec.kind != rule.spec.kind;
                out.update.push((
                    StoredRule {
                        created_at: old.created_at,
                        ..rule
                    },
                    reset,
                ));
            }
            Some(_) => {}
        }
    }
    out
}
