//! The execution API: what a worker leases, streams and reports, and the
//! pure rules around it. Workers outside the server process hold a worker
//! token and nothing else (no database URL): they can claim steps, extend
//! their leases, append their logs and report how an attempt ended, for the
//! attempts they hold and nothing more.
//!
//! A lease's owner is the pair (worker token, worker instance), written
//! `token/instance`: the token is the credential, the instance tells the
//! processes sharing one token apart. Every report names the attempt it is
//! about, and the server checks the owner before it changes anything.

use crate::run::{AttemptEnd, LogStream};
use crate::spec::StepSpec;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most steps one claim may lease.
pub const MAX_CLAIM: u32 = 32;
/// Longest a claim waits for work before answering empty.
pub const MAX_CLAIM_WAIT_MS: u32 = 30_000;
/// Lease bounds: short enough that a dead worker's steps move on, long
/// enough for a heartbeat round trip.
pub const MIN_LEASE_MS: u32 = 1_000;
pub const MAX_LEASE_MS: u32 = 300_000;
/// Most log lines in one batch, and the longest line kept.
pub const MAX_LOG_BATCH: usize = 1_000;
/// (The worker cuts lines at 16 KiB and says so, which takes a few bytes more.)
pub const MAX_LOG_LINE_BYTES: usize = 17 * 1024;
/// Most outputs and their sizes in one report (the same bound the worker
/// applies to `$GANTRY_OUTPUT`).
pub const MAX_OUTPUT_BYTES: usize = 64 * 1024;
/// Longest error text kept from a report.
pub const MAX_ERROR_CHARS: usize = 2_000;

/// A worker asks for up to `limit` steps, waiting up to `wait_ms` for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    /// Tells the processes sharing one worker token apart (`host:pid`).
    pub instance: String,
    pub limit: u32,
    #[serde(default)]
    pub wait_ms: u32,
    /// How long a lease lasts without a heartbeat.
    pub lease_ms: u32,
}

/// A leased step attempt with everything needed to execute it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    pub run_id: String,
    pub step_id: String,
    pub attempt: u32,
    pub workflow: String,
    pub version: u32,
    pub environment: String,
    pub inputs: BTreeMap<String, serde_json::Value>,
    /// Outputs of the run's steps that succeeded so far.
    pub outputs: BTreeMap<String, BTreeMap<String, String>>,
    pub deadline: Option<DateTime<Utc>>,
    pub step: StepSpec,
    /// Who fetches this attempt's secrets: the worker itself with its own
    /// provider credentials (`false`), or the server, which hands the
    /// values over the execution API (`/exec/v1/secrets`) for workers
    /// without credentials of their own (`--remote-worker-secrets`).
    #[serde(default)]
    pub secrets_from_server: bool,
    /// The W3C traceparent of the step's span, when the run is traced: the
    /// attempt's span is its child, in whichever process runs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// Which attempt a heartbeat, log batch or report is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRef {
    pub instance: String,
    pub run_id: String,
    pub step_id: String,
    pub attempt: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatRequest {
    #[serde(flatten)]
    pub attempt: AttemptRef,
    pub lease_ms: u32,
}

/// The answer to a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Beat {
    /// Lease extended; carry on.
    Continue,
    /// The run is being cancelled or timed out: stop the step.
    Stop,
    /// This worker no longer owns the attempt (its lease expired and the
    /// step moved on): abandon it without reporting.
    Lost,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogLine {
    pub line: u32,
    pub stream: LogStream,
    pub at: DateTime<Utc>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogBatch {
    #[serde(flatten)]
    pub attempt: AttemptRef,
    pub lines: Vec<LogLine>,
}

/// The secret fetches of one attempt, reported by the worker that made them
/// (with its own provider credentials) for the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretAccessBatch {
    #[serde(flatten)]
    pub attempt: AttemptRef,
    pub accesses: Vec<crate::secret::SecretAccess>,
}

/// A worker asking the server for the secrets of an attempt it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretsRequest {
    #[serde(flatten)]
    pub attempt: AttemptRef,
}

/// One secret's value, on its way to the worker that runs the attempt.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveredSecret {
    pub name: String,
    pub value: String,
}

