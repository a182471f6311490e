//! The workflow page's view of a spec's secrets: each step's references as
//! written and, per environment, what they resolve to and who answers them
//! there. Pure: the spec and the server's [`SecretCoverage`] in, rows out;
//! nothing here reads a value.

use super::view::{ProviderSource, SecretCoverage};
use crate::spec::{SecretMount, SecretRef, WorkflowSpec};
use serde::{Deserialize, Serialize};

/// One declared secret of one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepSecretRow {
    pub step: String,
    /// The name the step sees (`DB_PASSWORD`).
    pub name: String,
    /// The reference as written, placeholders unfilled.
    pub reference: String,
    pub mount: SecretMount,
    /// One per environment of the server, in order; empty when the
    /// reference can't be read (a version applied before a rule changed).
    pub resolved: Vec<ResolvedReference>,
}

/// A reference in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedReference {
    pub environment: String,
    /// With `{env}` and `{workflow}` filled in.
    pub reference: String,
    /// Who answers it there; `None`: no provider of that name is
    /// configured there, so a run in that environment fails the step.
    pub source: Option<ProviderSource>,
}

impl StepSecretRow {
    /// Environments where this reference has no provider.
    pub fn unconfigured(&self) -> impl Iterator<Item = &str> {
        self.resolved
            .iter()
            .filter(|r| r.source.is_none())
            .map(|r| r.environment.as_str())
    }
}

/// Every step's secrets, in step order then by name.
pub fn step_secret_rows(spec: &WorkflowSpec, coverage: &SecretCoverage) -> Vec<StepSecretRow> {
    spec.steps
        .iter()
        .flat_map(|step| {
            step.secrets.iter().map(move |(name, secret)| {
                let resolved = match SecretRef::parse(&secret.reference) {
                    Ok(parsed) => coverage
                        .environments
                        .iter()
                        .map(|env| ResolvedReference {
                            environment: env.environment.clone(),
                            reference: parsed.resolve(&env.environment, &spec.name),
                            source: env.source_of(parsed.provider()),
                        })
                        .collect(),
                    Err(_) => Vec::new(),
                };
                StepSecretRow {
                    step: step.id.clone(),
                    name: name.clone(),
                    reference: secret.reference.clone(),
                    mount: secret.mount,
                    resolved,
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::view::{EnvironmentProviders, ProviderAnswer};

    fn spec() -> WorkflowSpec {
        serde_json::from_value(serde_json::json!({
            "name": "billing",
            "steps": [
                {"id": "plain", "run": "true"},
                {"id": "migrate", "run": "true", "secrets": {
                    "DB_PASSWORD": "vault:kv/data/{env}/{workflow}/db#password",
                    "CA": {"ref": "file:/run/ca.pem", "as": "file"},
                }},
            ],
        }))
        .unwrap()
    }

    fn coverage() -> SecretCoverage {
        let answer = |provider: &str, source| ProviderAnswer {
            provider: provider.into(),
            source,
        };
        SecretCoverage {
            environments: vec![
                EnvironmentProviders {
                    environment: "dev".into(),
                    providers: vec![answer("file", ProviderSource::Shared)],
                },
                EnvironmentProviders {
                    environment: "prod".into(),
                    providers: vec![
                        answer("file", ProviderSource::Shared),
                        answer("vault", ProviderSource::Own),
                    ],
                },
            ],
        }
    }

    #[test]
    fn each_reference_resolves_per_environment_with_who_answers_it() {
        let rows = step_secret_rows(&spec(), &coverage());
        assert_eq!(rows.len(), 2);
        let (ca, db) = (&rows[0], &rows[1]);
        assert_eq!((ca.step.as_str(), ca.name.as_str()), ("migrate", "CA"));
        assert_eq!(ca.mount, SecretMount::File);
        assert!(
            ca.resolved
                .iter()
                .all(|r| r.reference == "file:/run/ca.pem"
                    && r.source == Some(ProviderSource::Shared))
        );
        assert_eq!(db.reference, "vault:kv/data/{env}/{workflow}/db#password");
        assert_eq!(
            db.resolved,
            vec![
                ResolvedReference {
                    environment: "dev".into(),
                    reference: "vault:kv/data/dev/billing/db#password".into(),
                    source: None,
                },
                ResolvedReference {
                    environment: "prod".into(),
                    reference: "vault:kv/data/prod/billing/db#password".into(),
                    source: Some(ProviderSource::Own),
                },
            ]
        );
        assert_eq!(db.unconfigured().collect::<Vec<_>>(), ["dev"]);
        assert_eq!(ca.unconfigured().count(), 0);
    }

    #[test]
    fn a_spec_without_secrets_has_no_rows() {
        let mut s = spec();
        s.steps.truncate(1);
        assert!(step_secret_rows(&s, &coverage()).is_empty());
    }
}
