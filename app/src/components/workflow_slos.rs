//! A workflow's SLOs at a glance, on its page: per environment it has one
//! in (and the reader may see), each objective's SLI and budget left, what
//! the burn rates call for, and a link to the SLO page. Nothing shows for a
//! workflow without SLOs. Its data is its own resource, made where the
//! component is placed at the page's top level (see the Ledger page on
//! resources made inside another's result), and a failure here leaves the
//! rest of the page alone.

use super::data_table::DataTable;
use super::loaded::Loaded;
use super::slo_figures::{BudgetBar, decision_word, objective_name, percent};
use crate::api::get_slos;
use gantry_core::slo::view::SloSummary;
use leptos::prelude::*;

#[component]
pub fn WorkflowSlos(#[prop(into)] name: Signal<String>) -> impl IntoView {
    let slos = Resource::new(move || name.get(), |name| get_slos(Some(name)));
    view! {
        <Loaded resource=slos part=true let:slos>
            <SloRows slos />
        </Loaded>
    }
}

#[component]
fn SloRows(slos: Vec<SloSummary>) -> impl IntoView {
    if slos.is_empty() {
        return ().into_any();
    }
    let rows = slos
        .into_iter()
        .flat_map(|slo| {
            let href = format!("/workflows/{}/slo/{}", slo.workflow, slo.environment);
            let environment = slo.environment.clone();
            let word = decision_word(slo.decision);
            slo.objectives
                .into_iter()
                .map(move |o| {
                    let name = objective_name(o.objective);
                    let sli = o.sli.map_or_else(|| "no runs".to_owned(), percent);
                    let left = o
                        .budget_remaining
                        .map_or_else(|| "no data".to_owned(), percent);
                    let label =
                        format!("{left} of the {name} objective's budget left in {environment}");
                    let few = o.too_few_runs.then_some(" (too few runs to judge)");
                    view! {
                        <tr>
                            <th scope="row">
                                <a href=href.clone()>{environment.clone()}</a>
                            </th>
                            <td>{format!("{name} {}", o.target)}</td>
                            <td>{sli}{few}</td>
                            <td class="slo-cell-budget">
                                <BudgetBar remaining=o.budget_remaining label />
                                " " {left}
                            </td>
                            <td>{word}</td>
                        </tr>
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect_view();
    view! {
        <section aria-labelledby="slos-heading">
            <h2 id="slos-heading">"SLOs"</h2>
            <DataTable
                class="slo-list"
                caption="Service level objectives per environment; each environment links to its SLO page"
                caption_hidden=true
                headers=&["Environment", "Objective", "SLI", "Budget left", "Alerting"]
            >
                {rows}
            </DataTable>
        </section>
    }
    .into_any()
}
