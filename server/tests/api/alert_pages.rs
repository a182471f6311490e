//! The Alerts pages, server-rendered on both databases with real data: a
//! channel and a rule made through the REST API, a workflow that fails
//! until its rule fires, and every page showing it (the list, the
//! Overview's and the workflow's firing box, the instance's history, the
//! notification history, the channels, the silences with the Silence
//! shortcut's matchers). Then the forms as a browser without JavaScript
//! posts them: refused input comes back as typed with the port's problem
//! beside it, a backtest comes back with its result, saves redirect to the
//! list, a webhook's generated key is shown once and never cached.

use crate::helpers::{Backend, TestApp, location};
use crate::on_both_backends;
use reqwest::Response;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

on_both_backends!(
    the_pages_show_a_firing_alert_everywhere_it_belongs,
    rule_forms_without_javascript_keep_what_was_typed_backtest_and_save,
    channel_and_silence_forms_work_without_javascript,
);

const RULE: &str = "flaky keeps failing";

/// The alert tests' server, signed in as the admin.
async fn app(backend: Backend) -> TestApp {
    let app = crate::alerts::app(backend).await;
    assert_eq!(app.sign_in_as("admin").await.status(), 303);
    app
}

async fn run(app: &TestApp, fail: bool) {
    crate::alerts::run(app, fail).await;
}

/// A receiver that answers 200 to everything (the history shows it).
async fn receiver() -> String {
    crate::alert_receiver::Receiver::start().await.1
}

