//! A canary's bar that keeps itself current: while the canary is live it
//! reads it again every few seconds (in the hydrated browser only), so the
//! Promotions board's cells show the weight, the counts and the decision
//! as the analysis moves, without reloading the board (whose forms would
//! lose what is typed in them).

use super::canary_bar::CanaryBar;
use crate::api::get_canary;
use crate::live::ticker;
use gantry_core::canary::Canary;
use leptos::prelude::*;

#[component]
pub fn LiveCanaryBar(canary: Canary, #[prop(optional)] compact: bool) -> impl IntoView {
    let id = canary.id.clone();
    let live = RwSignal::new(canary.state.is_live());
    let current = RwSignal::new(canary);
    let tick = ticker();
    // Browser-only: the server renders the bar it was given. Once the
    // canary has ended, the reading stops.
    let fresh = LocalResource::new(move || {
        let watching = live.get().then(|| tick.get());
        let id = id.clone();
        async move {
            match watching {
                Some(_) => get_canary(id).await.ok().map(|d| d.canary),
                None => None,
            }
        }
    });
    Effect::new(move |_| {
        if let Some(Some(c)) = fresh.get() {
            if c.state.is_live() != live.get_untracked() {
                live.set(c.state.is_live());
            }
            current.set(c);
        }
    });
    move || view! { <CanaryBar canary=current.get() compact /> }
}
