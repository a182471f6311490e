//! The free text of a spec, shown as labels and prose on the dashboard:
//! no control or invisible formatting characters, and bounded lengths
//! (`crate::text`).

use super::WorkflowSpec;
use super::validate::Problems;
use crate::text::{self, Lines, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS};

/// A choice option is a value and a label at once.
const MAX_OPTION_CHARS: usize = 200;

pub(super) fn check_texts(spec: &WorkflowSpec, problems: &mut Problems) {
    let mut check = |path: String, value: &str, max: usize, lines: Lines| {
        if let Err(why) = text::check(value, max, lines) {
            problems.add(&path, format!("{path} {why}"));
        }
    };
    if let Some(description) = &spec.description {
        check(
            "description".into(),
            description,
            MAX_DESCRIPTION_CHARS,
            Lines::Many,
        );
    }
    for (name, input) in &spec.inputs {
        if let Some(description) = &input.description {
            check(
                format!("inputs.{name}.description"),
                description,
                MAX_DESCRIPTION_CHARS,
                Lines::Many,
            );
        }
        for (j, option) in input.options.iter().flatten().enumerate() {
            check(
                format!("inputs.{name}.options[{j}]"),
                option,
                MAX_OPTION_CHARS,
                Lines::One,
            );
        }
    }
    for (i, step) in spec.steps.iter().enumerate() {
        if let Some(name) = &step.name {
            check(format!("steps[{i}].name"), name, MAX_NAME_CHARS, Lines::One);
        }
    }
}
