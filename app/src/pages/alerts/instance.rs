//! `/alerts/instances/{fingerprint}`: one alert instance (rule × workflow
//! × environment) now, every phase change it went through, newest first,
//! and the notifications it sent.

use super::AlertsNav;
use super::list::silence_href;
use super::notifications::NotificationsTable;
use crate::api::{
    list_alert_instances, list_alert_notifications, list_alert_transitions, rule_href,
};
use crate::components::alert_badges::PhaseBadge;
use crate::components::data_table::DataTable;
use crate::components::loaded::Loaded;
use crate::components::runs_table::Time;
use crate::error::AppError;
use crate::live::ticker;
use gantry_core::PortError;
use gantry_core::alert::Phase;
use gantry_core::alert::view::{InstanceView, NotificationView, TransitionView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct InstanceData {
    instance: InstanceView,
    transitions: Vec<TransitionView>,
    notifications: Vec<NotificationView>,
}

async fn load(fingerprint: String) -> Result<InstanceData, AppError> {
    let instance = list_alert_instances(None, None, None, None)
        .await?
        .into_iter()
        .find(|i| i.fingerprint == fingerprint)
        .ok_or_else(|| AppError::Port(PortError::not_found(format!("alert {fingerprint}"))))?;
    let workflow = Some(instance.workflow.clone()).filter(|w| !w.is_empty());
    let transitions = list_alert_transitions(
        Some(instance.rule.clone()),
        workflow,
        Some(instance.environment.clone()),
    )
    .await?
    .into_iter()
    .filter(|t| t.fingerprint == fingerprint)
    .collect();
    let notifications = list_alert_notifications(Some(instance.rule.clone()), None)
        .await?
        .into_iter()
        .filter(|n| n.fingerprint == fingerprint)
        .collect();
    Ok(InstanceData {
        instance,
        transitions,
        notifications,
    })
}

#[component]
pub fn InstancePage() -> impl IntoView {
    let params = use_params_map();
    let fingerprint = params
        .read_untracked()
        .get("fingerprint")
        .unwrap_or_default();
    let tick = ticker();
    let fp = fingerprint.clone();
    let data = Resource::new(move || tick.get(), move |_| load(fp.clone()));
    view! {
        <Title text=format!("Alert {fingerprint}") />
        <h1>"Alert " <code>{fingerprint.clone()}</code></h1>
        <AlertsNav here="" />
        <Loaded resource=data let:data>
            <InstanceBody data />
        </Loaded>
    }
}

#[component]
fn InstanceBody(data: InstanceData) -> impl IntoView {
    let InstanceData {
        instance: i,
        transitions,
        notifications,
    } = data;
    let silence = (i.phase == Phase::Firing).then(|| {
        view! { <p><a href=silence_href(&i) class="button-link">"Silence this alert"</a></p> }
    });
    let run = i.last_run_id.clone().map(
        |id| view! { <dt>"Last run"</dt><dd><a href=format!("/runs/{id}")>{id.clone()}</a></dd> },
    );
    let rows = transitions
        .into_iter()
        .map(|t| {
            let run = t
                .run_id
                .clone()
                .map(|id| view! { <a href=format!("/runs/{id}")>{crate::components::runs_table::short_id(&id).to_owned()}</a> });
            view! {
                <tr data-from=t.from.as_str() data-to=t.to.as_str()>
                    <td><Time at=t.at /></td>
                    <td><PhaseBadge phase=t.from /></td>
                    <th scope="row"><PhaseBadge phase=t.to silenced=t.silenced /></th>
                    <td>{t.summary.clone()}</td>
                    <td>{run}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="instance-heading">
            <h2 id="instance-heading">"Now"</h2>
            <dl class="facts">
                <dt>"State"</dt>
                <dd><PhaseBadge phase=i.phase silenced=i.silenced /></dd>
                <dt>"Rule"</dt>
                <dd><a href=rule_href(&i.rule)>{i.rule.clone()}</a></dd>
                <dt>"Workflow"</dt>
                <dd>{if i.workflow.is_empty() { "–".to_owned() } else { i.workflow.clone() }}</dd>
                <dt>"Environment"</dt>
                <dd>{i.environment.clone()}</dd>
                <dt>"Since"</dt>
                <dd><Time at=i.since /></dd>
                <dt>"Summary"</dt>
                <dd>{i.summary.clone()}</dd>
                {run}
            </dl>
            {silence}
        </section>
        <section aria-labelledby="transitions-heading">
            <h2 id="transitions-heading">"State history"</h2>
            <DataTable class="alert-transitions" caption="Phase changes, newest first" caption_hidden=true headers=&["When", "From", "To", "Summary", "Run"]>
                {rows}
            </DataTable>
        </section>
        <section aria-labelledby="instance-notifications-heading">
            <h2 id="instance-notifications-heading">"Notifications"</h2>
            <NotificationsTable list=notifications />
        </section>
    }
}
