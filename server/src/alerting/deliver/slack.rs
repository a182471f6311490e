//! Slack: an incoming webhook's Block Kit message. `text` is the fallback
//! shown in notifications and by clients without blocks; the blocks carry
//! the headline, the facts as fields, the summary and the links.
//!
//! Slack refuses the whole message over a block limit, so texts are clipped
//! to them (header 150 characters, a field 2,000, a section 3,000, a
//! button's label 75) and buttons get absolute URLs only.

use super::{Request, Target, text};
use chrono::{DateTime, Utc};
use gantry_core::alert::{NoticeKind, Notification};
use serde_json::{Value, json};

pub(super) fn request(target: &Target, n: &Notification) -> Request {
    Request::json(target.url.clone(), Vec::new(), &body(n))
}

fn emoji(notice: NoticeKind) -> &'static str {
    match notice {
        NoticeKind::Firing | NoticeKind::Reminder => ":red_circle:",
        NoticeKind::Resolved => ":large_green_circle:",
        NoticeKind::Test => ":test_tube:",
    }
}

/// mrkdwn treats `&`, `<` and `>` as markup (links, `<!channel>`
/// mentions); Slack's formatting guide asks for these three escapes.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Shown in the reader's own time zone, with the UTC time as fallback.
fn date(t: DateTime<Utc>) -> String {
    format!(
        "<!date^{}^{{date_short_pretty}} {{time}}|{}>",
        t.timestamp(),
        text::time(t)
    )
}

fn field(name: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": text::clip(&format!("*{name}*\n{value}"), 2000)})
}

fn button(label: &str, action: &str, url: &str) -> Value {
    json!({
        "type": "button",
        "action_id": action,
        "text": {"type": "plain_text", "text": text::clip(label, 75)},
        "url": url,
    })
}

pub(super) fn body(n: &Notification) -> Value {
    let word = text::word(n.notice);
    let workflow = if n.workflow.is_empty() {
        "—"
    } else {
        &n.workflow
    };
    let mut fields = vec![
        field("Workflow", &escape(workflow)),
        field("Environment", &escape(&n.environment)),
        field("Severity", n.severity.as_str()),
        field("Since", &date(n.started_at)),
    ];
    if let Some(resolved) = n.resolved_at {
        fields.push(field("Resolved", &date(resolved)));
    }
    let mut summary = escape(&n.summary);
    if n.notice == NoticeKind::Test {
        summary.push_str("\n_This is a test from Gantry: nothing is firing._");
    }
    let mut blocks = vec![
        json!({
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": text::clip(&format!("{} {word}: {}", emoji(n.notice), n.rule), 150),
                "emoji": true,
            },
        }),
        json!({"type": "section", "fields": fields}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": text::clip(&summary, 3000)}}),
    ];
    let mut buttons = Vec::new();
    if let Some(run) = text::absolute(n.run_url.as_deref()) {
        buttons.push(button("View run", "gantry_run", run));
    }
    if let Some(alert) = text::absolute(Some(&n.alert_url)) {
        buttons.push(button("View alert", "gantry_alert", alert));
    }
    if !buttons.is_empty() {
        blocks.push(json!({"type": "actions", "elements": buttons}));
    }
    let fallback = match n.notice {
        NoticeKind::Test => format!(
            "Test from Gantry: {} ({}); nothing is firing",
            n.rule,
            text::scope(n)
        ),
        _ => format!("{word}: {} ({}): {}", n.rule, text::scope(n), n.summary),
    };
    json!({"text": text::clip(&escape(&fallback), 3000), "blocks": blocks})
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, at};
    use super::super::request as any_request;
    use super::*;

    #[test]
    fn a_firing_message_is_the_documented_block_kit_shape() {
        let req = any_request(&fixture::slack(), &fixture::firing(), at(10, 5));
        assert_eq!(req.url, fixture::SLACK_URL);
        assert_eq!(
            req.headers,
            [("Content-Type".to_string(), "application/json".to_string())]
        );
        assert_eq!(
            fixture::body(&req),
            json!({
                "text": "Firing: nightly keeps failing (nightly in prod): 3 runs in a row failed",
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": ":red_circle: Firing: nightly keeps failing", "emoji": true}},
                    {"type": "section", "fields": [
                        {"type": "mrkdwn", "text": "*Workflow*\nnightly"},
                        {"type": "mrkdwn", "text": "*Environment*\nprod"},
                        {"type": "mrkdwn", "text": "*Severity*\ncritical"},
                        {"type": "mrkdwn", "text": "*Since*\n<!date^1796464800^{date_short_pretty} {time}|2026-12-05T10:00:00Z>"},
                    ]},
                    {"type": "section", "text": {"type": "mrkdwn", "text": "3 runs in a row failed"}},
                    {"type": "actions", "elements": [
                        {"type": "button", "action_id": "gantry_run", "text": {"type": "plain_text", "text": "View run"}, "url": "https://gantry.example/runs/run-42"},
                        {"type": "button", "action_id": "gantry_alert", "text": {"type": "plain_text", "text": "View alert"}, "url": "https://gantry.example/alerts/f00dfeedcafe0001"},
                    ]},
                ],
            })
        );
    }

    #[test]
    fn a_resolved_message_says_so_and_when() {
        let b = body(&fixture::resolved());
        assert_eq!(
            b["text"],
            "Resolved: nightly keeps failing (nightly in prod): 2 runs in a row succeeded"
        );
        assert_eq!(
            b["blocks"][0]["text"]["text"],
            ":large_green_circle: Resolved: nightly keeps failing"
        );
        assert_eq!(
            b["blocks"][1]["fields"][4]["text"],
            "*Resolved*\n<!date^1796468400^{date_short_pretty} {time}|2026-12-05T11:00:00Z>"
        );
    }

    #[test]
    fn a_test_is_marked_as_one_and_relative_links_are_left_out() {
        let mut n = fixture::test_notice();
        n.alert_url = "/alerts/x".into();
        let b = body(&n);
        assert_eq!(
            b["text"],
            "Test from Gantry: nightly keeps failing (nightly in prod); nothing is firing"
        );
        assert_eq!(
            b["blocks"][0]["text"]["text"],
            ":test_tube: Test: nightly keeps failing"
        );
        assert!(
            b["blocks"][2]["text"]["text"]
                .as_str()
                .unwrap()
                .ends_with("_This is a test from Gantry: nothing is firing._")
        );
        // No absolute link at all: no actions block.
        assert_eq!(b["blocks"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn markup_in_names_is_escaped_and_long_texts_clipped() {
        let mut n = fixture::firing();
        n.summary = "<!channel> & <https://evil|click>".into();
        n.rule = "r".repeat(400);
        n.workflow = String::new();
        let b = body(&n);
        assert_eq!(
            b["blocks"][2]["text"]["text"],
            "&lt;!channel&gt; &amp; &lt;https://evil|click&gt;"
        );
        assert_eq!(
            b["blocks"][0]["text"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count(),
            150
        );
        assert_eq!(b["blocks"][1]["fields"][0]["text"], "*Workflow*\n—");
        assert!(b["text"].as_str().unwrap().contains("(prod)"));
    }
}
