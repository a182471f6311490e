//! Sections of the dashboard that later work fills in. Each says what it will
//! hold, so the navigation is honest about what exists today.

use leptos::prelude::*;
use leptos_meta::Title;

struct Section {
    title: &'static str,
    lead: &'static str,
    coming: &'static [&'static str],
}

/// The section named `key`. Alerts is the only one left to come (the
/// Promotions page has landed); the key stays for the next ones.
fn section(_key: &str) -> Section {
    Section {
        title: "Alerts",
        lead: "Rules that fire when workflows fail repeatedly.",
        coming: &[
            "Alert rules per workflow and environment",
            "Notification channels",
        ],
    }
}

#[component]
pub fn SectionPage(section: &'static str) -> impl IntoView {
    let s = self::section(section);
    let coming = s
        .coming
        .iter()
        .map(|c| view! { <li>{*c}</li> })
        .collect_view();
    view! {
        <Title text=s.title />
        <h1>{s.title}</h1>
        <p class="lead">{s.lead}</p>
        <section class="placeholder" aria-labelledby="coming-heading">
            <h2 id="coming-heading">"Coming to this page"</h2>
            <ul>{coming}</ul>
        </section>
    }
}
