//! Break-glass passkeys (docs/break-glass.md) on both databases, with a
//! software authenticator (`soft_passkey.rs`): an admin registers one
//! (step-up, the cap, nobody else may), signs in with it at
//! `/break-glass` into an admin session that every page marks, whose
//! actions are all recorded as break-glass, that ends at its fixed time
//! and can't register more passkeys; a challenge counts once; a revoked
//! passkey, a disabled or demoted account signs nobody in; an export lists
//! passkeys without their keys and erasure deletes them; the chain
//! verifies; a `privilege_escalation` rule fires on the registration and on
//! the sign-in.

use crate::alert_pass_kinds::{FAST, escalation_rule, wait_phase};
use crate::audit::{text as verify_text, verify_db};
use crate::helpers::{Backend, Person, TestApp, location, new_client};
use crate::on_both_backends;
use crate::soft_passkey::SoftPasskey;
use gantry_server::runtime::clock::ShiftedClock;
use reqwest::Client;
use serde_json::{Value, json};
use std::sync::Arc;

on_both_backends!(
    an_admin_breaks_glass_with_a_passkey_into_a_marked_time_boxed_session,
    registering_a_passkey_and_breaking_glass_fire_a_privilege_escalation,
    passkeys_are_for_admins_up_to_the_cap_and_revoking_one_ends_its_use,
    a_disabled_or_demoted_admin_breaks_no_glass,
);

/// The origin a browser at the local server reports (WebAuthn needs a
/// domain name: a loopback server's passkeys belong to `localhost`).
const ORIGIN: &str = "http://localhost:3000";

const HELLO: &str = "name: hello\nsteps:\n  - id: a\n    run: echo hi\n";

/// Registers a passkey named `name` for `person`; the status and body of
/// the finishing call.
async fn register(person: &Person, key: &SoftPasskey, name: &str) -> (u16, Value) {
    let (status, begun) = person.post("/passkeys/registrations", json!({})).await;
    if status != 201 {
        return (status, begun);
    }
    person
        .post(
            "/passkeys",
            json!({
                "ceremony": begun["ceremony"],
                "name": name,
                "credential": key.register(&begun["options"]),
            }),
        )
        .await
}

