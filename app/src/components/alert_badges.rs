//! An alert instance's state and a notification's delivery as badges: a
//! word and a symbol on a tinted background; colour only repeats the word.

use super::status_badge::label;
use gantry_core::alert::Phase;
use gantry_core::alert::view::DeliveryStatus;
use leptos::prelude::*;

/// Firing, pending, ok or resolved; "silenced" beside it when a silence
/// holds its notices.
#[component]
pub fn PhaseBadge(phase: Phase, #[prop(optional)] silenced: bool) -> impl IntoView {
    let (tone, symbol) = match phase {
        Phase::Firing => ("err", "▲"),
        Phase::Pending => ("wait", "○"),
        Phase::Ok | Phase::Resolved => ("ok", "✓"),
    };
    view! {
        <span class=format!("badge badge-{tone}") data-phase=phase.as_str()>
            <span class="badge-symbol" aria-hidden="true">{symbol}</span>
            {label(phase.as_str())}
        </span>
        {silenced.then(|| view! {
            " "
            <span class="badge badge-stop" data-silenced="true">
                <span class="badge-symbol" aria-hidden="true">"🔕"</span>
                "Silenced"
            </span>
        })}
    }
}

#[component]
pub fn DeliveryBadge(status: DeliveryStatus) -> impl IntoView {
    let (tone, symbol) = match status {
        DeliveryStatus::Pending => ("wait", "○"),
        DeliveryStatus::Delivered => ("ok", "✓"),
        DeliveryStatus::Failed => ("err", "✕"),
    };
    view! {
        <span class=format!("badge badge-{tone}") data-delivery=status.as_str()>
            <span class="badge-symbol" aria-hidden="true">{symbol}</span>
            {label(status.as_str())}
        </span>
    }
}
