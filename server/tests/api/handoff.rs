//! The finishing transaction's handoff, on both databases: a worker's
//! report stores the attempt's last log lines and, on SQLite, leases that
//! worker its next ready step, oldest first, with what the step needs (its
//! run's outputs so far). PostgreSQL's store hands off nothing (it would
//! hold the run's row lock through the claim): the step waits for a
//! claim. The server runs no worker here; the test is the worker.

use crate::helpers::{Backend, TestApp, step_statuses};
use crate::on_both_backends;
use chrono::Utc;
use gantry_core::run::{AttemptEnd, LogStream};
use gantry_server::store::queue::{AttemptResult, Claim, Handoff, NewLogLine, Settled};
use gantry_server::store::{self, DatabaseUrl, SharedStore};
use serde_json::json;
use std::time::Duration;

on_both_backends!(
    a_finished_step_hands_its_dependent_to_the_same_worker,
    a_handoff_takes_the_oldest_ready_step_first,
    a_stale_report_keeps_its_lines_and_takes_nothing,
);

const LEASE: Duration = Duration::from_secs(30);

/// Whether this backend's store hands the next step to a finishing worker.
fn hands_off(backend: Backend) -> bool {
    matches!(backend, Backend::Sqlite)
}

/// The step handed off with `settled`, or else the one a claim gets now.
async fn next_step(backend: Backend, store: &SharedStore, settled: &Settled) -> Claim {
    if hands_off(backend) {
        let [next] = settled.next.as_slice() else {
            panic!("one step handed off: {:?}", settled.next);
        };
        return next.clone();
    }
    assert!(settled.next.is_empty(), "{:?}", settled.next);
    let mut claims = store.claim_steps("w1", 1, Utc::now(), LEASE).await.unwrap();
    assert_eq!(claims.len(), 1, "{claims:?}");
    claims.remove(0)
}

const CHAIN: &str = r#"
name: chain
steps:
  - id: first
    run: "true"
  - id: second
    needs: [first]
    run: "true"
"#;

const SINGLE: &str = r#"
name: single
steps:
  - id: only
    run: "true"
"#;

/// A server that runs no steps, and a store on its database to be the
/// worker with.
async fn setup(backend: Backend) -> (TestApp, SharedStore) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    for spec in [CHAIN, SINGLE] {
        let (status, body) = app.apply(spec).await;
        assert!(status == 200 || status == 201, "{status} {body}");
    }
    let url = DatabaseUrl::parse(&app.db_url).unwrap();
    let store = store::connect(&url, 2).await.unwrap();
    (app, store)
}

