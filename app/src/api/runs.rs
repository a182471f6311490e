//! Server functions for runs: start, list, show, tail logs, cancel.

use crate::error::AppError;
use gantry_core::run::{LogPage, RunDetail, RunPage, RunSummary, TriggerOutcome};
use leptos::prelude::*;
use std::collections::BTreeMap;

#[cfg(feature = "ssr")]
use super::ssr;

/// Starts a run from the dashboard (`Trigger::Manual`). Inputs arrive as
/// text fields named `inputs[NAME]`; the port coerces them to their declared
/// types. A field left empty counts as not given, so the input's default
/// applies (or the port says it is required). On success the browser goes to
/// the new run's page, or, where the environment requires approval, to the
/// approvals.
#[server(prefix = "/ui", endpoint = "trigger_run")]
pub async fn trigger_run(
    workflow: String,
    environment: String,
    #[server(default)] inputs: BTreeMap<String, String>,
    #[server(default)] reason: Option<String>,
) -> Result<TriggerOutcome, AppError> {
    use gantry_core::run::{Trigger, TriggerRequest};
    let (plane, ctx) = ssr::port().await?;
    let request = TriggerRequest {
        workflow,
        environment,
        inputs: inputs
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect(),
        reason,
        version: None,
    };
    let outcome = ssr::answer(plane.trigger_run(&ctx, request, Trigger::Manual).await)?;
    match &outcome {
        TriggerOutcome::Started { run } => ssr::redirect_to(&format!("/runs/{}", run.id)),
        TriggerOutcome::AwaitingApproval { .. } => ssr::redirect_to("/approvals"),
    }
    Ok(outcome)
}

/// One page of runs, newest first. Every filter is optional text, as a GET
/// form sends it; empty means "any".
#[server(prefix = "/ui", endpoint = "runs")]
pub async fn list_runs(
    workflow: Option<String>,
    environment: Option<String>,
    status: Option<String>,
    before: Option<String>,
    #[server(default)] attention: Option<String>,
) -> Result<RunPage, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let filter = match parse_run_filter(workflow, environment, status, before, attention) {
        Ok(f) => f,
        Err(e) => return ssr::answer(Err(e)),
    };
    ssr::answer(plane.list_runs(&ctx, filter).await)
}

#[server(prefix = "/ui", endpoint = "run")]
pub async fn get_run(id: String) -> Result<RunDetail, AppError> {
    let (plane, ctx) = ssr::port().await?;
    ssr::answer(plane.run(&ctx, &id).await)
}

/// Log lines of a run (one step's when `step` is given) after sequence
/// number `after`: pass the previous page's `last_seq` to tail.
#[server(prefix = "/ui", endpoint = "run_logs")]
pub async fn get_run_logs(
    id: String,
    step: Option<String>,
    after: Option<i64>,
) -> Result<LogPage, AppError> {
    use gantry_core::run::LogQuery;
    let (plane, ctx) = ssr::port().await?;
    let query = LogQuery {
        step: step.filter(|s| !s.is_empty()),
        after,
        limit: None,
    };
    ssr::answer(plane.run_logs(&ctx, &id, query).await)
}

/// Stops a queued or running run, then returns to its page.
#[server(prefix = "/ui", endpoint = "cancel_run")]
pub async fn cancel_run(id: String) -> Result<RunSummary, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let run = ssr::answer(plane.cancel_run(&ctx, &id).await)?;
    ssr::redirect_to(&format!("/runs/{}", run.id));
    Ok(run)
}

