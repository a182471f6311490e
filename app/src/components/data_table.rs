//! The frame every table shares: a scrolling wrapper, a caption, column
//! headers, and the rows a page renders. The caption names the table for
//! screen readers and sighted people alike, unless a heading or legend
//! beside the table already says it for the eye (`caption_hidden`). An
//! empty header names a column of row actions for screen readers only.

use leptos::prelude::*;

/// The column headers, left to right: fixed labels (`&["Name", "Roles"]`)
/// or ones a page builds (a column per environment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headers(Vec<String>);

impl<const N: usize> From<&'static [&'static str; N]> for Headers {
    fn from(labels: &'static [&'static str; N]) -> Self {
        Self(labels.iter().map(|&l| l.to_owned()).collect())
    }
}

impl From<Vec<String>> for Headers {
    fn from(labels: Vec<String>) -> Self {
        Self(labels)
    }
}

#[component]
pub fn DataTable(
    /// Added to `data`, e.g. `tokens`; none for a plain table.
    #[prop(optional)]
    class: &'static str,
    #[prop(into)] caption: String,
    /// Show the caption to screen readers only.
    #[prop(optional)]
    caption_hidden: bool,
    #[prop(into)] headers: Headers,
    /// The `<tr>`s.
    children: Children,
) -> impl IntoView {
    let headers = headers
        .0
        .into_iter()
        .map(|h| {
            if h.is_empty() {
                view! { <th scope="col"><span class="sr-only">"Actions"</span></th> }.into_any()
            } else {
                view! { <th scope="col">{h}</th> }.into_any()
            }
        })
        .collect_view();
    // Two elements rather than an optional class: an absent class still
    // renders as `class=" "` on the server.
    let caption = if caption_hidden {
        view! { <caption class="sr-only">{caption}</caption> }.into_any()
    } else {
        view! { <caption>{caption}</caption> }.into_any()
    };
    let class = if class.is_empty() {
        "data".to_owned()
    } else {
        format!("data {class}")
    };
    view! {
        <div class="table-scroll">
            <table class=class>
                {caption}
                <thead>
                    <tr>{headers}</tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}
