//! The record of one secret fetch, as the audit log and the run page show
//! it: which reference an attempt asked for and what came of it, never the
//! value.

use serde::{Deserialize, Serialize};

/// One fetch of one reference for one attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecretAccess {
    /// The name the step gave the secret (`DB_PASSWORD`).
    pub name: String,
    /// The reference with its placeholders filled in
    /// (`vault:kv/data/prod/db#password`).
    pub reference: String,
    /// The provider as configured (`vault`, `env`, `file`, …).
    pub provider: String,
    /// `ok`, or why not: `not_found`, `denied`, `unreachable`, `unusable`,
    /// `timeout`, `not_configured`, `error`.
    pub outcome: String,
    /// The version read, for providers that keep versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// A dynamic credential's lease id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_id: Option<String>,
    /// How long that lease runs before it must be renewed, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_seconds: Option<u64>,
    /// What went wrong, when it did (never a value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long the fetch took, in milliseconds.
    pub millis: u64,
}

impl SecretAccess {
    pub fn succeeded(&self) -> bool {
        self.outcome == "ok"
    }
}

/// Which attempt fetched, for its audit record.
#[derive(Debug, Clone, Copy)]
pub struct FetchedBy<'a> {
    pub run_id: &'a str,
    pub step_id: &'a str,
    pub attempt: u32,
    pub environment: &'a str,
}

impl SecretAccess {
    /// The `secret.fetch` audit record of this access: run, step, attempt,
    /// reference, provider and outcome, never the value.
    pub fn audit_event(
        &self,
        by: FetchedBy<'_>,
        actor: crate::audit::Actor,
        at: chrono::DateTime<chrono::Utc>,
    ) -> crate::audit::AuditEvent {
        use crate::audit::{AuditAction, AuditEvent, Outcome};
        let mut event = AuditEvent::new(
            at,
            actor,
            AuditAction::SecretFetch,
            format!("run/{}", by.run_id),
        );
        event.environment = Some(by.environment.to_owned());
        event.outcome = if self.succeeded() {
            Outcome::Succeeded
        } else {
            Outcome::Failed
        };
        // Keys avoid the words the audit log redacts ("secret", …): these
        // name a reference, not a value.
        event.set_detail("step", by.step_id);
        event.set_detail("attempt", by.attempt);
        event.set_detail("name", self.name.as_str());
        event.set_detail("reference", self.reference.as_str());
        event.set_detail("provider", self.provider.as_str());
        event.set_detail("result", self.outcome.as_str());
        event.set_detail("millis", self.millis);
        if let Some(version) = self.version {
            event.set_detail("version", version);
        }
        if let Some(lease) = &self.lease_id {
            event.set_detail("lease_id", lease.as_str());
        }
        if let Some(seconds) = self.lease_seconds {
            event.set_detail("lease_seconds", seconds);
        }
        if let Some(error) = &self.error {
            event.set_detail("error", error.as_str());
        }
        event
    }
}
