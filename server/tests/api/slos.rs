//! SLOs over real runs, on both databases: exact counts per objective and
//! window, the budget and burn rates the port shapes from them, the runs
//! that spent budget, the alerting facts, what is not found, and who may
//! see which environment's SLO.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use gantry_server::alerting::facts::ActiveSpecs;
use gantry_server::alerting::facts::slo::slo_facts;
use gantry_server::store::{self, DatabaseUrl};
use serde_json::{Value, json};

/// 90% of runs succeed, 80% within 3 seconds, over a week, in dev only.
/// `mode` picks how a run ends: `ok` at once, `fail`, `slow` (a success
/// after 4 s) or `hang` (until cancelled).
pub const SPEC: &str = r#"
name: slo-demo
inputs:
  mode: { type: string, default: ok }
slo:
  dev:
    window: 7d
    success: 90%
    duration: { within: 3s, target: 80% }
steps:
  - id: work
    run: |
      case "${{ inputs.mode }}" in
        fail) exit 1 ;;
        slow) sleep 4 ;;
        hang) sleep 120 ;;
      esac
"#;

/// The same workflow without an SLO.
const PLAIN: &str = "name: plain\nsteps:\n  - id: work\n    run: \"true\"\n";

pub async fn app_with_slo(backend: Backend) -> TestApp {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let (status, body) = app.apply(SPEC).await;
    assert_eq!(status, 201, "{body}");
    app
}

/// Runs `slo-demo` to its end in `mode`; its id.
pub async fn run(app: &TestApp, mode: &str, want: &str) -> String {
    let id = app.trigger("slo-demo", json!({ "mode": mode })).await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], want, "{run}");
    id
}

/// A run cancelled while it runs: not counted anywhere.
async fn cancelled(app: &TestApp) -> String {
    let id = app.trigger("slo-demo", json!({ "mode": "hang" })).await;
    app.wait_run(&id, |r| r["status"] == "running").await;
    let (status, body) = app.api_post(&format!("/runs/{id}/cancel"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    run_ended(app, &id, "cancelled").await;
    id
}

async fn run_ended(app: &TestApp, id: &str, want: &str) {
    let run = app.finished_run(id).await;
    assert_eq!(run["status"], want, "{run}");
}

fn counts(v: &Value) -> (u64, u64) {
    (v["good"].as_u64().unwrap(), v["bad"].as_u64().unwrap())
}

fn close(v: &Value, want: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() < 1e-9)
}

/// The burn window `label` of one objective's detail.
fn window<'a>(objective: &'a Value, label: &str) -> &'a Value {
    objective["burn"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["window"] == label)
        .unwrap_or_else(|| panic!("no {label} window in {objective}"))
}

