//! What the load needs before it starts, made through the REST API with
//! the bootstrap token, as an operator would: role tokens, the workflows,
//! people provisioned over SCIM, a dev session per serve and a history of
//! finished runs for the run pages.

use crate::cluster::{BOOTSTRAP_TOKEN, Cluster};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Short workflows, one shell step each; triggers pick one at random, as
/// many teams would.
pub const SHORT_WORKFLOWS: usize = 20;
/// The workflow whose runs wait for a second person.
pub const GUARDED: &str = "load-guarded";
/// The workflow whose runs are cancelled while they wait or sleep.
pub const LONG: &str = "load-long";
/// People provisioned over SCIM before the load.
const PEOPLE: usize = 100;
/// Finished runs before the load, for the run pages and run reads.
const HISTORY: usize = 100;
/// How long the history may take to finish.
const HISTORY_LIMIT: Duration = Duration::from_secs(120);

/// The session cookie's name (`gantry serve`'s).
const SESSION_COOKIE: &str = "gantry_session";

pub struct Fixture {
    /// `viewer@*`: API reads.
    pub viewer: String,
    /// `operator@*`: triggers and cancels.
    pub operator: String,
    /// `operator@dev`: asks for guarded runs.
    pub requester: String,
    /// `approver@dev`: decides them (a second person).
    pub approver: String,
    /// A SCIM provisioning token.
    pub scim: String,
    /// A dev session (`name=value`) as the demo viewer, per serve.
    pub cookies: Vec<String>,
    pub short_workflows: Vec<String>,
    /// SCIM `userName`s.
    pub people: Vec<String>,
    /// Finished runs (ids) for the run pages.
    pub history: Vec<String>,
}

impl Fixture {
    pub async fn make(cluster: &Cluster) -> Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let urls = cluster.urls();
        let base = urls.first().context("no serve")?.clone();
        let token = |name: &str, roles: &[&str]| {
            make_token(&http, &base, json!({"name": name, "roles": roles}))
        };
        let viewer = token("load-viewer", &["viewer"]).await?;
        let operator = token("load-operator", &["operator"]).await?;
        let requester = token("load-requester", &["operator@dev"]).await?;
        // Four eyes: the approver must be another person than the one
        // whose tokens ask (tokens act for whoever made them), so the demo
        // admin makes this one.
        let approver = approver_token(&http, &base).await?;
        let scim = make_token(&http, &base, json!({"name": "load-scim", "scim": true})).await?;

        let short_workflows: Vec<String> = (0..SHORT_WORKFLOWS)
            .map(|i| format!("load-short-{i:02}"))
            .collect();
        for name in &short_workflows {
            apply(
                &http,
                &base,
                &format!("name: {name}\nsteps:\n  - id: only\n    run: 'true'\n"),
            )
            .await?;
        }
        apply(
            &http,
            &base,
            &format!(
                "name: {GUARDED}\napproval: {{ required_in: [dev] }}\nsteps:\n  - id: only\n    run: 'true'\n"
            ),
        )
        .await?;
        apply(
            &http,
            &base,
            &format!("name: {LONG}\nsteps:\n  - id: sleep\n    run: 'sleep 30'\n"),
        )
        .await?;

        let mut people = Vec::with_capacity(PEOPLE);
        for i in 0..PEOPLE {
            let user_name = format!("load-person-{i:03}@example.com");
            provision(&http, &base, &scim, &user_name, i).await?;
            people.push(user_name);
        }

        let mut cookies = Vec::new();
        for url in &urls {
            cookies.push(dev_session(&http, url, "viewer").await?);
        }

        let mut history = Vec::with_capacity(HISTORY);
        for i in 0..HISTORY {
            let workflow = &short_workflows[i % short_workflows.len()];
            let (status, run) = post(
                &http,
                &format!("{base}/api/v1/workflows/{workflow}/runs"),
                &operator,
                &json!({"environment": "dev"}),
            )
            .await?;
            if status != 201 {
                bail!("triggering {workflow} answered {status}: {run}");
            }
            history.push(
                run["id"]
                    .as_str()
                    .context("a run without an id")?
                    .to_owned(),
            );
        }
        wait_finished(&http, &base, &viewer, &history).await?;
        Ok(Self {
            viewer,
            operator,
            requester,
            approver,
            scim,
            cookies,
            short_workflows,
            people,
            history,
        })
    }
}

