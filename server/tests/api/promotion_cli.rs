//! The promotion commands end to end: the `gantry` binary against a real
//! server on both databases, as an operator and an approver use it.
//! Promote one environment at a time, a gated promotion that `--wait`s for
//! a tick and another person's approval, rollback with its refusals and the
//! rolled-back mark, runs in flight, and the ledger's `--at` answer.

use crate::helpers::{Backend, TOKEN, TestApp};
use crate::on_both_backends;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

on_both_backends!(
    promote_moves_a_version_one_environment_at_a_time,
    a_gated_promotion_waits_for_a_tick_and_another_persons_approval,
    a_pending_promotion_exits_3_and_can_be_rejected_or_cancelled,
    rollback_returns_to_the_previous_version_and_marks_the_bad_one,
    rollback_cancels_the_bad_versions_runs_only_when_asked,
);

const V1: &str = "name: shipit\nsteps:\n  - id: ship\n    run: echo one\n";
const V2: &str = "name: shipit\nsteps:\n  - id: ship\n    run: echo two\n";
/// A second version whose run stays running until cancelled.
const V2_SLOW: &str = "name: shipit\nsteps:\n  - id: ship\n    run: sleep 120\n";

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the `gantry` CLI against the app as the holder of `token`.
async fn gantry(app: &TestApp, token: &str, args: &[&str]) -> Out {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .env("GANTRY_URL", app.url(""))
        .env("GANTRY_TOKEN", token)
        .output()
        .await
        .expect("run gantry");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A token the admin makes in their session: it acts for the admin, a
/// person other than `system`, who applied the versions (through the
/// bootstrap token) and asks for the promotions.
async fn admins_token(app: &TestApp, name: &str, role: &str) -> String {
    let admin = crate::helpers::new_client();
    let resp = admin
        .post(app.url("/auth/dev/sign-in"))
        .form(&[("username", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let resp = admin
        .post(app.url("/api/v1/tokens"))
        .json(&json!({"name": name, "roles": [role]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let made: Value = resp.json().await.unwrap();
    made["secret"].as_str().unwrap().to_owned()
}

/// A token made with the bootstrap token (it acts for `system`).
async fn token(app: &TestApp, name: &str, role: &str) -> String {
    let (status, made) = app
        .api_post("/tokens", json!({"name": name, "roles": [role]}))
        .await;
    assert_eq!(status, 201, "{made}");
    made["secret"].as_str().unwrap().to_owned()
}

async fn apply(app: &TestApp, yaml: &str) {
    let (status, body) = app.apply(yaml).await;
    assert!(status == 201 || status == 200, "apply: {status} {body}");
}

/// Prod needs one approver and one manual item the operator ticks.
async fn gate_prod(app: &TestApp) {
    let (status, body) = app
        .api(
            reqwest::Method::PUT,
            "/environments/prod/policy",
            Some(json!({
                "required_approvals": 1,
                "step_up": true,
                "checklist": [{"id": "on_call_aware", "check": {
                    "kind": "manual", "text": "On-call knows", "role": "operator"}}],
            })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// The id of the one pending request for `shipit`, once it exists.
async fn pending_id(app: &TestApp) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, list) = app
            .api_get("/promotions?workflow=shipit&state=pending")
            .await;
        assert_eq!(status, 200, "{list}");
        if let Some(id) = list[0]["id"].as_str() {
            return id.to_owned();
        }
        assert!(Instant::now() < deadline, "no pending request appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn promote_moves_a_version_one_environment_at_a_time(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    apply(&app, V1).await;

    let skip = gantry(
        &app,
        TOKEN,
        &["promote", "shipit", "--to", "prod", "--reason", "r"],
    )
    .await;
    assert_eq!(skip.code, Some(1), "{skip}");
    assert!(skip.stderr.contains("promote it to stage first"), "{skip}");
    let unknown = gantry(
        &app,
        TOKEN,
        &["promote", "shipit", "--to", "qa", "--reason", "r"],
    )
    .await;
    assert_eq!(unknown.code, Some(1), "{unknown}");
    assert!(
        unknown
            .stderr
            .contains("the environments are dev, stage, prod"),
        "{unknown}"
    );
    let missing = gantry(
        &app,
        TOKEN,
        &["promote", "nope", "--to", "stage", "--reason", "r"],
    )
    .await;
    assert_eq!(missing.code, Some(1), "{missing}");
    assert!(missing.stderr.contains("not found"), "{missing}");
    let viewer = token(&app, "viewer", "viewer@*").await;
    let denied = gantry(
        &app,
        &viewer,
        &["promote", "shipit", "--to", "stage", "--reason", "r"],
    )
    .await;
    assert_eq!(denied.code, Some(1), "{denied}");
    assert!(
        denied
            .stderr
            .contains("asking for promotions into stage needs the operator or admin role there"),
        "{denied}"
    );

    // Stage requires nothing: promoted at once.
    let to_stage = gantry(
        &app,
        TOKEN,
        &["promote", "shipit", "--to", "stage", "--reason", "first"],
    )
    .await;
    assert_eq!(to_stage.code, Some(0), "{to_stage}");
    assert!(
        to_stage
            .stdout
            .starts_with("promoted: shipit (none) -> v1 in stage (promotion by "),
        "{to_stage}"
    );
    let again = gantry(
        &app,
        TOKEN,
        &["promote", "shipit", "--to", "stage", "--reason", "r"],
    )
    .await;
    assert_eq!(again.code, Some(1), "{again}");
    assert!(again.stderr.contains("already active in stage"), "{again}");

    // The ledger, then which version was active between two moves.
    let between = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    apply(&app, V2).await;
    let v2 = gantry(
        &app,
        TOKEN,
        &["promote", "shipit", "--to", "stage", "--reason", "second"],
    )
    .await;
    assert_eq!(v2.code, Some(0), "{v2}");

    let ledger = gantry(&app, TOKEN, &["deployments", "shipit"]).await;
    assert_eq!(ledger.code, Some(0), "{ledger}");
    let rows: Vec<&str> = ledger.stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 4, "{ledger}");
    assert!(
        rows[0].contains("stage      v1 -> v2       promotion"),
        "{ledger}"
    );
    assert!(rows[0].ends_with("second"), "{ledger}");
    assert!(
        rows[1].contains("dev        v1 -> v2       apply"),
        "{ledger}"
    );
    assert!(
        rows[2].contains("stage      (none) -> v1   promotion"),
        "{ledger}"
    );
    assert!(
        rows[3].contains("dev        (none) -> v1   apply"),
        "{ledger}"
    );

    let then = gantry(
        &app,
        TOKEN,
        &["deployments", "shipit", "--env", "stage", "--at", &between],
    )
    .await;
    assert_eq!(then.code, Some(0), "{then}");
    let lines: Vec<&str> = then.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{then}");
    let row = format!("{:<24} {:<10} {:<8} ", "shipit", "stage", "v1");
    assert!(lines[2].starts_with(&row), "{then}");
    let before = gantry(
        &app,
        TOKEN,
        &["deployments", "--at", "2000-01-01T00:00:00Z"],
    )
    .await;
    assert_eq!(before.code, Some(0), "{before}");
    assert_eq!(
        before.stdout,
        "nothing was active at 2000-01-01 00:00 UTC for this filter\n"
    );
}

async fn a_gated_promotion_waits_for_a_tick_and_another_persons_approval(backend: Backend) {
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--worker-slots",
            "0",
            "--token-approvals",
            "dev,stage,prod",
        ],
    )
    .await;
    gate_prod(&app).await;
    apply(&app, V1).await;
    let up = gantry(
        &app,
        TOKEN,
        &["promote", "shipit", "--to", "stage", "--reason", "r"],
    )
    .await;
    assert_eq!(up.code, Some(0), "{up}");
    let approver = admins_token(&app, "prod-approver", "approver@prod").await;

    // The requester waits in the background, as a deploy script would.
    let waiting = tokio::process::Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args([
            "promote",
            "shipit",
            "--to",
            "prod",
            "--reason",
            "release 1",
            "--wait",
            "--timeout",
            "2m",
        ])
        .env("GANTRY_URL", app.url(""))
        .env("GANTRY_TOKEN", TOKEN)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start gantry promote --wait");
    let id = pending_id(&app).await;

    let shown = gantry(&app, TOKEN, &["promotion", "show", &id]).await;
    assert_eq!(shown.code, Some(0), "{shown}");
    assert!(
        shown.stdout.contains(&format!("promotion {id}: pending")),
        "{shown}"
    );
    assert!(
        shown
            .stdout
            .contains("  to tick  on_call_aware - On-call knows"),
        "{shown}"
    );
    assert!(shown.stdout.contains("approvals 0/1"), "{shown}");
    assert!(
        shown.stdout.contains("diff: nothing is active in prod yet"),
        "{shown}"
    );

    let listed = gantry(
        &app,
        &approver,
        &["promotions", "--pending", "--env", "prod"],
    )
    .await;
    assert_eq!(listed.code, Some(0), "{listed}");
    assert!(
        listed.stdout.contains(&id) && listed.stdout.contains("stage -> prod"),
        "{listed}"
    );

    // The operator's item, ticked by the requester (admin everywhere).
    let tick = gantry(
        &app,
        TOKEN,
        &[
            "promotion",
            "check",
            &id,
            "on_call_aware",
            "--evidence",
            "https://chat.example/1",
        ],
    )
    .await;
    assert_eq!(tick.code, Some(0), "{tick}");
    assert!(
        tick.stdout.contains("checklist 1/1, approvals 0/1"),
        "{tick}"
    );

    // Four eyes: not the requester (who also applied the version).
    let own = gantry(&app, TOKEN, &["promotion", "approve", &id]).await;
    assert_eq!(own.code, Some(1), "{own}");
    assert!(own.stderr.contains("four eyes"), "{own}");

    let approved = gantry(
        &app,
        &approver,
        &["promotion", "approve", &id, "--comment", "diff reviewed"],
    )
    .await;
    assert_eq!(approved.code, Some(0), "{approved}");
    assert!(approved.stdout.contains(": promoted"), "{approved}");
    assert!(
        approved
            .stdout
            .contains("shipit (none) -> v1 in prod (promotion by "),
        "{approved}"
    );
    let twice = gantry(&app, &approver, &["promotion", "approve", &id]).await;
    assert_eq!(twice.code, Some(1), "{twice}");
    assert!(
        twice.stderr.contains("only a pending request")
            || twice.stderr.contains("already approved"),
        "{twice}"
    );

    let waited = tokio::time::timeout(Duration::from_secs(60), waiting.wait_with_output())
        .await
        .expect("--wait ended once promoted")
        .unwrap();
    let out = String::from_utf8_lossy(&waited.stdout);
    assert_eq!(waited.status.code(), Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "promotion {id}: shipit v1, stage -> prod: pending"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "promotion {id}: shipit v1, stage -> prod: promoted"
        )),
        "{out}"
    );

    let shown = gantry(&app, TOKEN, &["promotion", "show", &id]).await;
    assert!(
        shown
            .stdout
            .contains("deployed: shipit (none) -> v1 in prod"),
        "{shown}"
    );
    assert!(shown.stdout.contains("  ok       on_call_aware"), "{shown}");
    let ledger = gantry(&app, TOKEN, &["deployments", "shipit", "--env", "prod"]).await;
    assert!(
        ledger.stdout.contains("(none) -> v1   promotion"),
        "{ledger}"
    );
    assert!(ledger.stdout.contains("release 1"), "{ledger}");
}

async fn a_pending_promotion_exits_3_and_can_be_rejected_or_cancelled(backend: Backend) {
    let app = TestApp::spawn_on(
        backend,
        &[
            "--dev",
            "--worker-slots",
            "0",
            "--token-approvals",
            "dev,stage,prod",
        ],
    )
    .await;
    gate_prod(&app).await;
    apply(&app, V1).await;
    gantry(
        &app,
        TOKEN,
        &["promote", "shipit", "--to", "stage", "--reason", "r"],
    )
    .await;
    let approver = admins_token(&app, "prod-approver", "approver@prod").await;

    let asked = gantry(
        &app,
        TOKEN,
        &["promote", "shipit", "--to", "prod", "--reason", "r"],
    )
    .await;
    assert_eq!(asked.code, Some(3), "not promoted, not a success: {asked}");
    assert!(asked.stdout.contains("waiting for:"), "{asked}");
    assert!(
        asked.stdout.contains("0 of 1 required approval given"),
        "{asked}"
    );
    let id = pending_id(&app).await;
    assert!(
        asked
            .stdout
            .contains(&format!("gantry promotion show {id}")),
        "{asked}"
    );

    let same = gantry(
        &app,
        TOKEN,
        &["promote", "shipit", "--to", "prod", "--reason", "r"],
    )
    .await;
    assert_eq!(same.code, Some(1), "{same}");
    assert!(
        same.stderr.contains(&id),
        "names the pending request: {same}"
    );

    let rejected = gantry(
        &app,
        &approver,
        &["promotion", "reject", &id, "--comment", "freeze"],
    )
    .await;
    assert_eq!(rejected.code, Some(0), "{rejected}");
    assert!(rejected.stdout.contains(": rejected"), "{rejected}");
    assert!(rejected.stdout.contains("freeze"), "{rejected}");

    // A new request, left to time out in --wait, then cancelled.
    let timed_out = gantry(
        &app,
        TOKEN,
        &[
            "promote",
            "shipit",
            "--to",
            "prod",
            "--reason",
            "r",
            "--wait",
            "--timeout",
            "1s",
        ],
    )
    .await;
    assert_eq!(timed_out.code, Some(3), "{timed_out}");
    assert!(
        timed_out.stdout.contains("still pending after 1s"),
        "{timed_out}"
    );
    let id = pending_id(&app).await;
    let not_theirs = gantry(&app, &approver, &["promotion", "cancel", &id]).await;
    assert_eq!(not_theirs.code, Some(1), "{not_theirs}");
    let cancelled = gantry(&app, TOKEN, &["promotion", "cancel", &id]).await;
    assert_eq!(cancelled.code, Some(0), "{cancelled}");
    assert!(cancelled.stdout.contains(": cancelled"), "{cancelled}");

    let history = gantry(
        &app,
        TOKEN,
        &["promotions", "--workflow", "shipit", "--env", "prod"],
    )
    .await;
    assert!(
        history.stdout.contains("rejected") && history.stdout.contains("cancelled"),
        "{history}"
    );
    let none = gantry(&app, TOKEN, &["promotions", "--pending"]).await;
    assert_eq!(none.stdout, "no promotion requests match\n", "{none}");
}

async fn rollback_returns_to_the_previous_version_and_marks_the_bad_one(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--worker-slots", "0"]).await;
    apply(&app, V1).await;
    gantry(
        &app,
        TOKEN,
        &["promote", "shipit", "--to", "stage", "--reason", "r"],
    )
    .await;
    apply(&app, V2).await;
    gantry(
        &app,
        TOKEN,
        &["promote", "shipit", "--to", "stage", "--reason", "r"],
    )
    .await;

    let viewer = token(&app, "viewer", "viewer@*").await;
    let denied = gantry(
        &app,
        &viewer,
        &["rollback", "shipit", "--env", "stage", "--reason", "r"],
    )
    .await;
    assert_eq!(denied.code, Some(1), "{denied}");
    assert!(
        denied
            .stderr
            .contains("rolling back in stage needs the operator or admin role there"),
        "{denied}"
    );
    let nothing = gantry(
        &app,
        TOKEN,
        &["rollback", "shipit", "--env", "prod", "--reason", "r"],
    )
    .await;
    assert_eq!(nothing.code, Some(1), "{nothing}");
    assert!(
        nothing.stderr.contains("nothing is active in prod"),
        "{nothing}"
    );
    let never = gantry(
        &app,
        TOKEN,
        &[
            "rollback", "shipit", "--env", "stage", "--to", "7", "--reason", "r",
        ],
    )
    .await;
    assert_eq!(never.code, Some(1), "{never}");
    assert!(
        never.stderr.contains("(versions that were: 1, 2)"),
        "{never}"
    );

    let operator = token(&app, "on-call", "operator@stage").await;
    let back = gantry(
        &app,
        &operator,
        &[
            "rollback",
            "shipit",
            "--env",
            "stage",
            "--reason",
            "INC-1: v2 broke it",
        ],
    )
    .await;
    assert_eq!(back.code, Some(0), "{back}");
    assert!(
        back.stdout
            .starts_with("rolled back shipit in stage: v2 -> v1 (deployment "),
        "{back}"
    );
    assert!(
        back.stdout.contains("v2 is marked rolled back in stage"),
        "{back}"
    );

    // Nothing before v1 that wasn't rolled back itself.
    let further = gantry(
        &app,
        TOKEN,
        &["rollback", "shipit", "--env", "stage", "--reason", "r"],
    )
    .await;
    assert_eq!(further.code, Some(1), "{further}");
    assert!(
        further.stderr.contains("nothing to roll back to in stage"),
        "{further}"
    );

    // v2 is still active in dev; promoting it again needs a confirmation.
    let again = gantry(
        &app,
        TOKEN,
        &["promote", "shipit", "--to", "stage", "--reason", "r"],
    )
    .await;
    assert_eq!(again.code, Some(1), "{again}");
    assert!(again.stderr.contains("--confirm-rolled-back"), "{again}");
    let confirmed = gantry(
        &app,
        TOKEN,
        &[
            "promote",
            "shipit",
            "--to",
            "stage",
            "--reason",
            "fixed elsewhere",
            "--confirm-rolled-back",
        ],
    )
    .await;
    assert_eq!(confirmed.code, Some(0), "{confirmed}");

    let ledger = gantry(&app, TOKEN, &["deployments", "shipit", "--env", "stage"]).await;
    let rows: Vec<&str> = ledger.stdout.lines().skip(1).collect();
    assert!(rows[0].contains("v1 -> v2       promotion"), "{ledger}");
    assert!(rows[1].contains("v2 -> v1       rollback"), "{ledger}");
    assert!(rows[1].ends_with("INC-1: v2 broke it"), "{ledger}");
}

async fn rollback_cancels_the_bad_versions_runs_only_when_asked(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    apply(&app, V1).await;
    gantry(
        &app,
        TOKEN,
        &["promote", "shipit", "--to", "stage", "--reason", "r"],
    )
    .await;
    apply(&app, V2_SLOW).await;
    gantry(
        &app,
        TOKEN,
        &["promote", "shipit", "--to", "stage", "--reason", "r"],
    )
    .await;

    let (status, run) = app
        .api_post(
            "/workflows/shipit/runs",
            json!({"environment": "stage", "inputs": {}}),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    assert_eq!(run["version"], 2, "{run}");
    let kept = run["id"].as_str().unwrap().to_owned();
    app.wait_run(&kept, |r| r["status"] == "running").await;

    // Without --cancel-running the run keeps its version.
    let back = gantry(
        &app,
        TOKEN,
        &["rollback", "shipit", "--env", "stage", "--reason", "r"],
    )
    .await;
    assert_eq!(back.code, Some(0), "{back}");
    assert!(
        back.stdout
            .contains("runs of v2 already started or queued keep v2"),
        "{back}"
    );
    let (_, run) = app.api_get(&format!("/runs/{kept}")).await;
    assert_eq!(run["status"], "running", "{run}");
    assert_eq!(run["version"], 2, "{run}");

    // v2 again on purpose, then a rollback that cancels what still runs.
    let again = gantry(
        &app,
        TOKEN,
        &[
            "promote",
            "shipit",
            "--to",
            "stage",
            "--reason",
            "r",
            "--confirm-rolled-back",
        ],
    )
    .await;
    assert_eq!(again.code, Some(0), "{again}");
    let back = gantry(
        &app,
        TOKEN,
        &[
            "rollback",
            "shipit",
            "--env",
            "stage",
            "--reason",
            "r",
            "--cancel-running",
        ],
    )
    .await;
    assert_eq!(back.code, Some(0), "{back}");
    assert!(back.stdout.contains("cancelled 1 run of v2: "), "{back}");
    assert!(back.stdout.contains(&kept), "{back}");
    let run = app.finished_run(&kept).await;
    assert_eq!(run["status"], "cancelled", "{run}");

    // New runs use the version rolled back to.
    let (status, run) = app
        .api_post(
            "/workflows/shipit/runs",
            json!({"environment": "stage", "inputs": {}}),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    assert_eq!(run["version"], 1, "{run}");
}
