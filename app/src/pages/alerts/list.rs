//! `/alerts`: the alert instances (firing first), each with its state, a
//! link to its history and, while firing, a Silence shortcut; then every
//! rule with its current state, counts, last change and origin. Both read
//! again every few seconds once hydrated.

use super::AlertsNav;
use crate::api::{
    ALERTS_PAGE, NEW_RULE_PAGE, RuleList, SILENCES_PAGE, instance_href, kind_label,
    list_alert_instances, list_alert_rules, rule_href,
};
use crate::components::alert_badges::PhaseBadge;
use crate::components::data_table::DataTable;
use crate::components::loaded::Loaded;
use crate::components::runs_table::Time;
use crate::error::AppError;
use crate::live::ticker;
use crate::pages::runs::encode;
use gantry_core::alert::Phase;
use gantry_core::alert::view::{InstanceView, RuleView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct AlertsData {
    instances: Vec<InstanceView>,
    rules: RuleList,
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    let query = use_query_map();
    let (workflow, saved) = {
        let q = query.read_untracked();
        (q.get("workflow"), q.get("saved"))
    };
    let tick = ticker();
    let scope = workflow.clone();
    let data = Resource::new(
        move || tick.get(),
        move |_| {
            let scope = scope.clone();
            async move {
                let instances = list_alert_instances(None, scope, None, None).await?;
                let rules = list_alert_rules().await?;
                Ok::<_, AppError>(AlertsData { instances, rules })
            }
        },
    );
    let saved = saved.map(|name| {
        view! { <p class="alert alert-ok" role="status">"The rule " <strong>{name}</strong> " is saved."</p> }
    });
    let heading = match &workflow {
        Some(w) => format!("Alert instances of {w}"),
        None => "Alert instances".to_owned(),
    };
    view! {
        <Title text="Alerts" />
        <h1>"Alerts"</h1>
        <AlertsNav here=ALERTS_PAGE />
        {saved}
        <Loaded resource=data let:data>
            <section aria-labelledby="instances-heading">
                <h2 id="instances-heading">{heading.clone()}</h2>
                <InstancesTable instances=data.instances.clone() />
            </section>
            <section aria-labelledby="rules-heading">
                <h2 id="rules-heading">"Rules"</h2>
                <p><a href=NEW_RULE_PAGE class="button-link">"New rule"</a></p>
                <RulesTable rules=data.rules.rules.clone() instances=data.instances.clone() />
            </section>
        </Loaded>
    }
}

/// The Silence shortcut: the silences page with this instance's matchers.
pub fn silence_href(i: &InstanceView) -> String {
    let mut href = format!("{SILENCES_PAGE}?rule={}", encode(&i.rule));
    if !i.workflow.is_empty() {
        href.push_str(&format!("&workflow={}", encode(&i.workflow)));
    }
    if !i.environment.is_empty() {
        href.push_str(&format!("&environment={}", encode(&i.environment)));
    }
    href.push_str("#new-silence");
    href
}

#[component]
fn InstancesTable(instances: Vec<InstanceView>) -> impl IntoView {
    if instances.is_empty() {
        return view! { <p class="muted">"No alert instances yet: a rule's instances appear once it has judged a run or a pass."</p> }.into_any();
    }
    let rows = instances
        .into_iter()
        .map(|i| {
            let silence = (i.phase == Phase::Firing || i.phase == Phase::Pending).then(|| {
                view! { <a href=silence_href(&i) aria-label=format!("Silence {} for {}", i.rule, i.workflow)>"Silence"</a> }
            });
            let run = i.last_run_id.clone().map(|id| {
                view! { <a href=format!("/runs/{id}")>"Run " {crate::components::runs_table::short_id(&id).to_owned()}</a> }
            });
            view! {
                <tr data-fingerprint=i.fingerprint.clone() data-phase=i.phase.as_str()>
                    <td><PhaseBadge phase=i.phase silenced=i.silenced /></td>
                    <th scope="row"><a href=instance_href(&i.fingerprint)>{i.rule.clone()}</a></th>
                    <td>{if i.workflow.is_empty() { "–".to_owned() } else { i.workflow.clone() }}</td>
                    <td>{i.environment.clone()}</td>
                    <td><Time at=i.since /></td>
                    <td>{i.summary.clone()} " " {run}</td>
                    <td>{silence}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable class="alert-instances" caption="Alert instances, firing first" caption_hidden=true headers=&["State", "Rule", "Workflow", "Environment", "Since", "Summary", ""]>
            {rows}
        </DataTable>
    }
    .into_any()
}

/// A rule's state in one word: firing over pending over ok; silenced when
/// every firing instance is held by a silence.
pub fn rule_state(rule: &RuleView, instances: &[InstanceView]) -> (Phase, bool) {
    let firing: Vec<&InstanceView> = instances
        .iter()
        .filter(|i| i.rule_id == rule.id && i.phase == Phase::Firing)
        .collect();
    if rule.firing > 0 || !firing.is_empty() {
        let silenced = !firing.is_empty() && firing.iter().all(|i| i.silenced);
        (Phase::Firing, silenced)
    } else if rule.pending > 0 {
        (Phase::Pending, false)
    } else {
        (Phase::Ok, false)
    }
}

#[component]
fn RulesTable(rules: Vec<RuleView>, instances: Vec<InstanceView>) -> impl IntoView {
    if rules.is_empty() {
        return view! {
            <p class="empty-state">"No rules yet. " <a href=NEW_RULE_PAGE>"Create the first one"</a> ", e.g. three failed runs in a row of a workflow."</p>
        }
        .into_any();
    }
    let rows = rules
        .into_iter()
        .map(|r| {
            let (phase, silenced) = rule_state(&r, &instances);
            let scope = scope_text(&r);
            let origin = match r.origin.strip_prefix("workflow:") {
                Some(w) => view! { "workflow " <a href=format!("/workflows/{w}")>{w.to_owned()}</a> }.into_any(),
                None => view! { {r.origin.clone()} }.into_any(),
            };
            let last = match r.last_change {
                Some(at) => view! { <Time at /> }.into_any(),
                None => view! { <span class="muted">"Never"</span> }.into_any(),
            };
            let channels = if r.spec.channels.is_empty() {
                "–".to_owned()
            } else {
                r.spec.channels.join(", ")
            };
            view! {
                <tr data-rule=r.spec.name.clone()>
                    <th scope="row"><a href=rule_href(&r.spec.name)>{r.spec.name.clone()}</a></th>
                    <td>{kind_label(r.spec.kind.as_str())} <span class="muted">" · " {r.spec.kind.to_string()}</span></td>
                    <td>{scope}</td>
                    <td><PhaseBadge phase silenced /></td>
                    <td class="num">{r.firing}</td>
                    <td class="num">{r.pending}</td>
                    <td>{last}</td>
                    <td>{origin}</td>
                    <td>{channels}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable class="alert-rules" caption="Alert rules and their state" caption_hidden=true headers=&["Rule", "Kind", "Watches", "State", "Firing", "Pending", "Last change", "Origin", "Channels"]>
            {rows}
        </DataTable>
    }
    .into_any()
}

fn scope_text(r: &RuleView) -> String {
    let s = &r.spec;
    let mut parts = Vec::new();
    parts.push(
        s.workflow
            .clone()
            .map_or("every workflow".to_owned(), |w| format!("workflow {w}")),
    );
    if !s.labels.is_empty() {
        let labels: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        parts.push(format!("labels {}", labels.join(", ")));
    }
    parts.push(
        s.environment
            .clone()
            .map_or("every environment".to_owned(), |e| format!("in {e}")),
    );
    parts.join(", ")
}
