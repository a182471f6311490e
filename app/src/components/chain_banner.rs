//! Whether the audit chain verified, as a quiet status line, or an alert
//! naming the first broken record.

use crate::components::runs_table::Time;
use gantry_core::audit::ChainStatus;
use leptos::prelude::*;

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The verification result: a quiet status line when the chain holds, an
/// alert naming the first broken record when it doesn't.
#[component]
pub fn ChainBanner(status: ChainStatus) -> impl IntoView {
    let checked = status.checked_at;
    if let Some(problem) = status.problem {
        let href = format!("/audit/{}", problem.seq);
        let title = format!(
            "Chain broken at record #{}: {}",
            problem.seq,
            problem.kind.as_str()
        );
        return view! {
            <div class="alert alert-error chain-status" role="alert">
                <p class="alert-title"><span aria-hidden="true">"✕ "</span>{title}</p>
                <p>{problem.detail}</p>
                <p>
                    "Records from " <a href=href>{format!("#{}", problem.seq)}</a>
                    " on cannot be trusted until this is explained. Checked at "
                    <Time at=checked /> "."
                </p>
            </div>
        }
        .into_any();
    }
    let checkpoints = plural(
        status.checkpoints,
        "signed checkpoint",
        "signed checkpoints",
    );
    // Each run of words is one string, so it reads (and is found) whole.
    let (summary, head) = if status.records == 0 {
        (" the log is empty".to_owned(), None)
    } else {
        let href = format!("/audit/{}", status.head_seq);
        let head = view! { <a href=href>{format!("#{}", status.head_seq)}</a> };
        (
            format!(" {}, head ", plural(status.records, "record", "records")),
            Some(head),
        )
    };
    let archived = status
        .first_seq
        .filter(|first| *first > 1)
        .map(|first| format!(" (from #{first}: older records were archived)"))
        .unwrap_or_default();
    let rest = format!("{archived}, {checkpoints}, checked at ");
    view! {
        <div class="alert alert-ok chain-status" role="status">
            <p>
                <span aria-hidden="true">"✓ "</span>
                <strong>"Chain verified:"</strong>
                {summary}
                {head}
                {rest}
                <Time at=checked />
                "."
            </p>
        </div>
    }
    .into_any()
}
