//! One alert instance (a rule × workflow × environment) and the only rules
//! by which it moves:
//!
//! ```text
//!            breach                 held for `for_duration`
//!   ok ───────────────▶ pending ─────────────────────────▶ firing ──┐
//!    ▲                     │ clear                            │      │ breach:
//!    └─────────────────────┘                                  │      │ nothing (a reminder
//!    ▲                                                        │      │ every `renotify`)
//!    │            `resolve_after` clear observations in a row │ ◀────┘
//!    └──────────────────────── resolved ◀─────────────────────┘
//! ```
//!
//! One notice when it starts firing and one when it resolves, never one per
//! failed run. "Hold" (a failure ratio between its resolve and fire lines)
//! keeps whatever state it is in and restarts the resolve count.
//!
//! **Flapping** (the documented rule): an instance that started firing
//! more than `flap_max` times within `flap_window` is flapping; while it
//! is, it resolves only once it has been clear for a whole `flap_window`
//! as well as `resolve_after` times, so a rule that would fire and resolve
//! every few runs sends one pair of notices instead of dozens.
//!
//! **Silences** hold notices, never state: a firing that starts while
//! silenced is sent once the silence ends if it still fires, and a resolve
//! is sent only if its firing was.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Phase {
    Ok,
    Pending,
    Firing,
    Resolved,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Ok => "ok",
            Phase::Pending => "pending",
            Phase::Firing => "firing",
            Phase::Resolved => "resolved",
        }
    }
}

/// What one evaluation found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// The condition holds (e.g. the last N runs failed).
    Breach,
    /// The condition is clear (e.g. a run succeeded).
    Clear,
    /// Neither: between a ratio's resolve and fire lines.
    Hold,
}

/// How an instance fires and resolves (from its rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub for_duration: Duration,
    pub resolve_after: u32,
    pub renotify: Option<Duration>,
    pub flap_max: u32,
    pub flap_window: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            for_duration: Duration::ZERO,
            resolve_after: 1,
            renotify: None,
            flap_max: 3,
            flap_window: Duration::from_secs(3600),
        }
    }
}

/// A notification to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Firing,
    /// Still firing, `renotify` after the last notice.
    Reminder,
    Resolved,
}

/// An instance's state, as stored between evaluations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub phase: Phase,
    /// When the current phase began.
    pub since: DateTime<Utc>,
    /// Clear observations in a row while firing.
    pub clear_streak: u32,
    /// When the clear streak began (flapping needs it to last).
    pub clear_since: Option<DateTime<Utc>>,
    /// Whether this firing's notice went out (silences hold it).
    pub firing_sent: bool,
    pub last_notice: Option<DateTime<Utc>>,
    /// When it started firing lately (within the flap window).
    pub recent_firings: Vec<DateTime<Utc>>,
    /// When Alertmanager channels were last told it fires: Alertmanager
    /// ends an alert nobody repeats, so the server repeats it while firing.
    #[serde(default)]
    pub refreshed_at: Option<DateTime<Utc>>,
}

