//! The canary section of a promotion request's page: the bar, the
//! history picture of its evaluations, and the manual controls as one
//! plain form (each button posts its control; a reason field serves abort
//! and promote, which need one). Which buttons show follows the policy's
//! roles as far as the page knows them; the port decides. While the
//! canary is live the section follows it without a reload.

use super::canary_bar::CanaryBar;
use super::canary_history::CanaryHistory;
use super::error_box::ErrorBox;
use super::loaded::Loaded;
use crate::api::{ControlCanary, get_canary};
use crate::error::url_error_for;
use crate::live::ticker;
use gantry_core::canary::{Canary, CanaryState};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// Which controls the person may use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CanaryRights {
    /// Pause, resume, abort (the policy's rollback role, or admin).
    pub steer: bool,
    /// Promote now, clear a hold (approver or admin).
    pub promote: bool,
}

#[component]
pub fn CanarySection(
    canary: Canary,
    rights: CanaryRights,
    control: ServerAction<ControlCanary>,
) -> impl IntoView {
    let id = canary.id.clone();
    // While the canary is live the section reads it again every few
    // seconds (in the hydrated browser only): the bar, the buttons and the
    // history follow the analysis without a reload.
    let tick = ticker();
    let current = RwSignal::new(canary);
    // The source is a memo: once the canary ended (and holds nothing) it
    // stops changing, and the reading stops.
    let detail = Resource::new(
        move || {
            let watch = current.with(|c| c.state.is_live() || c.held);
            (control.version().get(), if watch { tick.get() } else { 0 })
        },
        {
            let id = id.clone();
            move |_| get_canary(id.clone())
        },
    );
    Effect::new(move |_| {
        if let Some(Ok(d)) = detail.get() {
            current.set(d.canary);
        }
    });
    let url_error = url_error_for(<ControlCanary as ServerFn>::PATH);
    let problem = move || match control.value().get() {
        Some(Err(error)) => Some(view! { <ErrorBox error /> }),
        Some(Ok(_)) => None,
        None => url_error.clone().map(|error| view! { <ErrorBox error /> }),
    };
    let busy = move || control.pending().get();
    let live = move || current.with(|c| c.state.is_live());
    let paused = move || current.with(|c| c.state == CanaryState::Paused);
    let held = move || current.with(|c| c.held);
    let steer = move || {
        (rights.steer && live()).then(|| {
            let pause_or_resume = if paused() {
                view! { <button type="submit" name="control" value="resume" disabled=busy>"Resume"</button> }
                    .into_any()
            } else {
                view! { <button type="submit" name="control" value="pause" class="secondary" disabled=busy>"Pause"</button> }
                    .into_any()
            };
            view! {
                {pause_or_resume}
                <button type="submit" name="control" value="abort" class="danger" disabled=busy>"Abort (back to stable)"</button>
            }
        })
    };
    let promote = move || {
        (rights.promote && live()).then(|| {
            view! { <button type="submit" name="control" value="promote" disabled=busy>"Promote now"</button> }
        })
    };
    let clear = move || {
        (rights.promote && held()).then(|| {
            view! { <button type="submit" name="control" value="clear-hold" disabled=busy>"Clear the hold"</button> }
        })
    };
    // The form stays put (a reason being typed survives a refresh); it
    // hides when no control applies any more.
    let nothing_to_do =
        move || !((rights.steer || rights.promote) && live() || rights.promote && held());
    let form = (rights.steer || rights.promote).then(|| {
        view! {
            <ActionForm action=control attr:class="form canary-controls" attr:aria-label="Steer this canary" attr:hidden=nothing_to_do>
                <input type="hidden" name="id" value=id.clone() />
                <div class="field">
                    <label for="canary-reason">"Reason (needed to abort or promote; kept in the ledger)"</label>
                    <input id="canary-reason" name="reason" type="text" maxlength="1000" />
                </div>
                <div class="actions">{steer} {promote} {clear}</div>
            </ActionForm>
        }
    });
    view! {
        <section aria-labelledby="canary-heading" id="canary-section">
            <h2 id="canary-heading">"Canary"</h2>
            {move || view! { <CanaryBar canary=current.get() /> }}
            <div aria-live="polite">{problem}</div>
            {form}
            <h3>"Evaluations"</h3>
            <Loaded resource=detail let:detail>
                <CanaryHistory evaluations=detail.evaluations />
            </Loaded>
        </section>
    }
}
