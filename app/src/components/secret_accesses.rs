//! The secrets a run's attempts fetched, as the run page shows them: per
//! attempt, each name, the reference it resolved to, the provider, the
//! outcome, the version read and how long the fetch took; a failed fetch
//! shows why. Never a value: the records hold none.

use super::data_table::DataTable;
use super::secret_badges::FetchBadge;
use gantry_core::secret::AttemptSecretAccess;
use leptos::prelude::*;

#[component]
pub fn SecretAccesses(accesses: Vec<AttemptSecretAccess>) -> impl IntoView {
    if accesses.is_empty() {
        return view! { <p>"No step of this run has fetched a secret."</p> }.into_any();
    }
    let rows = accesses
        .into_iter()
        .map(|a| {
            let AttemptSecretAccess {
                step,
                attempt,
                access,
                ..
            } = a;
            let version = access
                .version
                .map_or_else(|| "–".to_owned(), |v| v.to_string());
            let lease = access
                .lease_id
                .map(|id| view! { <p class="hint">"Lease " <code>{id}</code></p> });
            let error = access
                .error
                .map(|e| view! { <p class="error-text">{e}</p> });
            let key = access.name.clone();
            view! {
                <tr data-secret=key>
                    <td>{step}</td>
                    <td class="num">{attempt}</td>
                    <th scope="row"><code>{access.name}</code></th>
                    <td><code>{access.reference}</code>{lease}</td>
                    <td>{access.provider}</td>
                    <td><FetchBadge outcome=access.outcome />{error}</td>
                    <td class="num">{version}</td>
                    <td class="num">{format!("{} ms", access.millis)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable
            caption="Each fetch by each attempt, oldest first (values are never shown or kept)"
            headers=&["Step", "Attempt", "Name", "Reference", "Provider", "Outcome", "Version", "Duration"]
        >
            {rows}
        </DataTable>
    }
    .into_any()
}
