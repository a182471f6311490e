//! The frame every list table shares: a scrolling wrapper, a caption for
//! screen readers and sighted people alike, column headers, and the rows a
//! page renders. An empty header names a column of row actions for screen
//! readers only.

use leptos::prelude::*;

#[component]
pub fn DataTable(
    /// Added to `data`, e.g. `tokens`.
    class: &'static str,
    #[prop(into)] caption: String,
    headers: &'static [&'static str],
    /// The `<tr>`s.
    children: Children,
) -> impl IntoView {
    let headers = headers
        .iter()
        .map(|&h| {
            if h.is_empty() {
                view! { <th scope="col"><span class="sr-only">"Actions"</span></th> }.into_any()
            } else {
                view! { <th scope="col">{h}</th> }.into_any()
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class=format!("data {class}")>
                <caption>{caption}</caption>
                <thead>
                    <tr>{headers}</tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}
