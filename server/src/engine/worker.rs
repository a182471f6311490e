//! A worker: claims ready steps from the database queue, runs each attempt
//! under a heartbeated lease, and reports how it ended. Several workers (in
//! one process or many) share the queue; the store's claim is atomic.

use super::egress::EgressPolicy;
use super::http::{self, HttpJob};
use super::http_clients::StepClients;
use super::leases::AttemptLeases;
use super::logs::{self, LogLimits, LogSink};
use super::shell::{self, ShellJob};
use super::source::{LocalSource, Outcome, SharedSource};
use crate::runtime::clock::Clock;
use crate::runtime::telemetry::context;
use crate::secrets::AttemptSecrets;
use crate::store::SharedStore;
use gantry_core::execution::{Beat, Lease, LogLine};
use gantry_core::run::AttemptEnd;
use gantry_core::spec::{
    SecretMount, StepKind, StepSpec, TemplateContext, render, render_shell, render_with_secrets,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Unique per worker; shows in attempts ("host:pid:n").
    pub id: String,
    /// Steps this worker runs at once.
    pub slots: usize,
    pub lease: Duration,
    pub heartbeat: Duration,
    /// Parent of each attempt's working directory.
    pub work_root: PathBuf,
    pub logs: LogLimits,
    /// Longest a claim waits for work before asking again (the work signal
    /// or the execution API's long poll normally answers sooner).
    pub idle_poll: Duration,
    /// Pause after a failed claim, so an unreachable database or server
    /// isn't hammered.
    pub retry_pause: Duration,
    /// Which reserved addresses HTTP steps may reach, per environment.
    pub http_egress: Arc<EgressPolicy>,
    /// How shell steps are confined (`--step-*` flags).
    pub sandbox: super::sandbox::StepSandbox,
    /// Where steps' secret references are fetched from.
    pub secrets: Arc<crate::secrets::SecretProviders>,
}

impl WorkerSettings {
    pub fn new(id: String, work_root: PathBuf) -> Self {
        // Scripts run inside their own directory, so every path we hand them
        // must be absolute.
        let work_root = if work_root.is_absolute() {
            work_root
        } else {
            std::env::current_dir()
                .map(|d| d.join(&work_root))
                .unwrap_or(work_root)
        };
        Self {
            sandbox: super::sandbox::StepSandbox::defaults(&work_root),
            id,
            slots: 4,
            lease: Duration::from_secs(15),
            heartbeat: Duration::from_secs(1),
            work_root,
            logs: LogLimits::default(),
            idle_poll: Duration::from_secs(5),
            retry_pause: Duration::from_secs(1),
            http_egress: Arc::default(),
            secrets: Arc::default(),
        }
    }
}

/// A unique-enough worker id for this host and process.
pub fn worker_id(n: usize) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into());
    format!("{host}:{}:{n}", std::process::id())
}

mod attempt_dir;
mod secrets;

pub use secrets::SECRET_DIR;
use secrets::scrub;

pub struct Worker {
    source: SharedSource,
    clock: Arc<dyn Clock>,
    settings: WorkerSettings,
    http: StepClients,
}

/// What an attempt's execution came to; `None` when the lease was lost.
type Executed = (
    AttemptEnd,
    Option<i32>,
    Option<String>,
    BTreeMap<String, String>,
);

impl Worker {
    /// A worker on the store itself (inside the process that owns the
    /// database: `gantry serve`).
    pub fn new(store: SharedStore, clock: Arc<dyn Clock>, settings: WorkerSettings) -> Self {
        let source = Arc::new(LocalSource::new(
            store,
            clock.clone(),
            settings.id.clone(),
            settings.idle_poll,
        ));
        Self::with_source(source, clock, settings)
    }

    /// A worker on any source (the execution API for `gantry worker --server`).
    pub fn with_source(
        source: SharedSource,
        clock: Arc<dyn Clock>,
        settings: WorkerSettings,
    ) -> Self {
        let http = StepClients::new(settings.http_egress.clone());
        Self {
            source,
            clock,
            settings,
            http,
        }
    }

