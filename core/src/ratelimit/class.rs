//! Which class a request falls in. Each class has its own quota, so a CI
//! job polling the run list can't use up what it needs to trigger, and a
//! flood of sign-in attempts can't slow the API down.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RouteClass {
    /// Pages, REST reads and the dashboard's read-only server functions.
    Read,
    /// Starting runs, by the API, the dashboard or a form.
    Trigger,
    /// Every other change.
    Write,
    /// Signing in (counted per client address: nobody is signed in yet).
    SignIn,
    /// SCIM provisioning from the identity provider.
    Scim,
    /// Inbound webhook deliveries (per client address: the signature is
    /// checked after the limit, so unsigned floods cost nothing).
    Webhook,
}

impl RouteClass {
    pub const ALL: [RouteClass; 6] = [
        RouteClass::Read,
        RouteClass::Trigger,
        RouteClass::Write,
        RouteClass::SignIn,
        RouteClass::Scim,
        RouteClass::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RouteClass::Read => "read",
            RouteClass::Trigger => "trigger",
            RouteClass::Write => "write",
            RouteClass::SignIn => "sign_in",
            RouteClass::Scim => "scim",
            RouteClass::Webhook => "webhook",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// Reads change nothing: when the limiter can't tell, letting them
    /// through is the default (`--rate-limit-on-store-error`).
    pub fn fail_open_by_default(self) -> bool {
        self == RouteClass::Read
    }
}

/// The server function beginning a break-glass sign-in (`/ui/…`).
pub const BREAK_GLASS_START: &str = "start_break_glass";

/// The server functions (`/ui/{endpoint}`) that only read. Every other
/// server function counts as a write, so a new one is limited as a change
/// until it is listed here.
const READING_SERVER_FUNCTIONS: &[&str] = &[
    "alert_channels",
    "alert_instances",
    "alert_notifications",
    "alert_rule",
    "alert_rules",
    "alert_transitions",
    "approval",
    "approvals",
    "audit",
    "audit_record",
    "audit_status",
    "backtest_alert_rule",
    "canary",
    "deployments",
    "environment_policies",
    "freezes",
    "overview",
    "preferences",
    "promotion",
    "promotion_board",
    "promotions",
    "rate_limits",
    "run",
    "passkeys",
    "run_logs",
    "run_secret_accesses",
    "runs",
    "secret_coverage",
    "secret_providers",
    "shell",
    "sign_in_options",
    "silences",
    "slo",
    "slos",
    "tokens",
    "users",
    "webhooks",
    "workflow",
    "workflows",
];

/// The class of a request by its method and path; `None` for what no
/// quota covers: probes, static assets, the workers' execution API (its
/// pace is the engine's), `GET /metrics` and browsers' CSP reports.
pub fn classify(method: &str, path: &str) -> Option<RouteClass> {
    let path = path.trim_end_matches('/');
    let exempt = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/csp-reports",
        "/favicon.ico",
    ];
    if exempt.contains(&path) || path.starts_with("/pkg/") || path.starts_with("/exec/") {
        return None;
    }
    if path.starts_with("/hooks/") {
        return Some(RouteClass::Webhook);
    }
    if path == "/scim/v2" || path.starts_with("/scim/v2/") {
        return Some(RouteClass::Scim);
    }
    if path.starts_with("/auth/") && path != "/auth/sign-out" {
        return Some(RouteClass::SignIn);
    }
    if let Some(endpoint) = path.strip_prefix("/ui/") {
        return Some(
            if matches!(endpoint, "trigger_run" | "act_on_failed_runs") {
                RouteClass::Trigger
            } else if endpoint == BREAK_GLASS_START {
                // Anonymous, and the first half of a sign-in.
                RouteClass::SignIn
            } else if READING_SERVER_FUNCTIONS.contains(&endpoint) {
                RouteClass::Read
            } else {
                RouteClass::Write
            },
        );
    }
    if matches!(method, "GET" | "HEAD" | "OPTIONS") {
        return Some(RouteClass::Read);
    }
    let segments: Vec<&str> = path.split('/').collect();
    let trigger = matches!(
        segments.as_slice(),
        ["", "api", "v1", "runs"]
            | ["", "api", "v1", "runs", "rerun"]
            | ["", "api", "v1", "workflows", _, "runs"]
    );
    Some(if trigger {
        RouteClass::Trigger
    } else {
        RouteClass::Write
    })
}
