//! `/alerts/notifications`: every notification, newest first, filtered by
//! rule and delivery status with a GET form: the notice, the channel, its
//! status, attempts, the last answer or error, and the request as sent
//! with every credential masked.

use super::AlertsNav;
use crate::api::{NOTIFICATIONS_PAGE, instance_href, list_alert_notifications};
use crate::components::alert_badges::DeliveryBadge;
use crate::components::data_table::DataTable;
use crate::components::loaded::Loaded;
use crate::components::runs_table::Time;
use crate::live::ticker;
use gantry_core::alert::view::NotificationView;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let query = use_query_map();
    let (rule, status) = {
        let q = query.read_untracked();
        (
            q.get("rule").unwrap_or_default(),
            q.get("status").unwrap_or_default(),
        )
    };
    let tick = ticker();
    let (r, s) = (rule.clone(), status.clone());
    let list = Resource::new(
        move || tick.get(),
        move |_| list_alert_notifications(Some(r.clone()), Some(s.clone())),
    );
    let statuses = ["", "pending", "delivered", "failed"]
        .into_iter()
        .map(|v| {
            let label = if v.is_empty() { "Any" } else { v };
            view! { <option value=v selected=status == v>{label}</option> }
        })
        .collect_view();
    view! {
        <Title text="Notifications" />
        <h1>"Notifications"</h1>
        <AlertsNav here=NOTIFICATIONS_PAGE />
        <form method="get" action=NOTIFICATIONS_PAGE role="search" aria-label="Filter the notifications" class="filters">
            <div class="field">
                <label for="notifications-rule">"Rule"</label>
                <input type="text" id="notifications-rule" name="rule" value=rule.clone() />
            </div>
            <div class="field">
                <label for="notifications-status">"Status"</label>
                <select id="notifications-status" name="status">{statuses}</select>
            </div>
            <button type="submit">"Filter"</button>
        </form>
        <section aria-labelledby="notifications-heading">
            <h2 id="notifications-heading">"History"</h2>
            <Loaded resource=list let:list>
                <NotificationsTable list />
            </Loaded>
        </section>
    }
}

#[component]
pub fn NotificationsTable(list: Vec<NotificationView>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No notifications."</p> }.into_any();
    }
    let rows = list
        .into_iter()
        .map(|n| {
            let answer = match (n.last_status, n.last_error.clone()) {
                (Some(code), Some(e)) => format!("{code}: {e}"),
                (Some(code), None) => code.to_string(),
                (None, Some(e)) => e,
                (None, None) => "–".to_owned(),
            };
            let request = n.request.as_ref().map(|r| {
                let text = serde_json::to_string_pretty(r).unwrap_or_default();
                view! {
                    <details>
                        <summary>"Request sent"<span class="sr-only">" to " {n.channel.clone()}</span></summary>
                        <pre class="payload">{text}</pre>
                    </details>
                }
            });
            let rule = if n.fingerprint.is_empty() || n.notice == "test" {
                view! { {n.rule.clone()} }.into_any()
            } else {
                view! { <a href=instance_href(&n.fingerprint)>{n.rule.clone()}</a> }.into_any()
            };
            view! {
                <tr data-notification=n.id.clone() data-notice=n.notice.clone() data-status=n.status.as_str()>
                    <td><Time at=n.created_at /></td>
                    <th scope="row">{n.notice.clone()}</th>
                    <td>{rule}</td>
                    <td>{n.channel.clone()}</td>
                    <td><DeliveryBadge status=n.status /></td>
                    <td class="num">{n.attempts}</td>
                    <td>{answer}</td>
                    <td>{request}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable class="notifications" caption="Notifications, newest first" caption_hidden=true headers=&["Queued", "Notice", "Rule", "Channel", "Status", "Attempts", "Last answer", "Request"]>
            {rows}
        </DataTable>
    }
    .into_any()
}
