//! The Admin page's list of secret providers: where each answers, its
//! health checked just now, its newest fetch and the highest version seen
//! per reference (a rotation). Never a value.

use super::data_table::DataTable;
use super::runs_table::Time;
use super::secret_badges::{FetchBadge, HealthBadge};
use gantry_core::secret::SecretProviderStatus;
use leptos::prelude::*;

#[component]
pub fn SecretProvidersTable(providers: Vec<SecretProviderStatus>) -> impl IntoView {
    if providers.is_empty() {
        return view! {
            <p>
                "No secret provider is configured: steps that declare secrets fail. Configure "
                <code>"--vault-addr"</code> ", " <code>"--secrets-file-root"</code> " or "
                <code>"--secrets-env-prefix"</code> "."
            </p>
        }
        .into_any();
    }
    let rows = providers
        .into_iter()
        .map(|p| {
            let scope = p
                .environment
                .clone()
                .unwrap_or_else(|| "every environment without its own".to_owned());
            let error = p.error.map(|e| view! { <p class="error-text">{e}</p> });
            let last = match p.last_fetch {
                Some(f) => view! {
                    <FetchBadge outcome=f.outcome />
                    " "
                    <Time at=f.at />
                    <p class="hint">
                        <code>{f.reference}</code> " by "
                        <a href=format!("/runs/{}", f.run_id)>"this run"</a>
                    </p>
                }
                .into_any(),
                None => "none recently".into_any(),
            };
            let versions = if p.versions.is_empty() {
                "–".into_any()
            } else {
                let items = p
                    .versions
                    .into_iter()
                    .map(|v| {
                        view! {
                            <li>
                                <code>{v.reference}</code> ": version " {v.version}
                                ", used since " <Time at=v.first_seen />
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ul>{items}</ul> }.into_any()
            };
            let key = p.provider.clone();
            view! {
                <tr data-provider=key>
                    <th scope="row"><code>{p.provider}</code></th>
                    <td>{scope}</td>
                    <td>
                        <HealthBadge reachable=p.reachable authenticated=p.authenticated />
                        {error}
                    </td>
                    <td><Time at=p.checked_at /></td>
                    <td>{last}</td>
                    <td>{versions}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable
            caption="Configured secret providers and their health"
            headers=&["Provider", "Answers in", "Health", "Checked", "Last fetch", "Highest versions seen"]
        >
            {rows}
        </DataTable>
    }
    .into_any()
}