impl std::fmt::Debug for DeliveredSecret {
    // Never the value, whoever prints a delivery.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeliveredSecret({}: {})", self.name, crate::secret::MASK)
    }
}

/// The server's answer: the values (when every fetch succeeded), the
/// record of each fetch (already in the audit log), and the first failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretsDelivery {
    pub secrets: Vec<DeliveredSecret>,
    pub accesses: Vec<crate::secret::SecretAccess>,
    #[serde(default)]
    pub failure: Option<String>,
}

/// How an attempt ended, as its worker saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptReport {
    #[serde(flatten)]
    pub attempt: AttemptRef,
    pub end: AttemptEnd,
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub outputs: BTreeMap<String, String>,
}

/// What a report changed: `accepted` is false for a stale report (the
/// lease was lost and the step moved on), which changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    pub accepted: bool,
}

/// `1–100` of letters, digits and `. _ : -`: it shows in the run's
/// attempts, so it stays printable and short.
pub fn valid_instance(instance: &str) -> bool {
    (1..=100).contains(&instance.len())
        && instance
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
}

/// The lease owner a worker token's instance claims as.
pub fn lease_owner(token_name: &str, instance: &str) -> String {
    format!("{token_name}/{instance}")
}

/// The problem with a claim request, if any, naming its field.
pub fn check_claim(request: &ClaimRequest) -> Result<(), (&'static str, String)> {
    check_instance(&request.instance)?;
    if !(1..=MAX_CLAIM).contains(&request.limit) {
        return Err(("limit", format!("claim 1 to {MAX_CLAIM} steps at a time")));
    }
    if request.wait_ms > MAX_CLAIM_WAIT_MS {
        return Err(("wait_ms", format!("wait at most {MAX_CLAIM_WAIT_MS} ms")));
    }
    check_lease(request.lease_ms)
}

pub fn check_lease(lease_ms: u32) -> Result<(), (&'static str, String)> {
    if !(MIN_LEASE_MS..=MAX_LEASE_MS).contains(&lease_ms) {
        return Err((
            "lease_ms",
            format!("leases last {MIN_LEASE_MS} to {MAX_LEASE_MS} ms"),
        ));
    }
    Ok(())
}

pub fn check_instance(instance: &str) -> Result<(), (&'static str, String)> {
    if valid_instance(instance) {
        Ok(())
    } else {
        Err((
            "instance",
            "use 1 to 100 characters: letters, digits, . _ : or -".into(),
        ))
    }
}

/// The problem with a log batch, if any.
pub fn check_logs(batch: &LogBatch) -> Result<(), (&'static str, String)> {
    check_instance(&batch.attempt.instance)?;
    if batch.lines.len() > MAX_LOG_BATCH {
        return Err((
            "lines",
            format!("send at most {MAX_LOG_BATCH} lines per batch"),
        ));
    }
    if batch
        .lines
        .iter()
        .any(|l| l.text.len() > MAX_LOG_LINE_BYTES)
    {
        return Err((
            "lines",
            format!("a line holds at most {MAX_LOG_LINE_BYTES} bytes; cut longer ones"),
        ));
    }
    Ok(())
}

/// The problem with a batch of secret accesses, if any.
pub fn check_secret_accesses(batch: &SecretAccessBatch) -> Result<(), (&'static str, String)> {
    check_instance(&batch.attempt.instance)?;
    let most = crate::spec::MAX_SECRETS_PER_STEP;
    if batch.accesses.is_empty() || batch.accesses.len() > most {
        return Err((
            "accesses",
            format!("send 1 to {most} accesses, one per reference of the step"),
        ));
    }
    let too_long = batch.accesses.iter().any(|a| {
        [&a.name, &a.reference, &a.provider, &a.outcome]
            .into_iter()
            .chain(a.lease_id.as_ref())
            .chain(a.error.as_ref())
            .any(|f| f.len() > 1024)
    });
    if too_long {
        return Err((
            "accesses",
            "a field of an access holds at most 1024 bytes".into(),
        ));
    }
    Ok(())
}

