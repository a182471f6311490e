//! Retention (docs/privacy.md): what the settings keep, the database's
//! size and what is due, and the purge, in batches, each batch audited in
//! its own transaction. `serve` runs [`GantryPlane::purge_due`] every
//! `--retention-interval` as the system; admins may purge now.

use crate::plane::{GantryPlane, internal};
use crate::store::retention::PurgeKind;
use async_trait::async_trait;
use gantry_core::PortError;
use gantry_core::audit::{Actor, AuditAction, AuditEvent};
use gantry_core::port::{RequestContext, RetentionPort};
use gantry_core::rbac::Action;
use gantry_core::retention::{Purged, RetentionStatus};

/// Runs (or notifications) per batch: short transactions, so triggers and
/// the engine never wait long behind a purge.
const BATCH: u32 = 500;

#[async_trait]
impl RetentionPort for GantryPlane {
    async fn retention(&self, ctx: &RequestContext) -> Result<RetentionStatus, PortError> {
        self.authorize_view(ctx, &Action::ViewAdmin, "retention")
            .await?;
        let mut due = Purged::default();
        for kind in self.purge_kinds() {
            due.add(&self.store.purge_due(&kind).await.map_err(internal)?);
        }
        Ok(RetentionStatus {
            retention: self.settings.retention.clone(),
            database_bytes: self.store.database_bytes().await.map_err(internal)?,
            due,
        })
    }

    async fn purge_now(&self, ctx: &RequestContext) -> Result<Purged, PortError> {
        let event = self.event(ctx, AuditAction::RetentionPurge, "retention");
        let result = async {
            self.authorize(ctx, &Action::PurgeRetention)?;
            self.purge(&event).await.map_err(internal)
        }
        .await;
        self.settle(event, result).await
    }
}

impl GantryPlane {
    /// What the settings make due now, one kind per environment.
    fn purge_kinds(&self) -> Vec<PurgeKind> {
        let now = self.clock.now();
        let before = |keep: std::time::Duration| {
            now - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX)
        };
        let retention = &self.settings.retention;
        let mut kinds = Vec::new();
        for environment in self.settings.environments.iter() {
            let environment = environment.as_str().to_owned();
            if let Some(keep) = retention.runs.for_environment(&environment) {
                kinds.push(PurgeKind::Runs {
                    environment: environment.clone(),
                    before: before(keep),
                });
            }
            if let Some(keep) = retention.step_logs.for_environment(&environment) {
                kinds.push(PurgeKind::StepLogs {
                    environment,
                    before: before(keep),
                });
            }
        }
        if let Some(seconds) = retention.notifications_seconds {
            kinds.push(PurgeKind::Notifications {
                before: before(std::time::Duration::from_secs(seconds)),
            });
        }
        kinds
    }

    /// Every kind, batch after batch until none is due.
    async fn purge(&self, event: &AuditEvent) -> crate::store::StoreResult<Purged> {
        let mut total = Purged::default();
        for kind in self.purge_kinds() {
            loop {
                let batch = self
                    .store
                    .purge_batch(&kind, BATCH, self.clock.now(), event.clone())
                    .await?;
                total.add(&batch);
                if batch.runs + batch.runs_logs_purged < u64::from(BATCH)
                    && batch.notifications < u64::from(BATCH)
                    && batch.alert_transitions < u64::from(BATCH)
                {
                    break;
                }
            }
        }
        Ok(total)
    }

    /// `serve`'s periodic purge, as the system.
    pub async fn purge_due(&self) -> crate::store::StoreResult<Purged> {
        if self.settings.retention.is_off() {
            return Ok(Purged::default());
        }
        let event = AuditEvent::new(
            self.clock.now(),
            Actor::system("retention"),
            AuditAction::RetentionPurge,
            "retention",
        );
        let purged = self.purge(&event).await?;
        if !purged.is_empty() {
            tracing::info!(
                runs = purged.runs,
                logs_of_runs = purged.runs_logs_purged,
                log_lines = purged.log_lines,
                notifications = purged.notifications,
                alert_transitions = purged.alert_transitions,
                "retention purged"
            );
        }
        Ok(purged)
    }
}
