//! The engine as `gantry serve` wires it, driven through the control-plane
//! port as an admin: applying specs, triggering runs, starting and stopping
//! local or remote workers, and waiting for runs to end.

use crate::ENVIRONMENT;
use crate::stats::ms_between;
use anyhow::{Context, Result, anyhow, bail, ensure};
use gantry_core::port::RequestContext;
use gantry_core::port::prelude::*;
use gantry_core::run::{
    RunDetail, RunFilter, RunStatus, RunSummary, Trigger, TriggerOutcome, TriggerRequest,
};
use gantry_core::token::NewToken;
use gantry_core::{EnvScope, Environments, Principal, PrincipalKind, Role, RoleGrant, UserId};
use gantry_server::alerting::AlertSettings;
use gantry_server::engine::egress::{AllowEntry, EgressPolicy};
use gantry_server::engine::remote::RemoteSource;
use gantry_server::engine::{Worker, WorkerSettings};
use gantry_server::plane::{GantryPlane, PlaneSettings};
use gantry_server::runtime::clock::Clock;
use gantry_server::store::SharedStore;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How long any run or set of runs may take before the benchmark gives up:
/// generous, it only stops a hang.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// The admin the benchmark acts as (like the `--dev` demo seeding).
fn admin_context() -> RequestContext {
    RequestContext {
        principal: Some(Principal {
            id: UserId("gantry-bench".into()),
            kind: PrincipalKind::System,
            username: "gantry-bench".into(),
            display_name: "gantry-bench".into(),
            email: None,
            grants: vec![RoleGrant {
                role: Role::Admin,
                scope: EnvScope::All,
                source: "gantry-bench".into(),
            }],
            signed_in_at: None,
            break_glass_until: None,
        }),
        request_id: "gantry-bench".into(),
        trace_id: None,
        source_ip: None,
        user_agent: Some("gantry-bench".into()),
    }
}

/// The engine of one backend, as `gantry serve` wires it.
pub struct Engine {
    store: SharedStore,
    plane: Arc<GantryPlane>,
    pub clock: Arc<dyn Clock>,
    ctx: RequestContext,
    work_root: PathBuf,
}

/// One timed run: trigger → first step start and → finish (ms), and the
/// version it ran.
pub struct StartSample {
    pub to_start: f64,
    pub to_finish: f64,
    pub version: u32,
}

/// A worker task and the token that stops it.
pub struct RunningWorker {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl RunningWorker {
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

impl Engine {
    /// The store the engine acts on (for reads the port does not offer).
    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    /// The engine on `store`, driven through the port as the admin.
    pub fn over(store: SharedStore, clock: Arc<dyn Clock>, work_root: PathBuf) -> Result<Self> {
        Self::with_alerts(store, clock, work_root, AlertSettings::default())
    }

    /// As [`Engine::over`], with alerting's settings (a sealer, so alert
    /// channels can be stored).
    pub fn with_alerts(
        store: SharedStore,
        clock: Arc<dyn Clock>,
        work_root: PathBuf,
        alerts: AlertSettings,
    ) -> Result<Self> {
        Self::build(store, clock, work_root, alerts, ENVIRONMENT)
    }

    /// As [`Engine::over`], with the environments `list` (comma-separated,
    /// in promotion order) instead of the lone `dev`.
    pub fn in_environments(
        store: SharedStore,
        clock: Arc<dyn Clock>,
        work_root: PathBuf,
        list: &str,
    ) -> Result<Self> {
        Self::build(store, clock, work_root, AlertSettings::default(), list)
    }

    fn build(
        store: SharedStore,
        clock: Arc<dyn Clock>,
        work_root: PathBuf,
        alerts: AlertSettings,
        environments: &str,
    ) -> Result<Self> {
        let plane = Arc::new(GantryPlane::new(
            store.clone(),
            clock.clone(),
            PlaneSettings {
                dev_mode: false,
                audit_key: None,
                environments: Environments::parse_list(environments)?,
                version: env!("CARGO_PKG_VERSION").to_owned(),
                sso: None,
                public_url: "http://127.0.0.1".to_owned(),
                secrets: Default::default(),
                remote_worker_secrets: Default::default(),
                trace_link_template: None,
                alerts,
                role_mapping: Default::default(),
                step_up_max_age: std::time::Duration::from_secs(15 * 60),
                token_approvals: Vec::new(),
                bundle_keys: Vec::new(),
                // The port is called directly: no edge, nothing to limit.
                rate_limits: gantry_server::ratelimit::Limiter::new(
                    gantry_server::ratelimit::LimiterSettings::off(),
                    store.clone(),
                ),
                backlog: Default::default(),
                retention: Default::default(),
                break_glass:
                    gantry_server::plane::passkeys::relying_party::BreakGlassSettings::with_defaults(
                        "http://127.0.0.1",
                    ),
            },
        ));
        Ok(Self {
            store,
            plane,
            clock,
            ctx: admin_context(),
            work_root,
        })
    }

