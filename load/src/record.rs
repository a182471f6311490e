//! What each client saw, per request class: latencies (an HDR histogram in
//! microseconds), refusals and errors; merged across clients at the end.

use anyhow::Result;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::time::Duration;

/// Errors kept word for word per class (the rest are counted).
const KEPT_ERRORS: usize = 5;

/// The request classes, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    RunsPage,
    RunPage,
    ApiRunsList,
    ApiRun,
    ApiWorkflows,
    Trigger,
    AskApproval,
    Approve,
    TriggerToCancel,
    Cancel,
    ScimLookup,
}

impl Class {
    pub fn label(self) -> &'static str {
        match self {
            Class::RunsPage => "Runs page (session)",
            Class::RunPage => "run page (session)",
            Class::ApiRunsList => "API runs list (token)",
            Class::ApiRun => "API run (token)",
            Class::ApiWorkflows => "API workflows list (token)",
            Class::Trigger => "trigger a short workflow",
            Class::AskApproval => "ask for a guarded run (202)",
            Class::Approve => "approve it (second person)",
            Class::TriggerToCancel => "trigger a long workflow",
            Class::Cancel => "cancel it",
            Class::ScimLookup => "SCIM lookup by userName",
        }
    }

    /// Reads have the 50 ms goal, writes (triggers, decisions) 100 ms.
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Class::RunsPage
                | Class::RunPage
                | Class::ApiRunsList
                | Class::ApiRun
                | Class::ApiWorkflows
                | Class::ScimLookup
        )
    }
}

#[derive(Debug, Clone)]
pub struct Tally {
    /// Answered as expected, microseconds.
    pub latency: Histogram<u64>,
    /// 429 with `Retry-After` (backpressure: too many unfinished runs).
    pub refused: u64,
    pub errors: u64,
    pub first_errors: Vec<String>,
}

impl Tally {
    fn new() -> Result<Self> {
        Ok(Self {
            // 1 µs to 10 min at three significant figures.
            latency: Histogram::new_with_bounds(1, 600_000_000, 3)?,
            refused: 0,
            errors: 0,
            first_errors: Vec::new(),
        })
    }

    pub fn answered(&self) -> u64 {
        self.latency.len()
    }

    pub fn requests(&self) -> u64 {
        self.answered() + self.refused + self.errors
    }

    /// A percentile of the answered requests, in milliseconds.
    pub fn ms(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1000.0
    }
}

#[derive(Debug, Clone, Default)]
pub struct Record {
    pub classes: BTreeMap<Class, Tally>,
}

impl Record {
    fn tally(&mut self, class: Class) -> Result<&mut Tally> {
        Ok(match self.classes.entry(class) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(Tally::new()?),
        })
    }

    pub fn answered(&mut self, class: Class, took: Duration) -> Result<()> {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
        self.tally(class)?.latency.saturating_record(micros);
        Ok(())
    }

    pub fn refused(&mut self, class: Class) -> Result<()> {
        self.tally(class)?.refused += 1;
        Ok(())
    }

    pub fn error(&mut self, class: Class, what: String) -> Result<()> {
        let tally = self.tally(class)?;
        tally.errors += 1;
        if tally.first_errors.len() < KEPT_ERRORS {
            tally.first_errors.push(what);
        }
        Ok(())
    }

    pub fn merge(&mut self, other: Record) -> Result<()> {
        for (class, theirs) in other.classes {
            let ours = self.tally(class)?;
            ours.latency.add(&theirs.latency)?;
            ours.refused += theirs.refused;
            ours.errors += theirs.errors;
            for e in theirs.first_errors {
                if ours.first_errors.len() < KEPT_ERRORS {
                    ours.first_errors.push(e);
                }
            }
        }
        Ok(())
    }

    pub fn errors(&self) -> u64 {
        self.classes.values().map(|t| t.errors).sum()
    }

    pub fn requests(&self) -> u64 {
        self.classes.values().map(Tally::requests).sum()
    }
}
