//! A worker's dealings with an attempt's secrets: fetching them (or taking
//! what the server fetched) with an audit record of each fetch before any
//! value is used, the log line each fetch leaves, and keeping values out of
//! what is stored of the attempt.

use super::{Executed, Worker};
use crate::engine::leases::AttemptLeases;
use crate::engine::logs::LogSink;
use crate::secrets::AttemptSecrets;
use gantry_core::execution::Lease;
use gantry_core::run::AttemptEnd;
use gantry_core::secret::{Masker, SecretAccess};
use gantry_core::spec::StepSpec;
use std::collections::BTreeMap;
use std::time::Duration;

impl Worker {
    /// Fetches the step's secrets and records each fetch in the audit log;
    /// `Err` with the attempt's error when any fetch failed or the records
    /// could not be written (fail closed: no value is used unrecorded).
    pub(super) async fn fetch_secrets(
        &self,
        claim: &Lease,
        step: &StepSpec,
        limit: Option<Duration>,
        logs: &LogSink,
    ) -> Result<AttemptSecrets, String> {
        if step.secrets.is_empty() {
            return Ok(AttemptSecrets::default());
        }
        if claim.secrets_from_server {
            return self.secrets_from_server(claim, limit, logs).await;
        }
        let fetched = crate::secrets::resolve(
            &self.settings.secrets,
            step,
            &claim.environment,
            &claim.workflow,
            limit,
        )
        .await;
        for access in &fetched.accesses {
            logs.system(describe_access(access)).await;
        }
        if let Err(e) = self
            .source
            .record_secret_accesses(claim, fetched.accesses.clone())
            .await
        {
            tracing::error!(error = %e, "could not record secret fetches in the audit log");
            AttemptLeases::hold(fetched.leases).release(logs).await;
            return Err(format!(
                "the secret fetches could not be recorded in the audit log, so the step did not run: {e}"
            ));
        }
        match fetched.failure {
            Some(failure) => {
                // Credentials issued before another fetch failed go now.
                AttemptLeases::hold(fetched.leases).release(logs).await;
                Err(failure)
            }
            None => Ok(fetched),
        }
    }

    /// The values the server fetched for this attempt (and audited).
    async fn secrets_from_server(
        &self,
        claim: &Lease,
        limit: Option<Duration>,
        logs: &LogSink,
    ) -> Result<AttemptSecrets, String> {
        let asked = self.source.delivered_secrets(claim);
        let delivery = match limit {
            Some(limit) => tokio::time::timeout(limit, asked).await.map_err(|_| {
                "the step's timeout passed while the server fetched its secrets".to_owned()
            })?,
            None => asked.await,
        }
        .map_err(|e| format!("the server's secrets for this attempt didn't arrive: {e:#}"))?;
        for access in &delivery.accesses {
            logs.system(format!("{} (by the server)", describe_access(access)))
                .await;
        }
        if let Some(failure) = delivery.failure {
            return Err(failure);
        }
        AttemptSecrets::delivered(&claim.step, delivery.secrets)
    }
}

/// Where `as: file` secrets are written, under the attempt's working
/// directory (gone with it when the attempt ends).
pub const SECRET_DIR: &str = ".gantry-secrets";

/// One line of the attempt's log per fetch: what was fetched from where,
/// and how it went (never the value).
fn describe_access(access: &SecretAccess) -> String {
    let name = &access.name;
    let reference = &access.reference;
    match &access.error {
        None => {
            let version = access
                .version
                .map(|v| format!(" version {v}"))
                .unwrap_or_default();
            format!(
                "secret {name}: fetched {reference}{version} in {} ms",
                access.millis
            )
        }
        Some(error) => format!("secret {name}: {reference} failed: {error}"),
    }
}

/// What is stored of an attempt never holds a secret's value: the error
/// text is masked, and outputs holding one are refused (they would be
/// stored and shown to later steps), failing the attempt.
pub(super) async fn scrub(executed: Executed, masker: &Masker, logs: &LogSink) -> Executed {
    let (mut end, exit_code, error, outputs) = executed;
    let mut error = error.map(|e| masker.mask(&e));
    let leaking: Vec<&String> = outputs
        .iter()
        .filter(|(_, v)| masker.contains_secret(v))
        .map(|(k, _)| k)
        .collect();
    if leaking.is_empty() {
        return (end, exit_code, error, outputs);
    }
    let keys: Vec<&str> = leaking.iter().map(|k| k.as_str()).collect();
    let message = format!(
        "output {} holds a secret's value; outputs are stored and passed on, so this attempt's \
         outputs were refused: write the secret's name or a reference instead",
        keys.join(", ")
    );
    logs.system(message.clone()).await;
    if end == AttemptEnd::Succeeded {
        end = AttemptEnd::Failed;
    }
    error.get_or_insert(message);
    (end, exit_code, error, BTreeMap::new())
}
