//! SCIM 2.0 provisioning (`/scim/v2`) with a SCIM token: people and groups
//! as Okta and Microsoft Entra ID send them, roles that follow groups, and
//! deprovisioning that cuts access at once.

use crate::audit::all_records;
use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    people_and_groups_are_provisioned_and_roles_follow_groups,
    racing_creates_of_one_name_make_one_person
);

/// Gantry with `sre` mapped to roles, and a SCIM token for it.
pub async fn scim_app(backend: Backend, extra: &[&str]) -> (TestApp, String) {
    let mut flags = vec![
        "--role-mapping",
        "sre=operator@dev,viewer@prod",
        "--role-mapping",
        "platform-admins=admin@*",
    ];
    flags.extend_from_slice(extra);
    let app = TestApp::spawn_on(backend, &flags).await;
    let (status, created) = app
        .api_post("/tokens", json!({"name": "idp", "scim": true}))
        .await;
    assert_eq!(status, 201, "{created}");
    let token = created["secret"].as_str().unwrap().to_owned();
    (app, token)
}

pub struct ScimResponse {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

/// A SCIM call with `token`.
pub async fn scim(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> ScimResponse {
    let mut req = app
        .client
        .request(method, app.url(&format!("/scim/v2{path}")))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/scim+json")
            .body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    ScimResponse {
        status,
        body,
        headers,
    }
}

pub fn okta_user(user_name: &str, given: &str, family: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": format!("{given} {family}"),
        "locale": "en-US",
        "externalId": format!("00u{}", given.to_lowercase()),
        "groups": [],
        "password": {"value": "never-stored-1!"},
        "active": true
    })
}

/// The roles `/api/v1/users` says `username` holds, as `role@env from source`.
pub async fn roles_of(app: &TestApp, username: &str) -> Vec<String> {
    let (_, list) = app.api_get("/users").await;
    let user = list
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == username)
        .unwrap_or_else(|| panic!("{username} in {list}"));
    let mut roles: Vec<String> = user["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}@{} from {}",
                r["role"].as_str().unwrap(),
                r["environment"].as_str().unwrap(),
                r["source"].as_str().unwrap()
            )
        })
        .collect();
    roles.sort();
    roles
}

