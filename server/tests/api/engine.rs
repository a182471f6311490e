//! The engine end to end, on both databases: DAG semantics, retries,
//! timeouts, cancel, concurrency, outputs. Each test boots a real server
//! (scheduler + worker in-process) and drives it through the REST API.

use crate::helpers::{Backend, TestApp, step_statuses};
use crate::on_both_backends;
use serde_json::json;

on_both_backends!(
    diamond_runs_in_dependency_order,
    a_failure_skips_dependents_and_fails_the_run,
    retries_follow_the_policy_until_success,
    step_timeout_kills_the_whole_process_group,
    run_timeout_stops_everything,
    cancel_stops_running_steps_and_queues_nothing,
    concurrency_limit_queues_extra_runs,
    outputs_flow_to_later_steps_and_inputs_never_reach_the_shell_parser,
    logs_are_captured_line_by_line_with_a_cap,
    a_nul_byte_in_output_is_replaced_and_the_step_still_reports,
    http_steps_are_judged_by_status,
    shell_steps_start_from_an_empty_environment,
);

async fn app(backend: Backend) -> TestApp {
    TestApp::spawn_on(backend, &["--dev"]).await
}

/// A server whose steps may also write `shared` (`--step-allow-write`): the
/// sandbox keeps steps out of the test's own folder, so a step that leaves
/// evidence for the test (a counter, a pid) leaves it there.
async fn app_sharing(backend: Backend) -> (TestApp, tempfile::TempDir) {
    let shared = tempfile::tempdir().unwrap();
    // Writable by the step user (`nobody` when the tests run as root).
    std::fs::set_permissions(
        shared.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--step-allow-write",
            shared.path().to_str().unwrap(),
        ],
    )
    .await;
    (app, shared)
}

fn attempts(run: &serde_json::Value, step: &str) -> Vec<serde_json::Value> {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == step)
        .unwrap()["attempts"]
        .as_array()
        .unwrap()
        .clone()
}

fn time(run: &serde_json::Value, step: &str, field: &str) -> chrono::DateTime<chrono::Utc> {
    let s = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == step)
        .unwrap();
    s[field].as_str().unwrap().parse().unwrap()
}

async fn diamond_runs_in_dependency_order(backend: Backend) {
    let app = app(backend).await;
    let id = app
        .apply_and_run(
            r#"
name: diamond
steps:
  - id: a
    run: echo a
  - id: b
    needs: [a]
    run: sleep 0.3
  - id: c
    needs: [a]
    run: sleep 0.3
  - id: d
    needs: [b, c]
    run: echo d
"#,
            json!({}),
        )
        .await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert!(step_statuses(&run).values().all(|s| s == "succeeded"));
    assert!(time(&run, "b", "started_at") >= time(&run, "a", "finished_at"));
    assert!(time(&run, "c", "started_at") >= time(&run, "a", "finished_at"));
    assert!(time(&run, "d", "started_at") >= time(&run, "b", "finished_at"));
    assert!(time(&run, "d", "started_at") >= time(&run, "c", "finished_at"));
    // Independent branches overlap.
    assert!(time(&run, "c", "started_at") < time(&run, "b", "finished_at"));
    // Each attempt removes its folder before it reports, the last one the
    // run's too: a finished run leaves nothing in the work root.
    let left: Vec<_> = std::fs::read_dir(app.dir.path().join("work"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left in the work root: {left:?}");
}

async fn a_failure_skips_dependents_and_fails_the_run(backend: Backend) {
    let app = app(backend).await;
    let id = app
        .apply_and_run(
            r#"
name: failing
steps:
  - id: broken
    run: echo about to fail; exit 3
  - id: after
    needs: [broken]
    run: echo never
  - id: later
    needs: [after]
    run: echo never
  - id: independent
    run: echo fine
"#,
            json!({}),
        )
        .await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "failed");
    let s = step_statuses(&run);
    assert_eq!(s["broken"], "failed");
    assert_eq!(s["after"], "skipped");
    assert_eq!(s["later"], "skipped");
    assert_eq!(s["independent"], "succeeded");
    let a = attempts(&run, "broken");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["exit_code"], 3);
    assert_eq!(a[0]["error"], "exited with status 3");
    assert!(attempts(&run, "after").is_empty());
}

