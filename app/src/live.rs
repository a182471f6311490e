//! Keeping a run's page current while it runs. Only in the hydrated
//! browser: every [`INTERVAL`] it fetches the run again and tails the log
//! of each step that may have new lines (`after` = the last line seen) and
//! reads the run's secret fetches again, and stops once the run has finished and every step's log has been read to
//! its end. Server rendering never starts it (effects run in the browser
//! only), and leaving the page stops it.

use crate::api::{get_run, get_run_logs, get_run_secret_accesses};
use crate::error::AppError;
use chrono::{DateTime, Utc};
use gantry_core::run::{LogLine, LogPage, LogQuery, RunDetail, StepStatus};
use gantry_core::secret::AttemptSecretAccess;
use leptos::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub const INTERVAL: Duration = Duration::from_millis(1500);

/// The log of one step, as far as it has been read.
#[derive(Clone, Debug)]
pub struct StepLog {
    pub step: String,
    pub lines: RwSignal<Vec<LogLine>>,
    /// Pass as `after` to read on.
    cursor: Option<i64>,
    /// Read to its end: the step finished and its last page was not full.
    done: bool,
}

/// The live state of one run's page.
#[derive(Clone, Copy)]
pub struct LiveRun {
    id: StoredValue<String>,
    pub run: RwSignal<RunDetail>,
    pub logs: StoredValue<Vec<StepLog>>,
    /// Measures steps that are still running.
    pub now: RwSignal<DateTime<Utc>>,
    /// The secrets its attempts fetched so far.
    pub secrets: RwSignal<Vec<AttemptSecretAccess>>,
}

impl LiveRun {
    /// From the server-rendered data: the run, its first page of log lines
    /// (all steps, at most `LogQuery::DEFAULT_LIMIT` lines) and the time it
    /// was read, and the secrets fetched by then.
    pub fn new(
        run: RunDetail,
        first_page: LogPage,
        secrets: Vec<AttemptSecretAccess>,
        now: DateTime<Utc>,
    ) -> Self {
        let truncated = first_page.lines.len() >= LogQuery::DEFAULT_LIMIT as usize;
        let finished = run.summary.status.is_terminal() && !truncated;
        let mut logs: Vec<StepLog> = run
            .steps
            .iter()
            .map(|s| StepLog {
                step: s.id.clone(),
                lines: RwSignal::new(Vec::new()),
                cursor: None,
                done: finished,
            })
            .collect();
        let mut grouped: Vec<(String, Vec<LogLine>)> = Vec::new();
        for line in first_page.lines {
            match grouped.last_mut() {
                Some((step, lines)) if *step == line.step => lines.push(line),
                _ => grouped.push((line.step.clone(), vec![line])),
            }
        }
        for (step, lines) in grouped {
            let cursor = lines.last().map(|l| l.seq);
            match logs.iter_mut().find(|l| l.step == step) {
                Some(log) => {
                    log.cursor = cursor;
                    log.lines.set(lines);
                }
                // Lines of a step the run no longer lists: still shown.
                None => logs.push(StepLog {
                    step,
                    lines: RwSignal::new(lines),
                    cursor,
                    done: finished,
                }),
            }
        }
        Self {
            id: StoredValue::new(run.summary.id.clone()),
            run: RwSignal::new(run),
            logs: StoredValue::new(logs),
            now: RwSignal::new(now),
            secrets: RwSignal::new(secrets),
        }
    }

    /// Nothing more can change: the run finished and every log was read.
    pub fn finished(&self) -> bool {
        self.run.with_untracked(|r| r.summary.status.is_terminal())
            && self.logs.with_value(|logs| logs.iter().all(|l| l.done))
    }

