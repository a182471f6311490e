//! The OpenAPI document: public, OpenAPI 3.x, and a true description of the
//! routes the router has and the JSON they send.

use crate::helpers::{TOKEN, TestApp};
use serde_json::Value;
use std::collections::BTreeSet;

const DOC: &str = "/api/v1/openapi.json";

/// Every route of `api::router()`, as (method, OpenAPI path).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/workflows"),
    ("post", "/api/v1/workflows"),
    ("get", "/api/v1/workflows/{name}"),
    ("get", "/api/v1/workflows/{name}/versions"),
    ("put", "/api/v1/workflows/{name}/schedule"),
    ("post", "/api/v1/workflows/{name}/runs"),
    ("post", "/api/v1/bundles"),
    ("get", "/api/v1/runs"),
    ("post", "/api/v1/runs"),
    ("get", "/api/v1/runs/{id}"),
    ("get", "/api/v1/runs/{id}/logs"),
    ("post", "/api/v1/runs/{id}/cancel"),
    ("get", "/api/v1/runs/{id}/secret-accesses"),
    ("get", "/api/v1/approvals"),
    ("get", "/api/v1/approvals/{id}"),
    ("post", "/api/v1/approvals/{id}/approve"),
    ("post", "/api/v1/approvals/{id}/reject"),
    ("get", "/api/v1/delegations"),
    ("post", "/api/v1/delegations"),
    ("post", "/api/v1/delegations/{id}/revoke"),
    ("post", "/api/v1/workflows/{name}/promotions"),
    ("post", "/api/v1/workflows/{name}/rollback"),
    ("get", "/api/v1/workflows/{name}/diff"),
    ("get", "/api/v1/promotions"),
    ("get", "/api/v1/promotions/{id}"),
    ("post", "/api/v1/promotions/{id}/approve"),
    ("post", "/api/v1/promotions/{id}/reject"),
    ("post", "/api/v1/promotions/{id}/cancel"),
    ("post", "/api/v1/promotions/{id}/checklist/{item}"),
    ("get", "/api/v1/deployments"),
    ("get", "/api/v1/verifications"),
    ("get", "/api/v1/canaries"),
    ("get", "/api/v1/canaries/{id}"),
    ("post", "/api/v1/canaries/{id}/{control}"),
    ("get", "/api/v1/environments/policies"),
    ("get", "/api/v1/environments/{env}/policy"),
    ("put", "/api/v1/environments/{env}/policy"),
    ("get", "/api/v1/freezes"),
    ("get", "/api/v1/environments/{env}/freezes"),
    ("post", "/api/v1/environments/{env}/freezes"),
    ("delete", "/api/v1/environments/{env}/freezes/{id}"),
    ("post", "/api/v1/promotions/{id}/break-freeze"),
    ("post", "/api/v1/freeze-breaks/{id}/review"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/tokens"),
    ("post", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/{token}"),
    ("get", "/api/v1/users"),
    ("get", "/api/v1/users/{user}"),
    ("post", "/api/v1/users/{user}/disable"),
    ("post", "/api/v1/users/{user}/enable"),
    ("get", "/api/v1/users/{user}/export"),
    ("post", "/api/v1/users/{user}/erase"),
    ("get", "/api/v1/secret-providers"),
    ("post", "/api/v1/secrets/invalidate"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/audit/verify"),
    ("get", "/api/v1/audit/{seq}"),
    ("get", "/api/v1/alerts"),
    ("get", "/api/v1/alerts/history"),
    ("get", "/api/v1/alerts/notifications"),
    ("get", "/api/v1/alerts/rules"),
    ("post", "/api/v1/alerts/rules"),
    ("post", "/api/v1/alerts/rules/backtest"),
    ("get", "/api/v1/alerts/rules/{name}"),
    ("put", "/api/v1/alerts/rules/{name}"),
    ("delete", "/api/v1/alerts/rules/{name}"),
    ("post", "/api/v1/runs/rerun"),
    ("post", "/api/v1/runs/dismiss"),
    ("get", "/api/v1/rate-limits"),
    ("get", "/api/v1/passkeys"),
    ("post", "/api/v1/passkeys"),
    ("post", "/api/v1/passkeys/registrations"),
    ("delete", "/api/v1/passkeys/{id}"),
    ("get", "/api/v1/retention"),
    ("post", "/api/v1/retention/purge"),
    ("post", "/api/v1/rate-limits/overrides"),
    ("delete", "/api/v1/rate-limits/overrides/{id}"),
    ("get", "/api/v1/webhooks"),
    ("post", "/api/v1/webhooks"),
    ("get", "/api/v1/webhooks/{hook}"),
    ("delete", "/api/v1/webhooks/{hook}"),
    ("post", "/api/v1/webhooks/{hook}/rotate"),
    ("post", "/api/v1/webhooks/{hook}/retire-previous"),
    ("post", "/hooks/{hook}"),
    ("get", "/api/v1/alerts/channels"),
    ("post", "/api/v1/alerts/channels"),
    ("put", "/api/v1/alerts/channels/{name}"),
    ("delete", "/api/v1/alerts/channels/{name}"),
    ("post", "/api/v1/alerts/channels/{name}/test"),
    ("get", "/api/v1/alerts/silences"),
    ("post", "/api/v1/alerts/silences"),
    ("post", "/api/v1/alerts/silences/{id}/expire"),
    ("get", "/api/v1/slos"),
    ("get", "/api/v1/workflows/{name}/slos/{environment}"),
    ("get", "/api/v1/openapi.json"),
];

async fn fetch_document(app: &TestApp) -> Value {
    // A client that never signed in and sends no token.
    let resp = reqwest::get(app.url(DOC)).await.expect("GET openapi.json");
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    resp.json().await.expect("the document is JSON")
}

/// Follows `#/components/schemas/…` references.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r
                .strip_prefix("#/components/schemas/")
                .expect("a local schema reference");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn openapi_document_is_public_and_lists_every_route() {
    let app = TestApp::spawn().await;
    let doc = fetch_document(&app).await;

    let version = doc["openapi"].as_str().expect("an openapi version");
    assert!(version.starts_with("3."), "{version}");
    assert!(doc["info"]["title"].is_string());
    assert!(doc["info"]["version"].is_string());

    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .keys()
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented, expected);

    // Each documented operation is routed: none falls through to the API's
    // 404 fallback or gets a 405.
    for (method, path) in ROUTES {
        let concrete = path
            .replace("{name}", "no-such-workflow")
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{seq}", "1")
            .replace("{environment}", "dev")
            .replace("{token}", "no-such-token");
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let resp = app
            .client
            .request(method.clone(), app.url(&concrete))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap();
        assert_ne!(status, 405, "{method} {concrete}");
        assert!(
            !body.contains("no such API endpoint"),
            "{method} {concrete}: {status} {body}"
        );
    }

    // The bearer scheme is declared and required by default; only the
    // document itself opts out.
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http");
    assert_eq!(bearer["scheme"], "bearer");
    assert!(bearer["description"].as_str().unwrap().contains("gantry_"));
    assert!(
        doc["security"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.get("bearer").is_some())
    );
    assert_eq!(
        doc["paths"][DOC]["get"]["security"],
        serde_json::json!([{}])
    );
}

#[tokio::test]
async fn openapi_schemas_describe_what_the_api_sends() {
    let app = TestApp::spawn().await;
    let doc = fetch_document(&app).await;
    let schemas = &doc["components"]["schemas"];

    // RunSummary.status is the run status enum, spelled as serde writes it.
    let status = resolve(&doc, &schemas["RunSummary"]["properties"]["status"]);
    assert_eq!(
        strings(&status["enum"]),
        [
            "queued",
            "running",
            "succeeded",
            "failed",
            "cancelled",
            "timed_out"
        ]
        .map(str::to_owned)
        .into(),
    );
    let trigger = resolve(&doc, &schemas["RunSummary"]["properties"]["trigger"]);
    assert_eq!(
        strings(&trigger["enum"]),
        ["manual", "schedule", "api"].map(str::to_owned).into()
    );

    // The apply endpoint takes the spec text as YAML or JSON.
    let apply = &doc["paths"]["/api/v1/workflows"]["post"];
    let content = apply["requestBody"]["content"].as_object().unwrap();
    assert!(content.contains_key("application/yaml"), "{content:?}");
    assert!(content.contains_key("application/json"), "{content:?}");

    // A real apply answer has every property the schema requires.
    let (status, body) = app
        .apply("name: hello\nsteps:\n  - id: greet\n    run: echo hi\n")
        .await;
    assert_eq!(status, 201, "{body}");
    let response = &apply["responses"]["201"]["content"]["application/json"]["schema"];
    let response = resolve(&doc, response);
    let mut required = BTreeSet::new();
    for part in response["allOf"]
        .as_array()
        .expect("ApplyOutcome flattened plus message")
    {
        required.extend(strings(&resolve(&doc, part)["required"]));
    }
    assert!(
        required.contains("message") && required.contains("version"),
        "{required:?}"
    );
    for field in &required {
        assert!(body.get(field).is_some(), "{field} missing from {body}");
    }

    // Errors: an anonymous call elsewhere in the API is still refused, with
    // the documented envelope.
    let resp = reqwest::get(app.url("/api/v1/workflows")).await.unwrap();
    assert_eq!(resp.status(), 401);
    let error: Value = resp.json().await.unwrap();
    let envelope = resolve(
        &doc,
        &doc["paths"]["/api/v1/workflows"]["get"]["responses"]["401"]["content"]["application/json"]
            ["schema"],
    );
    assert_eq!(strings(&envelope["required"]), ["error".to_owned()].into());
    let body = resolve(&doc, &envelope["properties"]["error"]);
    for field in strings(&body["required"]) {
        assert!(
            error["error"].get(&field).is_some(),
            "{field} missing from {error}"
        );
    }
    let codes = strings(&resolve(&doc, &body["properties"]["code"])["enum"]);
    assert!(
        codes.contains(error["error"]["code"].as_str().unwrap()),
        "{error}"
    );

    // Only the exact path is public.
    for path in [
        "/api/v1/openapi.json/",
        "/api/v1/openapi.yaml",
        "/api/v1/runs",
    ] {
        let resp = reqwest::get(app.url(path)).await.unwrap();
        assert_eq!(resp.status(), 401, "{path}");
    }
}

/// The document declares what the server enforces, so a client (or
/// schemathesis) generating from it sends what the server takes: the
/// configured environments by name, the bounds of list limits, query
/// parameters in the query, and the rules of bodies the derives can't
/// spell.
#[tokio::test]
async fn openapi_declares_the_constraints_the_server_enforces() {
    let app = TestApp::spawn_with(&["--environments", "qa,live"]).await;
    let doc = fetch_document(&app).await;
    let schemas = &doc["components"]["schemas"];
    let op = |method: &str, path: &str| doc["paths"][path][method].clone();
    let param = |method: &str, path: &str, name: &str| {
        op(method, path)["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"))
            .clone()
    };

    // This server's environments, wherever one is named.
    assert_eq!(
        strings(&schemas["Environment"]["enum"]),
        ["qa", "live"].map(str::to_owned).into()
    );
    assert_eq!(
        strings(&schemas["EnvironmentFilter"]["enum"]),
        ["qa", "live", ""].map(str::to_owned).into()
    );
    let env = param("get", "/api/v1/environments/{env}/freezes", "env");
    assert_eq!(
        resolve(&doc, &env["schema"])["enum"],
        schemas["Environment"]["enum"]
    );
    let delegation = resolve(&doc, &schemas["NewDelegation"]["properties"]["environment"]);
    assert_eq!(delegation["enum"], schemas["Environment"]["enum"]);

    // Every parameter of a filter struct is in the query, not the path.
    for path in [
        "/api/v1/alerts",
        "/api/v1/promotions",
        "/api/v1/deployments",
        "/api/v1/verifications",
        "/api/v1/delegations",
    ] {
        for p in op("get", path)["parameters"].as_array().unwrap() {
            assert_eq!(p["in"], "query", "{path}: {p}");
        }
    }

    // Limits: the ranges the server refuses outside of.
    for (path, max) in [
        ("/api/v1/runs", 200),
        ("/api/v1/runs/{id}/logs", 5000),
        ("/api/v1/audit", 500),
        ("/api/v1/alerts", 500),
        ("/api/v1/alerts/notifications", 500),
    ] {
        let limit = &param("get", path, "limit")["schema"];
        assert_eq!(limit["minimum"], 1, "{path}");
        assert_eq!(limit["maximum"], max, "{path}");
    }
    let source = param("get", "/api/v1/users", "source");
    assert_eq!(
        strings(&resolve(&doc, &source["schema"])["enum"]),
        ["dev", "oidc", "scim"].map(str::to_owned).into()
    );

    // Bodies: a named workflow's trigger has no `workflow`; `POST /runs`
    // requires it.
    let trigger = &schemas["TriggerBody"];
    assert!(strings(&trigger["required"]).contains("workflow"));
    assert!(
        schemas["WorkflowTriggerBody"]["properties"]
            .get("workflow")
            .is_none()
    );
    let named = &op("post", "/api/v1/workflows/{name}/runs")["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(named["$ref"], "#/components/schemas/WorkflowTriggerBody");
    // A replaced channel is named by the path only.
    let replace = &op("put", "/api/v1/alerts/channels/{name}")["requestBody"]["content"]["application/json"]
        ["schema"];
    let replace = resolve(&doc, replace);
    assert!(replace["properties"].get("name").is_none(), "{replace}");
    assert!(replace["properties"].get("kind").is_some(), "{replace}");
    // A token is one kind, and only a service token holds roles (granted
    // in this server's environments).
    let token = &schemas["NewToken"];
    assert_eq!(token["anyOf"].as_array().unwrap().len(), 4, "{token}");
    let grant = token["properties"]["roles"]["items"]["pattern"]
        .as_str()
        .unwrap();
    assert!(grant.contains("qa|live"), "{grant}");
    // Bulk actions: 1 to 100 distinct runs.
    let runs = &schemas["RerunAsk"]["properties"]["runs"];
    assert_eq!(runs["minItems"], 1);
    assert_eq!(runs["maxItems"], 100);
    assert_eq!(runs["uniqueItems"], true);
    // Required texts are not blank.
    let reason = &schemas["PromotionAsk"]["properties"]["reason"];
    assert_eq!(reason["minLength"], 1, "{reason}");
    assert!(reason["pattern"].is_string(), "{reason}");
}
