//! What the dashboard and the REST API show of secrets: the fetches an
//! attempt made (read back from their `secret.fetch` audit records) and
//! each configured provider's health. References and outcomes only: no
//! value is ever part of these types.

use super::SecretAccess;
use crate::audit::AuditRecord;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One fetch by one attempt, as the run page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttemptSecretAccess {
    /// The step's id.
    pub step: String,
    /// The attempt's number, from 1.
    pub attempt: u32,
    /// When the fetch was recorded (it had finished by then).
    pub at: DateTime<Utc>,
    pub access: SecretAccess,
}

impl AttemptSecretAccess {
    /// Reads a `secret.fetch` record back (see
    /// [`SecretAccess::audit_event`]); `None` for any other record, or one
    /// missing the fields every fetch record has.
    pub fn from_record(record: &AuditRecord) -> Option<Self> {
        if record.action != crate::audit::AuditAction::SecretFetch.as_str() {
            return None;
        }
        let d = &record.details;
        let text = |key: &str| d.get(key).and_then(Value::as_str).map(str::to_owned);
        let number = |key: &str| d.get(key).and_then(Value::as_u64);
        Some(Self {
            step: text("step")?,
            attempt: u32::try_from(number("attempt")?).ok()?,
            at: record.at,
            access: SecretAccess {
                name: text("name")?,
                reference: text("reference")?,
                provider: text("provider")?,
                outcome: text("result")?,
                version: number("version"),
                lease_id: text("lease_id"),
                lease_seconds: number("lease_seconds"),
                error: text("error"),
                millis: number("millis").unwrap_or(0),
            },
        })
    }
}

/// One configured provider as the Admin page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecretProviderStatus {
    /// The name references use (`vault`, `file`, `env`).
    pub provider: String,
    /// The environment this adapter answers in, or none: every environment
    /// without one of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub reachable: bool,
    /// Whether it accepts Gantry's credentials.
    pub authenticated: bool,
    /// Why it is not healthy (never a value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When the health check above ran (just now, bounded in time).
    pub checked_at: DateTime<Utc>,
    /// The newest fetch through this adapter among the recent fetches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_fetch: Option<LastFetch>,
    /// The highest version read per reference among the recent fetches
    /// (providers with versions only), newest rotation first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<ReferenceVersion>,
}

/// A provider's newest fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LastFetch {
    pub at: DateTime<Utc>,
    /// `ok`, or why not (`not_found`, `denied`, `unreachable`, …).
    pub outcome: String,
    /// The reference fetched, placeholders filled.
    pub reference: String,
    /// The run that fetched it.
    pub run_id: String,
}

/// The highest version of one reference seen, and since when: a rotation
/// shows as a higher version with a recent `first_seen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferenceVersion {
    pub reference: String,
    pub version: u64,
    /// The earliest fetch of this version among the recent fetches.
    pub first_seen: DateTime<Utc>,
}

/// Where a provider that answers an environment's references is
/// configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProviderSource {
    /// The one every environment without its own uses.
    Shared,
    /// The environment's own (a prod Vault apart from dev's).
    Own,
}

/// The providers that answer in one environment, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnvironmentProviders {
    pub environment: String,
    /// Sorted by name.
    pub providers: Vec<ProviderAnswer>,
}

/// One provider name answered in an environment, and by which adapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderAnswer {
    pub provider: String,
    pub source: ProviderSource,
}

impl EnvironmentProviders {
    /// Who answers `provider:` references here, if anyone.
    pub fn source_of(&self, provider: &str) -> Option<ProviderSource> {
        self.providers
            .iter()
            .find(|a| a.provider == provider)
            .map(|a| a.source)
    }
}

/// Which providers answer where: every environment of the server, in
/// order. Names only, never a credential or an address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecretCoverage {
    pub environments: Vec<EnvironmentProviders>,
}

