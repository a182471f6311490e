//! The Audit pages, server-rendered: the chain's status, the filterable log
//! with its pager, one record, and who may open them.

use crate::helpers::TestApp;

const HELLO: &str = "name: hello\nsteps:\n  - id: greet\n    run: echo hi\n";

/// An admin signed in (one `session.sign_in` record) who applied a
/// workflow through the API (one `workflow.apply` record).
async fn admin_with_records() -> TestApp {
    let app = TestApp::spawn_with(&["--dev", "--worker-slots", "0"]).await;
    assert_eq!(app.sign_in_as("admin").await.status(), 303);
    let (status, body) = app.apply(HELLO).await;
    assert_eq!(status, 201, "{body}");
    app
}

/// The sequence numbers of the records in a page's table, in order.
fn listed(html: &str) -> Vec<u64> {
    html.split(r#"<a href="/audit/"#)
        .skip(1)
        .filter_map(|rest| {
            let (seq, after) = rest.split_once('"')?;
            after
                .starts_with(r#" aria-label="Record "#)
                .then(|| seq.parse().ok())?
        })
        .collect()
}

/// The page's main landmark, for failure messages.
fn main_of(html: &str) -> &str {
    let start = html.find("<main").unwrap_or(0);
    let end = html.find("</main>").unwrap_or(html.len());
    &html[start..end]
}

#[tokio::test]
async fn admins_see_the_verified_chain_and_their_records() {
    let app = admin_with_records().await;
    let (status, html) = app.get_html("/audit").await;
    assert_eq!(status, 200, "{}", main_of(&html));
    assert!(html.contains("<h1>Audit</h1>"));
    assert!(html.contains("Chain verified:"), "{}", main_of(&html));
    assert!(
        html.contains(r#" records, head <a href="/audit/"#)
            && html.contains(", 0 signed checkpoints, checked at "),
        "{}",
        main_of(&html)
    );
    assert!(html.contains("<caption>Audit records, newest first</caption>"));
    assert!(
        html.contains("<code>session.sign_in</code>"),
        "{}",
        main_of(&html)
    );
    assert!(html.contains("<code>workflow.apply</code>"));
    assert!(html.contains("<code>workflow/hello</code>"));
    assert!(html.contains("Ada Admin"));
    assert!(html.contains(r#"data-outcome="succeeded""#));
    // Newest first, each linking to its record.
    let seqs = listed(&html);
    assert!(seqs.len() >= 2, "{seqs:?}");
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");
    // The filter form: a plain GET form with a label for every field.
    assert!(
        html.contains(r#"<form method="GET" action="/audit""#),
        "{}",
        main_of(&html)
    );
    for field in [
        "actor",
        "action",
        "resource",
        "environment",
        "outcome",
        "since",
        "until",
        "limit",
    ] {
        assert!(
            html.contains(&format!(r#"<label for="filter-{field}">"#)),
            "{field}"
        );
        assert!(html.contains(&format!(r#"id="filter-{field}""#)), "{field}");
    }
    assert!(
        html.contains(r#"<option value="run.">"#),
        "{}",
        main_of(&html)
    );
    assert!(html.contains(r#"<option value="run.trigger">"#));
}

#[tokio::test]
async fn filters_narrow_the_table_and_bad_values_are_explained() {
    let app = admin_with_records().await;
    let (status, html) = app.get_html("/audit?action=workflow.apply").await;
    assert_eq!(status, 200);
    assert!(html.contains("<code>workflow.apply</code>"));
    assert!(
        !html.contains("<code>session.sign_in</code>"),
        "{}",
        main_of(&html)
    );
    assert!(html.contains("Audit records, newest first, action workflow.apply"));
    assert!(html.contains(r#"<option value="workflow.apply" selected"#));

    // A family, and an outcome nothing has.
    let (_, html) = app.get_html("/audit?action=session.").await;
    assert!(html.contains("<code>session.sign_in</code>"));
    assert!(!html.contains("<code>workflow.apply</code>"));
    let (status, html) = app.get_html("/audit?outcome=denied").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("No records match these filters."),
        "{}",
        main_of(&html)
    );

    // A time window, read as UTC.
    let (_, html) = app.get_html("/audit?since=2000-01-01T00:00").await;
    assert!(html.contains("<code>workflow.apply</code>"));
    assert!(html.contains(r#"value="2000-01-01T00:00""#));
    let (_, html) = app.get_html("/audit?until=2000-01-01").await;
    assert!(html.contains("No records match these filters."));

    // Bad values: a message naming the field, inside the page, not a 500.
    for (query, says) in [
        ("since=yesterday", r#"since: "yesterday" is not a time"#),
        ("outcome=maybe", "outcome:"),
        (
            "since=2026-01-02T00:00&until=2026-01-01T00:00",
            "until: must be later than since",
        ),
        ("limit=0", "limit: must be between 1 and 500"),
    ] {
        let (status, html) = app.get_html(&format!("/audit?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert!(
            html.contains("Please check the form"),
            "{query}: {}",
            main_of(&html)
        );
        assert!(html.contains(says), "{query}: {}", main_of(&html));
        assert!(
            html.contains(r#"<form method="GET" action="/audit""#),
            "{query}"
        );
    }
}

#[tokio::test]
async fn the_pager_follows_older_records_with_the_filters() {
    let app = admin_with_records().await;
    for user in ["viewer", "operator", "admin"] {
        app.sign_in_as(user).await;
    }
    let (status, html) = app.get_html("/audit?action=session.&limit=2").await;
    assert_eq!(status, 200);
    let first = listed(&html);
    assert_eq!(first.len(), 2, "{}", main_of(&html));
    let older = format!(
        r#"href="/audit?action=session.&amp;limit=2&amp;before={}" rel="next">Older records"#,
        first[1]
    );
    assert!(html.contains(&older), "{}", main_of(&html));

    let (_, html) = app
        .get_html(&format!(
            "/audit?action=session.&limit=2&before={}",
            first[1]
        ))
        .await;
    let second = listed(&html);
    assert_eq!(second.len(), 2, "{}", main_of(&html));
    assert!(second[0] < first[1], "{first:?} then {second:?}");
    assert!(html.contains(r#"href="/audit?action=session.&amp;limit=2">Newest records"#));
    assert!(!html.contains("<code>workflow.apply</code>"));
}

#[tokio::test]
async fn a_record_shows_every_field_its_hashes_and_details() {
    let app = admin_with_records().await;
    let (_, html) = app.get_html("/audit?action=workflow.apply").await;
    let seq = listed(&html)[0];
    let (status, html) = app.get_html(&format!("/audit/{seq}")).await;
    assert_eq!(status, 200, "{}", main_of(&html));
    assert!(html.contains(&format!("<title>Audit record #{seq} · Gantry</title>")));
    let (_, record) = app.api_get(&format!("/audit/{seq}")).await;
    let hash = record["hash"].as_str().unwrap();
    let prev_hash = record["prev_hash"].as_str().unwrap();
    assert!(
        html.contains(&format!(r#"<code class="hash">{hash}</code>"#)),
        "{}",
        main_of(&html)
    );
    assert!(html.contains(&format!(r#"<code class="hash">{prev_hash}</code>"#)));
    assert!(html.contains("<dt>Actor id</dt>"));
    assert!(html.contains("<code>workflow/hello</code>"));
    // The details, pretty-printed and escaped.
    assert!(
        html.contains(r#"class="source audit-details"><code>{"#),
        "{}",
        main_of(&html)
    );
    assert!(html.contains(r#""bytes": "#), "{}", main_of(&html));
    // Its neighbours: the sign-in before it; nothing after it yet.
    assert!(
        html.contains(&format!(r#"href="/audit/{}" rel="prev""#, seq - 1)),
        "{}",
        main_of(&html)
    );
    assert!(!html.contains(r#"rel="next""#));
    let (_, html) = app.get_html(&format!("/audit/{}", seq - 1)).await;
    assert!(html.contains(&format!(r#"href="/audit/{seq}" rel="next""#)));

    for missing in ["/audit/999999", "/audit/not-a-number"] {
        let (status, html) = app.get_html(missing).await;
        assert_eq!(status, 404, "{missing}");
        assert!(html.contains("Not found"), "{missing}");
        assert!(html.contains(r#"<main id="main""#), "{missing}");
    }
}

#[tokio::test]
async fn a_broken_chain_is_named_at_the_top_of_the_page() {
    let app = admin_with_records().await;
    app.exec_sql("UPDATE audit_log SET actor_name = 'somebody else' WHERE seq = 1")
        .await;
    let (status, html) = app.get_html("/audit").await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"role="alert" class="alert alert-error chain-status""#));
    assert!(
        html.contains("Chain broken at record #1: edited"),
        "{}",
        main_of(&html)
    );
    assert!(html.contains(r#"Records from <a href="/audit/1">#1</a>"#));
    assert!(!html.contains("Chain verified"));
}

#[tokio::test]
async fn only_admins_and_auditors_open_the_audit_pages() {
    let app = admin_with_records().await;
    for user in ["viewer", "operator"] {
        app.sign_in_as(user).await;
        for path in ["/audit", "/audit/1"] {
            let (status, html) = app.get_html(path).await;
            assert_eq!(status, 403, "{user} {path}");
            assert!(html.contains("Not allowed"), "{user} {path}");
            assert!(html.contains(r#"<main id="main""#));
            assert!(!html.contains("<table"), "{user} {path}");
            // One refusal, shown once.
            assert_eq!(
                html.matches(r#"role="alert""#).count(),
                1,
                "{}",
                main_of(&html)
            );
        }
    }

    app.sign_in_as("auditor").await;
    let (status, html) = app.get_html("/audit").await;
    assert_eq!(status, 200, "{}", main_of(&html));
    assert!(html.contains("Chain verified:"));
    assert!(html.contains("Aubrey Auditor"));
    // The viewer's refusals are on the record.
    let (_, html) = app.get_html("/audit?outcome=denied").await;
    assert!(
        html.contains("<code>view.denied</code>"),
        "{}",
        main_of(&html)
    );
    assert!(html.contains("Vera Viewer"));
    // The navigation offers only the audit log.
    assert!(html.contains(r#"href="/audit""#));
    assert!(!html.contains(r#"href="/workflows""#));

    // Everything else is a 403 inside the layout; the overview points to
    // the audit log instead.
    for path in ["/workflows", "/runs"] {
        let (status, html) = app.get_html(path).await;
        assert_eq!(status, 403, "{path}");
        assert!(
            html.contains("auditors can read the audit log and the user list only"),
            "{path}"
        );
        assert!(html.contains(r#"<main id="main""#), "{path}");
    }
    let (status, html) = app.get_html("/").await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Overview</h1>"));
    assert!(
        html.contains(r#"<a href="/audit">Open the audit log</a>"#),
        "{}",
        main_of(&html)
    );
}
