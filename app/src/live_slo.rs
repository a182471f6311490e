//! Keeping an SLO page current. Only in the hydrated browser: every
//! [`INTERVAL`] it reads the SLO again, replaces the figures when any of
//! them changed (a run finished, an hour passed) and moves the "as of"
//! time either way. Server rendering never starts it (effects run in the
//! browser only), and leaving the page stops it.

use crate::api::get_slo;
use crate::error::AppError;
use chrono::{DateTime, Utc};
use gantry_core::slo::view::SloStatus;
use leptos::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Runs finish every few seconds at most on a busy workflow; burn windows
/// are minutes long. Ten seconds keeps the page honest without load.
pub const INTERVAL: Duration = Duration::from_secs(10);

/// The live state of one SLO page.
#[derive(Clone, Copy)]
pub struct LiveSlo {
    workflow: StoredValue<String>,
    environment: StoredValue<String>,
    pub status: RwSignal<SloStatus>,
    /// When the figures were last read.
    pub at: RwSignal<DateTime<Utc>>,
}

impl LiveSlo {
    pub fn new(status: SloStatus) -> Self {
        Self {
            workflow: StoredValue::new(status.summary.workflow.clone()),
            environment: StoredValue::new(status.summary.environment.clone()),
            at: RwSignal::new(status.at),
            status: RwSignal::new(status),
        }
    }

    /// Starts following (call from an effect: browser only). Stops when the
    /// SLO is gone or no longer readable, or when `alive` turns false.
    pub fn follow(self, alive: Arc<AtomicBool>) {
        if !alive.load(Ordering::Relaxed) {
            return;
        }
        set_timeout(
            move || {
                leptos::task::spawn_local(async move {
                    if !alive.load(Ordering::Relaxed) {
                        return;
                    }
                    if self.refresh(&alive).await {
                        self.follow(alive);
                    }
                });
            },
            INTERVAL,
        );
    }

    /// One round; whether to keep going.
    async fn refresh(self, alive: &AtomicBool) -> bool {
        let fresh = match get_slo(self.workflow.get_value(), self.environment.get_value()).await {
            Ok(fresh) => fresh,
            // A network blip or a restarting server: try again next round.
            Err(AppError::Transport(_)) => return true,
            // Gone (the SLO was dropped from the spec), or no longer allowed.
            Err(AppError::Port(_)) => return false,
        };
        // The await may outlive the page; check before touching signals.
        if !alive.load(Ordering::Relaxed) {
            return false;
        }
        self.at.set(fresh.at);
        if self.status.with_untracked(|shown| changed(shown, &fresh)) {
            self.status.set(fresh);
        }
        true
    }
}

/// Whether anything shown differs (the reading time aside).
fn changed(shown: &SloStatus, fresh: &SloStatus) -> bool {
    shown.summary != fresh.summary
        || shown.objectives != fresh.objectives
        || shown.bad_runs != fresh.bad_runs
        || shown.bad_runs_limited != fresh.bad_runs_limited
}
