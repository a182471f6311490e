//! The workflow page's secrets: each step's references as written (never a
//! value) and, per environment, what each resolves to and which provider
//! answers it there: the shared one, the environment's own, or none (a run
//! there would fail the step, so it is flagged).

use super::data_table::DataTable;
use gantry_core::secret::{ProviderSource, ResolvedReference, StepSecretRow};
use gantry_core::spec::SecretMount;
use leptos::prelude::*;

#[component]
pub fn SecretReferences(rows: Vec<StepSecretRow>, environments: Vec<String>) -> impl IntoView {
    let gaps: Vec<(String, String, String)> = rows
        .iter()
        .filter_map(|r| {
            let envs: Vec<&str> = r.unconfigured().collect();
            (!envs.is_empty()).then(|| (r.name.clone(), r.step.clone(), envs.join(", ")))
        })
        .collect();
    let warning = (!gaps.is_empty()).then(|| {
        let items = gaps
            .into_iter()
            .map(|(name, step, envs)| {
                view! { <li><code>{name}</code> " (step " {step} "): no provider in " {envs}</li> }
            })
            .collect_view();
        view! {
            <div class="error-text" role="note">
                <p>"Runs fail at these steps until a provider is configured there:"</p>
                <ul>{items}</ul>
            </div>
        }
    });
    let mut headers = vec![
        "Step".to_owned(),
        "Name".to_owned(),
        "Reference".to_owned(),
        "Given as".to_owned(),
    ];
    headers.extend(environments.iter().map(|e| format!("In {e}")));
    let body = rows
        .into_iter()
        .map(|row| {
            let mount = match row.mount {
                SecretMount::Env => "variable",
                SecretMount::File => "file",
            };
            let cells = if row.resolved.is_empty() {
                environments
                    .iter()
                    .map(|_| {
                        view! { <td class="error-text">"unreadable reference"</td> }.into_any()
                    })
                    .collect_view()
            } else {
                row.resolved
                    .into_iter()
                    .map(|r| view! { <ResolvedCell resolved=r /> }.into_any())
                    .collect_view()
            };
            let key = row.name.clone();
            view! {
                <tr data-secret=key>
                    <td>{row.step}</td>
                    <th scope="row"><code>{row.name}</code></th>
                    <td><code>{row.reference}</code></td>
                    <td>{mount}</td>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        {warning}
        <DataTable caption="Each step's secret references and what they resolve to per environment (values are never shown)" headers>
            {body}
        </DataTable>
    }
}

#[component]
fn ResolvedCell(resolved: ResolvedReference) -> impl IntoView {
    let (class, note) = match resolved.source {
        Some(ProviderSource::Shared) => ("", "shared provider"),
        Some(ProviderSource::Own) => ("", "this environment's own provider"),
        None => ("error-text", "⚠ no provider configured here"),
    };
    let state = match resolved.source {
        Some(ProviderSource::Shared) => "shared",
        Some(ProviderSource::Own) => "own",
        None => "unconfigured",
    };
    view! {
        <td data-environment=resolved.environment data-provider=state>
            <code>{resolved.reference}</code>
            <p class=format!("hint {class}")>{note}</p>
        </td>
    }
}
