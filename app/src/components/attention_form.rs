//! The Needs attention list: failed runs with where they failed, a
//! checkbox each, and one form to re-run the ones checked (three ways) or
//! dismiss them with a note. A plain form post: it works without
//! JavaScript, and comes back to the list saying what was done.

use super::data_table::DataTable;
use super::error_box::ErrorBox;
use super::runs_table::{Time, short_id};
use crate::api::ActOnFailedRuns;
use crate::error::url_error_for;
use gantry_core::run::RunPage;
use gantry_core::run::attention::RerunMode;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

#[component]
pub fn AttentionForm(page: RunPage) -> impl IntoView {
    let failures = page.failures;
    let rows = page
        .runs
        .into_iter()
        .map(|r| {
            let failure = failures.get(&r.id).cloned();
            let check_id = format!("select-{}", r.id);
            let label = format!("Run {}", short_id(&r.id));
            let href = format!("/runs/{}", r.id);
            let (step, error) = failure.map_or((None, None), |f| (Some(f.step), f.error));
            view! {
                <tr>
                    <td>
                        <input type="checkbox" id=check_id.clone() name=format!("selected[run-{}]", r.id) value="on" />
                        <label for=check_id class="sr-only">{format!("Select {label}")}</label>
                    </td>
                    <th scope="row"><a href=href><code>{label}</code></a></th>
                    <td>{r.workflow.clone()} " v" {r.version}</td>
                    <td>{r.environment.clone()}</td>
                    <td>{step.map(|s| view! { <code>{s}</code> })}</td>
                    <td class="failure">{error}</td>
                    <td>{r.finished_at.map(|at| view! { <Time at /> })}</td>
                </tr>
            }
        })
        .collect_view();
    let url_error =
        url_error_for(<ActOnFailedRuns as ServerFn>::PATH).map(|e| view! { <ErrorBox error=e /> });
    let modes = [
        RerunMode::FromFailedStep,
        RerunMode::SameVersion,
        RerunMode::ActiveVersion,
    ]
    .map(|m| view! { <button type="submit" name="act" value=m.as_str()>{m.label()}</button> });
    let post_to = <ActOnFailedRuns as ServerFn>::PATH;
    view! {
        {url_error}
        <form method="post" action=post_to class="attention-form">
            <DataTable caption="Failed runs waiting for someone, newest first" headers=&["Select", "Run", "Workflow", "Environment", "Failed step", "Error", "Finished"]>
                {rows}
            </DataTable>
            <fieldset>
                <legend>"Re-run the runs selected"</legend>
                <p class="hint">
                    "From the failed step keeps the steps that succeeded and their outputs; \
                     same version runs every step again; active version runs what is active \
                     in the environment now. Each re-run links to its original."
                </p>
                <div class="actions">{modes}</div>
            </fieldset>
            <fieldset>
                <legend>"Or dismiss them"</legend>
                <div class="field">
                    <label for="dismiss-note">"Why (kept with each run)"</label>
                    <input type="text" id="dismiss-note" name="note" maxlength="500" />
                </div>
                <div class="actions">
                    <button type="submit" name="act" value="dismiss" class="danger">"Dismiss selected"</button>
                </div>
            </fieldset>
        </form>
    }
}
