//! Importing a bundle through the port: who may (whoever may apply
//! workflows here), which keys are trusted (`--bundle-trusted-key`), the
//! checks apply makes of a spec, then one store transaction registering the
//! versions, active nowhere, with the `bundle.import` record.

use super::workflows::{check_schedulable, check_secret_providers};
use crate::plane::{GantryPlane, internal};
use crate::store::bundles::NewImport;
use async_trait::async_trait;
use gantry_core::PortError;
use gantry_core::audit::{AuditAction, AuditEvent};
use gantry_core::bundle::{ImportOutcome, VerifiedBundle};
use gantry_core::port::{BundlePort, RequestContext};
use gantry_core::rbac::Action;

/// Where this server's trust in signing keys is configured.
pub const TRUSTED_KEY_FLAG: &str = "--bundle-trusted-key (GANTRY_BUNDLE_TRUSTED_KEYS)";

#[async_trait]
impl BundlePort for GantryPlane {
    async fn import_bundle(
        &self,
        ctx: &RequestContext,
        text: &str,
    ) -> Result<ImportOutcome, PortError> {
        let mut event = self
            .event(ctx, AuditAction::BundleImport, "workflow")
            .detail("bytes", text.len());
        let result = self.import_checked(ctx, text, &mut event).await;
        self.settle(event, result).await
    }
}

impl GantryPlane {
    async fn import_checked(
        &self,
        ctx: &RequestContext,
        text: &str,
        event: &mut AuditEvent,
    ) -> Result<ImportOutcome, PortError> {
        // Registering versions is applying workflows, minus activation.
        let me = self.authorize(
            ctx,
            &Action::ApplyWorkflow {
                environment: self.settings.environments.first().clone(),
            },
        )?;
        if self.settings.bundle_keys.is_empty() {
            return Err(PortError::Conflict {
                message: format!(
                    "this installation trusts no bundle signing key, so it imports no bundles: \
                     start `gantry serve` with {TRUSTED_KEY_FLAG} naming the exporting \
                     installation's public key (docs/bundles.md)"
                ),
            });
        }
        let bundle = crate::bundle::verify(
            text,
            &self.settings.bundle_keys,
            &format!("{TRUSTED_KEY_FLAG} on this server"),
        )
        .map_err(|refusal| {
            event.set_detail("refusal", refusal.reason());
            PortError::from(refusal)
        })?;
        let payload = &bundle.payload;
        event.resource = format!("workflow/{}", payload.workflow);
        event.set_detail("signer_key", bundle.signer_key.clone());
        event.set_detail("exported_from", payload.exported_from.clone());
        if let Some(env) = &payload.environment {
            event.set_detail("source_environment", env.clone());
        }
        event.set_detail(
            "versions",
            payload
                .versions
                .iter()
                .map(|v| serde_json::json!({"version": v.version, "content_hash": v.content_hash}))
                .collect::<Vec<_>>(),
        );
        event.set_detail("source_ledger_rows", payload.ledger.len());
        self.check_importable(&bundle).await?;
        let author = self.person_behind(me).await?;
        let imported = self
            .store
            .import_versions(
                NewImport {
                    bundle: &bundle,
                    imported_by: &me.display_name,
                    imported_by_person: author.as_ref().map(|p| p.id.as_str()),
                },
                self.clock.now(),
                event.clone(),
            )
            .await
            .map_err(internal)?
            .map_err(|clash| PortError::Conflict {
                message: clash.message(),
            })?;
        tracing::info!(request_id = %ctx.request_id, user = %me.username, workflow = %payload.workflow,
            signer = %bundle.signer_key, versions = imported.len(), "bundle imported");
        Ok(ImportOutcome {
            workflow: payload.workflow.clone(),
            signer_key: bundle.signer_key.clone(),
            exported_from: payload.exported_from.clone(),
            environment: payload.environment.clone(),
            versions: imported,
            ledger_rows: payload.ledger.len(),
        })
    }

    /// What apply refuses, an import refuses too: a version this server
    /// could never run (unconfigured secret providers, unknown alert
    /// channels, a schedule with inputs nobody fills in).
    async fn check_importable(&self, bundle: &VerifiedBundle) -> Result<(), PortError> {
        for (v, spec) in bundle.payload.versions.iter().zip(&bundle.specs) {
            let checked = match check_schedulable(spec)
                .and_then(|()| check_secret_providers(spec, &self.settings.secrets))
            {
                Ok(()) => self.check_spec_alerts(spec).await,
                Err(e) => Err(e),
            };
            if let Err(PortError::Unprocessable { problems, .. }) = checked {
                return Err(PortError::Unprocessable {
                    message: format!(
                        "version {} of {} in the bundle can't be registered here",
                        v.version, bundle.payload.workflow
                    ),
                    problems,
                });
            }
            checked?;
        }
        Ok(())
    }
}