async fn counts_real_runs_exactly(backend: Backend) {
    let app = app_with_slo(backend).await;
    let mut good = Vec::new();
    for _ in 0..3 {
        good.push(run(&app, "ok", "succeeded").await);
    }
    let failed_1 = run(&app, "fail", "failed").await;
    let slow = run(&app, "slow", "succeeded").await;
    let failed_2 = run(&app, "fail", "failed").await;
    let cancelled = cancelled(&app).await;

    // The list: one SLO, its figures over the 7-day window.
    let (status, list) = app.api_get("/slos").await;
    assert_eq!(status, 200, "{list}");
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let slo = &list[0];
    assert_eq!(slo["workflow"], "slo-demo");
    assert_eq!(slo["environment"], "dev");
    assert_eq!(slo["version"], 1);
    assert_eq!(slo["window"], "7days");
    assert_eq!(
        slo["description"],
        "90% succeed, 80% succeed within 3s over 7days"
    );
    let success = &slo["objectives"][0];
    let duration = &slo["objectives"][1];
    assert_eq!(success["objective"], "success");
    // 4 successes (one slow), 2 failures; the cancelled run is not counted.
    assert_eq!(counts(&success["counts"]), (4, 2));
    assert!(close(&success["sli"], 4.0 / 6.0), "{success}");
    // 6 runs at 90% allow 0.6 bad runs; 2 spent 2 ÷ 0.6 of it.
    assert!(
        close(&success["budget_remaining"], 1.0 - 2.0 / 0.6),
        "{success}"
    );
    // 6 runs cannot show 90%: it needs 10.
    assert_eq!(success["too_few_runs"], true);
    assert_eq!(duration["objective"], "duration");
    assert_eq!(duration["within"], "3s");
    // In time: the 3 quick successes. Bad: 2 failures and the slow one.
    assert_eq!(counts(&duration["counts"]), (3, 3));
    assert!(
        close(&duration["budget_remaining"], 1.0 - 3.0 / 1.2),
        "{duration}"
    );
    // 6 runs at 80% allow 1.2 bad ones: enough to judge.
    assert_eq!(duration["too_few_runs"], false);
    // Success burns at 3.3× (over the 1d/2h ticket's 3×), duration at 2.5×
    // (over the 3d/6h ticket's 1× only); the most urgent is the 1d ticket.
    assert_eq!(
        success["decision"],
        json!({"decision": "ticket", "pair": "ticket1d"})
    );
    assert_eq!(success["severity"], "ticket");
    assert_eq!(
        duration["decision"],
        json!({"decision": "ticket", "pair": "ticket3d"})
    );
    assert_eq!(slo["decision"], success["decision"]);

    // The status: the same summary and the figures behind it.
    let (status, detail) = app.api_get("/workflows/slo-demo/slos/dev").await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["summary"], *slo);
    let success = &detail["objectives"][0];
    assert_eq!(success["budget"]["state"], "measured");
    assert_eq!(success["budget"]["allowed_bad"], 0);
    assert_eq!(success["budget"]["bad_runs_left"], -2);
    assert_eq!(success["volume"]["runs"], 6);
    assert_eq!(success["volume"]["runs_needed"], 10);
    assert!(close(&success["volume"]["one_failure_spends"], 1.0 / 0.6));
    // Every window from 30m up holds every run (the test takes well under
    // half an hour); 5m may have lost the first ones on a slow machine.
    for label in ["30m", "1h", "2h", "6h", "1d", "3d"] {
        let w = window(success, label);
        assert_eq!(counts(&w["counts"]), (4, 2), "{label}");
        assert!(close(&w["burn_rate"], (2.0 / 6.0) / 0.1), "{label}: {w}");
    }
    let m5 = counts(&window(success, "5m")["counts"]);
    assert!(m5.0 <= 4 && m5.1 <= 2, "{m5:?}");
    let holding: Vec<&str> = success["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["holds"] == true)
        .map(|p| p["pair"].as_str().unwrap())
        .collect();
    assert_eq!(holding, ["ticket1d", "ticket3d"]);
    let duration = &detail["objectives"][1];
    assert_eq!(counts(&window(duration, "1h")["counts"]), (3, 3));
    // The chart: a week of hours whose runs add up to the window's.
    let history = success["history"].as_array().unwrap();
    assert_eq!(history.len(), 168);
    let (g, b) = history
        .iter()
        .map(|h| counts(&h["counts"]))
        .fold((0, 0), |(g, b), (hg, hb)| (g + hg, b + hb));
    assert_eq!((g, b), (4, 2));
    // The runs that spent budget: newest first, the cancelled one and the
    // good ones left out, each with what it spent.
    let bad: Vec<(&str, &str, Vec<&str>)> = detail["bad_runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
                r["spent"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        bad,
        [
            (failed_2.as_str(), "failed", vec!["success", "duration"]),
            (slow.as_str(), "succeeded", vec!["duration"]),
            (failed_1.as_str(), "failed", vec!["success", "duration"]),
        ]
    );
    assert!(
        detail["bad_runs"][1]["duration_ms"].as_u64().unwrap() >= 4_000,
        "{}",
        detail["bad_runs"][1]
    );
    assert_eq!(detail["bad_runs_limited"], false);
    assert!(!detail.to_string().contains(&cancelled));
    for id in &good {
        assert!(!detail.to_string().contains(id.as_str()));
    }

    // The alerting facts count the same runs (one instance per SLO).
    let store = store::connect(&DatabaseUrl::parse(&app.db_url).unwrap(), 2)
        .await
        .unwrap();
    let active = ActiveSpecs::load(&store).await.unwrap();
    let facts = slo_facts(&store, &active, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(facts.instances.len(), 1, "{facts:?}");
    let instance = &facts.instances[0];
    assert_eq!(
        (instance.workflow.as_str(), instance.environment.as_str()),
        ("slo-demo", "dev")
    );
    let windows = |i: usize| instance.objectives[i].counts;
    use gantry_core::slo::{BurnWindow, Counts};
    assert_eq!(windows(0).get(BurnWindow::D3), Counts::new(4, 2));
    assert_eq!(windows(1).get(BurnWindow::H1), Counts::new(3, 3));
    assert_eq!(instance.objectives[1].target.ppm(), 800_000);
}

/// A run that took exactly `within` is in time; one a millisecond longer is
/// not (the spec's "within", to the millisecond on both databases).
async fn exactly_within_is_in_time(backend: Backend) {
    let app = app_with_slo(backend).await;
    let exact = run(&app, "ok", "succeeded").await;
    let over = run(&app, "ok", "succeeded").await;
    for (id, millis) in [(&exact, 3_000), (&over, 3_001)] {
        let sql = match app.backend {
            Backend::Postgres => format!(
                "UPDATE runs SET started_at = finished_at - interval '{millis} milliseconds' WHERE id = '{id}'"
            ),
            // SQLite keeps timestamps as sqlx writes them (RFC 3339 text).
            Backend::Sqlite => {
                let finished = app
                    .scalar_text(&format!("SELECT finished_at FROM runs WHERE id = '{id}'"))
                    .await;
                let finished = chrono::DateTime::parse_from_rfc3339(&finished).unwrap();
                let started = finished - chrono::Duration::milliseconds(millis);
                format!(
                    "UPDATE runs SET started_at = '{}' WHERE id = '{id}'",
                    started.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
                )
            }
        };
        app.exec_sql(&sql).await;
    }
    let (status, detail) = app.api_get("/workflows/slo-demo/slos/dev").await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(
        counts(&detail["summary"]["objectives"][1]["counts"]),
        (1, 1)
    );
    assert_eq!(
        counts(&detail["summary"]["objectives"][0]["counts"]),
        (2, 0)
    );
    let bad = detail["bad_runs"].as_array().unwrap();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0]["id"], over.as_str());
    assert_eq!(bad[0]["duration_ms"], 3_001);
    assert_eq!(bad[0]["spent"], json!(["duration"]));
}

