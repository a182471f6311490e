//! Where a worker gets its work and where it reports: the store itself (the
//! worker inside `gantry serve`, which already holds the database) or the
//! execution API (`gantry worker --server`, which holds a worker token and
//! nothing else; `remote.rs`). The worker loop is the same for both.

use crate::runtime::clock::Clock;
use crate::runtime::telemetry::{context, finished};
use crate::store::SharedStore;
use crate::store::queue::{AttemptKey, AttemptResult, Claim, Handoff, NewLogLine};
use crate::store::secret_leases::StoredLease;
use async_trait::async_trait;
use gantry_core::audit::{Actor, ActorKind};
use gantry_core::execution::{Beat, Lease, LogLine, SecretsDelivery};
use gantry_core::run::AttemptEnd;
use gantry_core::secret::{FetchedBy, SecretAccess};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// A handed-off step's wait below which it gets no "queued" span.
const NO_WAIT: Duration = Duration::from_millis(1);

/// How an attempt ended, as the worker saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub end: AttemptEnd,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    pub outputs: BTreeMap<String, String>,
}

impl Outcome {
    pub fn failed(error: impl Into<String>) -> Self {
        Self {
            end: AttemptEnd::Failed,
            exit_code: None,
            error: Some(error.into()),
            outputs: BTreeMap::new(),
        }
    }
}

#[async_trait]
pub trait WorkSource: Send + Sync + 'static {
    /// The lease owner as attempts show it (`host:pid:n`, or
    /// `token/instance` through the execution API).
    fn owner(&self) -> &str;

    /// Leases up to `limit` ready steps, waiting up to `wait` for one;
    /// empty when none became ready in time.
    async fn claim(
        &self,
        limit: u32,
        wait: Duration,
        lease: Duration,
    ) -> anyhow::Result<Vec<Lease>>;

    async fn heartbeat(&self, lease: &Lease, duration: Duration) -> anyhow::Result<Beat>;

    async fn append_logs(&self, lease: &Lease, lines: Vec<LogLine>) -> anyhow::Result<()>;

    /// Records the end, after storing the attempt's last log lines; with
    /// `next` (a lease duration), may also lease this worker its next
    /// ready step in the same breath (the store does both in the
    /// finishing transaction; the execution API doesn't hand off).
    async fn finish(
        &self,
        lease: &Lease,
        outcome: Outcome,
        last_lines: Vec<LogLine>,
        next: Option<Duration>,
    ) -> anyhow::Result<Finished>;

    /// Records the attempt's secret fetches in the audit log, one record
    /// each. Fail closed: unless this succeeded the step must not run with
    /// the values.
    async fn record_secret_accesses(
        &self,
        lease: &Lease,
        accesses: Vec<SecretAccess>,
    ) -> anyhow::Result<()>;

    /// The secrets of an attempt whose lease says the server resolves them
    /// (already audited by the server).
    async fn delivered_secrets(&self, lease: &Lease) -> anyhow::Result<SecretsDelivery>;
}

pub type SharedSource = Arc<dyn WorkSource>;

/// What reporting an attempt's end came to.
#[derive(Debug, Default)]
pub struct Finished {
    /// False when the report was stale (changed nothing).
    pub accepted: bool,
    /// The step leased to this worker by the same transaction, to run next.
    pub next: Option<Lease>,
}

/// `gantry_runs_finished_total` and the run's duration, read back from the
/// run; for whoever's change finished it (a step's report, the scheduler
/// reaping a lost attempt or timing a run out), so it counts once.
pub async fn count_finished_run(store: &SharedStore, run_id: &str, traceparent: Option<&str>) {
    match store.run_summary(run_id).await {
        Ok(Some(run)) => {
            crate::runtime::metrics::run_summary_finished(&run);
            finished::run_ended(finished::RunEnd {
                traceparent,
                run_id,
                workflow: &run.workflow,
                environment: &run.environment,
                status: run.status.as_str(),
                created_at: run.created_at,
                finished_at: run.finished_at.unwrap_or_else(chrono::Utc::now),
            });
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %e, run = %run_id, "metrics: could not read a finished run")
        }
    }
}

/// An attempt's captured lines as the store keeps them.
fn log_rows(key: AttemptKey<'_>, lines: Vec<LogLine>) -> Vec<NewLogLine> {
    lines
        .into_iter()
        .map(|l| NewLogLine {
            run_id: key.run_id.to_owned(),
            step_id: key.step_id.to_owned(),
            attempt: key.attempt,
            line: l.line,
            stream: l.stream,
            at: l.at,
            text: l.text,
        })
        .collect()
}

/// The store, for the worker in the process that owns the database.
pub struct LocalSource {
    store: SharedStore,
    clock: Arc<dyn Clock>,
    owner: String,
    /// Longest wait between queue checks when no wake-up arrives (a safety
    /// net: wake-ups normally come from the work signal).
    idle_poll: Duration,
}

