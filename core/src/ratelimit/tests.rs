use super::*;
use chrono::TimeZone;

fn quota(text: &str) -> Quota {
    Quota::parse(text).unwrap().unwrap()
}

#[test]
fn quotas_parse_print_and_refuse_nonsense() {
    assert_eq!(
        quota("600/1m"),
        Quota {
            requests: 600,
            window_seconds: 60
        }
    );
    assert_eq!(quota("20/1s").to_string(), "20/1s");
    assert_eq!(quota("5/90").to_string(), "5/90s");
    assert_eq!(quota("1000/1h").to_string(), "1000/1h");
    assert_eq!(quota("120/120s").to_string(), "120/2m");
    assert_eq!(Quota::parse("off").unwrap(), None);
    for bad in [
        "", "600", "0/1m", "x/1m", "10/0s", "10/2d", "10/25h", "-1/1s", "10/1m30",
    ] {
        let e = Quota::parse(bad).unwrap_err().to_string();
        assert!(e.contains("REQUESTS/WINDOW"), "{bad}: {e}");
    }
    let json = serde_json::to_string(&quota("10/1m")).unwrap();
    assert_eq!(json, "\"10/1m\"");
    assert_eq!(
        serde_json::from_str::<Quota>(&json).unwrap(),
        quota("10/1m")
    );
}

#[test]
fn the_more_generous_quota_allows_more_per_second_then_more_at_once() {
    assert_eq!(
        Quota::more_generous(quota("60/1m"), quota("2/1s")),
        quota("2/1s")
    );
    assert_eq!(
        Quota::more_generous(quota("60/1m"), quota("1/1s")),
        quota("60/1m")
    );
    assert_eq!(
        Quota::more_generous(quota("1/1s"), quota("60/1m")),
        quota("60/1m")
    );
}

#[test]
fn requests_are_classified_by_method_and_route() {
    let c = |m, p| classify(m, p);
    assert_eq!(c("GET", "/runs"), Some(RouteClass::Read));
    assert_eq!(c("GET", "/api/v1/runs"), Some(RouteClass::Read));
    assert_eq!(c("POST", "/api/v1/runs"), Some(RouteClass::Trigger));
    assert_eq!(
        c("POST", "/api/v1/workflows/nightly/runs"),
        Some(RouteClass::Trigger)
    );
    assert_eq!(c("POST", "/api/v1/runs/r1/cancel"), Some(RouteClass::Write));
    assert_eq!(c("POST", "/api/v1/runs/rerun"), Some(RouteClass::Trigger));
    assert_eq!(c("POST", "/api/v1/runs/dismiss"), Some(RouteClass::Write));
    assert_eq!(c("POST", "/ui/trigger_run"), Some(RouteClass::Trigger));
    assert_eq!(c("POST", "/ui/runs"), Some(RouteClass::Read));
    assert_eq!(c("POST", "/ui/cancel_run"), Some(RouteClass::Write));
    assert_eq!(c("POST", "/ui/some_new_function"), Some(RouteClass::Write));
    assert_eq!(c("POST", "/auth/dev/sign-in"), Some(RouteClass::SignIn));
    assert_eq!(c("POST", "/auth/break-glass"), Some(RouteClass::SignIn));
    assert_eq!(c("POST", "/ui/start_break_glass"), Some(RouteClass::SignIn));
    assert_eq!(c("GET", "/auth/callback"), Some(RouteClass::SignIn));
    assert_eq!(c("POST", "/auth/sign-out"), Some(RouteClass::Write));
    assert_eq!(c("GET", "/scim/v2/Users"), Some(RouteClass::Scim));
    assert_eq!(c("POST", "/hooks/deploy"), Some(RouteClass::Webhook));
    for exempt in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/pkg/gantry.js",
        "/exec/v1/lease",
    ] {
        assert_eq!(c("GET", exempt), None, "{exempt}");
    }
}

fn rule(kind: OverrideSubject, subject: &str, class: RouteClass, q: &str) -> RateLimitOverride {
    RateLimitOverride {
        id: format!("{subject}-{q}"),
        subject_kind: kind,
        subject: subject.into(),
        class,
        quota: Quota::parse(q).unwrap(),
        note: String::new(),
        created_by: "Ada".into(),
        created_at: chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
    }
}

#[test]
fn a_token_override_beats_group_overrides_which_beat_the_default() {
    use OverrideSubject::{Group, Token};
    use RouteClass::{Read, Trigger};
    let default = Some(quota("100/1m"));
    let overrides = [
        rule(Token, "tok1", Read, "5/1m"),
        rule(Group, "ci", Read, "1000/1m"),
        rule(Group, "sre", Read, "2000/1m"),
        rule(Group, "robots", Trigger, "off"),
    ];
    assert_eq!(
        quota_for(Read, default, Some("tok1"), &["sre"], &overrides),
        Some(quota("5/1m"))
    );
    assert_eq!(
        quota_for(Read, default, None, &["ci", "sre"], &overrides),
        Some(quota("2000/1m"))
    );
    assert_eq!(
        quota_for(Read, default, None, &["ci"], &overrides),
        Some(quota("1000/1m"))
    );
    assert_eq!(
        quota_for(Read, default, Some("tok2"), &[], &overrides),
        default
    );
    assert_eq!(
        quota_for(Trigger, default, None, &["robots", "ci"], &overrides),
        None
    );
    assert_eq!(
        quota_for(Trigger, default, None, &["ci"], &overrides),
        default
    );
}

#[test]
fn gcra_allows_a_burst_then_one_per_interval() {
    let q = quota("3/3s"); // one a second, three at once
    let mut tat = None;
    let now = 10_000_000;
    let mut passed = 0;
    for _ in 0..5 {
        let (ok, next) = admit(q, tat, now);
        if ok {
            passed += 1;
            tat = Some(next);
        }
    }
    assert_eq!(passed, 3);
    let refused = Standing::refused(q, tat.unwrap(), now);
    assert_eq!(
        (
            refused.remaining,
            refused.retry_after_seconds,
            refused.reset_seconds
        ),
        (0, 1, 3)
    );
    // A second later exactly one more fits.
    let later = now + 1_000_000;
    let (ok, next) = admit(q, tat, later);
    assert!(ok);
    assert!(!admit(q, Some(next), later).0);
    let standing = Standing::allowed(q, next, later);
    assert_eq!((standing.remaining, standing.reset_seconds), (0, 3));
    // After the whole window the burst is back.
    let (ok, next) = admit(q, Some(next), later + 3_000_000);
    assert!(ok);
    assert_eq!(Standing::allowed(q, next, later + 3_000_000).remaining, 2);
}