    /// Starts following the run (call from an effect: browser only). Stops
    /// when the run is finished or when `alive` turns false.
    pub fn follow(self, alive: Arc<AtomicBool>) {
        // `alive` first: once the page is gone its signals are too.
        if !alive.load(Ordering::Relaxed) || self.finished() {
            return;
        }
        set_timeout(
            move || {
                leptos::task::spawn_local(async move {
                    if !alive.load(Ordering::Relaxed) {
                        return;
                    }
                    let go_on = self.refresh(&alive).await;
                    if go_on {
                        self.follow(alive);
                    }
                });
            },
            INTERVAL,
        );
    }

    /// One round: the run, then the new lines of every step that may have
    /// some. Returns whether to keep going.
    async fn refresh(self, alive: &AtomicBool) -> bool {
        let id = self.id.get_value();
        let run = match get_run(id.clone()).await {
            Ok(run) => run,
            // A network blip or a restarting server: try again next round.
            Err(AppError::Transport(_)) => return true,
            // Gone, or no longer allowed: nothing more to show.
            Err(AppError::Port(_)) => return false,
        };
        // Every await may outlive the page; check before touching signals.
        if !alive.load(Ordering::Relaxed) {
            return false;
        }
        let run_over = run.summary.status.is_terminal();
        let wanted: Vec<(usize, String, Option<i64>, bool)> = self.logs.with_value(|logs| {
            logs.iter()
                .enumerate()
                .filter(|(_, l)| !l.done)
                .filter_map(|(i, l)| {
                    let step = run.steps.iter().find(|s| s.id == l.step);
                    let (may_have_lines, over) = match step {
                        Some(s) => (
                            s.status == StepStatus::Running
                                || s.status.is_terminal()
                                || !s.attempts.is_empty(),
                            s.status.is_terminal(),
                        ),
                        None => (run_over, run_over),
                    };
                    may_have_lines.then(|| (i, l.step.clone(), l.cursor, over))
                })
                .collect()
        });
        for (i, step, cursor, over) in wanted {
            let Ok(page) = get_run_logs(id.clone(), Some(step), cursor).await else {
                continue;
            };
            if !alive.load(Ordering::Relaxed) {
                return false;
            }
            let full = page.lines.len() >= LogQuery::DEFAULT_LIMIT as usize;
            self.logs.update_value(|logs| {
                if let Some(log) = logs.get_mut(i) {
                    log.cursor = page.last_seq.or(log.cursor);
                    log.done = over && !full;
                    if !page.lines.is_empty() {
                        log.lines.update(|lines| lines.extend(page.lines));
                    }
                }
            });
        }
        // Fetches are recorded as attempts start: read after the run, so
        // the last round (run finished) sees every one.
        let secrets = get_run_secret_accesses(id).await.ok();
        if !alive.load(Ordering::Relaxed) {
            return false;
        }
        if let Some(secrets) = secrets
            && self.secrets.with_untracked(|s| s.len() != secrets.len())
        {
            self.secrets.set(secrets);
        }
        self.run.set(run);
        self.now.set(crate::time::now());
        !self.finished()
    }
}

/// How often the alert pages read their lists again.
pub const LIST_INTERVAL: Duration = Duration::from_secs(3);

/// A count that goes up every [`LIST_INTERVAL`] while the page is open, in
/// the hydrated browser only (effects never run on the server): resources
/// keyed on it read their data again, and a `Transition` keeps the old rows
/// on screen until the new ones arrive. Leaving the page stops it.
pub fn ticker() -> ReadSignal<u32> {
    let tick = RwSignal::new(0u32);
    let alive = Arc::new(AtomicBool::new(true));
    {
        let alive = alive.clone();
        on_cleanup(move || alive.store(false, Ordering::Relaxed));
    }
    Effect::new(move |_| tick_on(tick, alive.clone()));
    tick.read_only()
}

fn tick_on(tick: RwSignal<u32>, alive: Arc<AtomicBool>) {
    set_timeout(
        move || {
            if alive.load(Ordering::Relaxed) {
                tick.update(|n| *n = n.wrapping_add(1));
                tick_on(tick, alive);
            }
        },
        LIST_INTERVAL,
    );
}