/// The Needs attention form's one post: re-runs (`act` is a mode:
/// `same_version`, `active_version`, `from_failed_step`) or dismisses
/// (`act` = `dismiss`, with `note`) the runs checked (`selected[run-ID]`). A
/// plain form post, so it works without JavaScript; back on the list, the
/// URL says how many were done and the first refusal.
#[server(prefix = "/ui", endpoint = "act_on_failed_runs")]
pub async fn act_on_failed_runs(
    #[server(default)] selected: BTreeMap<String, String>,
    act: String,
    #[server(default)] note: Option<String>,
) -> Result<Vec<gantry_core::run::attention::BulkResult>, AppError> {
    use gantry_core::PortError;
    use gantry_core::run::attention::{DismissAsk, RerunAsk, RerunMode};
    let (plane, ctx) = ssr::port().await?;
    // Keys are `run-ID`: a bare id may begin with digits, which the form
    // decoder would take for a list index.
    let runs: Vec<String> = selected
        .into_keys()
        .map(|k| k.strip_prefix("run-").map_or(k.clone(), str::to_owned))
        .collect();
    let results = if act == "dismiss" {
        let note = note.unwrap_or_default();
        ssr::answer(plane.dismiss_runs(&ctx, DismissAsk { runs, note }).await)?
    } else {
        let Some(mode) = RerunMode::parse(&act) else {
            return ssr::answer(Err(PortError::invalid(
                "act",
                "choose dismiss, same_version, active_version or from_failed_step",
            )));
        };
        ssr::answer(plane.rerun_runs(&ctx, RerunAsk { runs, mode }).await)?
    };
    ssr::redirect_to(&attention_outcome_url(&results));
    Ok(results)
}

/// Where the Needs attention form returns: the list, with how many runs
/// were done and the first refusal's reason.
#[cfg(any(feature = "ssr", test))]
pub(crate) fn attention_outcome_url(results: &[gantry_core::run::attention::BulkResult]) -> String {
    let done = results.iter().filter(|r| r.ok).count();
    let mut url = format!(
        "/runs?attention=1&done={done}&refused={}",
        results.len() - done
    );
    if let Some(why) = results.iter().find_map(|r| r.error.as_deref()) {
        let why: String = why.chars().take(300).collect();
        url.push_str("&why=");
        url.push_str(&crate::pages::runs::encode(&why));
    }
    url
}

/// Empty filter fields mean "any"; a status must be one the port knows.
#[cfg(any(feature = "ssr", test))]
pub(crate) fn parse_run_filter(
    workflow: Option<String>,
    environment: Option<String>,
    status: Option<String>,
    before: Option<String>,
    attention: Option<String>,
) -> Result<gantry_core::run::RunFilter, gantry_core::PortError> {
    use gantry_core::PortError;
    use gantry_core::run::{RunFilter, RunStatus};
    let given = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let status = match given(status) {
        None => None,
        Some(s) => Some(RunStatus::parse(&s).ok_or_else(|| {
            let known: Vec<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
            PortError::invalid(
                "status",
                format!("unknown status {s:?}: choose one of {}", known.join(", ")),
            )
        })?),
    };
    Ok(RunFilter {
        workflow: given(workflow),
        environment: given(environment),
        status,
        // A checkbox: present (any value but "0" or "false") means on.
        attention: given(attention).is_some_and(|v| v != "0" && v != "false"),
        before: given(before),
        limit: None,
        visible_environments: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::run::RunStatus;

    #[test]
    fn empty_filters_mean_any_and_bad_statuses_name_the_field() {
        let f = parse_run_filter(
            Some("deploy".into()),
            Some(String::new()),
            Some("failed".into()),
            None,
            Some("1".into()),
        )
        .unwrap();
        assert_eq!(f.workflow.as_deref(), Some("deploy"));
        assert_eq!(f.environment, None);
        assert_eq!(f.status, Some(RunStatus::Failed));
        assert!(f.attention);
        let f = parse_run_filter(None, None, None, None, Some("0".into())).unwrap();
        assert!(!f.attention);
        let err = parse_run_filter(None, None, Some("done".into()), None, None).unwrap_err();
        assert!(
            err.to_string().starts_with("status: unknown status"),
            "{err}"
        );
    }

    #[test]
    fn the_attention_form_returns_to_the_list_saying_what_happened() {
        use gantry_core::run::attention::BulkResult;
        let result = |ok: bool, error: Option<&str>| BulkResult {
            run: "r".into(),
            ok,
            rerun: None,
            approval: None,
            error: error.map(str::to_owned),
        };
        assert_eq!(
            attention_outcome_url(&[
                result(true, None),
                result(false, Some("run r was dismissed already"))
            ]),
            "/runs?attention=1&done=1&refused=1&why=run%20r%20was%20dismissed%20already"
        );
        assert_eq!(
            attention_outcome_url(&[result(true, None)]),
            "/runs?attention=1&done=1&refused=0"
        );
    }
}