/// A token made with the bootstrap token from `body`; its secret.
pub async fn make_token(http: &reqwest::Client, base: &str, body: Value) -> Result<String> {
    let (status, created) = post(
        http,
        &format!("{base}/api/v1/tokens"),
        BOOTSTRAP_TOKEN,
        &body,
    )
    .await?;
    if status != 201 {
        bail!("creating the token {body} answered {status}: {created}");
    }
    created["secret"]
        .as_str()
        .map(str::to_owned)
        .context("a created token without its secret")
}

async fn apply(http: &reqwest::Client, base: &str, spec: &str) -> Result<()> {
    let resp = http
        .post(format!("{base}/api/v1/workflows"))
        .bearer_auth(BOOTSTRAP_TOKEN)
        .header(reqwest::header::CONTENT_TYPE, "application/yaml")
        .body(spec.to_owned())
        .send()
        .await?;
    let status = resp.status();
    if status != 201 {
        bail!(
            "applying a workflow answered {status}: {}",
            resp.text().await?
        );
    }
    Ok(())
}

async fn provision(
    http: &reqwest::Client,
    base: &str,
    scim: &str,
    user_name: &str,
    i: usize,
) -> Result<()> {
    let person = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "externalId": format!("00uload{i:03}"),
        "name": {"givenName": "Load", "familyName": format!("Person {i}")},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "active": true
    });
    let resp = http
        .post(format!("{base}/scim/v2/Users"))
        .bearer_auth(scim)
        .header(reqwest::header::CONTENT_TYPE, "application/scim+json")
        .body(person.to_string())
        .send()
        .await?;
    let status = resp.status();
    if status != 201 {
        bail!(
            "provisioning {user_name} answered {status}: {}",
            resp.text().await?
        );
    }
    Ok(())
}

/// A token for `approver@dev` made by the demo admin (signed in a moment
/// ago, so step-up holds).
async fn approver_token(http: &reqwest::Client, base: &str) -> Result<String> {
    let cookie = dev_session(http, base, "admin").await?;
    let body = json!({"name": "load-approver", "roles": ["approver@dev"]});
    let resp = http
        .post(format!("{base}/api/v1/tokens"))
        .header(reqwest::header::COOKIE, cookie)
        // What a browser on the dashboard says (cross-site writes with a
        // session are refused).
        .header("Sec-Fetch-Site", "same-origin")
        .json(&body)
        .send()
        .await?;
    let status = resp.status();
    let created: Value = resp.json().await.unwrap_or(Value::Null);
    if status != 201 {
        bail!("the demo admin making a token answered {status}: {created}");
    }
    created["secret"]
        .as_str()
        .map(str::to_owned)
        .context("a created token without its secret")
}

/// A dev sign-in as the demo user `username`: the session cookie's
/// `name=value`.
async fn dev_session(http: &reqwest::Client, base: &str, username: &str) -> Result<String> {
    let resp = http
        .post(format!("{base}/auth/dev/sign-in"))
        .form(&[("username", username)])
        .send()
        .await?;
    let prefix = format!("{SESSION_COOKIE}=");
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&prefix))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .with_context(|| format!("the dev sign-in set no session cookie ({})", resp.status()))
}

/// POST `body` as JSON with `token`: the status and the answer.
pub async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
) -> Result<(u16, Value)> {
    let resp = http.post(url).bearer_auth(token).json(body).send().await?;
    let status = resp.status().as_u16();
    let text = resp.text().await?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

/// Waits until every run in `ids` has finished (polling their views: the
/// engine runs in another process).
async fn wait_finished(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    ids: &[String],
) -> Result<()> {
    let deadline = Instant::now() + HISTORY_LIMIT;
    let mut open: Vec<&String> = ids.iter().collect();
    while !open.is_empty() {
        let mut still = Vec::new();
        for id in open {
            let run: Value = http
                .get(format!("{base}/api/v1/runs/{id}"))
                .bearer_auth(token)
                .send()
                .await?
                .json()
                .await?;
            if matches!(run["status"].as_str(), Some("queued" | "running")) {
                still.push(id);
            }
        }
        open = still;
        if !open.is_empty() {
            if Instant::now() > deadline {
                bail!(
                    "{} of the history's runs still open after {HISTORY_LIMIT:?}",
                    open.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(())
}
