//! Fetching one attempt's secrets: every reference of the step, at once,
//! each bounded by the fetch timeout (and by what is left of the step's
//! own), each leaving an access record. The values live in the returned
//! [`AttemptSecrets`] and die with it.

use super::registry::{SecretProviders, SharedProvider};
use gantry_core::secret::{
    FetchError, FetchRequest, Masker, SecretAccess, SecretError, SecretLease, SecretValue,
};
use gantry_core::spec::{SecretMount, SecretRef, StepSpec};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Fetches by provider and outcome (`ok`, `not_found`, `timeout`, …).
pub const FETCHES: &str = "gantry_secret_fetch_total";
/// How long fetches take, by provider: what secrets add to a step's start.
pub const FETCH_SECONDS: &str = "gantry_secret_fetch_duration_seconds";

/// One secret, ready to hand to the step.
pub struct ResolvedSecret {
    pub name: String,
    pub mount: SecretMount,
    pub value: SecretValue,
}

/// A dynamic credential's lease held for the attempt, to renew while it
/// runs and revoke when it ends.
pub struct HeldLease {
    pub provider: SharedProvider,
    pub lease: SecretLease,
    /// The reference, for messages.
    pub reference: String,
}

/// What fetching an attempt's secrets came to.
#[derive(Default)]
pub struct AttemptSecrets {
    pub secrets: Vec<ResolvedSecret>,
    pub leases: Vec<HeldLease>,
    /// One per reference, in the step's order.
    pub accesses: Vec<SecretAccess>,
    /// The first failed reference's message; the attempt fails with it.
    pub failure: Option<String>,
}

impl AttemptSecrets {
    /// A masker for every value fetched.
    pub fn masker(&self) -> Result<Masker, SecretError> {
        let values: Vec<SecretValue> = self.secrets.iter().map(|s| s.value.clone()).collect();
        Masker::new(&values)
    }

    /// What the server fetched for a remote worker, as if fetched here
    /// (mounts from the step's own declarations).
    pub fn delivered(
        step: &StepSpec,
        delivered: Vec<gantry_core::execution::DeliveredSecret>,
    ) -> Result<Self, String> {
        let mut out = AttemptSecrets::default();
        for secret in delivered {
            let declared = step.secrets.get(&secret.name).ok_or_else(|| {
                format!(
                    "the server delivered a secret {} the step doesn't declare",
                    secret.name
                )
            })?;
            let value = SecretValue::new(secret.value)
                .map_err(|e| format!("secret {}: {e}", secret.name))?;
            out.secrets.push(ResolvedSecret {
                name: secret.name,
                mount: declared.mount,
                value,
            });
        }
        Ok(out)
    }

    /// The values to deliver to a remote worker.
    pub fn to_delivery(&self) -> Vec<gantry_core::execution::DeliveredSecret> {
        self.secrets
            .iter()
            .map(|s| gantry_core::execution::DeliveredSecret {
                name: s.name.clone(),
                value: s.value.expose().to_owned(),
            })
            .collect()
    }

    /// The values by name, for an HTTP step's `${{ secrets.NAME }}`.
    pub fn template_values(&self) -> BTreeMap<String, String> {
        self.secrets
            .iter()
            .map(|s| (s.name.clone(), s.value.expose().to_owned()))
            .collect()
    }
}

