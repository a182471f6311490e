//! The Webhooks page (Admin → Webhooks) without JavaScript: its forms post
//! to `POST /admin/webhooks`, which answers with the page around the
//! outcome, so a new secret is shown there once and never again.

use crate::helpers::{Backend, TestApp};
use crate::webhooks::FLOW;

/// The Webhooks page's forms, posted as a browser without JavaScript
/// does: the secret on the page answering the post, and only there.
#[tokio::test]
async fn the_webhooks_page_creates_rotates_and_retires_without_javascript() {
    let app = TestApp::spawn_on(Backend::Sqlite, &["--dev"]).await;
    let (status, _) = app.apply(FLOW).await;
    assert!(status == 200 || status == 201);
    let admin = app.person("admin").await;
    let landing = admin.client().get(app.url("/admin")).send().await.unwrap();
    let landing = landing.text().await.unwrap();
    assert!(
        landing.contains(r#"<a href="/admin/webhooks">Webhooks</a>"#),
        "{landing}"
    );
    let post = |form: Vec<(&'static str, &'static str)>| {
        admin
            .client()
            .post(app.url("/admin/webhooks"))
            .header("accept", "text/html")
            .form(&form)
            .send()
    };
    let page = post(vec![
        ("op", "create"),
        ("name", "from-page"),
        ("environment", "dev"),
        ("workflow", "deploy"),
        ("mode", "github"),
        ("inputs", "git_ref = /ref"),
        ("events", "push"),
    ])
    .await
    .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    let secret = html
        .split("gwhsec_")
        .nth(1)
        .map(|rest| format!("gwhsec_{}", &rest[..64]))
        .expect("the secret on the page");
    let listed = admin
        .client()
        .get(app.url("/admin/webhooks"))
        .send()
        .await
        .unwrap();
    let listed = listed.text().await.unwrap();
    assert!(listed.contains("from-page"));
    assert!(!listed.contains(&secret), "shown once");

    // A refusal keeps what was typed and names the field.
    let page = post(vec![
        ("op", "create"),
        ("name", "bad"),
        ("environment", "dev"),
        ("workflow", "deploy"),
        ("inputs", "git_ref = ref"),
    ])
    .await
    .unwrap();
    assert_eq!(page.status(), 422);
    assert!(page.text().await.unwrap().contains("inputs.git_ref"));

    let page = post(vec![("op", "rotate"), ("hook", "from-page")])
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("gwhsec_") && !html.contains(&secret));
    assert!(html.contains("Retire previous secret"));
    let page = post(vec![("op", "retire"), ("hook", "from-page")])
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = post(vec![("op", "delete"), ("hook", "from-page")])
        .await
        .unwrap();
    assert_eq!(page.status(), 200);

    // Operators get the page's refusal, not the hooks.
    let operator = app.person("operator").await;
    let denied = operator
        .client()
        .get(app.url("/admin/webhooks"))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);
}
