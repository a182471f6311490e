//! Small text rules every channel shares: times, links, lengths and the
//! words for what happened.

use chrono::{DateTime, SecondsFormat, Utc};
use gantry_core::alert::{NoticeKind, Notification};

/// RFC 3339 in UTC to the second (`2026-12-05T10:00:00Z`): what
/// Alertmanager, PagerDuty and most receivers parse.
pub(super) fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The link only if it is absolute: Slack refuses a whole message with a
/// relative button URL, and a relative link means nothing in PagerDuty.
pub(super) fn absolute(url: Option<&str>) -> Option<&str> {
    url.filter(|u| u.starts_with("https://") || u.starts_with("http://"))
}

/// At most `max` characters, ending in "…" when cut (receivers refuse
/// texts over their limits rather than cutting them).
pub(super) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The headline word: what a person reads first.
pub(super) fn word(notice: NoticeKind) -> &'static str {
    match notice {
        NoticeKind::Firing => "Firing",
        NoticeKind::Reminder => "Still firing",
        NoticeKind::Resolved => "Resolved",
        NoticeKind::Test => "Test",
    }
}

/// "nightly in prod", or just the environment for rules about no one
/// workflow.
pub(super) fn scope(n: &Notification) -> String {
    if n.workflow.is_empty() {
        n.environment.clone()
    } else {
        format!("{} in {}", n.workflow, n.environment)
    }
}

/// A test's own id where a receiver deduplicates (PagerDuty's `dedup_key`,
/// Alertmanager's labels), so a test never touches a real alert.
pub(super) fn test_key(n: &Notification) -> String {
    format!("gantry-test-{}", n.id)
}

/// The fingerprint as the receiver deduplicates on it.
pub(super) fn dedup_key(n: &Notification) -> String {
    if n.notice == NoticeKind::Test {
        test_key(n)
    } else {
        n.fingerprint.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_counts_characters_not_bytes() {
        assert_eq!(clip("ééé", 3), "ééé");
        assert_eq!(clip("éééé", 3), "éé…");
    }

    #[test]
    fn only_absolute_links_are_kept() {
        assert_eq!(absolute(Some("https://g/x")), Some("https://g/x"));
        assert_eq!(absolute(Some("/runs/1")), None);
        assert_eq!(absolute(None), None);
    }
}