async fn retries_follow_the_policy_until_success(backend: Backend) {
    let (app, shared) = app_sharing(backend).await;
    let counter = shared.path().join("count");
    let yaml = format!(
        r#"
name: flaky
steps:
  - id: flaky
    run: |
      n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}
      echo "attempt $n"; [ "$n" -ge 3 ]
    retries: {{ max_attempts: 4, backoff: exponential, initial: 200ms }}
"#,
        c = counter.display()
    );
    let id = app.apply_and_run(&yaml, json!({})).await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let a = attempts(&run, "flaky");
    let statuses: Vec<&str> = a.iter().map(|a| a["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["failed", "failed", "succeeded"]);
    // Backoff: 200 ms before attempt 2, 400 ms before attempt 3.
    let gap = |i: usize| {
        let end: chrono::DateTime<chrono::Utc> =
            a[i]["finished_at"].as_str().unwrap().parse().unwrap();
        let next: chrono::DateTime<chrono::Utc> =
            a[i + 1]["started_at"].as_str().unwrap().parse().unwrap();
        (next - end).num_milliseconds()
    };
    assert!(gap(0) >= 190, "first backoff {} ms", gap(0));
    assert!(gap(1) >= 390, "second backoff {} ms", gap(1));
}

async fn step_timeout_kills_the_whole_process_group(backend: Backend) {
    let (app, shared) = app_sharing(backend).await;
    let pidfile = shared.path().join("child.pid");
    let yaml = format!(
        r#"
name: slow
steps:
  - id: slow
    timeout: 1s
    run: |
      sleep 60 &
      echo $! > {p}
      wait
"#,
        p = pidfile.display()
    );
    let id = app.apply_and_run(&yaml, json!({})).await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "failed");
    assert_eq!(step_statuses(&run)["slow"], "timed_out");
    assert_eq!(attempts(&run, "slow")[0]["error"], "timed out after 1s");
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let alive = std::path::Path::new(&format!("/proc/{}", pid.trim())).exists()
        && !std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
            .unwrap_or_default()
            .contains(") Z ");
    assert!(
        !alive,
        "the background child {} outlived the step",
        pid.trim()
    );
}

async fn run_timeout_stops_everything(backend: Backend) {
    let app = app(backend).await;
    let id = app
        .apply_and_run(
            r#"
name: too-long
timeout: 1s
steps:
  - id: long
    run: sleep 30
  - id: next
    needs: [long]
    run: echo never
"#,
            json!({}),
        )
        .await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "timed_out", "{run:#}");
    assert_eq!(run["error"], "the run exceeded its 1s timeout");
    let s = step_statuses(&run);
    assert_eq!(s["long"], "timed_out");
    assert_eq!(s["next"], "cancelled");
    let took = chrono::DateTime::parse_from_rfc3339(run["finished_at"].as_str().unwrap()).unwrap()
        - chrono::DateTime::parse_from_rfc3339(run["started_at"].as_str().unwrap()).unwrap();
    assert!(took.num_seconds() < 15, "stopped promptly, took {took}");
}

async fn cancel_stops_running_steps_and_queues_nothing(backend: Backend) {
    let app = app(backend).await;
    let id = app
        .apply_and_run(
            r#"
name: cancellable
steps:
  - id: long
    run: sleep 30
  - id: next
    needs: [long]
    run: echo never
"#,
            json!({}),
        )
        .await;
    app.wait_run(&id, |r| step_statuses(r)["long"] == "running")
        .await;
    let (status, body) = app.api_post(&format!("/runs/{id}/cancel"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["cancel_requested"], true);
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "cancelled");
    let s = step_statuses(&run);
    assert_eq!(s["long"], "cancelled");
    assert_eq!(s["next"], "cancelled");
    assert!(attempts(&run, "next").is_empty());
    // Cancelling again is a conflict that says why.
    let (status, body) = app.api_post(&format!("/runs/{id}/cancel"), json!({})).await;
    assert_eq!(status, 409);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already finished (cancelled)")
    );
}