/// The first half of a break-glass sign-in from `browser`: the ceremony.
async fn begin(app: &TestApp, browser: &Client, username: &str) -> (u16, Value) {
    let resp = browser
        .post(app.url("/ui/start_break_glass"))
        .header("accept", "application/json")
        .form(&[("username", username)])
        .send()
        .await
        .expect("start");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The second half: where the form post sends the browser.
async fn finish(app: &TestApp, browser: &Client, ceremony: &Value, answer: &Value) -> String {
    let resp = browser
        .post(app.url("/auth/break-glass"))
        .form(&[
            ("ceremony", ceremony.as_str().unwrap_or_default()),
            ("credential", &answer.to_string()),
        ])
        .send()
        .await
        .expect("finish");
    assert_eq!(resp.status(), 303);
    location(&resp)
}

/// Signs `browser` in with `key` as `username`; where it lands.
async fn break_glass(
    app: &TestApp,
    browser: &Client,
    key: &mut SoftPasskey,
    username: &str,
) -> String {
    let (status, begun) = begin(app, browser, username).await;
    assert_eq!(status, 200, "{begun}");
    let answer = key.sign_in(&begun["options"]);
    finish(app, browser, &begun["ceremony"], &answer).await
}

async fn records(app: &TestApp, action: &str) -> Vec<Value> {
    let (status, page) = app.api_get(&format!("/audit?action={action}")).await;
    assert_eq!(status, 200, "{page}");
    page["records"].as_array().cloned().unwrap_or_default()
}

async fn an_admin_breaks_glass_with_a_passkey_into_a_marked_time_boxed_session(backend: Backend) {
    let clock = Arc::new(ShiftedClock::default());
    let app = TestApp::spawn_with_clock(backend, &["--dev"], clock.clone()).await;
    let admin = app.person("admin").await;
    let mut key = SoftPasskey::new(ORIGIN);
    let (status, passkey) = register(&admin, &key, "  YubiKey in the safe ").await;
    assert_eq!(status, 201, "{passkey}");
    assert_eq!(passkey["name"], "YubiKey in the safe");
    assert_eq!(passkey["username"], "admin");
    assert!(passkey["last_used_at"].is_null());
    let registered = records(&app, "passkey.register").await;
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0]["outcome"], "succeeded");
    assert_eq!(registered[0]["details"]["passkey_id"], passkey["id"]);
    // Nothing of the key in the record.
    let record = registered[0].to_string();
    assert!(!record.contains("credential"), "{record}");

    // Single sign-on is down: a fresh browser signs in with the passkey.
    let browser = new_client();
    assert_eq!(break_glass(&app, &browser, &mut key, "admin").await, "/");
    let me: Value = browser
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "admin", "{me}");
    let (status, page) = {
        let resp = browser.get(app.url("/")).send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    };
    assert_eq!(status, 200);
    assert!(page.contains("BREAK-GLASS SESSION"), "every page says so");
    let signed_in = records(&app, "auth.break_glass").await;
    assert_eq!(signed_in.len(), 1);
    assert_eq!(signed_in[0]["outcome"], "succeeded");
    assert_eq!(signed_in[0]["actor"]["id"], passkey["user_id"]);
    assert_eq!(signed_in[0]["details"]["break_glass"], true);
    assert_eq!(signed_in[0]["details"]["passkey"], "YubiKey in the safe");

    // What the session does is recorded as break-glass; a session signed
    // in the usual way is not.
    let applied = browser
        .post(app.url("/api/v1/workflows"))
        .header("content-type", "application/yaml")
        .body(HELLO)
        .send()
        .await
        .unwrap();
    assert_eq!(applied.status(), 201);
    let (status, _) = admin
        .post("/workflows/hello/runs", json!({"environment": "dev"}))
        .await;
    assert_eq!(status, 201);
    let applies = records(&app, "workflow.apply").await;
    assert_eq!(applies[0]["details"]["break_glass"], true, "{}", applies[0]);
    let triggers = records(&app, "run.trigger").await;
    assert!(triggers[0]["details"].get("break_glass").is_none());

    // A break-glass session registers no passkeys.
    let begun = browser
        .post(app.url("/api/v1/passkeys/registrations"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(begun.status(), 403);

    // The passkey shows its use; the same answer again is refused (its
    // challenge is spent), and the failure is on record.
    let (_, listed) = admin.get("/passkeys").await;
    assert!(!listed[0]["last_used_at"].is_null(), "{listed}");
    let (_, begun) = begin(&app, &new_client(), "admin").await;
    let answer = key.sign_in(&begun["options"]);
    let replayer = new_client();
    assert_eq!(
        finish(&app, &replayer, &begun["ceremony"], &answer).await,
        "/"
    );
    let again = finish(&app, &new_client(), &begun["ceremony"], &answer).await;
    assert!(again.starts_with("/break-glass?error="), "{again}");
    let failed = records(&app, "auth.break_glass").await;
    assert_eq!(failed[0]["outcome"], "failed", "{}", failed[0]);

    // An hour on, the session is over, however busy it was; never renewed.
    clock.advance(chrono::Duration::minutes(61));
    let resp = browser.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let out = verify_db(&app).await;
    assert!(out.status.success(), "{}", verify_text(&out));
}

async fn passkeys_are_for_admins_up_to_the_cap_and_revoking_one_ends_its_use(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev", "--break-glass-max-passkeys", "2"]).await;
    let admin = app.person("admin").await;
    let operator = app.person("operator").await;
    let key = SoftPasskey::new(ORIGIN);
    let (status, refused) = register(&operator, &key, "mine").await;
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("admin@*"),
        "{refused}"
    );

    let (status, first) = register(&admin, &key, "first").await;
    assert_eq!(status, 201, "{first}");
    // The same authenticator again: the options exclude it, and an answer
    // with it anyway doesn't verify.
    let (status, duplicate) = register(&admin, &key, "again").await;
    assert_eq!(status, 400, "{duplicate}");
    assert_eq!(
        duplicate["error"]["details"]["field"], "credential",
        "{duplicate}"
    );
    let (status, _) = register(&admin, &SoftPasskey::new(ORIGIN), "second").await;
    assert_eq!(status, 201);
    let (status, at_cap) = register(&admin, &SoftPasskey::new(ORIGIN), "third").await;
    assert_eq!(status, 409, "{at_cap}");
    assert!(
        at_cap["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoke one first"),
        "{at_cap}"
    );

    // Everyone's passkeys for admins, one's own for others.
    let (_, all) = admin.get("/passkeys").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (_, own) = operator.get("/passkeys").await;
    assert_eq!(own, json!([]));
    let id = first["id"].as_str().unwrap();
    let (status, _) = operator.delete(&format!("/passkeys/{id}")).await;
    assert_eq!(status, 403);
    let (status, revoked) = admin.delete(&format!("/passkeys/{id}")).await;
    assert_eq!(status, 200, "{revoked}");
    let (status, _) = admin.delete(&format!("/passkeys/{id}")).await;
    assert_eq!(status, 404);
    let revocations = records(&app, "passkey.revoke").await;
    let outcomes: Vec<&str> = revocations
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["failed", "succeeded", "denied"], "newest first");

    // The revoked passkey signs nobody in: the ceremony lists only the
    // other, and its answer doesn't verify.
    let mut revoked_key = key;
    let browser = new_client();
    let (status, begun) = begin(&app, &browser, "admin").await;
    assert_eq!(status, 200);
    let allowed = begun["options"]["publicKey"]["allowCredentials"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(allowed, 1);
    let answer = revoked_key.sign_in(&begun["options"]);
    let landed = finish(&app, &browser, &begun["ceremony"], &answer).await;
    assert!(landed.starts_with("/break-glass?error="), "{landed}");
    let resp = browser.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(resp.status(), 401);

    // After revoking made room: a name is needed, and an answer from
    // another site doesn't verify.
    let (status, unnamed) = register(&admin, &SoftPasskey::new(ORIGIN), " ").await;
    assert_eq!(status, 400, "{unnamed}");
    assert_eq!(unnamed["error"]["details"]["field"], "name", "{unnamed}");
    let (status, phished) = register(
        &admin,
        &SoftPasskey::new("https://gantry.evil.example"),
        "phished",
    )
    .await;
    assert_eq!(status, 400, "{phished}");
    assert_eq!(
        phished["error"]["details"]["field"], "credential",
        "{phished}"
    );
    // Nobody without a passkey, or unknown, gets a ceremony.
    let (status, _) = begin(&app, &new_client(), "operator").await;
    assert_eq!(status, 404);
    let (status, _) = begin(&app, &new_client(), "nobody-here").await;
    assert_eq!(status, 404);
}