impl Instance {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            phase: Phase::Ok,
            since: now,
            clear_streak: 0,
            clear_since: None,
            firing_sent: false,
            last_notice: None,
            recent_firings: Vec::new(),
            refreshed_at: None,
        }
    }

    /// Whether it started firing more than `flap_max` times lately.
    pub fn flapping(&self, policy: &Policy) -> bool {
        self.recent_firings.len() > policy.flap_max as usize
    }

    /// Moves on one observation at `now`; the notice to send, if any.
    /// `silenced`: a silence or mute window covers the instance now.
    pub fn observe(
        &mut self,
        seen: Observation,
        now: DateTime<Utc>,
        policy: &Policy,
        silenced: bool,
    ) -> Option<Notice> {
        match (self.phase, seen) {
            (Phase::Ok | Phase::Resolved, Observation::Breach) => {
                self.enter(Phase::Pending, now);
                self.fire_if_due(now, policy, silenced)
            }
            (Phase::Ok | Phase::Resolved, _) => None,
            (Phase::Pending, Observation::Breach) => self.fire_if_due(now, policy, silenced),
            (Phase::Pending, Observation::Clear) => {
                self.enter(Phase::Ok, now);
                None
            }
            (Phase::Pending, Observation::Hold) => None,
            (Phase::Firing, Observation::Breach) => {
                self.clear_streak = 0;
                self.clear_since = None;
                self.held_or_reminder(now, policy, silenced)
            }
            (Phase::Firing, Observation::Hold) => {
                self.clear_streak = 0;
                self.clear_since = None;
                self.held_or_reminder(now, policy, silenced)
            }
            (Phase::Firing, Observation::Clear) => {
                self.clear_streak += 1;
                let since = *self.clear_since.get_or_insert(now);
                let long_enough = !self.flapping(policy)
                    || (now - since).to_std().unwrap_or_default() >= policy.flap_window;
                if self.clear_streak < policy.resolve_after || !long_enough {
                    return self.held_or_reminder(now, policy, silenced);
                }
                let sent = self.firing_sent;
                self.enter(Phase::Resolved, now);
                // A resolve goes out (even in a silence) when its firing did.
                sent.then(|| {
                    self.last_notice = Some(now);
                    Notice::Resolved
                })
            }
        }
    }

    /// Time passing with nothing new observed (an evaluation pass): a
    /// pending instance whose breach has lasted `for_duration` fires, and a
    /// firing one may owe a reminder or a held notice.
    pub fn tick(&mut self, now: DateTime<Utc>, policy: &Policy, silenced: bool) -> Option<Notice> {
        match self.phase {
            Phase::Pending => self.fire_if_due(now, policy, silenced),
            Phase::Firing => self.held_or_reminder(now, policy, silenced),
            Phase::Ok | Phase::Resolved => None,
        }
    }

    fn enter(&mut self, phase: Phase, now: DateTime<Utc>) {
        self.phase = phase;
        self.since = now;
        self.clear_streak = 0;
        self.clear_since = None;
        if phase != Phase::Firing {
            self.firing_sent = false;
        }
    }

    fn fire_if_due(
        &mut self,
        now: DateTime<Utc>,
        policy: &Policy,
        silenced: bool,
    ) -> Option<Notice> {
        let held_for = (now - self.since).to_std().unwrap_or_default();
        if held_for < policy.for_duration {
            return None;
        }
        self.enter(Phase::Firing, now);
        let window = chrono::Duration::from_std(policy.flap_window).unwrap_or_default();
        self.recent_firings.retain(|at| now - *at < window);
        self.recent_firings.push(now);
        self.held_or_reminder(now, policy, silenced)
    }

    /// While firing: the firing notice if it hasn't gone out and no silence
    /// holds it, else a reminder when one is due.
    fn held_or_reminder(
        &mut self,
        now: DateTime<Utc>,
        policy: &Policy,
        silenced: bool,
    ) -> Option<Notice> {
        if silenced {
            return None;
        }
        if !self.firing_sent {
            self.firing_sent = true;
            self.last_notice = Some(now);
            return Some(Notice::Firing);
        }
        let every = policy.renotify?;
        let last = self.last_notice?;
        if (now - last).to_std().unwrap_or_default() >= every {
            self.last_notice = Some(now);
            return Some(Notice::Reminder);
        }
        None
    }
}

/// An instance's stable identity (and a receiver's dedup key): the same
/// rule, workflow and environment always give the same fingerprint.
pub fn fingerprint(rule_id: &str, workflow: &str, environment: &str) -> String {
    fingerprint_of(&[rule_id, workflow, environment])
}

/// The fingerprint of any number of parts, each length-prefixed so no two
/// different lists hash alike (`wf`+`prod` is not `wfp`+`rod`).
pub fn fingerprint_of(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hex::encode(&hash.finalize()[..8])
}
