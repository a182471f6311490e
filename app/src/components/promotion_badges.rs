//! Promotion states, checklist item states, deployment kinds and
//! verifications as badges: a word and a symbol on a tinted background;
//! colour only repeats the word.

use super::status_badge::label;
use gantry_core::promotion::evaluation::ItemStatus;
use gantry_core::promotion::ledger::DeploymentKind;
use gantry_core::promotion::request::PromotionState;
use gantry_core::promotion::verification::{Verification, VerificationState};
use leptos::prelude::*;

fn badge(
    tone: &'static str,
    symbol: &'static str,
    text: String,
    data: (&'static str, String),
) -> impl IntoView {
    let (name, value) = data;
    view! {
        <span class=format!("badge badge-{tone}") data-badge=name data-value=value>
            <span class="badge-symbol" aria-hidden="true">{symbol}</span>
            {text}
        </span>
    }
}

#[component]
pub fn PromotionBadge(state: PromotionState) -> impl IntoView {
    let (tone, symbol) = match state {
        PromotionState::Pending => ("wait", "○"),
        PromotionState::Promoted => ("ok", "✓"),
        PromotionState::Rejected => ("err", "✕"),
        PromotionState::Cancelled => ("stop", "⊘"),
        PromotionState::Expired => ("stop", "◔"),
        PromotionState::Superseded => ("stop", "↷"),
    };
    badge(
        tone,
        symbol,
        label(state.as_str()),
        ("promotion", state.as_str().to_owned()),
    )
}

/// The word for an item's state, and its key for tests and styles.
pub fn item_state(status: &ItemStatus) -> (&'static str, &'static str) {
    match status {
        ItemStatus::Pass => ("pass", "Pass"),
        ItemStatus::Fail => ("fail", "Fail"),
        ItemStatus::NeedsAcknowledgement { .. } => {
            ("needs_acknowledgement", "Needs acknowledgement")
        }
        ItemStatus::Acknowledged { .. } => ("acknowledged", "Acknowledged"),
        ItemStatus::Unchecked => ("unchecked", "Not ticked"),
        ItemStatus::Manual { .. } => ("ticked", "Ticked"),
    }
}

#[component]
pub fn ItemBadge(status: ItemStatus) -> impl IntoView {
    let (key, text) = item_state(&status);
    let (tone, symbol) = match status {
        ItemStatus::Pass | ItemStatus::Acknowledged { .. } | ItemStatus::Manual { .. } => {
            ("ok", "✓")
        }
        ItemStatus::Fail => ("err", "✕"),
        ItemStatus::NeedsAcknowledgement { .. } | ItemStatus::Unchecked => ("wait", "○"),
    };
    badge(tone, symbol, text.to_owned(), ("item", key.to_owned()))
}

/// "Promoted", "Rolled back": how the pointer moved, as a past tense.
pub fn kind_label(kind: DeploymentKind) -> &'static str {
    match kind {
        DeploymentKind::Apply => "Applied",
        DeploymentKind::Promotion => "Promoted",
        DeploymentKind::Rollback => "Rolled back",
        DeploymentKind::Canary => "Canary",
    }
}

#[component]
pub fn KindBadge(kind: DeploymentKind) -> impl IntoView {
    let (tone, symbol) = match kind {
        DeploymentKind::Apply => ("wait", "+"),
        DeploymentKind::Promotion => ("run", "↑"),
        DeploymentKind::Rollback => ("stop", "↶"),
        DeploymentKind::Canary => ("run", "◐"),
    };
    badge(
        tone,
        symbol,
        kind_label(kind).to_owned(),
        ("kind", kind.as_str().to_owned()),
    )
}

/// A verification's state, linking to its run once there is one.
#[component]
pub fn VerificationBadge(verification: Verification) -> impl IntoView {
    let (tone, symbol, text) = match verification.state {
        VerificationState::Pending => ("wait", "○", "Verification pending"),
        VerificationState::Running => ("run", "◌", "Verifying"),
        VerificationState::Passed => ("ok", "✓", "Verified"),
        VerificationState::Failed => ("err", "✕", "Verification failed"),
    };
    let state = verification.state.as_str().to_owned();
    let title = verification.why.clone().unwrap_or_else(|| {
        format!(
            "{} runs in {}",
            verification.verifier, verification.environment
        )
    });
    let inner = badge(tone, symbol, text.to_owned(), ("verification", state));
    match verification.run_id {
        Some(run) => {
            view! { <a class="badge-link" href=format!("/runs/{run}") title=title>{inner}</a> }
                .into_any()
        }
        None => view! { <span title=title>{inner}</span> }.into_any(),
    }
}