async fn people_and_groups_are_provisioned_and_roles_follow_groups(backend: Backend) {
    let (app, token) = scim_app(backend, &[]).await;

    let created = scim(
        &app,
        Method::POST,
        "/Users",
        &token,
        Some(okta_user("alice@example.com", "Alice", "Anders")),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.headers["content-type"], "application/scim+json");
    let id = created.body["id"].as_str().unwrap().to_owned();
    let location = created.headers["location"].to_str().unwrap();
    assert!(
        location.ends_with(&format!("/scim/v2/Users/{id}")),
        "{location}"
    );
    assert!(created.headers.contains_key("etag"));
    assert_eq!(created.body["userName"], "alice@example.com");
    assert_eq!(created.body["active"], true);
    assert_eq!(created.body["meta"]["resourceType"], "User");
    assert!(
        !created.body.to_string().contains("never-stored"),
        "no password comes back: {}",
        created.body
    );
    let stored = app
        .scalar_text(
            "SELECT CAST(scim_resource AS TEXT) FROM users WHERE username = 'alice@example.com'",
        )
        .await;
    assert!(
        !stored.contains("never-stored"),
        "nor is it stored: {stored}"
    );

    // Okta checks for a person by filter before creating; same name again
    // is a uniqueness conflict, case aside.
    let found = scim(
        &app,
        Method::GET,
        "/Users?filter=userName%20eq%20%22ALICE@example.com%22",
        &token,
        None,
    )
    .await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body["totalResults"], 1);
    assert_eq!(found.body["Resources"][0]["id"], id.as_str());
    let again = scim(
        &app,
        Method::POST,
        "/Users",
        &token,
        Some(okta_user("Alice@Example.com", "Alice", "Anders")),
    )
    .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.body["scimType"], "uniqueness");

    // A group with alice gives her the roles its name maps to.
    let group = scim(
        &app,
        Method::POST,
        "/Groups",
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "sre",
            "members": [{"value": id}]
        })),
    )
    .await;
    assert_eq!(group.status, 201, "{}", group.body);
    let group_id = group.body["id"].as_str().unwrap().to_owned();
    assert_eq!(group.body["members"][0]["value"], id.as_str());
    assert_eq!(
        roles_of(&app, "alice@example.com").await,
        ["operator@dev from group:sre", "viewer@prod from group:sre"]
    );
    let user = scim(&app, Method::GET, &format!("/Users/{id}"), &token, None).await;
    assert_eq!(user.body["groups"][0]["display"], "sre");
    let (_, users) = app.api_get("/users").await;
    let summary = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "alice@example.com")
        .unwrap();
    assert_eq!(summary["scim_managed"], true);
    assert_eq!(summary["groups"], json!(["sre"]));
    assert!(summary["provisioned_at"].is_string(), "{summary}");

    // Entra removes her from the group with a PATCH: the roles go at once.
    let removed = scim(
        &app,
        Method::PATCH,
        &format!("/Groups/{group_id}"),
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"value": id}]}]
        })),
    )
    .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert!(roles_of(&app, "alice@example.com").await.is_empty());

    // Entra deactivates her with a string boolean: disabled at once.
    let deactivated = scim(
        &app,
        Method::PATCH,
        &format!("/Users/{id}"),
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}]
        })),
    )
    .await;
    assert_eq!(deactivated.status, 200, "{}", deactivated.body);
    assert_eq!(deactivated.body["active"], false);
    let (_, users) = app.api_get("/users").await;
    let alice = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "alice@example.com")
        .unwrap()
        .clone();
    assert_eq!(alice["disabled"], true);

    // Delete: gone from SCIM, the account stays disabled.
    let deleted = scim(&app, Method::DELETE, &format!("/Users/{id}"), &token, None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let gone = scim(&app, Method::GET, &format!("/Users/{id}"), &token, None).await;
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );

    // All of it on the record, with the SCIM client as actor.
    let records = all_records(&app).await;
    let scim_records: Vec<(&str, &str)> = records
        .iter()
        .filter(|r| r["action"].as_str().unwrap().starts_with("scim."))
        .map(|r| {
            assert_eq!(r["actor"]["kind"], "scim_client", "{r}");
            (
                r["action"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        scim_records,
        [
            ("scim.user.create", "succeeded"),
            ("scim.user.create", "failed"),
            ("scim.group.create", "succeeded"),
            ("scim.group.update", "succeeded"),
            ("scim.user.update", "succeeded"),
            ("scim.user.delete", "succeeded"),
        ]
    );
    assert!(
        !records
            .iter()
            .any(|r| r.to_string().contains("never-stored")),
        "no password in the audit log"
    );
}

#[tokio::test]
async fn only_a_scim_token_provisions() {
    let (app, _) = scim_app(Backend::Sqlite, &["--dev"]).await;
    // No token: a SCIM 401.
    let resp = app
        .client
        .get(app.url("/scim/v2/Users"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().contains_key("www-authenticate"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    // A service token (even the admin bootstrap one): 403.
    let resp = scim(&app, Method::GET, "/Users", crate::helpers::TOKEN, None).await;
    assert_eq!(resp.status, 403, "{}", resp.body);
    // A signed-in admin's session: 403 too.
    app.sign_in_as("admin").await;
    let resp = app
        .client
        .get(app.url("/scim/v2/Users"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // Both refusals are on the record.
    let denied: Vec<Value> = crate::audit::all_records(&app)
        .await
        .into_iter()
        .filter(|r| r["action"] == "view.denied" && r["resource"] == "scim/v2")
        .collect();
    assert_eq!(denied.len(), 2, "{denied:#?}");
    assert!(denied.iter().all(|r| r["outcome"] == "denied"));
}

#[tokio::test]
async fn bad_requests_get_scim_errors_and_change_nothing() {
    let (app, token) = scim_app(Backend::Sqlite, &[]).await;
    let post = |body: &'static str, content_type: &'static str| {
        let req = app
            .client
            .post(app.url("/scim/v2/Users"))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body);
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = post("{not json", "application/scim+json").await;
    assert_eq!(
        (status, &body["scimType"]),
        (400, &json!("invalidSyntax")),
        "{body}"
    );
    let (status, body) = post(
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","shoeSize":9}"#,
        "application/json",
    )
    .await;
    assert_eq!(
        (status, &body["scimType"]),
        (400, &json!("invalidSyntax")),
        "{body}"
    );
    assert!(
        body["detail"].as_str().unwrap().contains("shoeSize"),
        "{body}"
    );
    let (status, body) = post(
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"displayName":"no user name"}"#,
        "application/scim+json",
    )
    .await;
    assert_eq!(
        (status, &body["scimType"]),
        (400, &json!("invalidValue")),
        "{body}"
    );
    let huge = format!(
        r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{}"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let resp = app
        .client
        .post(app.url("/scim/v2/Users"))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let resp = scim(
        &app,
        Method::GET,
        "/Users?filter=userName%20eq%20%22x%22%20or%201%3D1",
        &token,
        None,
    )
    .await;
    assert_eq!(resp.status, 400, "{}", resp.body);
    assert_eq!(resp.body["scimType"], "invalidFilter");
    let resp = scim(&app, Method::GET, "/Users", &token, None).await;
    assert_eq!(resp.body["totalResults"], 0, "nothing was made");
    // What SCIM defines but this server doesn't offer: 501, and a POST to a
    // resource is no SCIM operation.
    let bulk = scim(&app, Method::POST, "/Bulk", &token, Some(json!({}))).await;
    assert_eq!(bulk.status, 501, "{}", bulk.body);
    assert_eq!(
        scim(&app, Method::GET, "/Me", &token, None).await.status,
        501
    );
    let post = scim(
        &app,
        Method::POST,
        "/Users/some-id",
        &token,
        Some(json!({})),
    )
    .await;
    assert_eq!(post.status, 405, "{}", post.body);
    // A group naming someone not provisioned.
    let resp = scim(
        &app,
        Method::POST,
        "/Groups",
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "sre",
            "members": [{"value": "00000000-0000-0000-0000-000000000000"}]
        })),
    )
    .await;
    assert_eq!(resp.status, 400, "{}", resp.body);
    assert_eq!(resp.body["scimType"], "invalidValue");
    let resp = scim(&app, Method::GET, "/Groups", &token, None).await;
    assert_eq!(resp.body["totalResults"], 0);
}

#[tokio::test]
async fn the_users_page_shows_who_is_provisioned_and_their_groups() {
    let (app, token) = scim_app(Backend::Sqlite, &["--dev"]).await;
    let created = scim(
        &app,
        Method::POST,
        "/Users",
        &token,
        Some(okta_user("erin@example.com", "Erin", "Eck")),
    )
    .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    scim(
        &app,
        Method::POST,
        "/Groups",
        &token,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "sre",
            "members": [{"value": id}]
        })),
    )
    .await;
    app.sign_in_as("auditor").await;
    let (status, html) = app.get_html("/admin/users").await;
    assert_eq!(status, 200);
    // Without the hydration markers between text pieces.
    let html = html.replace("<!>", "");
    let row = html
        .split("<tr")
        .find(|r| r.contains("erin@example.com"))
        .unwrap_or_else(|| panic!("a row for erin in {html}"));
    assert!(row.contains(r#"data-managed="scim""#), "{row}");
    assert!(row.contains("provisioned"), "{row}");
    assert!(row.contains("Groups: sre"), "{row}");
    assert!(row.contains("operator@dev"), "{row}");
    assert!(row.contains("group:sre"), "{row}");
}

/// Providers retry and run in parallel: eight creates of one userName at
/// once make one person; the rest hear 409, never a 500.
async fn racing_creates_of_one_name_make_one_person(backend: Backend) {
    let (app, token) = scim_app(backend, &[]).await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (app, token) = (app.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let name = if i % 2 == 0 {
                "race@example.com"
            } else {
                "RACE@example.com"
            };
            scim(
                &app,
                Method::POST,
                "/Users",
                &token,
                Some(okta_user(name, "Race", "Condition")),
            )
            .await
            .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
    let list = scim(&app, Method::GET, "/Users", &token, None).await;
    assert_eq!(list.body["totalResults"], 1);
}
