//! The Cancel button of a queued or running run: a form post that works
//! without JavaScript and returns to the run's page.

use super::error_box::ErrorBox;
use crate::api::CancelRun;
use crate::error::url_error_for;
use gantry_core::run::RunSummary;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// `on_done` receives the run as the server left it (cancel requested).
#[component]
pub fn CancelForm(
    id: String,
    /// A stop was already asked for: the button says so and is disabled.
    stopping: Signal<bool>,
    on_done: Callback<RunSummary>,
) -> impl IntoView {
    let action = ServerAction::<CancelRun>::new();
    let url_error = url_error_for(<CancelRun as ServerFn>::PATH);
    Effect::new(move |_| {
        if let Some(Ok(summary)) = action.value().get() {
            on_done.run(summary);
        }
    });
    let outcome = move || match action.value().get() {
        Some(Err(e)) => Some(view! { <ErrorBox error=e /> }),
        Some(Ok(_)) => None,
        None => url_error.clone().map(|e| view! { <ErrorBox error=e /> }),
    };
    let busy = move || action.pending().get() || stopping.get();
    view! {
        <ActionForm action attr:class="cancel-form">
            <input type="hidden" name="id" value=id />
            <button type="submit" class="danger" disabled=busy>
                {move || if busy() { "Stopping…" } else { "Cancel run" }}
            </button>
            <div aria-live="polite">{outcome}</div>
        </ActionForm>
    }
}
