//! Deployment kinds as badges: a word and a symbol on a tinted
//! background; colour only repeats the word.

use gantry_core::promotion::ledger::DeploymentKind;
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
        DeploymentKind::Apply => ("wait", "＋"),
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