/// Moves a finished run's start and end back by `hours` (arranging what
/// real time can't: runs that ended days ago).
async fn shift_back(app: &TestApp, id: &str, hours: i64) {
    match app.backend {
        Backend::Postgres => {
            app.exec_sql(&format!(
                "UPDATE runs SET started_at = started_at - interval '{hours} hours',
                        finished_at = finished_at - interval '{hours} hours' WHERE id = '{id}'"
            ))
            .await
        }
        // SQLite keeps timestamps as sqlx writes them (RFC 3339 text).
        Backend::Sqlite => {
            for column in ["started_at", "finished_at"] {
                let at = app
                    .scalar_text(&format!("SELECT {column} FROM runs WHERE id = '{id}'"))
                    .await;
                let at = chrono::DateTime::parse_from_rfc3339(&at).unwrap()
                    - chrono::Duration::hours(hours);
                app.exec_sql(&format!(
                    "UPDATE runs SET {column} = '{}' WHERE id = '{id}'",
                    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
                ))
                .await;
            }
        }
    }
}

/// A run counts in the windows its end falls in: one that ended 2 days ago
/// is in 3d and the SLO window only, one 8 days ago in none (a 7-day SLO),
/// and the chart puts each run in its hour.
async fn runs_count_in_the_windows_their_end_falls_in(backend: Backend) {
    let app = app_with_slo(backend).await;
    let two_days = run(&app, "fail", "failed").await;
    let eight_days = run(&app, "fail", "failed").await;
    run(&app, "ok", "succeeded").await;
    shift_back(&app, &two_days, 48).await;
    shift_back(&app, &eight_days, 8 * 24).await;

    let (status, detail) = app.api_get("/workflows/slo-demo/slos/dev").await;
    assert_eq!(status, 200, "{detail}");
    let success = &detail["objectives"][0];
    assert_eq!(
        counts(&detail["summary"]["objectives"][0]["counts"]),
        (1, 1)
    );
    assert_eq!(counts(&window(success, "1d")["counts"]), (1, 0));
    assert_eq!(counts(&window(success, "3d")["counts"]), (1, 1));
    assert!(close(&window(success, "1d")["burn_rate"], 0.0));
    // 1 bad of 2 at 90%: 5×; over 3d only, so only the 3d/6h pair's long
    // window burns and no pair holds.
    assert!(close(&window(success, "3d")["burn_rate"], 5.0));
    assert!(
        success["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["holds"] == false)
    );
    let history = success["history"].as_array().unwrap();
    let with_runs: Vec<(usize, (u64, u64))> = history
        .iter()
        .enumerate()
        .map(|(i, h)| (i, counts(&h["counts"])))
        .filter(|(_, c)| *c != (0, 0))
        .collect();
    // The success is in the current hour (the last bar, or the one before
    // if an hour began since); the failure, moved 48 hours back, 48 bars
    // before it (49 if an hour began between the two runs).
    assert_eq!(with_runs.len(), 2, "{with_runs:?}");
    assert_eq!(with_runs[0].1, (0, 1));
    assert_eq!(with_runs[1].1, (1, 0));
    assert!((166..=167).contains(&with_runs[1].0), "{with_runs:?}");
    assert!(
        (48..=49).contains(&(with_runs[1].0 - with_runs[0].0)),
        "{with_runs:?}"
    );
    let bad = detail["bad_runs"].as_array().unwrap();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0]["id"], two_days.as_str());
}