impl LocalSource {
    pub fn new(
        store: SharedStore,
        clock: Arc<dyn Clock>,
        owner: String,
        idle_poll: Duration,
    ) -> Self {
        Self {
            store,
            clock,
            owner,
            idle_poll,
        }
    }

    /// Until the next retry becomes ready, bounded by the idle poll.
    async fn idle_wait(&self) -> Duration {
        match self.store.next_ready_at().await {
            Ok(Some(at)) => (at - self.clock.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(self.idle_poll),
            _ => self.idle_poll,
        }
    }

    /// A claim with its step's spec, or `None` after settling an attempt
    /// whose step is missing from its (immutable) spec. `handed_off`: the
    /// worker that finished an attempt took this step in the same
    /// transaction.
    async fn lease_of(&self, claim: Claim, handed_off: bool) -> anyhow::Result<Option<Lease>> {
        let spec = self
            .store
            .version_spec(&claim.workflow_id, claim.version)
            .await?;
        let Some(step) = spec.step(&claim.step_id).cloned() else {
            // Boxed: reporting may lease a next step, which comes here.
            Box::pin(self.report_of(claim.key(), Outcome::failed("step missing from its spec")))
                .await?;
            return Ok(None);
        };
        // Counted where the claim is made, for the worker in `serve` and
        // remote workers alike.
        let kind = match step.kind() {
            gantry_core::spec::StepKind::Shell(_) => "shell",
            gantry_core::spec::StepKind::Http(_) => "http",
        };
        crate::runtime::metrics::step_queue_wait(kind, claim.queue_wait.as_secs_f64());
        // A step handed over as its predecessor finished waited for nothing:
        // its "queued" span would be a third of a sequential workflow's
        // spans, each costing the run's path some 40 µs, and show nothing
        // the step and attempt spans don't. A handed-off step that did
        // wait (a backlog) keeps it.
        if !(handed_off && claim.queue_wait < NO_WAIT) {
            let now = self.clock.now();
            finished::queue_waited(finished::QueueWait {
                traceparent: claim.traceparent.as_deref(),
                run_id: &claim.run_id,
                step_id: &claim.step_id,
                attempt: claim.attempt,
                ready_at: now - chrono::Duration::from_std(claim.queue_wait).unwrap_or_default(),
                claimed_at: now,
            });
        }
        let traceparent = claim
            .traceparent
            .as_deref()
            .and_then(|t| context::parse(t, None))
            .map(|run| {
                context::traceparent(&context::step_span(&run, &claim.run_id, &claim.step_id))
            });
        Ok(Some(Lease {
            traceparent,
            run_id: claim.run_id,
            step_id: claim.step_id,
            attempt: claim.attempt,
            workflow: claim.workflow,
            version: claim.version,
            environment: claim.environment,
            inputs: claim.inputs,
            outputs: claim.outputs,
            deadline: claim.deadline,
            step,
            // The worker in `serve` resolves with the server's providers;
            // the execution API decides for remote workers.
            secrets_from_server: false,
        }))
    }

    /// Stores an attempt's log lines (the execution API checks the lease
    /// first; the worker in `serve` holds it by construction).
    pub async fn append_logs_of(
        &self,
        key: AttemptKey<'_>,
        lines: Vec<LogLine>,
    ) -> anyhow::Result<()> {
        Ok(self.store.append_logs(&log_rows(key, lines)).await?)
    }

    /// Records an attempt's end as this source's owner; `false` when stale.
    pub async fn report_of(&self, key: AttemptKey<'_>, outcome: Outcome) -> anyhow::Result<bool> {
        Ok(self
            .finish_of(key, outcome, Vec::new(), None)
            .await?
            .accepted)
    }

    /// Records an attempt's end with its last log lines, and with `next`
    /// leases this worker its next ready step, in one transaction.
    async fn finish_of(
        &self,
        key: AttemptKey<'_>,
        outcome: Outcome,
        last_lines: Vec<LogLine>,
        next: Option<Duration>,
    ) -> anyhow::Result<Finished> {
        let result = self.result(key, outcome);
        let lines = log_rows(key, last_lines);
        let handoff = Handoff {
            lines: &lines,
            claim: u32::from(next.is_some()),
            lease: next.unwrap_or_default(),
        };
        let settled = self
            .store
            .finish_and_hand_off(result, handoff, self.clock.now())
            .await?;
        if let Some(step) = &settled.step_finished {
            let now = self.clock.now();
            finished::step_ended(finished::StepEnd {
                traceparent: settled.traceparent.as_deref(),
                run_id: key.run_id,
                step_id: key.step_id,
                status: step.status.as_str(),
                attempts: step.attempts,
                started_at: step.started_at.unwrap_or(now),
                finished_at: now,
            });
        }
        if settled.run_finished {
            count_finished_run(&self.store, key.run_id, settled.traceparent.as_deref()).await;
        }
        // A finished run frees a slot in its lane for a queued one.
        if settled.run_finished
            && let Err(e) = self
                .store
                .admit(&settled.workflow_id, &settled.environment, self.clock.now())
                .await
        {
            tracing::warn!(error = %e, "admitting queued runs failed");
        }
        Ok(Finished {
            accepted: settled.accepted,
            // One was asked for (`Handoff::claim` is 0 or 1).
            next: self.leases_of(settled.next, true).await.into_iter().next(),
        })
    }

    /// Claims with their steps' specs; a claim whose spec can't be read is
    /// left to expire (and be retried).
    async fn leases_of(&self, claims: Vec<Claim>, handed_off: bool) -> Vec<Lease> {
        let mut leases = Vec::with_capacity(claims.len());
        for claim in claims {
            match self.lease_of(claim, handed_off).await {
                Ok(Some(lease)) => leases.push(lease),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "cannot load a claimed step's spec"),
            }
        }
        leases
    }