    /// Claims and runs steps until `shutdown` fires; then stops claiming and
    /// abandons in-flight attempts (their processes are killed; their leases
    /// expire and they are retried elsewhere as new attempts).
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        // Before claiming: steps a crashed predecessor left running die.
        super::sandbox::reap::kill_leftovers(&self.settings.work_root);
        let mut running: JoinSet<()> = JoinSet::new();
        metrics::gauge!("gantry_worker_slots", "state" => "busy").set(0.0);
        metrics::gauge!("gantry_worker_slots", "state" => "free").set(self.settings.slots as f64);
        loop {
            while running.try_join_next().is_some() {}
            let free = self.settings.slots.saturating_sub(running.len());
            if free == 0 {
                // Every slot is busy: nothing to claim until one frees.
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    Some(_) = running.join_next() => {}
                }
                continue;
            }
            let limit = u32::try_from(free).unwrap_or(u32::MAX);
            // A claim waits for work itself (on the work signal, or the
            // execution API's long poll); it is never cut short but by
            // shutdown, so no lease it takes goes unseen.
            let claimed = tokio::select! {
                () = shutdown.cancelled() => break,
                c = self.source.claim(limit, self.settings.idle_poll, self.settings.lease) => c,
            };
            match claimed {
                Ok(leases) => {
                    for lease in leases {
                        let me = self.clone();
                        let shutdown = shutdown.clone();
                        // Each attempt opens its own span (`attempt`). The
                        // slot runs what its finished attempts hand it (the
                        // store leases the next ready step with the end).
                        running.spawn(async move {
                            let _slot = BusySlot::take();
                            let mut next = Some(lease);
                            while let Some(lease) = next {
                                next = me.attempt(lease, !shutdown.is_cancelled()).await;
                            }
                        });
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "claiming steps failed");
                    // Don't spin against a failing database or server.
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(self.settings.retry_pause) => {}
                    }
                }
            }
        }
        running.abort_all();
        while running.join_next().await.is_some() {}
    }

    /// One attempt, inside its span: a child of the step's span when the
    /// run is traced, carrying the fields every log line of the attempt
    /// shows (`run_id`, `step`, `attempt`, …). With `hand_off`, answers the
    /// step leased to this slot along with the attempt's end.
    async fn attempt(&self, claim: Lease, hand_off: bool) -> Option<Lease> {
        let span = tracing::info_span!(
            "attempt",
            otel.name = %format!("attempt {} of {}", claim.attempt, claim.step_id),
            otel.status_code = tracing::field::Empty,
            run_id = %claim.run_id,
            workflow = %claim.workflow,
            environment = %claim.environment,
            step = %claim.step_id,
            attempt = claim.attempt,
            gantry.outcome = tracing::field::Empty,
        );
        if let Some(parent) = claim
            .traceparent
            .as_deref()
            .and_then(|t| context::parse(t, None))
        {
            let _ = span.set_parent(context::as_parent(&parent));
        }
        self.attempt_in_span(claim, hand_off, span.clone())
            .instrument(span)
            .await
    }

    async fn attempt_in_span(
        &self,
        claim: Lease,
        hand_off: bool,
        span: tracing::Span,
    ) -> Option<Lease> {
        let (sink, writer) = logs::start(
            self.source.clone(),
            self.clock.clone(),
            claim.clone(),
            self.settings.logs,
        );
        let stop = CancellationToken::new();
        let lost = CancellationToken::new();
        let beats = self.heartbeats(&claim, stop.clone(), lost.clone());
        let kind = match claim.step.kind() {
            StepKind::Shell(_) => "shell",
            StepKind::Http(_) => "http",
        };
        if claim.attempt > 1 {
            metrics::counter!("gantry_step_retries_total", "kind" => kind).increment(1);
        }
        let started = std::time::Instant::now();
        let outcome = tokio::select! {
            o = self.execute(&claim, &claim.step, &sink, &stop) => Some(o),
            () = lost.cancelled() => None,
        };
        beats.abort();
        let end = outcome
            .as_ref()
            .map_or("lost", |(end, ..)| attempt_outcome(*end));
        span.record("gantry.outcome", end);
        if end != "succeeded" {
            span.record("otel.status_code", "error");
        }
        metrics::counter!("gantry_steps_finished_total", "kind" => kind, "outcome" => end)
            .increment(1);
        metrics::histogram!("gantry_step_duration_seconds", "kind" => kind, "outcome" => end)
            .record(started.elapsed().as_secs_f64());
        if let Some((end, _, Some(error), _)) = &outcome
            && *end != AttemptEnd::Succeeded
        {
            sink.system(format!("attempt {} failed: {error}", claim.attempt))
                .await;
        }
        drop(sink);
        let last_lines = writer.await.unwrap_or_default();
        match outcome {
            Some((end, exit_code, error, outputs)) => {
                let outcome = Outcome {
                    end,
                    exit_code,
                    error,
                    outputs,
                };
                self.report(&claim, outcome, last_lines, hand_off).await
            }
            None => {
                tracing::warn!("lease lost; the attempt was stopped and abandoned");
                if !last_lines.is_empty()
                    && let Err(e) = self.source.append_logs(&claim, last_lines).await
                {
                    tracing::warn!(error = %e, "could not store the attempt's last log lines");
                }
                None
            }
        }
    }

    /// Extends the lease until the attempt ends; trips `stop` when the run is
    /// being stopped and `lost` when another worker owns the step now, or
    /// when no heartbeat got through for most of a lease: by then the
    /// server may be about to hand the step to another worker, and two
    /// attempts of one step must never run at once (self-fencing).
    fn heartbeats(
        &self,
        claim: &Lease,
        stop: CancellationToken,
        lost: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let source = self.source.clone();
        let claim = claim.clone();
        let (every, lease) = (self.settings.heartbeat, self.settings.lease);
        let fence = lease * 7 / 10;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            // The lease was granted no earlier than this.
            let mut extended = tokio::time::Instant::now();
            loop {
                tick.tick().await;
                let sent = tokio::time::Instant::now();
                let beat = tokio::time::timeout(
                    every.max(Duration::from_secs(1)),
                    source.heartbeat(&claim, lease),
                )
                .await;
                match beat {
                    Ok(Ok(Beat::Continue)) => extended = sent,
                    Ok(Ok(Beat::Stop)) => {
                        extended = sent;
                        stop.cancel();
                    }
                    Ok(Ok(Beat::Lost)) => {
                        lost.cancel();
                        return;
                    }
                    // A blip: keep going while the lease covers it.
                    Ok(Err(e)) => tracing::warn!(error = %e, "heartbeat failed"),
                    Err(_) => tracing::warn!("heartbeat timed out"),
                }
                if extended.elapsed() >= fence {
                    tracing::warn!(
                        "no heartbeat got through for most of a lease; stopping the attempt"
                    );
                    lost.cancel();
                    return;
                }
            }
        })
    }

    async fn execute(
        &self,
        claim: &Lease,
        step: &StepSpec,
        logs: &LogSink,
        stop: &CancellationToken,
    ) -> Executed {
        let ctx = TemplateContext {
            inputs: &claim.inputs,
            outputs: &claim.outputs,
            run_id: &claim.run_id,
            environment: &claim.environment,
            workflow: &claim.workflow,
        };
        let timeout = self.timeout_for(claim, step);
        if timeout == Some(Duration::ZERO) {
            return (
                AttemptEnd::Stopped,
                None,
                Some("the run's deadline passed before the step started".into()),
                BTreeMap::new(),
            );
        }
        logs.system(format!(
            "attempt {} on {}",
            claim.attempt,
            self.source.owner()
        ))
        .await;
        let fetch_started = tokio::time::Instant::now();
        let mut secrets = match self.fetch_secrets(claim, step, timeout, logs).await {
            Ok(s) => s,
            Err(message) => return (AttemptEnd::Failed, None, Some(message), BTreeMap::new()),
        };
        // Renewed from now, revoked when the attempt ends however it ends.
        let leases = AttemptLeases::hold(std::mem::take(&mut secrets.leases));
        // Fetching counts against the step's own timeout (a step without
        // secrets keeps its timeout exactly, as its messages quote it).
        let timeout = match step.secrets.is_empty() {
            true => timeout,
            false => timeout.map(|t| t.saturating_sub(fetch_started.elapsed())),
        };
        let masker = match secrets.masker() {
            Ok(m) => m,
            Err(e) => {
                return (
                    AttemptEnd::Failed,
                    None,
                    Some(e.to_string()),
                    BTreeMap::new(),
                );
            }
        };
        if !secrets.secrets.is_empty() {
            logs.mask(masker.clone()).await;
        }
        // This process's own log lines mask the values too while the
        // attempt holds them (an HTTP client's error naming a URL, say).
        let _in_logs = (!secrets.secrets.is_empty()).then(|| {
            crate::runtime::telemetry::redact::hold(
                secrets.secrets.iter().map(|s| s.value.clone()).collect(),
            )
        });
        let executed = self
            .run_step(claim, step, &ctx, &secrets, timeout, logs, stop)
            .await;
        leases.release(logs).await;
        scrub(executed, &masker, logs).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_step(
        &self,
        claim: &Lease,
        step: &StepSpec,
        ctx: &TemplateContext<'_>,
        secrets: &AttemptSecrets,
        timeout: Option<Duration>,
        logs: &LogSink,
        stop: &CancellationToken,
    ) -> Executed {
        if timeout == Some(Duration::ZERO) {
            return (
                AttemptEnd::TimedOut,
                None,
                Some("the step's timeout passed while its secrets were fetched".into()),
                BTreeMap::new(),
            );
        }
        match step.kind() {
            StepKind::Shell(script) => {
                self.shell(claim, step, script, ctx, secrets, timeout, logs, stop)
                    .await
            }
            StepKind::Http(h) => {
                let values = secrets.template_values();
                let rendered = (|| {
                    Ok::<_, gantry_core::spec::TemplateError>(HttpJob {
                        method: h.method.to_uppercase(),
                        url: render(&h.url, ctx)?,
                        headers: h
                            .headers
                            .iter()
                            .map(|(k, v)| Ok((k.clone(), render_with_secrets(v, ctx, &values)?)))
                            .collect::<Result<_, _>>()?,
                        body: h
                            .body
                            .as_deref()
                            .map(|b| render_with_secrets(b, ctx, &values))
                            .transpose()?,
                        expect_status: h.expect_status.clone(),
                        timeout,
                    })
                })();
                drop(values);
                let mut job = match rendered {
                    Ok(j) => j,
                    Err(e) => {
                        return (
                            AttemptEnd::Failed,
                            None,
                            Some(e.to_string()),
                            BTreeMap::new(),
                        );
                    }
                };
                // The callee joins the trace as a child of this attempt,
                // unless the step sends a traceparent of its own.
                if let Some(parent) = context::current_span_context()
                    && !job
                        .headers
                        .keys()
                        .any(|k| k.eq_ignore_ascii_case("traceparent"))
                {
                    job.headers
                        .insert("traceparent".into(), context::traceparent(&parent));
                }
                // HTTP steps declare no outputs (validation refuses them).
                let out = http::run(&self.http, &claim.environment, job, logs, stop).await;
                (out.end, None, out.error, BTreeMap::new())
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn shell(
        &self,
        claim: &Lease,
        step: &StepSpec,
        script: &str,
        ctx: &TemplateContext<'_>,
        secrets: &AttemptSecrets,
        timeout: Option<Duration>,
        logs: &LogSink,
        stop: &CancellationToken,
    ) -> Executed {
        let fail = |msg: String| (AttemptEnd::Failed, None, Some(msg), BTreeMap::new());
        let rendered = match render_shell(script, ctx) {
            Ok(r) => r,
            Err(e) => return fail(e.to_string()),
        };
        let mut env = shell::base_env();
        // OpenTelemetry's environment carrier: an instrumented script joins
        // the trace as a child of this attempt (the step's own env wins).
        if let Some(parent) = context::current_span_context() {
            env.insert("TRACEPARENT".into(), context::traceparent(&parent));
            let state = parent.trace_state().header();
            if !state.is_empty() {
                env.insert("TRACESTATE".into(), state);
            }
        }
        for (k, v) in &step.env {
            match render(v, ctx) {
                Ok(v) => env.insert(k.clone(), v),
                Err(e) => return fail(format!("env {k}: {e}")),
            };
        }
        let dir = self
            .settings
            .work_root
            .join(&claim.run_id)
            .join(format!("{}-{}", claim.step_id, claim.attempt));
        let workdir = dir.join("work");
        let output_file = dir.join("output");
        if let Err(e) = attempt_dir::create(&workdir).await {
            return fail(format!("cannot create the working directory: {e}"));
        }
        env.insert("HOME".into(), workdir.display().to_string());
        env.extend(rendered.env);
        // Secrets last: validation keeps their names apart from `env`'s and
        // from the reserved ones, so nothing above is overridden.
        let secret_dir = workdir.join(SECRET_DIR);
        let mut secret_files = Vec::new();
        for secret in &secrets.secrets {
            match secret.mount {
                SecretMount::Env => {
                    env.insert(secret.name.clone(), secret.value.expose().to_owned());
                }
                SecretMount::File => {
                    let path = secret_dir.join(&secret.name);
                    env.insert(secret.name.clone(), path.display().to_string());
                    secret_files.push((secret.name.as_str(), secret.value.expose()));
                }
            }
        }
        for (k, v) in [
            ("GANTRY_WORKDIR", workdir.display().to_string()),
            ("GANTRY_OUTPUT", output_file.display().to_string()),
            ("GANTRY_RUN_ID", claim.run_id.clone()),
            ("GANTRY_STEP_ID", claim.step_id.clone()),
            ("GANTRY_ATTEMPT", claim.attempt.to_string()),
            ("GANTRY_WORKFLOW", claim.workflow.clone()),
            ("GANTRY_ENVIRONMENT", claim.environment.clone()),
        ] {
            env.insert(k.into(), v);
        }
        let out = shell::run(
            ShellJob {
                script: &rendered.script,
                workdir: &workdir,
                attempt_dir: &dir,
                output_file: &output_file,
                env,
                timeout,
                sandbox: &self.settings.sandbox,
                limits: step.limits.as_ref(),
                secret_files,
            },
            logs,
            stop,
        )
        .await;
        let outputs = if out.end == AttemptEnd::Succeeded {
            read_outputs(&output_file, step, logs).await
        } else {
            BTreeMap::new()
        };
        // Each attempt starts clean; nothing is kept between attempts.
        attempt_dir::remove(&dir).await;
        (out.end, out.exit_code, out.error, outputs)
    }

    /// The step's own timeout, shortened to the run's deadline.
    fn timeout_for(&self, claim: &Lease, step: &StepSpec) -> Option<Duration> {
        let own = step.timeout.as_ref().map(|t| t.0);
        let left = claim
            .deadline
            .map(|d| (d - self.clock.now()).to_std().unwrap_or(Duration::ZERO));
        match (own, left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Reports the end with the attempt's last log lines; answers the step
    /// handed to this slot, if `hand_off` asked for one and one was ready.
    async fn report(
        &self,
        claim: &Lease,
        outcome: Outcome,
        last_lines: Vec<LogLine>,
        hand_off: bool,
    ) -> Option<Lease> {
        let next = hand_off.then_some(self.settings.lease);
        // A few quick retries ride out a blip; beyond that the lease
        // expires and the reaper settles the attempt as lost.
        for delay in [0u64, 200, 1000, 3000] {
            // Even a zero sleep waits for the timer's next tick (about 1 ms).
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            let finished = self
                .source
                .finish(claim, outcome.clone(), last_lines.clone(), next)
                .await;
            match finished {
                Ok(finished) => {
                    if !finished.accepted {
                        tracing::info!(
                            "the report was stale (the lease had moved on); nothing changed"
                        );
                    }
                    return finished.next;
                }
                Err(e) => tracing::warn!(error = %e, "reporting the attempt failed"),
            }
        }
        None
    }
}

/// One slot counted busy in `gantry_worker_slots` while it lives (released
/// however the attempt ends, an abort included).
struct BusySlot;

impl BusySlot {
    fn take() -> Self {
        metrics::gauge!("gantry_worker_slots", "state" => "busy").increment(1.0);
        metrics::gauge!("gantry_worker_slots", "state" => "free").decrement(1.0);
        BusySlot
    }
}

impl Drop for BusySlot {
    fn drop(&mut self) {
        metrics::gauge!("gantry_worker_slots", "state" => "busy").decrement(1.0);
        metrics::gauge!("gantry_worker_slots", "state" => "free").increment(1.0);
    }
}

/// An attempt's end as a metric label.
fn attempt_outcome(end: AttemptEnd) -> &'static str {
    match end {
        AttemptEnd::Succeeded => "succeeded",
        AttemptEnd::Failed => "failed",
        AttemptEnd::TimedOut => "timed_out",
        AttemptEnd::Stopped => "stopped",
        AttemptEnd::Lost => "lost",
    }
}

/// Parses `key=value` lines from `$GANTRY_OUTPUT`, keeping declared keys.
async fn read_outputs(
    path: &std::path::Path,
    step: &StepSpec,
    logs: &LogSink,
) -> BTreeMap<String, String> {
    const MAX: u64 = 64 * 1024;
    let mut outputs = BTreeMap::new();
    let Ok(meta) = tokio::fs::metadata(path).await else {
        return outputs;
    };
    if meta.len() > MAX {
        logs.system(format!(
            "$GANTRY_OUTPUT is over {MAX} bytes; outputs ignored"
        ))
        .await;
        return outputs;
    }
    let Ok(text) = tokio::fs::read_to_string(path).await else {
        logs.system("$GANTRY_OUTPUT is not UTF-8 text; outputs ignored")
            .await;
        return outputs;
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match line.split_once('=') {
            Some((k, v)) if step.outputs.iter().any(|d| d == k.trim()) => {
                outputs.insert(k.trim().to_owned(), v.to_owned());
            }
            Some((k, _)) => {
                logs.system(format!(
                    "output {:?} is not declared in the step's outputs; ignored",
                    k.trim()
                ))
                .await;
            }
            None => {
                logs.system("a $GANTRY_OUTPUT line without '=' was ignored")
                    .await
            }
        }
    }
    outputs
}
