//! What the recent `secret.fetch` audit records say about one provider:
//! its newest fetch, and the highest version read per reference (a KV
//! rotation shows as a new highest version). Pure: records in, summary out.

use super::view::{AttemptSecretAccess, LastFetch, ReferenceVersion};
use crate::audit::AuditRecord;
use std::collections::BTreeMap;

/// One provider's part of the recent fetches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchSummary {
    pub last_fetch: Option<LastFetch>,
    /// Newest rotation first.
    pub versions: Vec<ReferenceVersion>,
}

/// Summarizes the fetches among `records` (newest first) made through the
/// provider named `provider` in the environments `answers` says it serves
/// (`None`: a record without an environment).
pub fn summarize_fetches(
    records: &[AuditRecord],
    provider: &str,
    answers: impl Fn(Option<&str>) -> bool,
) -> FetchSummary {
    let mut summary = FetchSummary::default();
    let mut highest: BTreeMap<String, ReferenceVersion> = BTreeMap::new();
    let fetches = records.iter().filter_map(|r| {
        let access = AttemptSecretAccess::from_record(r)?;
        (access.access.provider == provider && answers(r.environment.as_deref()))
            .then_some((r, access))
    });
    for (record, fetch) in fetches {
        if summary.last_fetch.is_none() {
            summary.last_fetch = Some(LastFetch {
                at: fetch.at,
                outcome: fetch.access.outcome.clone(),
                reference: fetch.access.reference.clone(),
                run_id: record
                    .resource
                    .strip_prefix("run/")
                    .unwrap_or(&record.resource)
                    .to_owned(),
            });
        }
        let Some(version) = fetch.access.version else {
            continue;
        };
        let seen = highest
            .entry(fetch.access.reference.clone())
            .or_insert(ReferenceVersion {
                reference: fetch.access.reference.clone(),
                version,
                first_seen: fetch.at,
            });
        // Walking back in time: a higher version is newer news only if a
        // rollback followed it, so the highest wins; for the same version
        // the earlier sighting is when it was first used.
        if version > seen.version {
            seen.version = version;
            seen.first_seen = fetch.at;
        } else if version == seen.version && fetch.at < seen.first_seen {
            seen.first_seen = fetch.at;
        }
    }
    summary.versions = highest.into_values().collect();
    summary.versions.sort_by(|a, b| {
        b.first_seen
            .cmp(&a.first_seen)
            .then(a.reference.cmp(&b.reference))
    });
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Actor;
    use crate::secret::{FetchedBy, SecretAccess};
    use chrono::{DateTime, Duration, Utc};

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::minutes(minute)
    }

    fn fetch(
        minute: i64,
        env: &str,
        provider: &str,
        reference: &str,
        version: Option<u64>,
    ) -> AuditRecord {
        let access = SecretAccess {
            name: "X".into(),
            reference: reference.into(),
            provider: provider.into(),
            outcome: if minute == 9 { "denied" } else { "ok" }.into(),
            version,
            lease_id: None,
            lease_seconds: None,
            error: None,
            millis: 1,
        };
        let by = FetchedBy {
            run_id: &format!("run-{minute}"),
            step_id: "s",
            attempt: 1,
            environment: env,
        };
        access
            .audit_event(by, Actor::anonymous(), at(minute))
            .sequence(1, &"0".repeat(64), &mut || [7; 16])
    }

    #[test]
    fn the_newest_fetch_and_each_references_highest_version_since_first_use() {
        let a = "vault:kv/data/dev/db#password";
        let b = "vault:kv/data/dev/api#token";
        // Newest first, as the audit log answers.
        let records = vec![
            fetch(9, "dev", "vault", a, None),
            fetch(8, "prod", "vault", a, Some(99)),
            fetch(7, "dev", "file", "file:/x", None),
            fetch(6, "dev", "vault", a, Some(3)),
            fetch(5, "dev", "vault", a, Some(3)),
            fetch(4, "dev", "vault", b, Some(1)),
            fetch(3, "dev", "vault", a, Some(2)),
        ];
        let s = summarize_fetches(&records, "vault", |env| env == Some("dev"));
        let last = s.last_fetch.unwrap();
        assert_eq!((last.at, last.outcome.as_str()), (at(9), "denied"));
        assert_eq!(last.run_id, "run-9");
        assert_eq!(
            s.versions,
            vec![
                ReferenceVersion {
                    reference: a.into(),
                    version: 3,
                    first_seen: at(5)
                },
                ReferenceVersion {
                    reference: b.into(),
                    version: 1,
                    first_seen: at(4)
                },
            ]
        );
        let none = summarize_fetches(&records, "env", |_| true);
        assert_eq!(none, FetchSummary::default());
    }
}
