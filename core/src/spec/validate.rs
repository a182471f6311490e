//! The rules a spec must satisfy beyond its shape: names, schedule, limits,
//! inputs here; steps, the graph and templates in `validate_steps`. Every
//! problem is collected, so an author fixes them all in one round.

use super::inputs::check_default;
use super::names::is_input_name;
use super::{
    InputType, SpecDuration, SpecProblem, WorkflowSpec, names, validate_alerts, validate_steps,
    validate_text,
};
use crate::schedule::{CronSchedule, parse_timezone};
use crate::text::quoted;
use chrono::DateTime;

/// Checks a deserialized spec. Problems carry paths but no lines; [`super::parse`]
/// adds lines from the source.
pub fn validate(spec: &WorkflowSpec) -> Result<(), Vec<SpecProblem>> {
    let mut problems = Problems::default();
    check_name(spec, &mut problems);
    check_schedule(spec, &mut problems);
    if spec.concurrency == Some(0) {
        problems.add(
            "concurrency",
            "concurrency must be at least 1; leave it out for no limit",
        );
    }
    check_duration("timeout", spec.timeout, &mut problems);
    check_approval(spec, &mut problems);
    problems.0.extend(crate::slo::validate(&spec.slo));
    validate_alerts::check_labels(spec, &mut problems);
    validate_alerts::check_alerts(spec, &mut problems);
    check_inputs(spec, &mut problems);
    validate_steps::check_steps(spec, &mut problems);
    validate_text::check_texts(spec, &mut problems);
    problems.into_result()
}

/// Collected problems.
#[derive(Default)]
pub(super) struct Problems(Vec<SpecProblem>);

impl Problems {
    pub(super) fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(SpecProblem::new(path, message));
    }

    fn into_result(self) -> Result<(), Vec<SpecProblem>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

/// Durations must be positive and at most a week.
pub(super) fn check_duration(path: &str, duration: Option<SpecDuration>, problems: &mut Problems) {
    if let Some(why) = duration.and_then(SpecDuration::out_of_bounds) {
        problems.add(path, format!("{path} {why}"));
    }
}

fn check_approval(spec: &WorkflowSpec, problems: &mut Problems) {
    let Some(approval) = &spec.approval else {
        return;
    };
    if approval.required_in.is_empty() {
        problems.add(
            "approval.required_in",
            "list the environments whose runs need approval, e.g. [prod]; or remove approval",
        );
    }
    for (i, env) in approval.required_in.iter().enumerate() {
        let path = format!("approval.required_in[{i}]");
        if let Err(e) = crate::Environment::parse(env) {
            problems.add(path, e.to_string());
        } else if approval.required_in[..i].contains(env) {
            problems.add(path, format!("{env} is listed twice"));
        }
    }
}

fn check_name(spec: &WorkflowSpec, problems: &mut Problems) {
    if !names::is_workflow_name(&spec.name) {
        problems.add(
            "name",
            format!(
                "name {} must be 1-64 lowercase letters, digits and dashes, starting and ending with a letter or digit",
                quoted(&spec.name)
            ),
        );
    }
}

/// A moment to look for a first slot from: a pattern with no slot after it
/// (February 30th) never fires.
const NEVER_FIRES_PROBE_UNIX: i64 = 1_577_836_800; // 2020-01-01T00:00:00Z

fn check_schedule(spec: &WorkflowSpec, problems: &mut Problems) {
    if let Some(tz) = &spec.timezone {
        if spec.schedule.is_none() {
            problems.add(
                "timezone",
                "timezone only applies to a schedule; add schedule or remove timezone",
            );
        }
        if let Err(why) = parse_timezone(tz) {
            problems.add("timezone", why);
        }
    }
    let Some(expr) = &spec.schedule else {
        return;
    };
    match CronSchedule::parse(expr, None) {
        Err(why) => problems.add("schedule", why),
        Ok(schedule) => {
            let probe = DateTime::from_timestamp(NEVER_FIRES_PROBE_UNIX, 0);
            if probe.is_some_and(|t| schedule.next_after(t).is_none()) {
                problems.add(
                    "schedule",
                    format!(
                        "schedule \"{expr}\" never fires: no date matches its day and month fields"
                    ),
                );
            }
        }
    }
}

fn check_inputs(spec: &WorkflowSpec, problems: &mut Problems) {
    for (name, input) in &spec.inputs {
        let path = format!("inputs.{name}");
        if !is_input_name(name) {
            problems.add(
                &path,
                format!(
                    "input name {} must be 1-63 lowercase letters, digits and _, not starting with a digit",
                    quoted(name)
                ),
            );
        }
        match (input.kind, &input.options) {
            (InputType::Choice, None) => problems.add(
                &path,
                "a choice input needs options: the list of allowed values",
            ),
            (InputType::Choice, Some(options)) if options.is_empty() => problems.add(
                format!("{path}.options"),
                "options must list at least one value",
            ),
            (InputType::Choice, Some(options)) => {
                for (j, option) in options.iter().enumerate() {
                    if options[..j].contains(option) {
                        problems.add(
                            format!("{path}.options[{j}]"),
                            format!("option {} is listed twice", quoted(option)),
                        );
                    }
                }
            }
            (kind, Some(_)) => problems.add(
                format!("{path}.options"),
                format!(
                    "options only apply to choice inputs; remove them or change type {} to choice",
                    kind.as_str()
                ),
            ),
            (_, None) => {}
        }
        if let Some(default) = input.default.as_ref().filter(|d| !d.is_null()) {
            let choice_without_options =
                input.kind == InputType::Choice && input.options.as_ref().is_none_or(Vec::is_empty);
            // A choice without options is already reported; every default
            // would fail against the empty list.
            if !choice_without_options && let Err(expected) = check_default(input, default) {
                problems.add(
                    format!("{path}.default"),
                    format!("default must be {expected}, got {default}"),
                );
            }
        }
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