impl SecretCoverage {
    /// Who answers what in each of `environments`, from the configured
    /// adapters as `(environment they answer in, provider name)`, `None`
    /// for every environment without its own. An environment's own adapter
    /// replaces the shared one of the same name there.
    pub fn of<'a>(
        environments: impl IntoIterator<Item = &'a str>,
        configured: &[(Option<&str>, &str)],
    ) -> Self {
        let environments = environments
            .into_iter()
            .map(|env| {
                let mut providers: Vec<ProviderAnswer> = Vec::new();
                for (scope, name) in configured {
                    let source = match scope {
                        None => ProviderSource::Shared,
                        Some(own) if *own == env => ProviderSource::Own,
                        Some(_) => continue,
                    };
                    match providers.iter_mut().find(|a| a.provider == *name) {
                        Some(answer) if source == ProviderSource::Own => answer.source = source,
                        Some(_) => {}
                        None => providers.push(ProviderAnswer {
                            provider: (*name).to_owned(),
                            source,
                        }),
                    }
                }
                providers.sort_by(|a, b| a.provider.cmp(&b.provider));
                EnvironmentProviders {
                    environment: env.to_owned(),
                    providers,
                }
            })
            .collect();
        Self { environments }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Actor, AuditAction, AuditEvent};
    use crate::secret::FetchedBy;

    fn record_of(event: AuditEvent) -> AuditRecord {
        event.sequence(7, &"0".repeat(64), &mut || [7; 16])
    }

    fn access(outcome: &str) -> SecretAccess {
        SecretAccess {
            name: "DB_PASSWORD".into(),
            reference: "vault:kv/data/prod/db#password".into(),
            provider: "vault".into(),
            outcome: outcome.into(),
            version: Some(3),
            lease_id: None,
            lease_seconds: None,
            error: (outcome != "ok").then(|| "not found: kv/data/prod/db".into()),
            millis: 12,
        }
    }

    #[test]
    fn a_fetch_record_reads_back_as_the_access_it_recorded() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        for outcome in ["ok", "not_found"] {
            let by = FetchedBy {
                run_id: "r1",
                step_id: "migrate",
                attempt: 2,
                environment: "prod",
            };
            let event = access(outcome).audit_event(by, Actor::anonymous(), at);
            let read = AttemptSecretAccess::from_record(&record_of(event)).unwrap();
            assert_eq!(read.step, "migrate");
            assert_eq!(read.attempt, 2);
            assert_eq!(read.at, at);
            assert_eq!(read.access, access(outcome));
        }
    }

    #[test]
    fn other_records_and_incomplete_ones_are_not_accesses() {
        let at = Utc::now();
        let other = AuditEvent::new(at, Actor::anonymous(), AuditAction::RunTrigger, "run/x");
        assert_eq!(AttemptSecretAccess::from_record(&record_of(other)), None);
        let bare = AuditEvent::new(at, Actor::anonymous(), AuditAction::SecretFetch, "run/x")
            .detail("step", "a");
        assert_eq!(AttemptSecretAccess::from_record(&record_of(bare)), None);
    }

    #[test]
    fn an_environments_own_adapter_replaces_the_shared_one_there_only() {
        let configured = [
            (Some("prod"), "vault"),
            (None, "vault"),
            (None, "file"),
            (Some("stage"), "env"),
        ];
        let c = SecretCoverage::of(["dev", "stage", "prod"], &configured);
        let sources = |i: usize| -> Vec<(String, ProviderSource)> {
            c.environments[i]
                .providers
                .iter()
                .map(|a| (a.provider.clone(), a.source))
                .collect()
        };
        use ProviderSource::{Own, Shared};
        assert_eq!(c.environments[0].environment, "dev");
        assert_eq!(
            sources(0),
            [("file".into(), Shared), ("vault".into(), Shared)]
        );
        assert_eq!(
            sources(1),
            [
                ("env".into(), Own),
                ("file".into(), Shared),
                ("vault".into(), Shared)
            ]
        );
        assert_eq!(sources(2), [("file".into(), Shared), ("vault".into(), Own)]);
        assert_eq!(
            SecretCoverage::of(["dev"], &[]).environments[0].providers,
            []
        );
    }

    #[test]
    fn an_environment_says_who_answers_a_provider_name() {
        let env = EnvironmentProviders {
            environment: "prod".into(),
            providers: vec![
                ProviderAnswer {
                    provider: "file".into(),
                    source: ProviderSource::Shared,
                },
                ProviderAnswer {
                    provider: "vault".into(),
                    source: ProviderSource::Own,
                },
            ],
        };
        assert_eq!(env.source_of("vault"), Some(ProviderSource::Own));
        assert_eq!(env.source_of("file"), Some(ProviderSource::Shared));
        assert_eq!(env.source_of("env"), None);
    }
}

/// What to drop from the server's secret caches: one reference (with its
/// placeholders filled, as fetches name it), or everything one provider
/// cached.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecretInvalidation {
    /// `vault:kv/data/prod/db#password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// `vault`: every value this provider cached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

/// How many cached values went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecretInvalidated {
    pub removed: usize,
    /// Whether the provider caches at all (`--secrets-cache-ttl`); without
    /// a cache every attempt fetches afresh and there is nothing to drop.
    pub cached: bool,
}
