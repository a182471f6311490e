//! The Alerts pages: instances and rules with their state (`list`), the
//! rule form with its backtest (`rule_page`, `rule_form`, `rule_kind`),
//! channels (`channels`, `channel_form`), silences and mute windows
//! (`silences`), the notification history (`notifications`) and one
//! instance's state history (`instance`). Forms post to the server's plain
//! routes without JavaScript and call server functions once hydrated.

pub mod channel_form;
pub mod channels;
mod fields;
pub mod instance;
pub mod list;
pub mod notifications;
pub mod rule_form;
mod rule_kind;
pub mod rule_page;
pub mod silences;

use crate::api::{ALERTS_PAGE, CHANNELS_PAGE, NEW_RULE_PAGE, NOTIFICATIONS_PAGE, SILENCES_PAGE};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The way between the Alerts pages; `here` is marked as the current one.
#[component]
pub fn AlertsNav(here: &'static str) -> impl IntoView {
    let links = [
        (ALERTS_PAGE, "Alerts and rules"),
        (NEW_RULE_PAGE, "New rule"),
        (CHANNELS_PAGE, "Channels"),
        (SILENCES_PAGE, "Silences"),
        (NOTIFICATIONS_PAGE, "Notifications"),
    ]
    .into_iter()
    .map(|(href, label)| {
        let current = (href == here).then_some("page");
        view! { <li><a href=href aria-current=current>{label}</a></li> }
    })
    .collect_view();
    view! {
        <nav class="subnav" aria-label="Alerting">
            <ul class="inline-list">{links}</ul>
        </nav>
    }
}

/// This page's query as name–value pairs (repeated names kept), for the
/// forms that start from it.
pub fn query_pairs(names: &[&str]) -> Vec<(String, String)> {
    let query = use_query_map();
    let query = query.read_untracked();
    names
        .iter()
        .flat_map(|name| {
            query
                .get_all(name)
                .unwrap_or_default()
                .into_iter()
                .map(move |v| ((*name).to_owned(), v))
        })
        .collect()
}

/// A form's fields in the browser, by name (repeated names kept).
pub fn form_pairs(
    form: &leptos::web_sys::HtmlFormElement,
    names: &[&str],
) -> Vec<(String, String)> {
    let Ok(data) = leptos::web_sys::FormData::new_with_form(form) else {
        return Vec::new();
    };
    names
        .iter()
        .flat_map(|name| {
            data.get_all(name)
                .iter()
                .filter_map(|v| v.as_string())
                .map(|v| ((*name).to_owned(), v))
                .collect::<Vec<_>>()
        })
        .collect()
}
