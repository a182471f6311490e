//! "Register a workflow": paste a YAML or JSON spec and submit. A rejected
//! spec comes back with every problem, its field path and line.

use super::error_box::ErrorBox;
use crate::api::ApplyWorkflow;
use crate::error::url_error_for;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

const PLACEHOLDER: &str = "name: hello\nsteps:\n  - id: greet\n    run: echo hello\n";

#[component]
pub fn ApplyForm() -> impl IntoView {
    let action = ServerAction::<ApplyWorkflow>::new();
    let url_error = url_error_for(<ApplyWorkflow as ServerFn>::PATH);
    let outcome = move || match action.value().get() {
        Some(Ok(o)) => {
            view! { <p class="alert alert-ok" role="status">{o.describe()}</p> }.into_any()
        }
        Some(Err(e)) => view! { <ErrorBox error=e /> }.into_any(),
        None => url_error
            .clone()
            .map(|e| view! { <ErrorBox error=e /> })
            .into_any(),
    };
    view! {
        <ActionForm action attr:class="form apply-form">
            <div class="field">
                <label for="spec-source">"Workflow spec (YAML or JSON)"</label>
                <textarea
                    id="spec-source"
                    name="source"
                    rows="14"
                    required
                    spellcheck="false"
                    autocomplete="off"
                    aria-describedby="spec-source-hint"
                    placeholder=PLACEHOLDER
                ></textarea>
                <p class="hint" id="spec-source-hint">
                    "A new spec becomes the next version, active in the first environment. Re-registering an identical spec changes nothing."
                </p>
            </div>
            <div class="actions">
                <button type="submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Registering…" } else { "Register workflow" }}
                </button>
            </div>
            <div aria-live="polite">{outcome}</div>
        </ActionForm>
    }
}