async fn a_disabled_or_demoted_admin_breaks_no_glass(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let admin = app.person("admin").await;
    let mut key = SoftPasskey::new(ORIGIN);
    let (status, passkey) = register(&admin, &key, "desk").await;
    assert_eq!(status, 201, "{passkey}");
    let user = passkey["user_id"].as_str().unwrap().to_owned();

    // Demoted between the two halves: refused, on record.
    let browser = new_client();
    let (_, begun) = begin(&app, &browser, "admin").await;
    app.exec_sql(&format!(
        "UPDATE role_grants SET environment = 'dev' WHERE user_id = '{user}' AND role = 'admin'"
    ))
    .await;
    let answer = key.sign_in(&begun["options"]);
    let landed = finish(&app, &browser, &begun["ceremony"], &answer).await;
    assert!(landed.contains("no+longer"), "{landed}");
    let refused = records(&app, "auth.break_glass").await;
    assert_eq!(refused[0]["outcome"], "denied", "{}", refused[0]);
    app.exec_sql(&format!(
        "UPDATE role_grants SET environment = '*' WHERE user_id = '{user}' AND role = 'admin'"
    ))
    .await;

    // Disabled: not even a ceremony.
    let (status, _) = app
        .api_post(&format!("/users/{user}/disable"), json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = begin(&app, &new_client(), "admin").await;
    assert_eq!(status, 404);

    // A person's export lists their passkeys without the key; erasing them
    // deletes the passkeys.
    let (status, export) = app.api_get(&format!("/users/{user}/export")).await;
    assert_eq!(status, 200, "{export}");
    let listed = export["records"]["passkeys"].as_array().expect("passkeys");
    assert_eq!(listed.len(), 1, "{export}");
    assert_eq!(listed[0]["name"], "desk");
    assert!(listed[0].get("credential").is_none(), "{}", listed[0]);
    assert!(listed[0].get("credential_id").is_none(), "{}", listed[0]);
    let (status, report) = app
        .api_post(&format!("/users/{user}/erase"), json!({}))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["rows"]["passkeys"], 1, "{report}");
    assert_eq!(app.count_sql("SELECT COUNT(*) FROM passkeys").await, 0);
}

async fn registering_a_passkey_and_breaking_glass_fire_a_privilege_escalation(backend: Backend) {
    let app = TestApp::spawn_on(backend, FAST).await;
    let receiver = escalation_rule(&app).await;
    let admin = app.person("admin").await;
    let mut key = SoftPasskey::new(ORIGIN);
    let (status, passkey) = register(&admin, &key, "safe").await;
    assert_eq!(status, 201, "{passkey}");
    assert_eq!(
        break_glass(&app, &new_client(), &mut key, "admin").await,
        "/"
    );

    // Each record is an instance of its own: both fire (and resolve).
    let bodies = receiver.wait_for(4).await;
    let firing: Vec<&str> = bodies
        .iter()
        .filter(|b| b["status"] == "firing")
        .filter_map(|b| b["summary"].as_str())
        .collect();
    assert_eq!(firing.len(), 2, "{bodies:#?}");
    assert!(
        firing
            .iter()
            .any(|s| s.contains("registered break-glass passkey \"safe\"")),
        "{firing:?}"
    );
    assert!(
        firing
            .iter()
            .any(|s| s.contains("signed in with a break-glass passkey")),
        "{firing:?}"
    );
    let list = wait_phase(&app, "escalations", "resolved").await;
    assert_eq!(list.len(), 2, "{list:#?}");
}
