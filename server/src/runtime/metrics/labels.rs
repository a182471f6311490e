//! The `workflow` label's values, capped: the first `cap` workflow names a
//! process sees keep their own series, later ones are counted under
//! `workflow="_other"`, so thousands of workflows can't explode the series
//! count. A name unused for the series idle time gives its slot back (its
//! series have expired from the output by then, see `recorder.rs`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What names past the cap are counted as.
pub const OTHER: &str = "_other";

pub struct WorkflowLabels {
    cap: usize,
    /// `None`: slots are never given back.
    idle: Option<Duration>,
    /// Each name holding a slot, and when it was last used.
    slots: HashMap<String, Instant>,
}

impl WorkflowLabels {
    pub fn new(cap: usize, idle: Option<Duration>) -> Self {
        Self {
            cap,
            idle,
            slots: HashMap::new(),
        }
    }

    /// `workflow` as a label value at `now`, within the cap.
    pub fn label(&mut self, workflow: &str, now: Instant) -> String {
        if let Some(used) = self.slots.get_mut(workflow) {
            *used = now;
            return workflow.to_owned();
        }
        if self.slots.len() >= self.cap
            && let Some(idle) = self.idle
        {
            self.slots
                .retain(|_, used| now.saturating_duration_since(*used) <= idle);
        }
        if self.slots.len() < self.cap {
            self.slots.insert(workflow.to_owned(), now);
            return workflow.to_owned();
        }
        OTHER.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn two_thousand_workflows_stay_under_the_label_cap() {
        let now = Instant::now();
        let mut labels = WorkflowLabels::new(500, Some(Duration::from_secs(3600)));
        let seen: HashSet<String> = (0..2000)
            .map(|i| labels.label(&format!("wf-{i}"), now))
            .collect();
        assert_eq!(seen.len(), 500 + 1, "500 names and _other");
        assert!(seen.contains(OTHER));
        // A name seen before the cap keeps its own series.
        assert_eq!(labels.label("wf-7", now), "wf-7");
        assert_eq!(labels.label("wf-1999", now), OTHER);
    }

    #[test]
    fn a_name_left_idle_gives_its_slot_back() {
        let start = Instant::now();
        let idle = Duration::from_secs(60);
        let mut labels = WorkflowLabels::new(2, Some(idle));
        assert_eq!(labels.label("nightly", start), "nightly");
        assert_eq!(labels.label("gone", start), "gone");
        // Full: a third name is folded while the others are fresh.
        let later = start + Duration::from_secs(30);
        assert_eq!(labels.label("new", later), OTHER);
        // `nightly` keeps running; `gone` stops.
        let much_later = start + Duration::from_secs(61);
        assert_eq!(labels.label("nightly", later), "nightly");
        assert_eq!(labels.label("new", much_later), "new");
        assert_eq!(labels.label("nightly", much_later), "nightly");
        assert_eq!(labels.label("gone", much_later), OTHER);
    }

    #[test]
    fn without_an_idle_time_slots_are_kept() {
        let start = Instant::now();
        let mut labels = WorkflowLabels::new(1, None);
        assert_eq!(labels.label("first", start), "first");
        let years = start + Duration::from_secs(100_000_000);
        assert_eq!(labels.label("second", years), OTHER);
    }
}
