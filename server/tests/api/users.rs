//! Accounts: the user list explains every role (what granted it), and
//! disabling an account cuts it off at once: its sessions end on their next
//! request, it can't sign in, and enabling it again doesn't revive them.

use crate::audit::all_records;
use crate::helpers::{Backend, TestApp, location, new_client};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(disabling_an_account_ends_its_sessions_at_once);

/// A second browser signed in as a demo user.
async fn browser(app: &TestApp, username: &str) -> reqwest::Client {
    let client = new_client();
    let resp = client
        .post(app.url("/auth/dev/sign-in"))
        .form(&[("username", username)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303, "sign in as {username}");
    client
}

async fn me_status(app: &TestApp, client: &reqwest::Client) -> u16 {
    client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn user<'a>(list: &'a Value, username: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == username)
        .unwrap_or_else(|| panic!("{username} in {list}"))
}

async fn disabling_an_account_ends_its_sessions_at_once(backend: Backend) {
    let app = TestApp::spawn_on(backend, &["--dev"]).await;
    let operator = browser(&app, "operator").await;
    let second_tab = browser(&app, "operator").await;
    assert_eq!(me_status(&app, &operator).await, 200);

    // The list says who holds what, why, and who signed in.
    let (status, list) = app.api_get("/users").await;
    assert_eq!(status, 200, "{list}");
    let op = user(&list, "operator");
    assert_eq!(op["source"], "dev");
    assert_eq!(op["disabled"], false);
    assert_eq!(
        op["roles"],
        json!([{"role": "operator", "environment": "*", "source": "dev seed"}])
    );
    assert!(op["last_sign_in_at"].is_string(), "{op}");
    assert!(user(&list, "viewer")["last_sign_in_at"].is_null());
    let id = op["id"].as_str().unwrap().to_owned();
    let (status, one) = app.api_get(&format!("/users/{id}")).await;
    assert_eq!((status, &one["username"]), (200, &json!("operator")));

    // Disabled: both sessions are refused on their very next request, and
    // the account can't sign in again.
    let (status, disabled) = app.api_post("/users/operator/disable", json!({})).await;
    assert_eq!(status, 200, "{disabled}");
    assert_eq!(disabled["disabled"], true);
    assert_eq!(me_status(&app, &operator).await, 401);
    let page = second_tab.get(app.url("/runs")).send().await.unwrap();
    assert_eq!(page.status(), 303);
    assert!(location(&page).starts_with("/sign-in"));
    let again = new_client()
        .post(app.url("/auth/dev/sign-in"))
        .form(&[("username", "operator")])
        .send()
        .await
        .unwrap();
    assert!(
        location(&again).contains("disabled"),
        "{}",
        location(&again)
    );

    // Enabled again: old sessions stay ended; a fresh sign-in works.
    let (status, enabled) = app.api_post("/users/operator/enable", json!({})).await;
    assert_eq!((status, &enabled["disabled"]), (200, &json!(false)));
    assert_eq!(me_status(&app, &operator).await, 401);
    let fresh = browser(&app, "operator").await;
    assert_eq!(me_status(&app, &fresh).await, 200);

    // On the record, with who did it to whom.
    let records = all_records(&app).await;
    let changes: Vec<(&str, &str)> = records
        .iter()
        .filter(|r| r["action"].as_str().unwrap().starts_with("user."))
        .map(|r| {
            assert_eq!(r["resource"], format!("user/{id}"));
            assert_eq!(r["details"]["username"], "operator");
            assert_eq!(r["actor"]["name"], "token bootstrap");
            (
                r["action"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [("user.disable", "succeeded"), ("user.enable", "succeeded")]
    );
}

#[tokio::test]
async fn only_admins_of_every_environment_disable_and_nobody_disables_themselves() {
    let app = TestApp::spawn().await;
    let (status, created) = app
        .api_post(
            "/tokens",
            json!({"name": "prod-admin", "roles": ["admin@prod", "admin@dev", "admin@stage"]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let narrow = created["secret"].as_str().unwrap().to_owned();
    let resp = app
        .client
        .post(app.url("/api/v1/users/viewer/disable"))
        .bearer_auth(&narrow)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("admin@*"),
        "{body}"
    );

    // Auditors review access but change nothing.
    let auditor = browser(&app, "auditor").await;
    let resp = auditor.get(app.url("/api/v1/users")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let resp = auditor
        .post(app.url("/api/v1/users/viewer/disable"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);

    // An admin can't lock themselves out.
    app.sign_in_as("admin").await;
    let resp = app
        .client
        .post(app.url("/api/v1/users/admin/disable"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    let body: Value = resp.json().await.unwrap();
    assert!(body.to_string().contains("your own account"), "{body}");
    let (status, missing) = app.api_post("/users/nobody/disable", json!({})).await;
    assert_eq!(status, 404, "{missing}");
    let (_, list) = app.api_get("/users").await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|u| u["disabled"] == false),
        "{list}"
    );
}

#[tokio::test]
async fn the_users_page_explains_roles_and_disables_without_javascript() {
    let app = TestApp::spawn().await;
    app.sign_in_as("admin").await;
    let (status, html) = app.get_html("/admin/users").await;
    assert_eq!(status, 200);
    assert!(html.contains("<table class=\"data users\""), "{html}");
    assert!(html.contains("operator@*"));
    assert!(html.contains("dev seed"));
    assert!(html.contains(r#"aria-label="Disable viewer""#));
    // No button on one's own row.
    assert!(!html.contains(r#"aria-label="Disable admin""#));

    let (_, list) = app.api_get("/users").await;
    let id = user(&list, "viewer")["id"].as_str().unwrap().to_owned();
    let resp = app
        .plain_form_post(
            "set_user_access",
            "/admin/users",
            &[("id", &id), ("disabled", "true")],
        )
        .await;
    assert_eq!(resp.status(), 302);
    assert_eq!(location(&resp), "/admin/users");
    let (_, html) = app.get_html("/admin/users").await;
    assert!(html.contains(r#"aria-label="Enable viewer""#), "{html}");
    let (_, list) = app.api_get("/users").await;
    assert_eq!(user(&list, "viewer")["disabled"], true);

    // A bad value is named, not a decode failure.
    let resp = app
        .server_fn("set_user_access", &[("id", &id), ("disabled", "maybe")])
        .await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("disabled"));

    // Auditors see the list without buttons.
    let auditor = TestApp::spawn().await;
    auditor.sign_in_as("auditor").await;
    let (status, html) = auditor.get_html("/admin/users").await;
    assert_eq!(status, 200);
    assert!(html.contains("operator@*"));
    assert!(!html.contains("user-access-form"));
    let (status, html) = auditor.get_html("/admin").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"href="/admin/users""#));
    assert!(!html.contains(r#"href="/admin/tokens""#));
}

#[tokio::test]
async fn people_are_found_by_name_source_and_state() {
    let app = TestApp::spawn().await;
    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, found) = app.api_get("/users?q=OPER").await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(names(&found), ["operator"]);
    let (_, none) = app.api_get("/users?source=scim").await;
    assert_eq!(names(&none), Vec::<String>::new());
    app.api_post("/users/viewer/disable", json!({})).await;
    let (_, disabled) = app.api_get("/users?disabled=true").await;
    assert_eq!(names(&disabled), ["viewer"]);
    let (status, bad) = app.api_get("/users?source=ldap").await;
    assert_eq!(status, 400, "{bad}");

    // The page's GET form, without JavaScript.
    app.sign_in_as("admin").await;
    let (status, html) = app.get_html("/admin/users?q=oper&state=active").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"data-user="operator""#), "{html}");
    assert!(!html.contains(r#"data-user="approver""#));
    assert!(
        html.contains(r#"<input id="user-q" name="q" type="search" value="oper""#),
        "{html}"
    );
    let (_, html) = app.get_html("/admin/users?state=maybe").await;
    assert!(html.contains("neither active nor disabled"), "{html}");
}