/// Polls the REST list until the rule has an instance in `phase`.
async fn instance_in(app: &TestApp, phase: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, list) = app.api_get("/alerts?rule=flaky%20keeps%20failing").await;
        if let Some(i) = list.as_array().and_then(|l| l.first())
            && i["phase"] == phase
        {
            return i.clone();
        }
        assert!(Instant::now() < deadline, "never {phase}: {list}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The page's main landmark, for assertions and failure messages.
fn main_of(html: &str) -> &str {
    let start = html.find("<main").unwrap_or(0);
    let end = html.find("</main>").unwrap_or(html.len());
    &html[start..end]
}

async fn page(app: &TestApp, path: &str) -> String {
    let (status, html) = app.get_html(path).await;
    assert_eq!(status, 200, "{path}: {}", main_of(&html));
    main_of(&html).to_owned()
}

/// A form posted the way a browser without JavaScript posts it.
async fn plain_post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> Response {
    app.client
        .post(app.url(path))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", app.url(path))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn the_pages_show_a_firing_alert_everywhere_it_belongs(backend: Backend) {
    let app = app(backend).await;
    let url = receiver().await;
    let (status, channel) = app
        .api_post(
            "/alerts/channels",
            json!({"name": "ops", "kind": "webhook", "url": url}),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    let secret = channel["generated_signing_key"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, rule) = app
        .api_post(
            "/alerts/rules",
            json!({"name": RULE, "kind": "consecutive_failures", "threshold": 2,
                   "workflow": "flaky", "environment": "dev", "resolve_after": 2,
                   "channels": ["ops"]}),
        )
        .await;
    assert_eq!(status, 201, "{rule}");

    // Before anything fails: the rule is ok, nothing fires.
    let html = page(&app, "/alerts").await;
    assert!(html.contains("<h1>Alerts</h1>"), "{html}");
    assert!(
        html.contains(r#"<tr data-rule="flaky keeps failing">"#),
        "{html}"
    );
    assert!(html.contains(r#"data-phase="ok""#), "{html}");
    assert!(html.contains("No alert instances yet"), "{html}");
    let overview = page(&app, "/").await;
    assert!(overview.contains("Nothing is firing."), "{overview}");

    run(&app, true).await;
    run(&app, true).await;
    let firing = instance_in(&app, "firing").await;
    let fingerprint = firing["fingerprint"].as_str().unwrap().to_owned();

    // The list: the instance firing, with its Silence shortcut, and the
    // rule's state, counts and origin.
    let html = page(&app, "/alerts").await;
    assert!(
        html.contains(&format!(
            r#"<tr data-fingerprint="{fingerprint}" data-phase="firing">"#
        )),
        "{html}"
    );
    assert!(
        html.contains(
            "/alerts/silences?rule=flaky%20keeps%20failing&amp;workflow=flaky&amp;environment=dev#new-silence"
        ),
        "{html}"
    );
    assert!(
        html.contains(">2 runs in a row failed<") || html.contains("in a row"),
        "{html}"
    );
    assert!(html.contains(r#"<td class="num">1</td>"#), "{html}");
    assert!(html.contains("<td>api</td>"), "{html}");
    assert!(html.contains("Consecutive failures"), "{html}");

    // The Overview's box and the workflow page's box.
    for path in ["/", "/workflows/flaky"] {
        let html = page(&app, path).await;
        assert!(
            html.contains(r#"<h2 id="firing-alerts-heading">Firing alerts</h2>"#),
            "{path}: {html}"
        );
        assert!(
            html.contains(&format!(r#"<li data-fingerprint="{fingerprint}">"#)),
            "{path}: {html}"
        );
        assert!(
            html.contains(&format!(r#"href="/alerts/instances/{fingerprint}""#)),
            "{path}"
        );
    }

    // The instance's history: ok → firing, with the run.
    let html = page(&app, &format!("/alerts/instances/{fingerprint}")).await;
    assert!(
        html.contains(r#"<tr data-from="ok" data-to="firing">"#),
        "{html}"
    );
    assert!(html.contains("Silence this alert"), "{html}");

    // The notification history: delivered once, the request masked.
    let deadline = Instant::now() + Duration::from_secs(30);
    let html = loop {
        let html = page(&app, "/alerts/notifications?rule=flaky%20keeps%20failing").await;
        if html.contains(r#"data-status="delivered""#) {
            break html;
        }
        assert!(Instant::now() < deadline, "never delivered: {html}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(html.matches(r#"data-notice="firing""#).count(), 1, "{html}");
    assert!(html.contains("<summary>Request sent"), "{html}");
    assert!(!html.contains(&secret), "the signing key never shows");
    let none = page(&app, "/alerts/notifications?status=failed").await;
    assert!(none.contains("No notifications."), "{none}");

    // Channels: the URL as the port shows it, the key id, never the key.
    let html = page(&app, "/alerts/channels").await;
    assert!(html.contains(r#"<tr data-channel="ops">"#), "{html}");
    assert!(html.contains(&format!("<code>{url}</code>")), "{html}");
    assert!(html.contains("<td>k1</td>"), "{html}");
    assert!(!html.contains(&secret));

    // The Silence shortcut's page has the matchers filled in.
    let html = page(
        &app,
        "/alerts/silences?rule=flaky%20keeps%20failing&workflow=flaky&environment=dev",
    )
    .await;
    assert!(
        html.contains(r#"name="rule" value="flaky keeps failing""#),
        "{html}"
    );
    assert!(html.contains(r#"name="workflow" value="flaky""#), "{html}");
    assert!(html.contains(r#"name="environment" value="dev""#), "{html}");

    // The rule's edit page holds the rule as saved.
    let html = page(&app, "/alerts/rules/edit?rule=flaky%20keeps%20failing").await;
    assert!(html.contains(r#"name="threshold" value="2""#), "{html}");
    assert!(
        html.contains(r#"<option value="dev" selected>dev</option>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"name="channels" value="ops" checked"#),
        "{html}"
    );
    assert!(html.contains("Delete this rule…"), "{html}");
    let html = page(
        &app,
        "/alerts/rules/edit?rule=flaky%20keeps%20failing&confirm=delete",
    )
    .await;
    assert!(
        html.contains("Delete the rule <strong>flaky keeps failing</strong>?"),
        "{html}"
    );

    // Resolved after two successes: the list says so.
    run(&app, false).await;
    run(&app, false).await;
    instance_in(&app, "resolved").await;
    let html = page(&app, "/alerts").await;
    assert!(html.contains(r#"data-phase="resolved""#), "{html}");
    let overview = page(&app, "/").await;
    assert!(overview.contains("Nothing is firing."), "{overview}");
}

async fn rule_forms_without_javascript_keep_what_was_typed_backtest_and_save(backend: Backend) {
    let app = app(backend).await;
    // Every kind's form renders with its own fields.
    for (kind, field) in [
        ("consecutive_failures", "rule-threshold"),
        ("failure_ratio", "rule-ratio"),
        ("run_too_long", "rule-max-duration"),
        ("missed_schedule", "rule-grace"),
        ("queue_backlog", "rule-max-depth"),
        ("auth_failures", "rule-max-failures"),
        ("privilege_escalation", "Fires on every audit record"),
        ("slo_burn", "rule-pairs"),
    ] {
        let html = page(&app, &format!("/alerts/rules/new?kind={kind}")).await;
        assert!(html.contains(field), "{kind}: {html}");
        assert!(
            html.contains(&format!(r#"<option value="{kind}" selected>"#)),
            "{kind}: {html}"
        );
    }

    // A refusal by the port: 422, the form as typed, the problem beside
    // its field.
    let typed = [
        ("name", "too eager"),
        ("kind", "consecutive_failures"),
        ("threshold", "0"),
        ("workflow", "flaky"),
        ("environment", "dev"),
        ("resolve_after", "2"),
        ("intent", "save"),
    ];
    let resp = plain_post(&app, "/alerts/rules/new", &typed).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.headers()["cache-control"].to_str().unwrap(),
        "no-store"
    );
    let html = resp.text().await.unwrap();
    let main = main_of(&html);
    assert!(main.contains(r#"name="name" value="too eager""#), "{main}");
    assert!(main.contains(r#"name="threshold" value="0""#), "{main}");
    assert!(main.contains(r#"name="workflow" value="flaky""#), "{main}");
    assert!(
        main.contains(r#"name="resolve_after" min="1" step="1" value="2""#),
        "{main}"
    );
    assert!(
        main.contains(r#"<p id="rule-threshold-error" class="field-error">failures in a row must be 1 to 1000</p>"#),
        "{main}"
    );
    assert!(main.contains("Please fix these problems"), "{main}");

    // What the form can't read is named the same way, before the port.
    let resp = plain_post(
        &app,
        "/alerts/rules/new",
        &[
            ("name", "r"),
            ("kind", "failure_ratio"),
            ("ratio", "half"),
            ("window", "1h"),
            ("min_runs", "3"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains(r#"name="ratio" value="half""#), "{html}");
    assert!(
        html.contains(r#"id="rule-ratio-error" class="field-error">"half" is not a number"#),
        "{}",
        main_of(&html)
    );

    // Backtest: the failures so far, replayed; the form keeps the fields.
    run(&app, true).await;
    run(&app, true).await;
    run(&app, false).await;
    let mut backtest = typed.to_vec();
    backtest[2] = ("threshold", "2");
    backtest[6] = ("intent", "backtest");
    let resp = plain_post(&app, "/alerts/rules/new", &backtest).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    let main = main_of(&html);
    assert!(
        main.contains(r#"<h2 id="backtest-heading">Backtest</h2>"#),
        "{main}"
    );
    assert!(
        main.contains(r#"data-fired="1" data-resolved="0""#),
        "{main}"
    );
    assert!(
        main.contains("this rule would have fired once and has not resolved since."),
        "{main}"
    );
    assert!(main.contains(r#"class="backtest-svg">"#), "{main}");
    assert!(main.contains(r#"<li data-moment="firing">"#), "{main}");
    assert!(main.contains(r#"name="name" value="too eager""#), "{main}");

    // Save: a redirect to the list, which says so.
    backtest[6] = ("intent", "save");
    let resp = plain_post(&app, "/alerts/rules/new", &backtest).await;
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    assert_eq!(location(&resp), "/alerts?saved=too+eager");
    let html = page(&app, "/alerts?saved=too%20eager").await;
    assert!(
        html.contains("<strong>too eager</strong> is saved"),
        "{html}"
    );
    let (status, saved) = app.api_get("/alerts/rules/too%20eager").await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["threshold"], 2);
    assert_eq!(saved["resolve_after"], 2);

    // Edit: renamed and re-kinded through the same plain route.
    let resp = plain_post(
        &app,
        "/alerts/rules/edit?rule=too%20eager",
        &[
            ("original", "too eager"),
            ("name", "backlog"),
            ("kind", "queue_backlog"),
            ("max_depth", "100"),
            ("severity", "critical"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    let (_, saved) = app.api_get("/alerts/rules/backlog").await;
    assert_eq!(saved["kind"], "queue_backlog", "{saved}");
    assert_eq!(saved["max_depth"], 100);
    assert_eq!(saved["severity"], "critical");

    // Delete as a plain post: on to the list.
    let resp = app
        .plain_form_post(
            "delete_alert_rule",
            "/alerts/rules/edit?rule=backlog&confirm=delete",
            &[("name", "backlog")],
        )
        .await;
    assert_eq!(location(&resp), "/alerts");
    assert_eq!(app.api_get("/alerts/rules/backlog").await.0, 404);
}

async fn channel_and_silence_forms_work_without_javascript(backend: Backend) {
    let app = app(backend).await;
    let url = receiver().await;

    // A webhook without keys: the page shows the generated key once.
    let resp = plain_post(
        &app,
        "/alerts/channels",
        &[("name", "ops"), ("kind", "webhook"), ("url", &url)],
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["cache-control"].to_str().unwrap(),
        "no-store"
    );
    let html = resp.text().await.unwrap();
    let main = main_of(&html);
    assert!(main.contains("shown only this once"), "{main}");
    let at = main
        .find(r#"id="new-signing-key""#)
        .expect("the key is shown");
    let key = main[at..]
        .split_once(r#"value=""#)
        .unwrap()
        .1
        .split_once('"')
        .unwrap()
        .0
        .to_owned();
    assert!(key.len() >= 16, "{key}");
    let list = page(&app, "/alerts/channels").await;
    assert!(list.contains(r#"<tr data-channel="ops">"#), "{list}");
    assert!(!list.contains(&key), "shown once only");

    // A refused channel: its fields back, without credentials.
    let resp = plain_post(
        &app,
        "/alerts/channels",
        &[
            ("name", "pager"),
            ("kind", "pagerduty"),
            ("routing_key", ""),
            ("url", "ftp://nope"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    let main = main_of(&html);
    assert!(main.contains(r#"name="name" value="pager""#), "{main}");
    assert!(
        main.contains(r#"<option value="pagerduty" selected>"#),
        "{main}"
    );
    assert!(
        main.contains(r#"id="channel-url-error" class="field-error">an http:// or https:// URL"#),
        "{main}"
    );

    // Rotating: the old key and a new one; a given key is not shown back.
    let resp = plain_post(
        &app,
        "/alerts/channels",
        &[
            ("original", "ops"),
            ("name", "ops"),
            ("kind", "webhook"),
            ("url", &url),
            ("key_id", "k1"),
            ("key_secret", &key),
            ("next_key_id", "k2"),
            ("next_key_secret", "a-brand-new-secret-key"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/alerts/channels");
    let list = page(&app, "/alerts/channels").await;
    assert!(list.contains("<td>k1, k2</td>"), "{list}");
    assert!(!list.contains("a-brand-new-secret-key"));

    // Send test, as a plain post: back to the page; the history shows it.
    let resp = app
        .plain_form_post("test_alert_channel", "/alerts/channels", &[("name", "ops")])
        .await;
    assert_eq!(location(&resp), "/alerts/channels");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let html = page(&app, "/alerts/notifications").await;
        if html.contains(r#"data-notice="test" data-status="delivered""#) {
            break;
        }
        assert!(Instant::now() < deadline, "the test never arrived: {html}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A silence: refused input comes back as typed; a good one is listed
    // as active and can be expired.
    let resp = plain_post(
        &app,
        "/alerts/silences",
        &[
            ("workflow", "flaky"),
            ("mode", "once"),
            ("lasts", "soon"),
            ("reason", "deploying"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains(r#"name="lasts" value="soon""#),
        "{}",
        main_of(&html)
    );
    assert!(html.contains(r#"name="reason" value="deploying""#));
    let resp = plain_post(
        &app,
        "/alerts/silences",
        &[
            ("workflow", "flaky"),
            ("mode", "once"),
            ("lasts", "2h"),
            ("reason", "deploying"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 303);
    let (_, silences) = app.api_get("/alerts/silences").await;
    let id = silences[0]["id"].as_str().unwrap().to_owned();
    let html = page(&app, "/alerts/silences").await;
    assert!(
        html.contains(&format!(r#"<tr data-silence="{id}" data-state="active">"#)),
        "{html}"
    );
    let resp = plain_post(
        &app,
        "/alerts/silences",
        &[
            ("environment", "prod"),
            ("mode", "window"),
            ("cron", "0 2 * * *"),
            ("duration", "2h"),
            ("time_zone", "Europe/Berlin"),
            ("reason", "nightly maintenance"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    let html = page(&app, "/alerts/silences").await;
    assert!(html.contains("<code>0 2 * * *</code>"), "{html}");
    assert!(html.contains("Europe/Berlin"), "{html}");
    let resp = app
        .plain_form_post("expire_silence", "/alerts/silences", &[("id", &id)])
        .await;
    assert_eq!(location(&resp), "/alerts/silences");
    let html = page(&app, "/alerts/silences").await;
    assert!(
        html.contains(&format!(r#"<tr data-silence="{id}" data-state="expired">"#)),
        "{html}"
    );
}
