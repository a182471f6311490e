//! Run history: filters in a GET form (bookmarkable, works without
//! JavaScript), a table of runs newest first, cursor pagination, and a
//! sparkline of durations when one workflow is picked.

use crate::api::{list_runs, list_workflow_names};
use crate::components::attention_form::AttentionForm;
use crate::components::layout::use_shell;
use crate::components::loaded::Loaded;
use crate::components::runs_table::RunsTable;
use crate::components::sparkline::{SparkPoint, Sparkline};
use crate::components::status_badge::label;
use crate::error::AppError;
use chrono::{DateTime, Utc};
use gantry_core::rbac::{Action, decide};
use gantry_core::run::{RunPage, RunStatus};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The filters as they are in the URL; empty means "any".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Filters {
    workflow: String,
    environment: String,
    status: String,
    /// "1": only runs that need attention (the dead letters).
    attention: String,
    before: String,
}

impl Filters {
    /// The query string for these filters, `before` replaced.
    fn query(&self, before: Option<&str>) -> String {
        let pairs = [
            ("workflow", self.workflow.as_str()),
            ("environment", self.environment.as_str()),
            ("status", self.status.as_str()),
            ("attention", self.attention.as_str()),
            ("before", before.unwrap_or_default()),
        ];
        let parts: Vec<String> = pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        if parts.is_empty() {
            "/runs".to_owned()
        } else {
            format!("/runs?{}", parts.join("&"))
        }
    }
}

/// Percent-encodes a query value (names, statuses and ids are plain, but a
/// hand-edited URL may hold anything).
pub(crate) fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct FilterChoices {
    workflows: Vec<String>,
    environments: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct RunsData {
    page: RunPage,
    /// What was asked for, so the page describes exactly what it shows.
    filters: Filters,
    now: DateTime<Utc>,
}

fn some(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

#[component]
pub fn RunsPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default().trim().to_owned();
        Filters {
            workflow: get("workflow"),
            environment: get("environment"),
            status: get("status"),
            attention: if get("attention").is_empty() {
                String::new()
            } else {
                "1".to_owned()
            },
            before: get("before"),
        }
    });
    // What the Needs attention form did (its post comes back here).
    let outcome = Memo::new(move |_| {
        let q = query.read();
        let done = q.get("done")?.parse::<usize>().ok()?;
        let refused = q
            .get("refused")
            .and_then(|r| r.parse::<usize>().ok())
            .unwrap_or(0);
        Some((done, refused, q.get("why").unwrap_or_default()))
    });
    let shell = use_shell();
    let choices = Resource::new(
        || (),
        move |_| async move {
            // Only environments whose runs the caller may see: the server
            // refuses the others anyway.
            let principal = shell.principal().await;
            Ok::<_, AppError>(FilterChoices {
                workflows: list_workflow_names().await?,
                environments: shell
                    .environments()
                    .await
                    .into_iter()
                    .filter(|env| {
                        principal.as_ref().is_some_and(|p| {
                            decide(
                                p,
                                &Action::ViewEnvironment {
                                    environment: env.clone(),
                                },
                            )
                            .is_allowed()
                        })
                    })
                    .map(|env| env.to_string())
                    .collect(),
            })
        },
    );
    let runs = Resource::new(
        move || filters.get(),
        |f| async move {
            let page = list_runs(
                some(&f.workflow),
                some(&f.environment),
                some(&f.status),
                some(&f.before),
                some(&f.attention),
            )
            .await?;
            Ok::<_, AppError>(RunsData {
                page,
                filters: f,
                now: crate::time::now(),
            })
        },
    );
    view! {
        <Title text="Runs" />
        <h1>"Runs"</h1>
        <p class="lead">"Every run with its steps, attempts and log lines."</p>
        <nav class="subnav" aria-label="Which runs">
            <a href="/runs" aria-current=move || filters.get().attention.is_empty().then_some("page")>"All runs"</a>
            <a href="/runs?attention=1" aria-current=move || (!filters.get().attention.is_empty()).then_some("page")>"Needs attention"</a>
        </nav>
        {move || outcome.get().map(|(done, refused, why)| {
            let text = format!(
                "{done} {} done{}",
                if done == 1 { "run" } else { "runs" },
                if refused > 0 { format!("; {refused} not: {why}") } else { String::new() }
            );
            view! { <p class="alert alert-success" role="status">{text}</p> }
        })}
        <Loaded resource=choices let:choices>
            // Drawn again when the URL changes (a pager or "Clear filters"
            // link followed in the browser), so the form shows the filters
            // in force.
            {move || view! { <FilterForm choices=choices.clone() filters=filters.get() /> }}
            // Inside: a caller refused the choices is refused the runs too,
            // and sees that once.
            <Loaded resource=runs let:data>
                <RunsBody data />
            </Loaded>
        </Loaded>
    }
}