/// No SLO, no workflow, no SLO in that environment: 404 with what is
/// missing; an environment the server lacks: 400. Nothing listed for a
/// workflow without an SLO.
async fn what_is_not_declared_is_not_found(backend: Backend) {
    let app = app_with_slo(backend).await;
    let (status, body) = app.apply(PLAIN).await;
    assert_eq!(status, 201, "{body}");
    app.activate_dev_versions_in_stage().await;

    let (status, body) = app.api_get("/workflows/plain/slos/dev").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("declares no slo.dev"), "{message}");
    let (status, body) = app.api_get("/workflows/nothing-here/slos/dev").await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("workflow \"nothing-here\""),
        "{body}"
    );
    // slo-demo is active in stage now, but declares its SLO for dev only;
    // and in prod it has no active version at all.
    for env in ["stage", "prod"] {
        let (status, body) = app
            .api_get(&format!("/workflows/slo-demo/slos/{env}"))
            .await;
        assert_eq!(status, 404, "{env}: {body}");
    }
    let (status, body) = app.api_get("/workflows/slo-demo/slos/qa").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown environment")
    );

    let (status, list) = app.api_get("/slos?workflow=plain").await;
    assert_eq!((status, list), (200, json!([])));
    let (status, list) = app.api_get("/slos?workflow=slo-demo").await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let (status, body) = app.api_get("/slos?flavour=x").await;
    assert_eq!(status, 400, "{body}");
    // An SLO with no runs yet: no data, not 100%.
    let summary = &list[0]["objectives"][0];
    assert_eq!(summary["sli"], Value::Null);
    assert_eq!(summary["budget_remaining"], Value::Null);
    assert_eq!(summary["decision"], json!({"decision": "quiet"}));
    let (_, detail) = app.api_get("/workflows/slo-demo/slos/dev").await;
    assert_eq!(
        detail["objectives"][0]["budget"],
        json!({"state": "no_data"})
    );
}

/// Reads are scoped like runs: a viewer of prod alone sees no dev SLO in
/// the list and is refused the dev SLO itself (before learning whether it
/// exists); a viewer of dev sees both.
async fn only_environments_the_caller_sees(backend: Backend) {
    let app = app_with_slo(backend).await;
    run(&app, "fail", "failed").await;
    let token = |roles: &[&str]| {
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        let name = format!("slo-{}", roles.join("-").replace(['@', '*'], "_"));
        let app = &app;
        async move {
            let (status, body) = app
                .api_post("/tokens", json!({"name": name, "roles": roles}))
                .await;
            assert_eq!(status, 201, "{body}");
            body["secret"].as_str().unwrap().to_owned()
        }
    };
    let get = |secret: String, path: &'static str| {
        let app = &app;
        async move {
            let resp = app
                .client
                .get(app.url(&format!("/api/v1{path}")))
                .bearer_auth(secret)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap())
        }
    };
    let prod_viewer = token(&["viewer@prod"]).await;
    let (status, list) = get(prod_viewer.clone(), "/slos").await;
    assert_eq!((status, list), (200, json!([])));
    let (status, body) = get(prod_viewer.clone(), "/workflows/slo-demo/slos/dev").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    // Not even whether a workflow exists there.
    let (status, _) = get(prod_viewer, "/workflows/nothing-here/slos/dev").await;
    assert_eq!(status, 403);

    let dev_viewer = token(&["viewer@dev"]).await;
    let (status, list) = get(dev_viewer.clone(), "/slos").await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let (status, detail) = get(dev_viewer, "/workflows/slo-demo/slos/dev").await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(
        counts(&detail["summary"]["objectives"][0]["counts"]),
        (0, 1)
    );
}

on_both_backends!(
    counts_real_runs_exactly,
    exactly_within_is_in_time,
    runs_count_in_the_windows_their_end_falls_in,
    what_is_not_declared_is_not_found,
    only_environments_the_caller_sees,
);
