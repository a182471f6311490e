//! The alerts firing now, as a box on the Overview (all of them) and on a
//! workflow's page (that workflow's): each with its rule, where, since
//! when and whether a silence holds it, linking to its history and to the
//! Alerts page. It reads again every few seconds once hydrated.

use super::alert_badges::PhaseBadge;
use super::loaded::Loaded;
use super::runs_table::Time;
use crate::api::{ALERTS_PAGE, instance_href, list_alert_instances};
use crate::live::ticker;
use gantry_core::alert::view::InstanceView;
use leptos::prelude::*;

#[component]
pub fn FiringAlerts(
    /// Only this workflow's; `None`: every one the caller may see.
    #[prop(optional)]
    workflow: Option<String>,
) -> impl IntoView {
    let tick = ticker();
    let scope = workflow.clone();
    let firing = Resource::new(
        move || tick.get(),
        move |_| list_alert_instances(None, scope.clone(), None, Some("firing".into())),
    );
    let all_href = match &workflow {
        Some(w) => format!("{ALERTS_PAGE}?workflow={}", crate::pages::runs::encode(w)),
        None => ALERTS_PAGE.to_owned(),
    };
    view! {
        <section class="firing-alerts" aria-labelledby="firing-alerts-heading">
            <h2 id="firing-alerts-heading">"Firing alerts"</h2>
            <Loaded resource=firing part=true let:instances>
                <FiringList instances />
            </Loaded>
            <p><a href=all_href>"All alerts"</a></p>
        </section>
    }
}

#[component]
fn FiringList(instances: Vec<InstanceView>) -> impl IntoView {
    if instances.is_empty() {
        return view! { <p class="muted" data-firing="0">"Nothing is firing."</p> }.into_any();
    }
    let count = instances.len();
    let items = instances
        .into_iter()
        .map(|i| {
            let where_ = if i.workflow.is_empty() {
                i.environment.clone()
            } else {
                format!("{} in {}", i.workflow, i.environment)
            };
            view! {
                <li data-fingerprint=i.fingerprint.clone()>
                    <PhaseBadge phase=i.phase silenced=i.silenced />
                    " "
                    <a href=instance_href(&i.fingerprint)>{i.rule.clone()}</a>
                    " · " {where_} " · since " <Time at=i.since />
                    <span class="muted">" · " {i.summary.clone()}</span>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="firing-list" data-firing=count>{items}</ul> }.into_any()
}