fn succeeded(claim: &Claim, worker: &str, outputs: &[(&str, &str)]) -> AttemptResult {
    AttemptResult {
        run_id: claim.run_id.clone(),
        step_id: claim.step_id.clone(),
        attempt: claim.attempt,
        worker: worker.into(),
        end: AttemptEnd::Succeeded,
        exit_code: Some(0),
        error: None,
        outputs: outputs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

fn line(claim: &Claim, text: &str) -> NewLogLine {
    NewLogLine {
        run_id: claim.run_id.clone(),
        step_id: claim.step_id.clone(),
        attempt: claim.attempt,
        line: 1,
        stream: LogStream::Stdout,
        at: Utc::now(),
        text: text.into(),
    }
}

async fn finish(
    store: &SharedStore,
    result: AttemptResult,
    lines: &[NewLogLine],
    claim: u32,
) -> Settled {
    let handoff = Handoff {
        lines,
        claim,
        lease: LEASE,
    };
    store
        .finish_and_hand_off(result, handoff, Utc::now())
        .await
        .unwrap()
}

/// The run as it is now.
async fn run_now(app: &TestApp, id: &str) -> serde_json::Value {
    let (status, run) = app.api_get(&format!("/runs/{id}")).await;
    assert_eq!(status, 200, "{run}");
    run
}

async fn log_texts(app: &TestApp, run: &str, step: &str) -> Vec<String> {
    let (status, page) = app.api_get(&format!("/runs/{run}/logs?step={step}")).await;
    assert_eq!(status, 200, "{page}");
    page["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_finished_step_hands_its_dependent_to_the_same_worker(backend: Backend) {
    let (app, store) = setup(backend).await;
    let id = app.trigger("chain", json!({})).await;
    let claims = store.claim_steps("w1", 4, Utc::now(), LEASE).await.unwrap();
    assert_eq!(claims.len(), 1, "only the first step is ready: {claims:?}");
    let first = &claims[0];
    assert_eq!((first.step_id.as_str(), first.attempt), ("first", 1));

    let settled = finish(
        &store,
        succeeded(first, "w1", &[("answer", "42")]),
        &[line(first, "hello from first")],
        1,
    )
    .await;
    assert!(settled.accepted && settled.queued && !settled.run_finished);
    // The dependent it readied comes back leased (or is claimed next), with
    // the outputs so far.
    let second = &next_step(backend, &store, &settled).await;
    assert_eq!(
        (second.run_id.as_str(), second.step_id.as_str()),
        (id.as_str(), "second")
    );
    assert_eq!(second.attempt, 1);
    assert_eq!(second.outputs["first"]["answer"], "42");
    let run = run_now(&app, &id).await;
    assert_eq!(step_statuses(&run)["second"], "running", "{run:#}");
    let attempts = run["steps"][1]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["worker"], "w1");
    assert_eq!(attempts[0]["status"], "running");
    // The line came in with the end, in the same write.
    assert_eq!(log_texts(&app, &id, "first").await, ["hello from first"]);
    // Nothing is left for any other claim.
    assert!(
        store
            .claim_steps("w2", 4, Utc::now(), LEASE)
            .await
            .unwrap()
            .is_empty()
    );

    let settled = finish(&store, succeeded(second, "w1", &[]), &[], 1).await;
    assert!(settled.accepted && settled.run_finished);
    assert!(settled.next.is_empty(), "{:?}", settled.next);
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    // A dependent never starts before what it needs finished.
    let first_done: chrono::DateTime<Utc> = run["steps"][0]["finished_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let second_started: chrono::DateTime<Utc> = run["steps"][1]["started_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(second_started >= first_done, "{run:#}");
}

async fn a_handoff_takes_the_oldest_ready_step_first(backend: Backend) {
    let (app, store) = setup(backend).await;
    let chain = app.trigger("chain", json!({})).await;
    let claims = store.claim_steps("w1", 1, Utc::now(), LEASE).await.unwrap();
    assert_eq!(claims[0].run_id, chain);
    // Another run's step became ready before `first` finishes.
    let single = app.trigger("single", json!({})).await;

    let settled = finish(&store, succeeded(&claims[0], "w1", &[]), &[], 1).await;
    let next = next_step(backend, &store, &settled).await;
    assert_eq!(
        (next.run_id.as_str(), next.step_id.as_str()),
        (single.as_str(), "only")
    );
    // The chain's next step waits its turn for any worker.
    let run = run_now(&app, &chain).await;
    assert_eq!(step_statuses(&run)["second"], "queued", "{run:#}");
    let claims = store.claim_steps("w2", 4, Utc::now(), LEASE).await.unwrap();
    assert_eq!(claims.len(), 1, "{claims:?}");
    assert_eq!(
        (claims[0].run_id.as_str(), claims[0].step_id.as_str()),
        (chain.as_str(), "second")
    );
}

async fn a_stale_report_keeps_its_lines_and_takes_nothing(backend: Backend) {
    let (app, store) = setup(backend).await;
    let id = app.trigger("single", json!({})).await;
    let claims = store.claim_steps("w1", 1, Utc::now(), LEASE).await.unwrap();
    let claim = &claims[0];
    let other = app.trigger("single", json!({})).await;

    // A worker that doesn't hold the lease reports: its lines are kept
    // (as a separate append would have), nothing else changes, and it is
    // handed nothing.
    let settled = finish(
        &store,
        succeeded(claim, "not-the-owner", &[]),
        &[line(claim, "late words")],
        1,
    )
    .await;
    assert_eq!(settled, Settled::default());
    assert_eq!(log_texts(&app, &id, "only").await, ["late words"]);
    let run = run_now(&app, &id).await;
    assert_eq!(step_statuses(&run)["only"], "running", "{run:#}");
    let waiting = run_now(&app, &other).await;
    assert_eq!(step_statuses(&waiting)["only"], "queued", "{waiting:#}");
}
