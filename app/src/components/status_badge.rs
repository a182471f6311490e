//! Run, step and attempt statuses as badges: a word and a symbol on a
//! tinted background. The word carries the meaning; colour only repeats it.

use gantry_core::audit::Outcome;
use leptos::prelude::*;

/// The colour family of a status, shared by badges and SVG bars.
pub fn tone(status: &str) -> &'static str {
    match status {
        "succeeded" => "ok",
        "failed" | "timed_out" | "lost" => "err",
        "running" => "run",
        "cancelled" | "skipped" => "stop",
        _ => "wait",
    }
}

/// "timed_out" → "Timed out".
pub fn label(status: &str) -> String {
    let words = status.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn symbol(status: &str) -> &'static str {
    match status {
        "succeeded" => "✓",
        "failed" | "lost" => "✕",
        "timed_out" => "◔",
        "running" => "▶",
        "cancelled" => "⊘",
        "skipped" => "↷",
        _ => "○",
    }
}

/// `status` is the status's `as_str()` (`RunStatus`, `StepStatus` or
/// `AttemptStatus`).
#[component]
pub fn StatusBadge(#[prop(into)] status: String) -> impl IntoView {
    let class = format!("badge badge-{}", tone(&status));
    view! {
        <span class=class data-status=status.clone()>
            <span class="badge-symbol" aria-hidden="true">{symbol(&status)}</span>
            {label(&status)}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::run::{AttemptStatus, RunStatus, StepStatus};

    #[test]
    fn every_status_has_a_label_and_a_tone() {
        let all = RunStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .chain(StepStatus::ALL.iter().map(|s| s.as_str()))
            .chain(AttemptStatus::ALL.iter().map(|s| s.as_str()));
        for s in all {
            assert!(!label(s).is_empty(), "{s}");
            assert!(!label(s).contains('_'), "{s}");
        }
        assert_eq!(label("timed_out"), "Timed out");
        assert_eq!(tone("timed_out"), "err");
        assert_eq!(tone("pending"), "wait");
    }
}

/// An outcome as a word and a symbol on a tinted background; colour only
/// repeats what the word says.
#[component]
pub fn OutcomeBadge(outcome: Outcome) -> impl IntoView {
    let (tone, symbol) = match outcome {
        Outcome::Succeeded => ("ok", "✓"),
        Outcome::Denied => ("err", "⊘"),
        Outcome::Failed => ("stop", "✕"),
    };
    view! {
        <span class=format!("badge badge-{tone}") data-outcome=outcome.as_str()>
            <span class="badge-symbol" aria-hidden="true">{symbol}</span>
            {label(outcome.as_str())}
        </span>
    }
}

/// An approval request's state as a word and a symbol; colour only repeats
/// the word.
#[component]
pub fn ApprovalBadge(status: gantry_core::approval::ApprovalStatus) -> impl IntoView {
    use gantry_core::approval::ApprovalStatus;
    let (tone, symbol) = match status {
        ApprovalStatus::Pending => ("wait", "○"),
        ApprovalStatus::Approved => ("ok", "✓"),
        ApprovalStatus::Rejected => ("err", "✕"),
        ApprovalStatus::Expired => ("stop", "◔"),
    };
    view! {
        <span class=format!("badge badge-{tone}") data-approval=status.as_str()>
            <span class="badge-symbol" aria-hidden="true">{symbol}</span>
            {label(status.as_str())}
        </span>
    }
}
