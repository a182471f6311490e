//! Admin → Service tokens, server-rendered: the list, the create form
//! posted without JavaScript (answered with the secret, once, never
//! cached), the same form as the hydrated page's server function, revoking
//! as a plain post, who may open the pages, and readable refusals.

use crate::helpers::{TestApp, location};
use reqwest::Response;
use serde_json::{Value, json};

/// The page's main landmark, for failure messages.
fn main_of(html: &str) -> &str {
    let start = html.find("<main").unwrap_or(0);
    let end = html.find("</main>").unwrap_or(html.len());
    &html[start..end]
}

/// A dev server with an admin signed in.
async fn admin_app() -> TestApp {
    let app = TestApp::spawn_with(&["--dev", "--worker-slots", "0"]).await;
    assert_eq!(app.sign_in_as("admin").await.status(), 303);
    app
}

/// Posts the create form the way a browser without JavaScript does.
async fn post_create_form(app: &TestApp, form: &[(&str, &str)]) -> Response {
    app.client
        .post(app.url("/admin/tokens"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", app.url("/admin/tokens"))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// The secret shown in the "token created" box, if any.
fn shown_secret(html: &str) -> Option<String> {
    let at = html.find(r#"id="new-token-secret""#)?;
    let rest = &html[at..];
    let end = rest.find('>')?;
    let tag = &rest[..end];
    let value = tag.split_once(r#"value=""#)?.1;
    Some(value.split_once('"')?.0.to_owned())
}

/// A bearer-token request to the API.
async fn api_as(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let resp = app
        .client
        .get(app.url(&format!("/api/v1{path}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn no_store(resp: &Response) -> bool {
    resp.headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        == Some("no-store")
}

/// The token's row in the page's table.
fn row_of<'a>(html: &'a str, name: &str) -> &'a str {
    let start = html
        .find(&format!(r#"<th scope="row">{name}</th>"#))
        .unwrap_or_else(|| panic!("no row for {name}: {}", main_of(html)));
    let rest = &html[start..];
    &rest[..rest.find("</tr>").unwrap()]
}

#[tokio::test]
async fn admins_see_the_admin_area_and_the_tokens_page() {
    let app = admin_app().await;
    let (status, made) = app
        .api_post(
            "/tokens",
            json!({"name": "ci-deploy", "roles": ["operator@dev", "viewer"]}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let secret = made["secret"].as_str().unwrap();
    let hint = made["token"]["hint"].as_str().unwrap();

    let (status, html) = app.get_html("/admin").await;
    assert_eq!(status, 200, "{}", main_of(&html));
    assert!(html.contains("<h1>Admin</h1>"));
    assert!(html.contains(r#"<a href="/admin/tokens">Service tokens</a>"#));

    let (status, html) = app.get_html("/admin/tokens").await;
    assert_eq!(status, 200, "{}", main_of(&html));
    assert!(html.contains("<title>Service tokens · Gantry</title>"));
    assert!(html.contains("<h1>Service tokens</h1>"));
    assert!(html.contains("<caption>Service tokens, newest first</caption>"));
    let row = row_of(&html, "ci-deploy");
    assert!(row.contains("<code>operator@dev</code>"), "{row}");
    assert!(row.contains("<code>viewer@*</code>"), "{row}");
    assert!(
        row.contains(&format!(r#"<code class="token-hint">{hint}</code>"#)),
        "{row}"
    );
    assert!(row.contains("token bootstrap"), "{row}");
    assert!(row.contains(r#"data-state="active""#), "{row}");
    assert!(row.contains("Active"), "{row}");
    assert!(row.contains(r#"aria-label="Revoke ci-deploy""#), "{row}");
    assert!(row.contains(r#"action="/ui/revoke_token""#), "{row}");
    // The list never holds a secret, on the page or from its server function.
    assert!(!html.contains(secret));
    assert!(shown_secret(&html).is_none());
    let resp = app.server_fn("tokens", &[]).await;
    assert_eq!(resp.status(), 200);
    let listed = resp.text().await.unwrap();
    assert!(listed.contains("ci-deploy") && !listed.contains(secret));

    // The create form: a plain post to this page, one box per role and
    // environment (all of them the demo admin's to grant), 90 days ahead.
    assert!(
        html.contains(r#"<form method="post" action="/admin/tokens""#),
        "{}",
        main_of(&html)
    );
    assert!(html.contains(r#"<label for="token-name">Name</label>"#));
    for grant in ["viewer@dev", "operator@prod", "admin@*", "auditor@stage"] {
        assert!(
            html.contains(&format!(r#"name="roles[]" value="{grant}""#)),
            "{grant}"
        );
    }
    assert!(html.contains(r#"aria-label="operator in dev""#));
    assert!(html.contains(r#"aria-label="viewer in all environments""#));
    let boxes: Vec<&str> = html
        .split(r#"<input type="checkbox""#)
        .skip(1)
        .map(|rest| &rest[..rest.find('>').unwrap()])
        .filter(|b| b.contains(r#"name="roles[]""#))
        .collect();
    assert_eq!(boxes.len(), 5 * 4, "five roles in dev, stage, prod and all");
    // An admin of every environment may also make a SCIM token.
    assert!(html.contains(r#"id="token-scim" name="scim""#), "{html}");
    assert!(boxes.iter().all(|b| !b.contains("disabled")), "{boxes:?}");
    assert!(html.contains(r#"<option value="90d" selected"#));
    assert!(html.contains(r#"<label for="token-expires">Expires after</label>"#));
}

#[tokio::test]
async fn creating_without_javascript_shows_the_secret_once() {
    let app = admin_app().await;
    let resp = post_create_form(
        &app,
        &[
            ("name", "ci-nojs"),
            ("roles[]", "operator@dev"),
            ("roles[]", "viewer@*"),
            ("expires_in", "30d"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(no_store(&resp), "{:?}", resp.headers());
    assert_eq!(location(&resp), "");
    let cookies: Vec<String> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let html = resp.text().await.unwrap();
    let secret = shown_secret(&html).unwrap_or_else(|| panic!("{}", main_of(&html)));
    assert!(
        secret.starts_with("gantry_") && secret.len() > 40,
        "{secret}"
    );
    assert!(html.contains("<code>ci-nojs</code>"), "{}", main_of(&html));
    assert!(html.contains("it is shown only this once"));
    assert!(!cookies.iter().any(|c| c.contains(&secret)), "{cookies:?}");
    // The new token is listed (without its secret) and the form is empty.
    assert!(row_of(&html, "ci-nojs").contains("<code>operator@dev</code>"));
    assert!(html.contains(r#"id="token-name" name="name""#));
    assert!(!html.contains(r#"value="ci-nojs""#));

    // The secret works, with exactly the roles ticked.
    let (status, me) = api_as(&app, &secret, "/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "ci-nojs");
    assert_eq!(me["kind"], "service_token");
    let roles: Vec<String> = me["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}@{}",
                r["role"].as_str().unwrap(),
                r["environment"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(roles.len(), 2, "{roles:?}");
    assert!(roles.contains(&"operator@dev".to_owned()) && roles.contains(&"viewer@*".to_owned()));

    // Shown once: the page never shows it again, and it is stored nowhere.
    let (status, html) = app.get_html("/admin/tokens").await;
    assert_eq!(status, 200);
    assert!(!html.contains(&secret));
    assert!(shown_secret(&html).is_none());
    assert!(row_of(&html, "ci-nojs").contains("Active"));
    let stored = app
        .count_sql(&format!(
            "SELECT count(*) FROM api_tokens WHERE token_hash = '{secret}' OR hint = '{secret}'"
        ))
        .await;
    assert_eq!(stored, 0);
    let (_, records) = app.api_get("/audit?limit=500").await;
    assert!(!records.to_string().contains(&secret));
}

#[tokio::test]
async fn the_hydrated_form_gets_the_secret_from_its_server_function() {
    let app = admin_app().await;
    let resp = app
        .server_fn(
            "create_token",
            &[
                ("name", "ci-js"),
                ("roles[]", "viewer@dev"),
                ("expires_in", "7d"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(no_store(&resp), "{:?}", resp.headers());
    let created: Value = resp.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(created["token"]["roles"], json!(["viewer@dev"]));
    assert_eq!(api_as(&app, secret, "/me").await.0, 200);

    // Refused with JSON the page shows beside the field.
    let resp = app
        .server_fn(
            "create_token",
            &[("name", "Bad Name"), ("roles[]", "viewer@dev")],
        )
        .await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["Port"]["field"], "name", "{body}");

    // A plain post to the server function would lose the secret in its
    // redirect, so nothing is made and the form says where to post.
    let resp = app
        .plain_form_post(
            "create_token",
            "/admin/tokens",
            &[("name", "lost"), ("roles[]", "viewer@dev")],
        )
        .await;
    assert_eq!(resp.status(), 302);
    assert!(location(&resp).contains("__err="), "{}", location(&resp));
    let (_, list) = app.api_get("/tokens").await;
    assert!(!list.to_string().contains("\"lost\""), "{list}");
}

#[tokio::test]
async fn revoking_without_javascript_returns_to_the_page() {
    let app = admin_app().await;
    let (_, made) = app
        .api_post("/tokens", json!({"name": "old-ci", "roles": ["viewer"]}))
        .await;
    let secret = made["secret"].as_str().unwrap();
    let id = made["token"]["id"].as_str().unwrap();
    assert_eq!(api_as(&app, secret, "/me").await.0, 200);

    let resp = app
        .plain_form_post("revoke_token", "/admin/tokens", &[("id", id)])
        .await;
    assert_eq!(resp.status(), 302);
    assert_eq!(location(&resp), "/admin/tokens");
    assert_eq!(api_as(&app, secret, "/me").await.0, 401);
    let (status, html) = app.get_html("/admin/tokens").await;
    assert_eq!(status, 200);
    let row = row_of(&html, "old-ci");
    assert!(row.contains(r#"data-state="revoked""#), "{row}");
    assert!(!row.contains("Revoke old-ci"), "{row}");

    // Revoking again is refused, back on the page with the reason.
    let resp = app
        .plain_form_post("revoke_token", "/admin/tokens", &[("id", "no-such-token")])
        .await;
    assert_eq!(resp.status(), 302);
    let back = location(&resp);
    assert!(back.contains("__err="), "{back}");
    let path = back.trim_start_matches(&app.url(""));
    let (_, html) = app.get_html(path).await;
    assert!(html.contains("Not found"), "{}", main_of(&html));
    assert!(html.contains("no-such-token"), "{}", main_of(&html));
}

#[tokio::test]
async fn operators_are_refused_the_admin_pages() {
    let app = admin_app().await;
    app.sign_in_as("operator").await;
    for (path, reason) in [
        ("/admin/tokens", "service tokens are managed by admins"),
        ("/admin", "the Admin area needs the admin or auditor role"),
        (
            "/admin/users",
            "the user list needs the admin or auditor role",
        ),
    ] {
        let (status, html) = app.get_html(path).await;
        assert_eq!(status, 403, "{path}");
        assert!(html.contains("Not allowed"), "{path}");
        assert!(html.contains(reason), "{path}: {}", main_of(&html));
        assert!(html.contains(r#"<main id="main""#), "{path}");
        assert!(!html.contains("<table"), "{path}");
        assert!(!html.contains(r#"id="token-name""#), "{path}");
        assert_eq!(
            html.matches(r#"role="alert""#).count(),
            1,
            "{}",
            main_of(&html)
        );
    }
    // Posting the form anyway makes nothing.
    let resp = post_create_form(&app, &[("name", "sneaky"), ("roles[]", "viewer@dev")]).await;
    assert_eq!(resp.status(), 403);
    assert!(no_store(&resp));
    let html = resp.text().await.unwrap();
    assert!(shown_secret(&html).is_none());
    let (_, list) = app.api_get("/tokens").await;
    assert!(!list.to_string().contains("sneaky"), "{list}");
}

#[tokio::test]
async fn bad_input_comes_back_readable_with_the_form_filled_in() {
    let app = admin_app().await;
    let resp = post_create_form(
        &app,
        &[
            ("name", "Bad Name"),
            ("roles[]", "operator@dev"),
            ("expires_in", "180d"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert!(no_store(&resp));
    let html = resp.text().await.unwrap();
    assert!(html.contains("Please check the form"), "{}", main_of(&html));
    assert!(
        html.contains("name: use 1 to 64 characters"),
        "{}",
        main_of(&html)
    );
    assert!(
        html.contains(r#"aria-describedby="token-name-hint token-name-error" aria-invalid="true""#),
        "{}",
        main_of(&html)
    );
    assert!(html.contains(r#"id="token-name-error""#));
    // What was sent is still there to correct.
    assert!(html.contains(r#"value="Bad Name""#), "{}", main_of(&html));
    assert!(
        html.contains(r#"value="operator@dev" aria-label="operator in dev" checked"#),
        "{}",
        main_of(&html)
    );
    assert!(html.contains(r#"<option value="180d" selected"#));
    assert!(shown_secret(&html).is_none());

    // No role ticked; a lifetime beyond a year; a name already taken.
    let resp = post_create_form(&app, &[("name", "empty"), ("expires_in", "90d")]).await;
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("roles: give at least one role"),
        "{}",
        main_of(&html)
    );
    assert!(html.contains(r#"id="token-roles-error""#));

    let resp = post_create_form(
        &app,
        &[
            ("name", "long"),
            ("roles[]", "viewer@dev"),
            ("expires_in", "400d"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("expires_in: tokens live"),
        "{}",
        main_of(&html)
    );

    let resp = post_create_form(&app, &[("name", "bootstrap"), ("roles[]", "viewer@dev")]).await;
    assert_eq!(resp.status(), 409);
    let html = resp.text().await.unwrap();
    assert!(html.contains("a token named"), "{}", main_of(&html));
    assert!(shown_secret(&html).is_none());
}

#[tokio::test]
async fn a_scoped_admin_may_tick_only_their_reach_and_the_port_holds_the_line() {
    let app = admin_app().await;
    let (_, made) = app
        .api_post(
            "/tokens",
            json!({"name": "dev-admin", "roles": ["admin@dev"]}),
        )
        .await;
    let dev_admin = made["secret"].as_str().unwrap().to_owned();
    let resp = app
        .client
        .get(app.url("/admin/tokens"))
        .bearer_auth(&dev_admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    let tag = |grant: &str| {
        let at = html
            .find(&format!(r#"value="{grant}""#))
            .unwrap_or_else(|| panic!("{grant}"));
        let rest = &html[at..];
        rest[..rest.find('>').unwrap()].to_owned()
    };
    assert!(
        !tag("operator@dev").contains("disabled"),
        "{}",
        tag("operator@dev")
    );
    assert!(
        tag("operator@prod").contains("disabled"),
        "{}",
        tag("operator@prod")
    );
    assert!(tag("viewer@*").contains("disabled"));

    // Sent anyway (a disabled box is only a hint): refused, readably.
    let resp = app
        .client
        .post(app.url("/admin/tokens"))
        .bearer_auth(&dev_admin)
        .header("accept", "text/html")
        .form(&[("name", "too-far"), ("roles[]", "operator@prod")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Not allowed"), "{}", main_of(&html));
    assert!(html.contains("admin role in prod"), "{}", main_of(&html));
    assert!(html.contains(r#"value="too-far""#), "the form is kept");
    assert!(shown_secret(&html).is_none());
}
