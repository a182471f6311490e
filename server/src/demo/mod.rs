//! Demo workflows `--dev` registers (through the port, as the demo admin),
//! so a newcomer sees a living dashboard: a nightly backup check, a
//! parallel dead-letter-queue re-drive, a sync that fails a third of the
//! time on a five-minute schedule, and (`secrets.rs`) a step using a secret.

mod promotions;
pub mod secrets;

use crate::plane::GantryPlane;
use crate::store::SharedStore;
use gantry_core::Principal;
use gantry_core::port::RequestContext;
use gantry_core::port::prelude::*;

const DEMOS: [(&str, &str); 3] = [
    ("backup-verify.yaml", include_str!("backup-verify.yaml")),
    ("dlq-reprocess.yaml", include_str!("dlq-reprocess.yaml")),
    ("flaky-sync.yaml", include_str!("flaky-sync.yaml")),
];

/// Applies the demos (identical re-applies are no-ops, so restarts are
/// harmless) and seeds the promotion demo. `secrets_root` is the `file:`
/// provider's folder: the secrets demo is registered when it is the one
/// dev mode made ([`secrets::with_demo_file_root`]).
pub async fn seed(
    plane: &GantryPlane,
    store: &SharedStore,
    admin: Principal,
    operator: Principal,
    secrets_root: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let ctx = RequestContext {
        principal: Some(admin.clone()),
        request_id: "dev-seed".into(),
        trace_id: None,
        source_ip: None,
        user_agent: Some("gantry --dev".into()),
    };
    for (file, source) in DEMOS {
        plane
            .apply_workflow(&ctx, source)
            .await
            .map_err(|e| anyhow::anyhow!("demo workflow {file}: {e}"))?;
    }
    if let Some(source) = secrets::demo_spec(secrets_root) {
        plane
            .apply_workflow(&ctx, &source)
            .await
            .map_err(|e| anyhow::anyhow!("demo workflow secret-demo.yaml: {e}"))?;
    }
    promotions::seed(plane, store, admin, operator, DEMOS[0].1).await
}

#[cfg(test)]
mod tests {
    use super::DEMOS;

    #[test]
    fn demos_are_valid_specs() {
        for (file, source) in DEMOS {
            gantry_core::spec::parse(source).unwrap_or_else(|e| panic!("{file}: {e}"));
        }
    }
}