async fn concurrency_limit_queues_extra_runs(backend: Backend) {
    let app = app(backend).await;
    let gate = app.dir.path().join("gate");
    let yaml = format!(
        r#"
name: one-at-a-time
concurrency: 1
steps:
  - id: wait
    run: while [ ! -e {g} ]; do sleep 0.05; done
"#,
        g = gate.display()
    );
    let first = app.apply_and_run(&yaml, json!({})).await;
    let second = app.trigger("one-at-a-time", json!({})).await;
    app.wait_run(&first, |r| r["status"] == "running").await;
    let (_, run2) = app.api_get(&format!("/runs/{second}")).await;
    assert_eq!(run2["status"], "queued", "second run waits for a slot");
    std::fs::write(&gate, "open").unwrap();
    assert_eq!(app.finished_run(&first).await["status"], "succeeded");
    let run2 = app.finished_run(&second).await;
    assert_eq!(run2["status"], "succeeded");
    let first_done: chrono::DateTime<chrono::Utc> = app.api_get(&format!("/runs/{first}")).await.1
        ["finished_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let second_start: chrono::DateTime<chrono::Utc> =
        run2["started_at"].as_str().unwrap().parse().unwrap();
    assert!(second_start >= first_done);
}

async fn outputs_flow_to_later_steps_and_inputs_never_reach_the_shell_parser(backend: Backend) {
    let app = app(backend).await;
    let marker = app.dir.path().join("pwned");
    let id = app
        .apply_and_run(
            r#"
name: outputs
inputs:
  target: { type: string }
  count: { type: integer, default: 2 }
steps:
  - id: produce
    run: |
      echo "sha=abc123" >> "$GANTRY_OUTPUT"
      echo "ignored=1" >> "$GANTRY_OUTPUT"
    outputs: [sha]
  - id: consume
    needs: [produce]
    run: |
      echo "got ${{ steps.produce.outputs.sha }} for ${{ inputs.target }} x${{ inputs.count }}"
      echo "workdir=$GANTRY_WORKDIR"
"#,
            json!({ "target": format!("$(touch {})", marker.display()) }),
        )
        .await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(run["steps"][0]["outputs"], json!({ "sha": "abc123" }));
    assert!(!marker.exists(), "an input value was executed by the shell");
    let (_, logs) = app.api_get(&format!("/runs/{id}/logs?step=consume")).await;
    let text: Vec<&str> = logs["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert!(
        text.iter()
            .any(|l| l.starts_with("got abc123 for $(touch ") && l.ends_with(" x2")),
        "{text:?}"
    );
    let (_, logs) = app.api_get(&format!("/runs/{id}/logs?step=produce")).await;
    assert!(
        logs["lines"].as_array().unwrap().iter().any(|l| l["text"]
            .as_str()
            .unwrap()
            .contains("\"ignored\" is not declared")),
        "{logs:#}"
    );
}

async fn logs_are_captured_line_by_line_with_a_cap(backend: Backend) {
    let app = app(backend).await;
    let id = app
        .apply_and_run(
            r#"
name: chatty
steps:
  - id: talk
    run: |
      echo out-1; echo err-1 >&2; echo out-2
      i=0; while [ $i -lt 12000 ]; do echo "line $i"; i=$((i+1)); done
"#,
            json!({}),
        )
        .await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded");
    let mut lines = Vec::new();
    let mut after: Option<i64> = None;
    loop {
        let path = match after {
            Some(a) => format!("/runs/{id}/logs?step=talk&after={a}"),
            None => format!("/runs/{id}/logs?step=talk"),
        };
        let (status, page) = app.api_get(&path).await;
        assert_eq!(status, 200);
        let batch = page["lines"].as_array().unwrap().clone();
        if batch.is_empty() {
            assert_eq!(page["complete"], true);
            break;
        }
        after = page["last_seq"].as_i64();
        lines.extend(batch);
    }
    let texts: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["stream"].as_str().unwrap().to_owned(),
                l["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(texts.contains(&("stdout".into(), "out-1".into())));
    assert!(texts.contains(&("stderr".into(), "err-1".into())));
    assert!(texts.len() <= 10_002, "capped: {}", texts.len());
    let last = &texts.last().unwrap();
    assert_eq!(last.0, "system");
    assert!(last.1.starts_with("output truncated: "), "{last:?}");
}

/// PostgreSQL's text holds no NUL, and the last lines are written with the
/// attempt's end: one such byte must not cost the step its report.
async fn a_nul_byte_in_output_is_replaced_and_the_step_still_reports(backend: Backend) {
    let app = app(backend).await;
    let id = app
        .apply_and_run(
            r#"
name: binary
steps:
  - id: print
    run: printf 'a\000b\n'
"#,
            json!({}),
        )
        .await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let (_, logs) = app.api_get(&format!("/runs/{id}/logs?step=print")).await;
    let stdout: Vec<&str> = logs["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["stream"] == "stdout")
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert_eq!(stdout, ["a\u{FFFD}b"], "{logs:#}");
}

async fn http_steps_are_judged_by_status(backend: Backend) {
    // The targets are this server and a closed port on loopback, which HTTP
    // steps reach only when the operator allows it.
    let app = TestApp::spawn_on(backend, &["--dev", "--http-step-allow", "127.0.0.1@dev"]).await;
    let health = app.url("/healthz");
    let yaml = format!(
        r#"
name: http
steps:
  - id: ok
    http: {{ method: get, url: "{health}", expect_status: [200] }}
  - id: wrong
    http: {{ method: GET, url: "{health}", expect_status: [204] }}
  - id: unreachable
    timeout: 2s
    http: {{ method: POST, url: "http://127.0.0.1:9/hook?key=s3cret", body: '{{"ok":true}}' }}
"#
    );
    let id = app.apply_and_run(&yaml, json!({})).await;
    let run = app.finished_run(&id).await;
    let s = step_statuses(&run);
    assert_eq!(s["ok"], "succeeded", "{run:#}");
    assert_eq!(s["wrong"], "failed");
    assert_eq!(
        attempts(&run, "wrong")[0]["error"],
        "HTTP 200 (expected 204)"
    );
    assert_eq!(s["unreachable"], "failed");
    let error = attempts(&run, "unreachable")[0]["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.starts_with("request failed"), "{error}");
    let (_, logs) = app.api_get(&format!("/runs/{id}/logs")).await;
    let all = logs.to_string();
    assert!(all.contains("HTTP 200 in"), "{all}");
    assert!(
        !all.contains("s3cret"),
        "query strings are never logged: {all}"
    );
    assert!(!error.contains("s3cret"), "{error}");
}

async fn shell_steps_start_from_an_empty_environment(backend: Backend) {
    let app = app(backend).await;
    let id = app
        .apply_and_run(
            r#"
name: env
steps:
  - id: show
    env: { GREETING: hello }
    run: env | sort
"#,
            json!({}),
        )
        .await;
    let run = app.finished_run(&id).await;
    assert_eq!(run["status"], "succeeded");
    let (_, logs) = app.api_get(&format!("/runs/{id}/logs?step=show")).await;
    let names: Vec<String> = logs["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["stream"] == "stdout")
        .filter_map(|l| {
            l["text"]
                .as_str()
                .unwrap()
                .split_once('=')
                .map(|(k, _)| k.to_owned())
        })
        .collect();
    for expected in [
        "GREETING",
        "GANTRY_WORKDIR",
        "GANTRY_OUTPUT",
        "GANTRY_RUN_ID",
        "PATH",
        "HOME",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    // Nothing of the server's own environment (cargo sets these for tests).
    assert!(!names.iter().any(|n| n.starts_with("CARGO")), "{names:?}");
}