#[component]
fn FilterForm(choices: FilterChoices, filters: Filters) -> impl IntoView {
    let select = |name: &'static str,
                  label_text: &'static str,
                  options: Vec<(String, String)>,
                  current: String| {
        let id = format!("filter-{name}");
        let options = options
            .into_iter()
            .map(|(value, text)| {
                let selected = value == current;
                // The property too: after someone picked an option, only
                // the property moves the selection when the URL changes.
                view! { <option value=value selected=selected prop:selected=selected>{text}</option> }
            })
            .collect_view();
        view! {
            <div class="field">
                <label for=id.clone()>{label_text}</label>
                <select id=id name=name>
                    <option value="" prop:selected=current.is_empty()>"Any"</option>
                    {options}
                </select>
            </div>
        }
    };
    let pair = |s: String| (s.clone(), s);
    let workflows = select(
        "workflow",
        "Workflow",
        choices.workflows.into_iter().map(pair).collect(),
        filters.workflow,
    );
    let environments = select(
        "environment",
        "Environment",
        choices.environments.into_iter().map(pair).collect(),
        filters.environment,
    );
    let statuses = select(
        "status",
        "Status",
        RunStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), label(s.as_str())))
            .collect(),
        filters.status,
    );
    view! {
        <Form
            method="GET"
            action="/runs"
            on_form_data=Arc::new(drop_empty_fields)
            attr:class="filters"
            attr:aria-label="Filter runs"
        >
            {workflows}
            {environments}
            {statuses}
            // Kept across filtering: the tab stays what it was.
            {(!filters.attention.is_empty()).then(|| view! { <input type="hidden" name="attention" value="1" /> })}
            <div class="actions">
                <button type="submit">"Apply filters"</button>
                <a href="/runs">"Clear filters"</a>
            </div>
        </Form>
    }
}

/// Keeps "any" filters (and the unnamed submit button) out of the URL when
/// the form is submitted in the browser: `/runs?status=failed`, not
/// `/runs?workflow=&environment=&status=failed&=`.
fn drop_empty_fields(form: &leptos::web_sys::FormData) {
    for name in ["", "workflow", "environment", "status"] {
        if form.get(name).as_string().is_some_and(|v| v.is_empty()) {
            form.delete(name);
        }
    }
}

#[component]
fn RunsBody(data: RunsData) -> impl IntoView {
    let RunsData { page, filters, now } = data;
    let mut caption = "Runs, newest first".to_owned();
    for (what, value) in [
        ("workflow", &filters.workflow),
        ("environment", &filters.environment),
        ("status", &filters.status),
    ] {
        if !value.is_empty() {
            caption.push_str(&format!(", {what} {value}"));
        }
    }
    if !filters.attention.is_empty() {
        caption.push_str(", needing attention");
        if page.runs.is_empty() {
            return view! { <p class="empty-state">"Nothing needs attention: no failed run is waiting to be re-run or dismissed."</p> }.into_any();
        }
        let older = page.next_before.as_deref().map(|b| {
            view! { <a href=filters.query(Some(b)) rel="next">"Older runs"</a> }
        });
        return view! {
            <AttentionForm page />
            <nav class="pager" aria-label="Pages of runs">{older}</nav>
        }
        .into_any();
    }
    if page.runs.is_empty() {
        let message = if filters == Filters::default() {
            "No runs yet. Start one from a workflow's page, or with gantry run NAME --env ENV."
        } else {
            "No runs match these filters."
        };
        return view! { <p class="empty-state">{message}</p> }.into_any();
    }
    let sparkline = (!filters.workflow.is_empty()).then(|| {
        let values: Vec<SparkPoint> = page
            .runs
            .iter()
            .rev()
            .filter(|r| r.finished_at.is_some())
            .filter_map(|r| {
                Some(SparkPoint {
                    duration: r.duration_at(now)?,
                    status: r.status.as_str(),
                })
            })
            .collect();
        let label = format!(
            "Durations of the {} finished runs of {} on this page, oldest first",
            values.len(),
            filters.workflow
        );
        view! { <Sparkline values label /> }
    });
    let newer = (!filters.before.is_empty()).then(|| {
        view! { <a href=filters.query(None)>"Newest runs"</a> }
    });
    let older = page.next_before.as_deref().map(|b| {
        view! { <a href=filters.query(Some(b)) rel="next">"Older runs"</a> }
    });
    view! {
        {sparkline}
        <RunsTable runs=page.runs caption now />
        <nav class="pager" aria-label="Pages of runs">{newer} " " {older}</nav>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pager_links_keep_the_filters() {
        let f = Filters {
            workflow: "deploy".into(),
            status: "failed".into(),
            ..Filters::default()
        };
        assert_eq!(f.query(None), "/runs?workflow=deploy&status=failed");
        assert_eq!(
            f.query(Some("0193-ab")),
            "/runs?workflow=deploy&status=failed&before=0193-ab"
        );
        assert_eq!(Filters::default().query(None), "/runs");
        let attention = Filters {
            attention: "1".into(),
            ..Filters::default()
        };
        assert_eq!(attention.query(Some("r9")), "/runs?attention=1&before=r9");
        assert_eq!(encode("a b&c"), "a%20b%26c");
    }
}
