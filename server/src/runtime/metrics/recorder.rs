//! Two registries behind the one global recorder: the families labelled by
//! `workflow` go to one whose series expire once idle (so a workflow that
//! is gone stops being exported), everything else to one whose series live
//! as long as the process. The exporter's idle timeout is per kind of
//! metric, not per family, and a rare counter that expired (an audit chain
//! gap, an authorization refusal) would come back at 1, which PromQL's
//! `increase()` reads as no increase at all.

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::PrometheusRecorder;

/// The families with a `workflow` label (see `labels.rs`).
pub const BY_WORKFLOW: [&str; 5] = [
    "gantry_runs_started_total",
    "gantry_runs_finished_total",
    "gantry_run_duration_seconds",
    "gantry_run_schedule_delay_seconds",
    "gantry_schedule_missed_total",
];

pub struct SplitRecorder {
    pub lasting: PrometheusRecorder,
    pub by_workflow: PrometheusRecorder,
}

impl SplitRecorder {
    fn of(&self, name: &str) -> &PrometheusRecorder {
        if BY_WORKFLOW.contains(&name) {
            &self.by_workflow
        } else {
            &self.lasting
        }
    }
}

impl Recorder for SplitRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.of(key.as_str())
            .describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.of(key.as_str()).describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.of(key.as_str())
            .describe_histogram(key, unit, description);
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        self.of(key.name()).register_counter(key, metadata)
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.of(key.name()).register_gauge(key, metadata)
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        self.of(key.name()).register_histogram(key, metadata)
    }
}