    /// The port and the admin's request context, for calls this harness
    /// doesn't wrap.
    pub fn port(&self) -> (&GantryPlane, &RequestContext) {
        (&self.plane, &self.ctx)
    }

    pub async fn apply(&self, spec: serde_json::Value) -> Result<String> {
        let name = spec["name"].as_str().unwrap_or_default().to_owned();
        self.plane
            .apply_workflow(&self.ctx, &spec.to_string())
            .await
            .with_context(|| format!("applying workflow {name}"))?;
        Ok(name)
    }

    /// Triggers a run inside a span like the API's request span, so that
    /// with tracing on the run carries a trace context as one triggered
    /// over REST does (with tracing off the span is never exported).
    pub async fn trigger(&self, workflow: &str) -> Result<RunSummary> {
        self.trigger_in(workflow, ENVIRONMENT).await
    }

    /// As [`Engine::trigger`], in `environment`.
    pub async fn trigger_in(&self, workflow: &str, environment: &str) -> Result<RunSummary> {
        let request = tracing::info_span!(
            "request",
            otel.name = "POST /api/v1/workflows/{name}/runs",
            otel.kind = "server",
            request_id = "gantry-bench",
        );
        self.plane
            .trigger_run(
                &self.ctx,
                TriggerRequest {
                    workflow: workflow.to_owned(),
                    environment: environment.into(),
                    inputs: Default::default(),
                    reason: None,
                    version: None,
                },
                Trigger::Api,
            )
            .instrument(request)
            .await
            .with_context(|| format!("triggering {workflow}"))
            .and_then(|outcome| match outcome {
                TriggerOutcome::Started { run } => Ok(run),
                TriggerOutcome::AwaitingApproval { .. } => {
                    anyhow::bail!("{workflow} unexpectedly awaits approval")
                }
            })
    }

    pub fn start_worker(&self, slots: usize, label: &str) -> RunningWorker {
        let mut settings = WorkerSettings::new(format!("bench:{label}"), self.work_root.clone());
        settings.slots = slots;
        // The HTTP steps' target listens on loopback, which steps may not
        // reach by default (the operator's --http-step-allow, here).
        settings.http_egress = Arc::new(EgressPolicy::new(&[AllowEntry {
            net: IpAddr::from(Ipv4Addr::LOCALHOST).into(),
            environment: None,
        }]));
        let worker = Arc::new(Worker::new(
            self.store.clone(),
            self.clock.clone(),
            settings,
        ));
        let stop = CancellationToken::new();
        let task = tokio::spawn(worker.run(stop.clone()));
        RunningWorker { stop, task }
    }

    /// A worker of `slots` that leases over the execution API at `url`.
    pub fn start_remote_worker(
        &self,
        slots: usize,
        label: &str,
        url: &str,
        token: &str,
    ) -> Result<RunningWorker> {
        let mut settings = WorkerSettings::new(format!("bench-{label}"), self.work_root.clone());
        settings.slots = slots;
        let source = RemoteSource::new(url, token.to_owned(), settings.id.clone())?;
        let worker = Arc::new(Worker::with_source(
            Arc::new(source),
            self.clock.clone(),
            settings,
        ));
        let stop = CancellationToken::new();
        let task = tokio::spawn(worker.run(stop.clone()));
        Ok(RunningWorker { stop, task })
    }

    /// A worker token, made through the port as the admin.
    pub async fn worker_token(&self) -> Result<String> {
        self.token(NewToken {
            name: "bench-workers".into(),
            worker: true,
            ..Default::default()
        })
        .await
    }

    /// A service token holding `role` in the bench's environment.
    pub async fn role_token(&self, name: &str, role: &str) -> Result<String> {
        self.token(NewToken {
            name: name.into(),
            roles: vec![format!("{role}@{ENVIRONMENT}")],
            ..Default::default()
        })
        .await
    }

    /// A token made through the port as the admin; its secret.
    pub async fn token(&self, token: NewToken) -> Result<String> {
        let name = token.name.clone();
        let created = self
            .plane
            .create_token(&self.ctx, token)
            .await
            .with_context(|| format!("making the token {name}"))?;
        Ok(created.secret)
    }

    /// Steps per second of one worker draining a queue: `runs` runs of
    /// `workflow` (of `total_steps` steps together) are triggered first,
    /// then `start_worker` starts the worker, which is stopped once they
    /// have all ended.
    pub async fn drain_rate(
        &self,
        workflow: &str,
        runs: usize,
        total_steps: usize,
        start_worker: impl FnOnce() -> Result<RunningWorker>,
    ) -> Result<f64> {
        for _ in 0..runs {
            self.trigger(workflow).await?;
        }
        let start = self.clock.now();
        let worker = start_worker()?;
        let done = self.settled_runs(workflow, RUN_TIMEOUT).await;
        worker.stop().await;
        let done = done?;
        let end = done
            .iter()
            .filter_map(|r| r.finished_at)
            .max()
            .ok_or_else(|| anyhow!("no finished run of {workflow}"))?;
        Ok(total_steps as f64 * 1000.0 / ms_between(start, end))
    }