/// Fetches every reference `step` declares for a run of `workflow` in
/// `environment`. `limit` is what is left of the step's timeout, if it has
/// one.
pub async fn resolve(
    providers: &SecretProviders,
    step: &StepSpec,
    environment: &str,
    workflow: &str,
    limit: Option<Duration>,
) -> AttemptSecrets {
    let timeout = limit.map_or(providers.fetch_timeout(), |l| {
        l.min(providers.fetch_timeout())
    });
    let mut fetches = JoinSet::new();
    for (index, (name, declared)) in step.secrets.iter().enumerate() {
        let name = name.clone();
        let mount = declared.mount;
        let parsed = SecretRef::parse(&declared.reference);
        let provider = parsed
            .as_ref()
            .ok()
            .and_then(|r| providers.get(environment, r.provider()).cloned());
        let (environment, workflow) = (environment.to_owned(), workflow.to_owned());
        fetches.spawn(async move {
            let started = Instant::now();
            let outcome =
                fetch_one(parsed, provider.clone(), &environment, &workflow, timeout).await;
            (index, name, mount, provider, outcome, started.elapsed())
        });
    }
    let mut done = Vec::with_capacity(step.secrets.len());
    while let Some(joined) = fetches.join_next().await {
        // A fetch task can only end by returning (nothing in it panics).
        if let Ok(one) = joined {
            done.push(one);
        }
    }
    done.sort_by_key(|d| d.0);
    let mut out = AttemptSecrets::default();
    for (_, name, mount, provider, outcome, took) in done {
        let millis = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        let (provider_name, result) = match &outcome {
            Ok((_, p, _)) => (p.clone(), "ok"),
            Err(failed) => (failed.provider.clone(), failed.outcome),
        };
        metrics::counter!(FETCHES, "provider" => provider_name.clone(), "outcome" => result)
            .increment(1);
        metrics::histogram!(FETCH_SECONDS, "provider" => provider_name).record(took.as_secs_f64());
        match outcome {
            Ok((reference, provider_name, fetched)) => {
                out.accesses.push(SecretAccess {
                    name: name.clone(),
                    reference: reference.clone(),
                    provider: provider_name,
                    outcome: "ok".into(),
                    version: fetched.version,
                    lease_id: fetched.lease.as_ref().map(|l| l.id.clone()),
                    lease_seconds: fetched.lease.as_ref().map(|l| l.duration.as_secs()),
                    error: None,
                    millis,
                });
                if let (Some(lease), Some(provider)) = (fetched.lease, provider) {
                    out.leases.push(HeldLease {
                        provider,
                        lease,
                        reference,
                    });
                }
                for (suffix, value) in fetched.also {
                    out.secrets.push(ResolvedSecret {
                        name: format!("{name}_{suffix}"),
                        mount: SecretMount::Env,
                        value,
                    });
                }
                out.secrets.push(ResolvedSecret {
                    name,
                    mount,
                    value: fetched.value,
                });
            }
            Err(failed) => {
                let message = format!("secret {name} ({}): {}", failed.reference, failed.error);
                out.failure.get_or_insert(message);
                out.accesses.push(SecretAccess {
                    name,
                    reference: failed.reference,
                    provider: failed.provider,
                    outcome: failed.outcome.into(),
                    version: None,
                    lease_id: None,
                    lease_seconds: None,
                    error: Some(failed.error),
                    millis,
                });
            }
        }
    }
    out
}

struct Failed {
    reference: String,
    provider: String,
    outcome: &'static str,
    error: String,
}

async fn fetch_one(
    parsed: Result<SecretRef, String>,
    provider: Option<SharedProvider>,
    environment: &str,
    workflow: &str,
    timeout: Duration,
) -> Result<(String, String, gantry_core::secret::Fetched), Failed> {
    let reference = match parsed {
        Ok(r) => r,
        // Validation refuses these at apply; a spec stored before that rule
        // still fails cleanly.
        Err(e) => {
            return Err(Failed {
                reference: "(invalid)".into(),
                provider: String::new(),
                outcome: "invalid",
                error: e,
            });
        }
    };
    let resolved = reference.resolve(environment, workflow);
    let provider_name = reference.provider().to_owned();
    let fail = |outcome, error| Failed {
        reference: resolved.clone(),
        provider: provider_name.clone(),
        outcome,
        error,
    };
    let Some(provider) = provider else {
        return Err(fail(
            "not_configured",
            format!(
                "no secret provider \"{provider_name}\" is configured for environment {environment}"
            ),
        ));
    };
    let path = reference.resolve_path(environment, workflow);
    let request = FetchRequest {
        path: &path,
        key: reference.key(),
    };
    match tokio::time::timeout(timeout, provider.fetch(request)).await {
        Ok(Ok(fetched)) => Ok((resolved, provider_name, fetched)),
        Ok(Err(e)) => Err(fail(e.outcome(), e.to_string())),
        Err(_) => Err(fail(
            "timeout",
            FetchError::Unreachable(format!("no answer after {}", seconds(timeout))).to_string(),
        )),
    }
}

/// `5 s`, `1.5 s`, `200 ms`.
fn seconds(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{} s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
