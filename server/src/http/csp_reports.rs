//! Where browsers report Content-Security-Policy violations (`report-uri`
//! and `report-to`, app/src/csp.rs): each is counted by directive
//! (`gantry_csp_violations_total`) and logged with what was blocked and on
//! which page, so an injected script or a policy too strict for a page
//! shows up. Anyone can post here (browsers send reports without
//! credentials), so the body is small, read loosely, never stored, and
//! nothing in it reaches a metric label but a known directive name.

use axum::body::Bytes;
use axum::http::StatusCode;
use serde_json::Value;

/// The largest report read: browsers send a few hundred bytes each.
pub const MAX_REPORT_BYTES: usize = 64 * 1024;

/// Directive names a label may carry; anything else counts as `other`.
const DIRECTIVES: [&str; 12] = [
    "script-src",
    "script-src-elem",
    "script-src-attr",
    "style-src",
    "style-src-elem",
    "style-src-attr",
    "img-src",
    "connect-src",
    "object-src",
    "base-uri",
    "frame-ancestors",
    "form-action",
];

/// One violation, as much as the log needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub directive: &'static str,
    pub blocked: String,
    pub page: String,
}

/// The violations in a report body: `{"csp-report": {…}}` (report-uri) or
/// `[{"type": "csp-violation", "body": {…}}, …]` (the Reporting API).
pub fn violations(body: &[u8]) -> Vec<Violation> {
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let reports: Vec<&Value> = match &json {
        Value::Array(items) => items
            .iter()
            .filter(|r| r["type"] == "csp-violation")
            .map(|r| &r["body"])
            .collect(),
        Value::Object(_) => vec![&json["csp-report"]],
        _ => Vec::new(),
    };
    reports
        .into_iter()
        .filter(|r| r.is_object())
        .map(|r| {
            let text = |keys: [&str; 2]| {
                keys.iter()
                    .find_map(|k| r[*k].as_str())
                    .map(|s| s.chars().take(200).collect::<String>())
                    .unwrap_or_default()
            };
            let named = text(["effectiveDirective", "effective-directive"]);
            let named = if named.is_empty() {
                text(["violatedDirective", "violated-directive"])
            } else {
                named
            };
            let first = named.split_whitespace().next().unwrap_or_default();
            Violation {
                directive: DIRECTIVES
                    .iter()
                    .find(|d| **d == first)
                    .copied()
                    .unwrap_or("other"),
                blocked: text(["blockedURL", "blocked-uri"]),
                page: text(["documentURL", "document-uri"]),
            }
        })
        .collect()
}

/// `POST /csp-reports`: always 204, whatever arrives.
pub async fn receive(body: Bytes) -> StatusCode {
    for v in violations(&body) {
        metrics::counter!("gantry_csp_violations_total", "directive" => v.directive).increment(1);
        tracing::warn!(directive = v.directive, blocked = %v.blocked, page = %v.page,
            "content security policy violation reported");
    }
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_report_formats_are_read_and_labels_stay_bounded() {
        let legacy = br#"{"csp-report": {"document-uri": "https://g/runs", "violated-directive": "script-src-elem", "effective-directive": "script-src-elem", "blocked-uri": "inline"}}"#;
        assert_eq!(
            violations(legacy),
            vec![Violation {
                directive: "script-src-elem",
                blocked: "inline".into(),
                page: "https://g/runs".into()
            }]
        );
        let api = br#"[{"type": "csp-violation", "body": {"documentURL": "https://g/", "effectiveDirective": "img-src", "blockedURL": "https://x/y.png"}},
                       {"type": "deprecation", "body": {}},
                       {"type": "csp-violation", "body": {"effectiveDirective": "made-up-${jndi}"}}]"#;
        let found = violations(api);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].directive, "img-src");
        assert_eq!(found[1].directive, "other");
        assert!(violations(b"not json").is_empty());
        assert!(violations(b"42").is_empty());
        let long = format!(
            r#"{{"csp-report": {{"blocked-uri": "{}"}}}}"#,
            "x".repeat(5000)
        );
        assert_eq!(violations(long.as_bytes())[0].blocked.len(), 200);
    }
}