    /// Trigger → first step start and trigger → finish (ms) of `samples`
    /// single-step runs of `workflow`, one at a time, with a worker idle.
    pub async fn start_latencies(
        &self,
        workflow: &str,
        samples: usize,
        timeout: Duration,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let mut to_start = Vec::with_capacity(samples);
        let mut to_finish = Vec::with_capacity(samples);
        // One untimed run first, so every timed one finds the worker idle and
        // warmed up (spec cache, connections).
        let warm = self.trigger(workflow).await?;
        self.finished(&warm.id, timeout).await?;
        for _ in 0..samples {
            // A pause between samples, so each trigger finds the worker waiting.
            tokio::time::sleep(Duration::from_millis(20)).await;
            let sample = self.start_latency(workflow, ENVIRONMENT, timeout).await?;
            to_start.push(sample.to_start);
            to_finish.push(sample.to_finish);
        }
        Ok((to_start, to_finish))
    }

    /// One run of `workflow` in `environment`, triggered and waited for:
    /// ms from just before the trigger to its first step's start and to
    /// its end.
    pub async fn start_latency(
        &self,
        workflow: &str,
        environment: &str,
        timeout: Duration,
    ) -> Result<StartSample> {
        let t0 = self.clock.now();
        let run = self.trigger_in(workflow, environment).await?;
        let detail = self.finished(&run.id, timeout).await?;
        let started = detail
            .steps
            .first()
            .and_then(|s| s.attempts.first())
            .map(|a| a.started_at)
            .ok_or_else(|| anyhow!("run {} has no attempt", run.id))?;
        let finished = detail
            .summary
            .finished_at
            .ok_or_else(|| anyhow!("run {} has no finish time", run.id))?;
        Ok(StartSample {
            to_start: ms_between(t0, started),
            to_finish: ms_between(t0, finished),
            version: detail.summary.version,
        })
    }

    /// Every run of `workflow`, once none is queued or running (polled).
    async fn settled_runs(&self, workflow: &str, timeout: Duration) -> Result<Vec<RunSummary>> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut busy = false;
            for status in [RunStatus::Queued, RunStatus::Running] {
                let filter = RunFilter {
                    workflow: Some(workflow.to_owned()),
                    status: Some(status),
                    limit: Some(1),
                    ..Default::default()
                };
                busy |= !self
                    .plane
                    .list_runs(&self.ctx, filter)
                    .await?
                    .runs
                    .is_empty();
            }
            if !busy {
                break;
            }
            ensure!(
                Instant::now() < deadline,
                "runs of {workflow} did not finish within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut runs = Vec::new();
        let mut before = None;
        loop {
            let page = self
                .plane
                .list_runs(
                    &self.ctx,
                    RunFilter {
                        workflow: Some(workflow.to_owned()),
                        before: before.take(),
                        limit: Some(RunFilter::MAX_LIMIT),
                        ..Default::default()
                    },
                )
                .await?;
            runs.extend(page.runs);
            match page.next_before {
                Some(b) => before = Some(b),
                None => break,
            }
        }
        if let Some(bad) = runs.iter().find(|r| r.status != RunStatus::Succeeded) {
            let detail = self.plane.run(&self.ctx, &bad.id).await?;
            bail!(
                "run {} of {workflow} ended {} ({:?}); steps: {:?}",
                bad.id,
                bad.status,
                detail.error,
                detail
                    .steps
                    .iter()
                    .map(|s| (
                        s.id.clone(),
                        s.status,
                        s.attempts.last().and_then(|a| a.error.clone())
                    ))
                    .collect::<Vec<_>>()
            );
        }
        Ok(runs)
    }

    /// Waits for one run to end (polled every few ms).
    pub async fn finished(&self, id: &str, timeout: Duration) -> Result<RunDetail> {
        let deadline = Instant::now() + timeout;
        loop {
            let summary = self
                .store
                .run_summary(id)
                .await?
                .ok_or_else(|| anyhow!("run {id} vanished"))?;
            if summary.status.is_terminal() {
                let detail = self.plane.run(&self.ctx, id).await?;
                ensure!(
                    detail.summary.status == RunStatus::Succeeded,
                    "run {id} ended {}: {:?}",
                    detail.summary.status,
                    detail.error
                );
                return Ok(detail);
            }
            ensure!(
                Instant::now() < deadline,
                "run {id} did not finish within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
