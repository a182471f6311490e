//! The scheduler loop of a `serve` process: fires due cron schedules (one
//! run per slot, at most one catch-up after downtime), and keeps the queue
//! healthy (expired leases, run deadlines, stranded queued runs). Safe to
//! run in several processes at once: every change it makes is a guarded
//! transaction in the store.

use crate::engine::admission;
use crate::runtime::clock::Clock;
use crate::store::SharedStore;
use crate::store::StoreError;
use crate::store::runs::{BacklogLimits, Backlogged, NewRun};
use crate::store::schedules::DueSchedule;
use crate::store::versions::ActiveSpec;
use gantry_core::audit::{Actor, AuditAction, AuditEvent};
use gantry_core::run::Trigger;
use gantry_core::schedule::CronSchedule;
use gantry_core::spec::resolve_inputs;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub struct Scheduler {
    store: SharedStore,
    clock: Arc<dyn Clock>,
    pub tick: Duration,
    /// Backpressure: a slot that would break these is skipped.
    backlog: BacklogLimits,
}

/// Who scheduled runs are recorded as.
pub const SCHEDULER_ACTOR: &str = "scheduler";

impl Scheduler {
    pub fn new(store: SharedStore, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            tick: Duration::from_secs(1),
            backlog: BacklogLimits::default(),
        }
    }

    /// Skips slots whose run would break `limits` (`serve`'s
    /// `--max-unfinished-runs*`).
    pub fn with_backlog(mut self, limits: BacklogLimits) -> Self {
        self.backlog = limits;
        self
    }

    pub async fn run(self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(self.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = tick.tick() => {}
            }
            self.once().await;
        }
    }

    /// One pass; errors are logged and retried on the next tick.
    pub async fn once(&self) {
        let now = self.clock.now();
        // Runs these finish end without a step's report: counted here.
        match self.store.reap_expired_leases(now).await {
            Ok(finished) => self.count_finished(&finished).await,
            Err(e) => tracing::warn!(error = %e, "reaping expired leases failed"),
        }
        match self.store.sweep_deadlines(now).await {
            Ok(finished) => self.count_finished(&finished).await,
            Err(e) => tracing::warn!(error = %e, "sweeping run deadlines failed"),
        }
        match self.store.due_schedules(now).await {
            Ok(due) => {
                for d in due {
                    if let Err(e) = self.fire(&d).await {
                        tracing::warn!(workflow = %d.workflow, environment = %d.environment, error = %e, "firing a schedule failed");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading due schedules failed"),
        }
        if let Err(e) = self.store.admit_all(self.clock.now()).await {
            tracing::warn!(error = %e, "admitting queued runs failed");
        }
    }

    async fn count_finished(&self, runs: &[String]) {
        for run in runs {
            crate::engine::source::count_finished_run(&self.store, run, None).await;
        }
    }

    /// Backpressure: the slot passes without a run, on the record as
    /// "missed: backpressure" and counted as missed (the `missed_schedule`
    /// alert sees a slot that never started).
    async fn skip(
        &self,
        due: &DueSchedule,
        fire: &gantry_core::schedule::Fire,
        refused: Backlogged,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<()> {
        let audit = AuditEvent {
            environment: Some(due.environment.clone()),
            ..AuditEvent::new(
                now,
                Actor::system(SCHEDULER_ACTOR),
                AuditAction::ScheduleSkip,
                format!("workflow/{}", due.workflow),
            )
        }
        .detail("reason", "missed: backpressure")
        .detail("limit", refused.scope.as_str())
        .detail("max", refused.limit)
        .detail("scheduled_for", fire.scheduled_for.to_rfc3339());
        if self
            .store
            .skip_schedule(due, fire.next_fire_at, audit)
            .await?
        {
            tracing::warn!(workflow = %due.workflow, environment = %due.environment,
                limit = refused.scope.as_str(), max = refused.limit,
                slot = %fire.scheduled_for, "schedule slot missed: backpressure");
            metrics::counter!(
                "gantry_schedule_missed_total",
                "workflow" => crate::runtime::metrics::workflow_label(&due.workflow)
            )
            .increment(u64::from(fire.missed) + 1);
            crate::runtime::metrics::backpressure(refused.scope);
        }
        Ok(())
    }

    async fn fire(&self, due: &DueSchedule) -> anyhow::Result<()> {
        let now = self.clock.now();
        let spec = self
            .store
            .version_spec(&due.workflow_id, due.version)
            .await?;
        let Some(expr) = spec.schedule.as_deref() else {
            return Ok(());
        };
        let schedule = CronSchedule::parse(expr, spec.timezone.as_deref())
            .map_err(|e| anyhow::anyhow!("stored schedule is invalid: {e}"))?;
        let Some(fire) = schedule.due(due.next_fire_at, now) else {
            return Ok(());
        };
        if fire.missed > 0 {
            tracing::info!(workflow = %due.workflow, environment = %due.environment, missed = fire.missed,
                "schedule was down; firing one catch-up run for the latest missed slot");
        }
        // Apply refuses scheduled specs whose inputs lack defaults, so this
        // only fails on data written some other way; then the slot is not
        // fired (and the warning repeats) rather than run with inputs missing.
        let inputs = resolve_inputs(&spec.inputs, &BTreeMap::new()).map_err(|p| {
            anyhow::anyhow!(
                "scheduled run needs inputs without defaults: {}",
                p.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })?;
        let active = ActiveSpec {
            workflow_id: due.workflow_id.clone(),
            workflow: due.workflow.clone(),
            version: due.version,
            spec: spec.clone(),
        };
        // The schedule tick is the root of the run's trace (a span of its
        // own, closed at once: the run's span follows from the database).
        let tick = tracing::info_span!(
            "schedule",
            otel.name = %format!("schedule {}", due.workflow),
            workflow = %due.workflow,
            environment = %due.environment,
        );
        let traceparent = tick.in_scope(crate::runtime::telemetry::context::current_traceparent);
        let run_id = uuid::Uuid::now_v7().to_string();
        let mut tries = 0;
        let created = loop {
            tries += 1;
            // The scheduler's runs take a canary's share like any other.
            let admission = match admission::admit(
                &*self.store,
                active.clone(),
                &due.environment,
                &run_id,
                &inputs,
                None,
            )
            .await?
            {
                Ok(a) => a,
                Err(refused) => anyhow::bail!(refused.message),
            };
            let inputs = if admission.active.version == active.version {
                inputs.clone()
            } else {
                resolve_inputs(&admission.active.spec.inputs, &BTreeMap::new()).map_err(|p| {
                    anyhow::anyhow!(
                        "the canary's version {} needs inputs without defaults: {}",
                        admission.active.version,
                        p.iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                })?
            };
            let run = NewRun {
                id: run_id.clone(),
                active: &admission.active,
                canary: admission.canary_tag(),
                pinned: false,
                environment: &due.environment,
                inputs: &inputs,
                trigger: Trigger::Schedule,
                triggered_by: SCHEDULER_ACTOR,
                triggered_by_id: SCHEDULER_ACTOR,
                scheduled_for: Some(fire.scheduled_for),
                traceparent: traceparent.clone(),
                backlog: Some(self.backlog),
                rerun: None,
            };
            let audit = AuditEvent::new(
                now,
                Actor::system(SCHEDULER_ACTOR),
                AuditAction::RunTrigger,
                format!("workflow/{}", due.workflow),
            )
            .detail("version", admission.active.version)
            .detail("trigger", Trigger::Schedule.as_str())
            .detail("scheduled_for", fire.scheduled_for.to_rfc3339());
            let audit = AuditEvent {
                environment: Some(due.environment.clone()),
                trace_id: traceparent
                    .as_deref()
                    .and_then(crate::runtime::telemetry::context::trace_id_of)
                    .map(|t| t.to_string()),
                ..audit
            };
            let audit = match &admission.canary {
                Some((_, arm)) => audit.detail("canary_arm", arm.as_str()),
                None => audit,
            };
            match self
                .store
                .fire_schedule(due, fire.next_fire_at, run, now, audit)
                .await
            {
                Err(StoreError::CanaryEnded) if tries < 3 => continue,
                Err(StoreError::Backlogged(refused)) => {
                    return self.skip(due, &fire, refused, now).await;
                }
                other => break other?,
            }
        };
        if let Some(created) = created {
            tracing::info!(run = %created.id, workflow = %due.workflow, environment = %due.environment, "scheduled run created");
            crate::runtime::metrics::run_started(
                &due.workflow,
                &due.environment,
                Trigger::Schedule.as_str(),
            );
            // Slots collapsed into this catch-up run never ran.
            if fire.missed > 0 {
                metrics::counter!(
                    "gantry_schedule_missed_total",
                    "workflow" => crate::runtime::metrics::workflow_label(&due.workflow)
                )
                .increment(u64::from(fire.missed));
            }
            // How late the slot's run started (the scheduler's tick, a
            // restart, a catch-up after downtime).
            metrics::histogram!(
                "gantry_run_schedule_delay_seconds",
                "workflow" => crate::runtime::metrics::workflow_label(&due.workflow)
            )
            .record(
                (now - fire.scheduled_for)
                    .to_std()
                    .map_or(0.0, |d| d.as_secs_f64()),
            );
            self.store
                .admit(&due.workflow_id, &due.environment, now)
                .await?;
        }
        Ok(())
    }
}
