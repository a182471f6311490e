//! A secret fetch's outcome and a provider's health as badges: a word and a
//! symbol on a tinted background; colour only repeats the word.

use super::status_badge::label;
use leptos::prelude::*;

/// `ok` reads "Fetched"; anything else is named (`not_found` → "Not found").
#[component]
pub fn FetchBadge(#[prop(into)] outcome: String) -> impl IntoView {
    let (tone, symbol, text) = if outcome == "ok" {
        ("ok", "✓", "Fetched".to_owned())
    } else {
        ("err", "✕", label(&outcome))
    };
    view! {
        <span class=format!("badge badge-{tone}") data-fetch=outcome>
            <span class="badge-symbol" aria-hidden="true">{symbol}</span>
            {text}
        </span>
    }
}

/// Healthy when it answers and accepts Gantry's credentials.
#[component]
pub fn HealthBadge(reachable: bool, authenticated: bool) -> impl IntoView {
    let (tone, symbol, text, state) = match (reachable, authenticated) {
        (true, true) => ("ok", "✓", "Healthy", "healthy"),
        (true, false) => ("err", "⊘", "Credentials refused", "unauthenticated"),
        (false, _) => ("err", "✕", "Unreachable", "unreachable"),
    };
    view! {
        <span class=format!("badge badge-{tone}") data-health=state>
            <span class="badge-symbol" aria-hidden="true">{symbol}</span>
            {text}
        </span>
    }
}