/// The problem with a report, if any. An attempt's end is the worker's to
/// tell, except `lost`, which only the server's lease reaper decides.
pub fn check_report(report: &AttemptReport) -> Result<(), (&'static str, String)> {
    check_instance(&report.attempt.instance)?;
    if report.end == AttemptEnd::Lost {
        return Err((
            "end",
            "an attempt is lost when its lease expires; report how it ended instead".into(),
        ));
    }
    let size: usize = report.outputs.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_OUTPUT_BYTES {
        return Err((
            "outputs",
            format!("outputs hold at most {MAX_OUTPUT_BYTES} bytes in all"),
        ));
    }
    if report
        .error
        .as_ref()
        .is_some_and(|e| e.chars().count() > MAX_ERROR_CHARS)
    {
        return Err((
            "error",
            format!("an error message holds at most {MAX_ERROR_CHARS} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(instance: &str, limit: u32, wait_ms: u32, lease_ms: u32) -> ClaimRequest {
        ClaimRequest {
            instance: instance.into(),
            limit,
            wait_ms,
            lease_ms,
        }
    }

    #[test]
    fn a_claim_names_the_field_it_gets_wrong() {
        assert!(check_claim(&claim("host-1:42", 4, 20_000, 15_000)).is_ok());
        let field = |c| check_claim(&c).unwrap_err().0;
        assert_eq!(field(claim("", 4, 0, 15_000)), "instance");
        assert_eq!(field(claim("a/b", 4, 0, 15_000)), "instance");
        assert_eq!(field(claim(&"x".repeat(101), 4, 0, 15_000)), "instance");
        assert_eq!(field(claim("w", 0, 0, 15_000)), "limit");
        assert_eq!(field(claim("w", 33, 0, 15_000)), "limit");
        assert_eq!(field(claim("w", 1, 30_001, 15_000)), "wait_ms");
        assert_eq!(field(claim("w", 1, 0, 999)), "lease_ms");
        assert_eq!(field(claim("w", 1, 0, 300_001)), "lease_ms");
    }

    #[test]
    fn an_instance_cannot_pose_as_another_tokens_lease() {
        // The owner is token/instance; an instance holding '/' could make
        // one token's owner string look like another's.
        assert!(!valid_instance("other-token/w1"));
        assert_eq!(lease_owner("ci-workers", "w1"), "ci-workers/w1");
    }

    fn report(end: AttemptEnd) -> AttemptReport {
        AttemptReport {
            attempt: AttemptRef {
                instance: "w".into(),
                run_id: "r".into(),
                step_id: "s".into(),
                attempt: 1,
            },
            end,
            exit_code: None,
            error: None,
            outputs: BTreeMap::new(),
        }
    }

    #[test]
    fn a_worker_cannot_report_its_own_attempt_lost_or_send_unbounded_text() {
        assert!(check_report(&report(AttemptEnd::Succeeded)).is_ok());
        assert_eq!(
            check_report(&report(AttemptEnd::Lost)).unwrap_err().0,
            "end"
        );
        let mut big = report(AttemptEnd::Succeeded);
        big.outputs.insert("k".into(), "v".repeat(MAX_OUTPUT_BYTES));
        assert_eq!(check_report(&big).unwrap_err().0, "outputs");
        let mut long = report(AttemptEnd::Failed);
        long.error = Some("e".repeat(MAX_ERROR_CHARS + 1));
        assert_eq!(check_report(&long).unwrap_err().0, "error");
    }

    #[test]
    fn reports_round_trip_as_flat_json() {
        let r = report(AttemptEnd::TimedOut);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["run_id"], "r");
        assert_eq!(json["end"], "timed_out");
        let back: AttemptReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn log_batches_are_bounded() {
        let line = |text: String| LogLine {
            line: 1,
            stream: LogStream::Stdout,
            at: DateTime::<Utc>::UNIX_EPOCH,
            text,
        };
        let mut batch = LogBatch {
            attempt: report(AttemptEnd::Failed).attempt,
            lines: vec![line("ok".into())],
        };
        assert!(check_logs(&batch).is_ok());
        batch.lines = vec![line("x".repeat(MAX_LOG_LINE_BYTES + 1))];
        assert_eq!(check_logs(&batch).unwrap_err().0, "lines");
        batch.lines = (0..=MAX_LOG_BATCH).map(|_| line(String::new())).collect();
        assert_eq!(check_logs(&batch).unwrap_err().0, "lines");
    }
}