    /// Appends one `secret.fetch` record per access, by `actor`, and keeps
    /// the leases they took for the lease keeper, in one transaction.
    /// `server_renews`: the server fetched them (for a remote worker).
    pub async fn record_secret_accesses_of(
        &self,
        by: FetchedBy<'_>,
        actor: &Actor,
        accesses: &[SecretAccess],
        server_renews: bool,
    ) -> anyhow::Result<()> {
        let now = self.clock.now();
        let events = accesses
            .iter()
            .map(|a| a.audit_event(by, actor.clone(), now))
            .collect();
        let leases = accesses
            .iter()
            .filter_map(|a| {
                let id = a.lease_id.clone()?;
                let seconds = a.lease_seconds.unwrap_or(0).min(u64::from(u32::MAX / 2));
                Some(StoredLease {
                    lease_id: id,
                    provider: a.provider.clone(),
                    environment: by.environment.to_owned(),
                    run_id: by.run_id.to_owned(),
                    step_id: by.step_id.to_owned(),
                    attempt: by.attempt,
                    reference: a.reference.clone(),
                    server_renews,
                    duration_secs: u32::try_from(seconds).unwrap_or(u32::MAX / 2),
                    expires_at: now
                        + chrono::Duration::seconds(i64::try_from(seconds).unwrap_or(0)),
                })
            })
            .collect();
        self.store.record_secret_fetches(events, leases).await?;
        Ok(())
    }

    fn result(&self, key: AttemptKey<'_>, outcome: Outcome) -> AttemptResult {
        AttemptResult {
            run_id: key.run_id.to_owned(),
            step_id: key.step_id.to_owned(),
            attempt: key.attempt,
            worker: self.owner.clone(),
            end: outcome.end,
            exit_code: outcome.exit_code,
            error: outcome.error,
            outputs: outcome.outputs,
        }
    }
}

#[async_trait]
impl WorkSource for LocalSource {
    fn owner(&self) -> &str {
        &self.owner
    }

    async fn claim(
        &self,
        limit: u32,
        wait: Duration,
        lease: Duration,
    ) -> anyhow::Result<Vec<Lease>> {
        let until = tokio::time::Instant::now() + wait;
        let signal = self.store.work_signal();
        loop {
            // Armed before the query, so a wake-up between the query and
            // the wait is not lost.
            let notified = signal.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let claims = self
                .store
                .claim_steps(&self.owner, limit, self.clock.now(), lease)
                .await?;
            if !claims.is_empty() {
                return Ok(self.leases_of(claims, false).await);
            }
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Ok(Vec::new());
            }
            let nap = self.idle_wait().await.min(left);
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(nap) => {}
            }
        }
    }

    async fn heartbeat(&self, lease: &Lease, duration: Duration) -> anyhow::Result<Beat> {
        Ok(self
            .store
            .heartbeat(
                AttemptKey::of(lease),
                &self.owner,
                self.clock.now(),
                duration,
            )
            .await?)
    }

    async fn append_logs(&self, lease: &Lease, lines: Vec<LogLine>) -> anyhow::Result<()> {
        self.append_logs_of(AttemptKey::of(lease), lines).await
    }

    async fn finish(
        &self,
        lease: &Lease,
        outcome: Outcome,
        last_lines: Vec<LogLine>,
        next: Option<Duration>,
    ) -> anyhow::Result<Finished> {
        self.finish_of(AttemptKey::of(lease), outcome, last_lines, next)
            .await
    }

    async fn record_secret_accesses(
        &self,
        lease: &Lease,
        accesses: Vec<SecretAccess>,
    ) -> anyhow::Result<()> {
        // The worker inside `serve` acts as itself.
        let actor = Actor {
            kind: ActorKind::Worker,
            id: self.owner.clone(),
            name: format!("worker {}", self.owner),
        };
        let by = FetchedBy {
            run_id: &lease.run_id,
            step_id: &lease.step_id,
            attempt: lease.attempt,
            environment: &lease.environment,
        };
        self.record_secret_accesses_of(by, &actor, &accesses, false)
            .await
    }

    async fn delivered_secrets(&self, _lease: &Lease) -> anyhow::Result<SecretsDelivery> {
        anyhow::bail!("the worker inside `gantry serve` resolves secrets itself")
    }
}
