//! The authorization matrix: every REST operation and every server function,
//! called by every kind of principal in every environment, against one table
//! of rules. The table must name exactly the operations the OpenAPI document
//! lists and the server functions registered with Leptos, so a new route
//! without a rule fails here, by name.
//!
//! Requests are shaped so that authorization is what decides: real runs and
//! approval requests in each environment (the port looks them up before it
//! knows the environment to authorize in), a fresh pending request for each
//! decision (a decided one answers 409 before anyone's roles are checked;
//! the bootstrap token asks and wrote the workflows, and the matrix's tokens
//! are made by a person, so four-eyes never gets in the way), a workflow
//! with a required input (allowed triggers stop at 422 and start nothing),
//! an identical spec (allowed applies change nothing), a taken token name
//! (allowed creations stop at 409), an unknown account (allowed disables
//! and delegations stop at 404), a delegation revoked already (allowed
//! revocations stop at 409). Allowed means the answer is neither 401
//! nor 403 nor a sign that the request never reached the port (400, 405,
//! 415, 5xx); denied means 403 with the `forbidden` error, or 401 with
//! `unauthenticated` for anonymous callers.

use crate::helpers::{TOKEN, TestApp, new_client};
use gantry_core::Role::{self, Admin, Approver, Auditor, Operator, Viewer};
use reqwest::{Client, Method};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The environments the test server has (the default list).
const ENVS: &[&str] = &["dev", "stage", "prod"];
/// Scopes a new token's role can be granted in.
const SCOPES: &[&str] = &["dev", "stage", "prod", "*"];
/// Promotion requests go into the last environment.
const LAST: &[&str] = &["prod"];
/// Applying a workflow activates it in the first environment.
const FIRST: &[&str] = &["dev"];
/// Not environment-scoped: one case per principal.
const NONE: &[&str] = &[];

/// A workflow with a required input: an allowed trigger without inputs gets
/// 422 from the port, after authorization, and starts nothing.
const SPEC: &str =
    "name: matrix\ninputs:\n  who: { type: string }\nsteps:\n  - id: greet\n    run: echo hi\n";
const WORKFLOW: &str = "matrix";
/// Its next version: what the fixture's promotion request moves.
const SPEC_V2: &str =
    "name: matrix\ninputs:\n  who: { type: string }\nsteps:\n  - id: greet\n    run: echo hello\n";
/// Runs of this one wait for a second person in every environment.
const GATED: &str = "name: matrix-gated\napproval: { required_in: [dev, stage, prod] }\nsteps:\n  - id: greet\n    run: echo hi\n";
const GATED_WORKFLOW: &str = "matrix-gated";
/// A token name in use (the first of [`TOKENS`]): allowed creations stop at 409.
const TAKEN_TOKEN: &str = "mx-viewer-all";
const API_DOC: &str = "/api/v1/openapi.json";

/// Who may call a route, in terms of roles held per environment (`role@env`,
/// `*` covers every environment).
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Anyone, signed in or not.
    Public,
    /// Anyone, whatever credential they send (a worker token included):
    /// no session or token is read, a signature is the credential
    /// (`POST /hooks/{hook}`; the matrix's hook doesn't exist: 404).
    Signed,
    /// Any principal, whatever its roles.
    Authenticated,
    /// People only (their own preferences), not service tokens.
    People,
    /// One of these roles in any environment, whichever environment the
    /// request concerns (reads are not environment-scoped).
    Anywhere(&'static [Role]),
    /// One of these roles in the request's environment.
    InEnv(&'static [Role]),
    /// Making a token whose role is granted in the request's scope: an admin
    /// whose admin role covers that scope (`*` needs admin@*); a token also
    /// needs `can_create_tokens`.
    AdminOver,
    /// Deciding an approval: approver or admin in the request's environment;
    /// tokens not in the last environment (`--token-approvals` default).
    Decide,
    /// Admin in every environment (admin@*): changes that reach everywhere.
    AdminEverywhere,
    /// A person (never a token) who is admin in every environment: a
    /// break-glass passkey is a way in for a person.
    PersonAdminEverywhere,
    /// Delegating one's approvals: a person (never a token) holding
    /// approver or admin in the request's environment.
    Delegate,
    /// Revoking the fixture's delegation: the person who made it (the
    /// approver user) or an admin of its environment.
    DelegatorOrAdmin,
    /// Worker tokens only, whatever the roles of anyone else: the execution
    /// API. Other tokens reach the port and are refused (403); sessions are
    /// no credential there (401).
    Workers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Edge {
    /// A REST operation: its method and its path below `/api/v1` as the
    /// OpenAPI document names it.
    Rest(&'static str, &'static str),
    /// A server function, by its endpoint under `/ui/`.
    ServerFn(&'static str),
    /// An execution API call, by its endpoint under `/exec/v1/`.
    Exec(&'static str),
    /// An inbound webhook delivery, by its path template (`/hooks/{hook}`).
    Hook(&'static str),
}

impl std::fmt::Display for Edge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Edge::Rest(method, path) => write!(f, "{} /api/v1{path}", method.to_uppercase()),
            Edge::ServerFn(name) => write!(f, "server fn /ui/{name}"),
            Edge::Exec(name) => write!(f, "POST /exec/v1/{name}"),
            Edge::Hook(path) => write!(f, "POST {path}"),
        }
    }
}

enum Body {
    Empty,
    Json(Value),
    Yaml(&'static str),
    Form(Vec<(&'static str, String)>),
}

/// What the requests refer to, made once.
struct Fixture {
    /// A pending promotion request into the last environment (its
    /// checklist can't turn green here, so no case promotes it).
    promotion: String,
    /// A queued run per environment.
    runs: BTreeMap<&'static str, String>,
    /// A pending approval request per environment, for reads.
    approvals: BTreeMap<&'static str, String>,
    /// A delegation in the last environment by the approver user, revoked
    /// already (so no case gains a delegated right from it).
    delegation: String,
}

/// What one case's request refers to.
struct Target {
    /// The case's environment (or a new token's scope); `dev` when the
    /// route has none.
    env: &'static str,
    /// A queued run in `env` (empty for the `*` scope).
    run: String,
    /// A pending approval request in `env`: the shared one, or one made for
    /// this case alone when the row decides it.
    approval: String,
    /// The fixture's promotion request (into the last environment).
    promotion: String,
    /// The fixture's (revoked) delegation.
    delegation: String,
}

struct Row {
    edge: Edge,
    rule: Rule,
    /// The environments the request is made in (one case each: the run
    /// read or cancelled, the environment triggered, the token's scope);
    /// empty when the request has none.
    envs: &'static [&'static str],
    /// Each case decides an approval request, so gets a pending one of its
    /// own.
    decides: bool,
    /// The body. REST path parameters are filled in by [`concrete_path`].
    body: fn(&Target) -> Body,
}

impl Row {
    fn deciding(self) -> Row {
        Row {
            decides: true,
            ..self
        }
    }
}

fn rest(
    method: &'static str,
    path: &'static str,
    rule: Rule,
    envs: &'static [&'static str],
    body: fn(&Target) -> Body,
) -> Row {
    Row {
        edge: Edge::Rest(method, path),
        rule,
        envs,
        decides: false,
        body,
    }
}

fn server_fn(
    name: &'static str,
    rule: Rule,
    envs: &'static [&'static str],
    body: fn(&Target) -> Body,
) -> Row {
    Row {
        edge: Edge::ServerFn(name),
        rule,
        envs,
        decides: false,
        body,
    }
}

fn exec(name: &'static str, body: fn(&Target) -> Body) -> Row {
    Row {
        edge: Edge::Exec(name),
        rule: Rule::Workers,
        envs: NONE,
        decides: false,
        body,
    }
}

/// An attempt of the environment's queued run (not leased: an allowed
/// heartbeat hears `lost`, an allowed report is stale, allowed log lines are
/// refused with 409, and nothing changes).
fn attempt(t: &Target, extra: Value) -> Body {
    let mut body = json!({"instance": "mx", "run_id": t.run, "step_id": "greet", "attempt": 1});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    Body::Json(body)
}

fn empty(_: &Target) -> Body {
    Body::Empty
}

fn form(fields: &[(&'static str, &str)]) -> Body {
    Body::Form(fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
}

const VIEWERS: &[Role] = &[Viewer, Operator, Approver, Admin];
const OPERATORS: &[Role] = &[Operator, Admin];
const ADMINS: &[Role] = &[Admin];
const AUDITORS: &[Role] = &[Admin, Auditor];
const APPROVERS: &[Role] = &[Approver, Admin];

/// THE table: every route, who may call it, and how to call it.
fn table() -> Vec<Row> {
    use Rule::*;
    vec![
        // REST API v1.
        rest("get", "/openapi.json", Public, NONE, empty),
        rest("get", "/me", Authenticated, NONE, empty),
        rest("get", "/workflows", Anywhere(VIEWERS), NONE, empty),
        rest("post", "/workflows", InEnv(ADMINS), FIRST, |_| {
            Body::Yaml(SPEC)
        }),
        rest("get", "/workflows/{name}", Anywhere(VIEWERS), NONE, empty),
        // No trusted key here: an allowed import stops at 409 and writes nothing.
        rest("post", "/bundles", InEnv(ADMINS), FIRST, |_| {
            Body::Json(json!({}))
        }),
        rest(
            "get",
            "/workflows/{name}/versions",
            Anywhere(VIEWERS),
            NONE,
            empty,
        ),
        rest(
            "put",
            "/workflows/{name}/schedule",
            InEnv(ADMINS),
            ENVS,
            |t| Body::Json(json!({"environment": t.env, "enabled": true})),
        ),
        rest(
            "post",
            "/workflows/{name}/runs",
            InEnv(OPERATORS),
            ENVS,
            |t| Body::Json(json!({"environment": t.env})),
        ),
        rest("get", "/runs", Anywhere(VIEWERS), NONE, empty),
        rest("post", "/runs", InEnv(OPERATORS), ENVS, |t| {
            Body::Json(json!({"workflow": WORKFLOW, "environment": t.env}))
        }),
        rest("get", "/runs/{id}", InEnv(VIEWERS), ENVS, empty),
        rest("get", "/runs/{id}/logs", InEnv(VIEWERS), ENVS, empty),
        rest("post", "/runs/{id}/cancel", InEnv(OPERATORS), ENVS, empty),
        // Dead letters: the matrix's run is queued, so an allowed call
        // answers 200 with that run's own refusal ("only failed runs").
        rest("post", "/runs/rerun", InEnv(OPERATORS), ENVS, |t| {
            Body::Json(json!({"runs": [t.run], "mode": "same_version"}))
        }),
        rest("post", "/runs/dismiss", InEnv(OPERATORS), ENVS, |t| {
            Body::Json(json!({"runs": [t.run], "note": "mx"}))
        }),
        rest(
            "get",
            "/runs/{id}/secret-accesses",
            InEnv(VIEWERS),
            ENVS,
            empty,
        ),
        rest("get", "/approvals", Anywhere(VIEWERS), NONE, empty),
        rest("get", "/approvals/{id}", InEnv(VIEWERS), ENVS, empty),
        rest("post", "/approvals/{id}/approve", Decide, ENVS, empty).deciding(),
        rest("post", "/approvals/{id}/reject", Decide, ENVS, empty).deciding(),
        // Delegations: an unknown delegate (allowed delegations stop at 404)
        // and the fixture's revoked delegation (allowed revocations: 409).
        rest("get", "/delegations", Anywhere(VIEWERS), NONE, empty),
        rest("post", "/delegations", Delegate, ENVS, |t| {
            let until = chrono::Utc::now() + chrono::Duration::days(1);
            Body::Json(json!({"to": "no-such-user", "environment": t.env, "until": until}))
        }),
        rest(
            "post",
            "/delegations/{id}/revoke",
            DelegatorOrAdmin,
            LAST,
            empty,
        ),
        // Promotion: who may ask, decide, tick and roll back is the target
        // environment's policy; these are the defaults (request and roll
        // back: operator; decide: approver; the manual item: operator).
        rest(
            "post",
            "/workflows/{name}/promotions",
            InEnv(OPERATORS),
            ENVS,
            |t| Body::Json(json!({"to_environment": t.env, "reason": "matrix"})),
        ),
        rest(
            "post",
            "/workflows/{name}/rollback",
            InEnv(OPERATORS),
            ENVS,
            |t| Body::Json(json!({"environment": t.env, "reason": "matrix"})),
        ),
        rest(
            "get",
            "/workflows/{name}/diff",
            Anywhere(VIEWERS),
            NONE,
            empty,
        ),
        rest("get", "/promotions", Anywhere(VIEWERS), NONE, empty),
        rest("get", "/promotions/{id}", InEnv(VIEWERS), LAST, empty),
        rest("post", "/promotions/{id}/approve", Decide, LAST, empty),
        rest("post", "/promotions/{id}/reject", Decide, LAST, empty),
        rest(
            "post",
            "/promotions/{id}/cancel",
            InEnv(ADMINS),
            LAST,
            empty,
        ),
        rest(
            "post",
            "/promotions/{id}/checklist/{item}",
            InEnv(OPERATORS),
            LAST,
            |_| Body::Json(json!({"checked": true})),
        ),
        rest("get", "/deployments", Anywhere(VIEWERS), NONE, empty),
        rest("get", "/verifications", Anywhere(VIEWERS), NONE, empty),
        rest("get", "/canaries", Anywhere(VIEWERS), NONE, empty),
        // The fixture has no canary (its id is a run's): every reader
        // reaches the lookup (404). Who may steer a real one, by role and
        // environment, is canaries.rs's manual-controls test.
        rest("get", "/canaries/{id}", Anywhere(VIEWERS), NONE, empty),
        rest(
            "post",
            "/canaries/{id}/{control}",
            Anywhere(VIEWERS),
            NONE,
            empty,
        ),
        rest(
            "get",
            "/environments/policies",
            Anywhere(VIEWERS),
            NONE,
            empty,
        ),
        rest(
            "get",
            "/environments/{env}/policy",
            Anywhere(VIEWERS),
            NONE,
            empty,
        ),
        rest(
            "put",
            "/environments/{env}/policy",
            InEnv(ADMINS),
            ENVS,
            |_| Body::Json(json!({"required_approvals": 0})),
        ),
        // Freeze windows: admins of the environment declare and delete
        // them (a window far in the future, so no other case meets it) and
        // break them for one request; a break that doesn't exist is 404
        // for everyone.
        rest("get", "/freezes", Anywhere(VIEWERS), NONE, empty),
        rest(
            "get",
            "/environments/{env}/freezes",
            InEnv(VIEWERS),
            ENVS,
            empty,
        ),
        rest(
            "post",
            "/environments/{env}/freezes",
            InEnv(ADMINS),
            ENVS,
            |_| {
                Body::Json(json!({"reason": "matrix", "kind": "one_off",
                    "start": "2099-01-01T00:00:00Z", "end": "2099-01-02T00:00:00Z"}))
            },
        ),
        rest(
            "delete",
            "/environments/{env}/freezes/{id}",
            InEnv(ADMINS),
            ENVS,
            empty,
        ),
        rest(
            "post",
            "/promotions/{id}/break-freeze",
            InEnv(ADMINS),
            LAST,
            |_| Body::Json(json!({"reason": "matrix"})),
        ),
        rest(
            "post",
            "/freeze-breaks/{id}/review",
            Authenticated,
            NONE,
            |_| Body::Json(json!({})),
        ),
        rest("get", "/tokens", Anywhere(ADMINS), NONE, empty),
        rest("post", "/tokens", AdminOver, SCOPES, |t| {
            // Short-lived, so a token that may make tokens isn't refused
            // for outliving itself.
            Body::Json(
                json!({"name": TAKEN_TOKEN, "roles": [format!("viewer@{}", t.env)],
                              "expires_in": "1d"}),
            )
        }),
        rest("delete", "/tokens/{token}", Anywhere(ADMINS), NONE, empty),
        rest("get", "/users", Anywhere(AUDITORS), NONE, empty),
        rest("get", "/users/{user}", Anywhere(AUDITORS), NONE, empty),
        rest(
            "post",
            "/users/{user}/disable",
            AdminEverywhere,
            NONE,
            empty,
        ),
        rest("post", "/users/{user}/enable", AdminEverywhere, NONE, empty),
        rest("get", "/users/{user}/export", AdminEverywhere, NONE, empty),
        rest("post", "/users/{user}/erase", AdminEverywhere, NONE, empty),
        // Break-glass passkeys: anyone lists (their own); registering is a
        // person's with admin@*. No ceremony or passkey of these ids exists:
        // allowed finishes and revocations stop at 404.
        rest("get", "/passkeys", Authenticated, NONE, empty),
        rest(
            "post",
            "/passkeys/registrations",
            PersonAdminEverywhere,
            NONE,
            empty,
        ),
        rest("post", "/passkeys", PersonAdminEverywhere, NONE, |_| {
            Body::Json(json!({"ceremony": "no-such-ceremony", "name": "mx", "credential": {}}))
        }),
        rest("delete", "/passkeys/{id}", Authenticated, NONE, empty),
        rest("get", "/retention", Anywhere(AUDITORS), NONE, empty),
        // Nothing is due here: an allowed purge removes nothing.
        rest("post", "/retention/purge", AdminEverywhere, NONE, empty),
        rest("get", "/secret-providers", Anywhere(AUDITORS), NONE, empty),
        // No such provider here: an allowed call stops at 404.
        rest("post", "/secrets/invalidate", AdminEverywhere, NONE, |_| {
            Body::Json(json!({"provider": "file"}))
        }),
        rest("get", "/audit", Anywhere(AUDITORS), NONE, empty),
        rest("get", "/audit/verify", Anywhere(AUDITORS), NONE, empty),
        rest("get", "/audit/{seq}", Anywhere(AUDITORS), NONE, empty),
        // Alerting: rules and silences by operators where they apply,
        // channels by admins everywhere. Allowed creations stop at 409 after
        // the first (one name per environment); the `{name}` and `{id}`
        // used don't exist, and only callers who manage alerts somewhere
        // learn that (404), the rest are refused first.
        rest("get", "/alerts", Anywhere(VIEWERS), NONE, empty),
        rest("get", "/alerts/history", Anywhere(VIEWERS), NONE, empty),
        rest(
            "get",
            "/alerts/notifications",
            Anywhere(VIEWERS),
            NONE,
            empty,
        ),
        rest("get", "/alerts/rules", Anywhere(VIEWERS), NONE, empty),
        rest("post", "/alerts/rules", InEnv(OPERATORS), ENVS, |t| {
            Body::Json(
                json!({"name": format!("mx-{}", t.env), "kind": "consecutive_failures",
                              "threshold": 2, "environment": t.env}),
            )
        }),
        rest(
            "post",
            "/alerts/rules/backtest",
            Anywhere(VIEWERS),
            NONE,
            |_| Body::Json(json!({"name": "mx", "kind": "consecutive_failures", "threshold": 2})),
        ),
        rest(
            "get",
            "/alerts/rules/{name}",
            Anywhere(VIEWERS),
            NONE,
            empty,
        ),
        rest(
            "put",
            "/alerts/rules/{name}",
            Anywhere(OPERATORS),
            NONE,
            |_| {
                Body::Json(
                    json!({"name": WORKFLOW, "kind": "consecutive_failures", "threshold": 2}),
                )
            },
        ),
        rest(
            "delete",
            "/alerts/rules/{name}",
            Anywhere(OPERATORS),
            NONE,
            empty,
        ),
        // Inbound webhooks: admins of the hook's environment. An allowed
        // creation names a workflow that doesn't exist (422, nothing
        // made); the hook the other routes name doesn't exist (404 for
        // admins anywhere, 403 for everyone else).
        rest("get", "/webhooks", Anywhere(ADMINS), NONE, empty),
        Row {
            edge: Edge::Hook("/hooks/{hook}"),
            rule: Signed,
            envs: NONE,
            decides: false,
            body: empty,
        },
        rest("post", "/webhooks", InEnv(ADMINS), ENVS, |t| {
            Body::Json(json!({"name": "mx-hook", "environment": t.env,
                              "workflow": "no-such-workflow"}))
        }),
        rest("get", "/webhooks/{hook}", Anywhere(ADMINS), NONE, empty),
        rest("delete", "/webhooks/{hook}", Anywhere(ADMINS), NONE, empty),
        rest(
            "post",
            "/webhooks/{hook}/rotate",
            Anywhere(ADMINS),
            NONE,
            empty,
        ),
        rest(
            "post",
            "/webhooks/{hook}/retire-previous",
            Anywhere(ADMINS),
            NONE,
            empty,
        ),
        // Rate limits: admins of every environment. The override the
        // delete names doesn't exist (404 once allowed).
        rest("get", "/rate-limits", AdminEverywhere, NONE, empty),
        rest(
            "post",
            "/rate-limits/overrides",
            AdminEverywhere,
            NONE,
            |_| {
                Body::Json(json!({"subject_kind": "group", "subject": "mx-group",
                              "class": "read", "quota": "100/1m"}))
            },
        ),
        rest(
            "delete",
            "/rate-limits/overrides/{id}",
            AdminEverywhere,
            NONE,
            empty,
        ),
        rest("get", "/alerts/channels", Anywhere(VIEWERS), NONE, empty),
        rest("post", "/alerts/channels", AdminEverywhere, NONE, |_| {
            Body::Json(
                json!({"name": "mx-channel", "kind": "webhook", "url": "http://127.0.0.1:1/"}),
            )
        }),
        rest(
            "put",
            "/alerts/channels/{name}",
            AdminEverywhere,
            NONE,
            |_| {
                Body::Json(
                    json!({"name": WORKFLOW, "kind": "webhook", "url": "http://127.0.0.1:1/"}),
                )
            },
        ),
        rest(
            "delete",
            "/alerts/channels/{name}",
            AdminEverywhere,
            NONE,
            empty,
        ),
        rest(
            "post",
            "/alerts/channels/{name}/test",
            AdminEverywhere,
            NONE,
            empty,
        ),
        rest("get", "/alerts/silences", Anywhere(VIEWERS), NONE, empty),
        rest("post", "/alerts/silences", InEnv(OPERATORS), ENVS, |t| {
            let ends = chrono::Utc::now() + chrono::Duration::hours(1);
            Body::Json(json!({"environment": t.env, "ends_at": ends, "reason": "matrix"}))
        }),
        rest(
            "post",
            "/alerts/silences/{id}/expire",
            Anywhere(OPERATORS),
            NONE,
            empty,
        ),
        // SLOs: reads, scoped like runs. The matrix workflow declares no
        // SLO, so an allowed read of one stops at 404.
        rest("get", "/slos", Anywhere(VIEWERS), NONE, empty),
        rest(
            "get",
            "/workflows/{name}/slos/{environment}",
            InEnv(VIEWERS),
            ENVS,
            empty,
        ),
        // Server functions (the dashboard).
        server_fn("shell", Public, NONE, empty),
        server_fn("sign_in_options", Public, NONE, empty),
        server_fn("overview", Anywhere(VIEWERS), NONE, empty),
        server_fn("preferences", People, NONE, empty),
        server_fn("save_preferences", People, NONE, |_| {
            form(&[("theme", "system"), ("time_display", "utc")])
        }),
        server_fn("workflows", Anywhere(VIEWERS), NONE, empty),
        server_fn("workflow_names", Anywhere(VIEWERS), NONE, empty),
        server_fn("workflow", Anywhere(VIEWERS), NONE, |_| {
            form(&[("name", WORKFLOW)])
        }),
        server_fn("apply_workflow", InEnv(ADMINS), FIRST, |_| {
            form(&[("source", SPEC)])
        }),
        server_fn("trigger_run", InEnv(OPERATORS), ENVS, |t| {
            form(&[("workflow", WORKFLOW), ("environment", t.env)])
        }),
        server_fn("runs", Anywhere(VIEWERS), NONE, empty),
        server_fn("run", InEnv(VIEWERS), ENVS, |t| form(&[("id", &t.run)])),
        server_fn("run_logs", InEnv(VIEWERS), ENVS, |t| {
            form(&[("id", &t.run)])
        }),
        // The Rate limits page: admins of every environment; the override
        // deleted doesn't exist (404 once allowed).
        server_fn("rate_limits", AdminEverywhere, NONE, |_| form(&[])),
        server_fn("set_rate_limit_override", AdminEverywhere, NONE, |_| {
            form(&[
                ("subject_kind", "group"),
                ("subject", "mx-group"),
                ("class", "read"),
                ("quota", "100/1m"),
            ])
        }),
        server_fn("delete_rate_limit_override", AdminEverywhere, NONE, |_| {
            form(&[("id", "no-such-override")])
        }),
        server_fn("cancel_run", InEnv(OPERATORS), ENVS, |t| {
            form(&[("id", &t.run)])
        }),
        // The Needs attention form: its run is queued (not failed), so an
        // allowed post comes back with that run's own refusal.
        server_fn("act_on_failed_runs", InEnv(OPERATORS), ENVS, |t| {
            // The field's name holds the run id (leaked: one per case).
            let field: &'static str =
                Box::leak(format!("selected[run-{}]", t.run).into_boxed_str());
            form(&[(field, "on"), ("act", "same_version")])
        }),
        server_fn("run_secret_accesses", InEnv(VIEWERS), ENVS, |t| {
            form(&[("id", &t.run)])
        }),
        server_fn("secret_coverage", Anywhere(VIEWERS), NONE, empty),
        server_fn("secret_providers", Anywhere(AUDITORS), NONE, empty),
        server_fn("slos", Anywhere(VIEWERS), NONE, |_| {
            form(&[("workflow", WORKFLOW)])
        }),
        server_fn("slo", InEnv(VIEWERS), ENVS, |t| {
            form(&[("workflow", WORKFLOW), ("environment", t.env)])
        }),
        server_fn("approvals", Anywhere(VIEWERS), NONE, empty),
        server_fn("approval", InEnv(VIEWERS), ENVS, |t| {
            form(&[("id", &t.approval)])
        }),
        server_fn("decide_approval", Decide, ENVS, |t| {
            form(&[("id", &t.approval), ("decision", "approve")])
        })
        .deciding(),
        server_fn("promotion_board", Anywhere(VIEWERS), NONE, empty),
        server_fn("promotions", Anywhere(VIEWERS), NONE, empty),
        server_fn("deployments", Anywhere(VIEWERS), NONE, empty),
        server_fn("environment_policies", Anywhere(VIEWERS), NONE, empty),
        server_fn("promotion", InEnv(VIEWERS), LAST, |t| {
            form(&[("id", &t.promotion)])
        }),
        server_fn("request_promotion", InEnv(OPERATORS), ENVS, |t| {
            form(&[
                ("workflow", WORKFLOW),
                ("to_environment", t.env),
                ("reason", "matrix"),
            ])
        }),
        // No canary in the fixture (a run's id): readers reach the lookup.
        server_fn("canary", Anywhere(VIEWERS), NONE, |t| {
            form(&[("id", &t.run)])
        }),
        server_fn("control_canary", Anywhere(VIEWERS), NONE, |t| {
            form(&[("id", &t.run), ("control", "pause")])
        }),
        server_fn("decide_promotion", Decide, LAST, |t| {
            form(&[("id", &t.promotion), ("decision", "approve")])
        }),
        server_fn("mark_checklist_item", InEnv(OPERATORS), LAST, |t| {
            form(&[
                ("id", &t.promotion),
                ("item", "on_call_aware"),
                ("checked", "true"),
            ])
        }),
        server_fn("roll_back", InEnv(OPERATORS), ENVS, |t| {
            form(&[
                ("workflow", WORKFLOW),
                ("environment", t.env),
                ("reason", "matrix"),
            ])
        }),
        server_fn("freezes", Anywhere(VIEWERS), NONE, empty),
        server_fn("create_freeze", InEnv(ADMINS), ENVS, |t| {
            form(&[
                ("environment", t.env),
                ("window[reason]", "matrix"),
                ("window[kind]", "one_off"),
                ("window[start]", "2099-01-01T00:00"),
                ("window[end]", "2099-01-02T00:00"),
            ])
        }),
        server_fn("delete_freeze", InEnv(ADMINS), ENVS, |t| {
            form(&[("environment", t.env), ("id", &t.run)])
        }),
        server_fn("break_freeze", InEnv(ADMINS), LAST, |t| {
            form(&[("id", &t.promotion), ("reason", "matrix")])
        }),
        server_fn("review_freeze_break", Authenticated, NONE, |t| {
            form(&[("id", &t.run)])
        }),
        server_fn("set_environment_policy", InEnv(ADMINS), ENVS, |t| {
            form(&[
                ("environment", t.env),
                ("required_approvals", "0"),
                ("request_role", "operator"),
                ("rollback_role", "operator"),
                ("request_ttl", "7d"),
            ])
        }),
        server_fn("tokens", Anywhere(ADMINS), NONE, empty),
        server_fn("webhooks", Anywhere(ADMINS), NONE, empty),
        server_fn("create_token", AdminOver, SCOPES, |t| {
            form(&[
                ("name", TAKEN_TOKEN),
                ("roles[]", &format!("viewer@{}", t.env)),
                ("expires_in", "1d"),
            ])
        }),
        server_fn("revoke_token", Anywhere(ADMINS), NONE, |_| {
            form(&[("id", "no-such-token")])
        }),
        server_fn("users", Anywhere(AUDITORS), NONE, empty),
        server_fn("set_user_access", AdminEverywhere, NONE, |_| {
            form(&[("id", "no-such-user"), ("disabled", "true")])
        }),
        server_fn("retention", Anywhere(AUDITORS), NONE, empty),
        server_fn("passkeys", Authenticated, NONE, empty),
        server_fn(
            "start_passkey_registration",
            PersonAdminEverywhere,
            NONE,
            empty,
        ),
        server_fn(
            "finish_passkey_registration",
            PersonAdminEverywhere,
            NONE,
            |_| {
                form(&[
                    ("ceremony", "no-such-ceremony"),
                    ("name", "mx"),
                    ("credential", "{}"),
                ])
            },
        ),
        server_fn("revoke_passkey", Authenticated, NONE, |_| {
            form(&[("id", "no-such-passkey")])
        }),
        // Anyone may begin a break-glass sign-in (the passkey is the
        // credential); nobody here has one: 404.
        server_fn("start_break_glass", Public, NONE, |_| {
            form(&[("username", "no-such-user")])
        }),
        // The form looks the account up first (as the Users page may:
        // auditors too, 404 here); erasing itself is admin@* (the REST row).
        server_fn("erase_user", Anywhere(AUDITORS), NONE, |_| {
            form(&[("id", "no-such-user"), ("confirm", "no-such-user")])
        }),
        server_fn("audit", Anywhere(AUDITORS), NONE, |_| {
            form(&[("query[limit]", "5")])
        }),
        server_fn("audit_record", Anywhere(AUDITORS), NONE, |_| {
            form(&[("seq", "1")])
        }),
        server_fn("audit_status", Anywhere(AUDITORS), NONE, empty),
        // The Alerts pages: the same rules as the REST routes they mirror
        // (forms arrive as `rule[…]`, `channel[…]`, `silence[…]`).
        server_fn("alert_rules", Anywhere(VIEWERS), NONE, empty),
        server_fn("alert_rule", Anywhere(VIEWERS), NONE, |_| {
            form(&[("name", WORKFLOW)])
        }),
        server_fn("create_alert_rule", InEnv(OPERATORS), ENVS, |t| {
            form(&[
                ("rule[name]", &format!("mx-ui-{}", t.env)),
                ("rule[kind]", "consecutive_failures"),
                ("rule[threshold]", "2"),
                ("rule[environment]", t.env),
            ])
        }),
        server_fn("replace_alert_rule", Anywhere(OPERATORS), NONE, |_| {
            form(&[
                ("rule[original]", WORKFLOW),
                ("rule[name]", WORKFLOW),
                ("rule[kind]", "consecutive_failures"),
                ("rule[threshold]", "2"),
            ])
        }),
        server_fn("backtest_alert_rule", Anywhere(VIEWERS), NONE, |_| {
            form(&[
                ("rule[name]", "mx"),
                ("rule[kind]", "consecutive_failures"),
                ("rule[threshold]", "2"),
            ])
        }),
        server_fn("delete_alert_rule", Anywhere(OPERATORS), NONE, |_| {
            form(&[("name", WORKFLOW)])
        }),
        server_fn("alert_channels", Anywhere(VIEWERS), NONE, empty),
        server_fn("create_alert_channel", AdminEverywhere, NONE, |_| {
            form(&[
                ("channel[name]", "mx-ui-channel"),
                ("channel[kind]", "webhook"),
                ("channel[url]", "http://127.0.0.1:1/"),
            ])
        }),
        server_fn("replace_alert_channel", AdminEverywhere, NONE, |_| {
            form(&[
                ("channel[original]", WORKFLOW),
                ("channel[name]", WORKFLOW),
                ("channel[kind]", "webhook"),
                ("channel[url]", "http://127.0.0.1:1/"),
            ])
        }),
        server_fn("delete_alert_channel", AdminEverywhere, NONE, |_| {
            form(&[("name", WORKFLOW)])
        }),
        server_fn("test_alert_channel", AdminEverywhere, NONE, |_| {
            form(&[("name", WORKFLOW)])
        }),
        server_fn("alert_instances", Anywhere(VIEWERS), NONE, empty),
        server_fn("alert_transitions", Anywhere(VIEWERS), NONE, empty),
        server_fn("alert_notifications", Anywhere(VIEWERS), NONE, empty),
        server_fn("silences", Anywhere(VIEWERS), NONE, empty),
        server_fn("create_silence", InEnv(OPERATORS), ENVS, |t| {
            form(&[
                ("silence[environment]", t.env),
                ("silence[lasts]", "1h"),
                ("silence[reason]", "matrix"),
            ])
        }),
        server_fn("expire_silence", Anywhere(OPERATORS), NONE, |_| {
            form(&[("id", "no-such-silence")])
        }),
        // The execution API (remote workers). An allowed claim may lease a
        // fixture run's step for a second; nothing here reads its status.
        exec("claim", |_| {
            Body::Json(json!({"instance": "mx", "limit": 1, "wait_ms": 0, "lease_ms": 1000}))
        }),
        exec("heartbeat", |t| attempt(t, json!({"lease_ms": 5000}))),
        exec("logs", |t| {
            attempt(
                t,
                json!({"lines": [{"line": 1, "stream": "stdout", "at": "2026-01-01T00:00:00Z", "text": "x"}]}),
            )
        }),
        exec("report", |t| attempt(t, json!({"end": "failed"}))),
        // An allowed record of a fetch by an attempt nobody leased: 409.
        exec("secret-accesses", |t| {
            attempt(
                t,
                json!({"accesses": [{"name": "X", "reference": "env:X", "provider": "env",
                                     "outcome": "ok", "millis": 1}]}),
            )
        }),
        // An allowed request for an attempt nobody leased: 409.
        exec("secrets", |t| attempt(t, json!({}))),
    ]
}

/// A REST path template with its parameters filled in.
fn concrete_path(template: &str, target: &Target) -> String {
    let id = if template.starts_with("/approvals/") {
        &target.approval
    } else if template.starts_with("/promotions/") {
        &target.promotion
    } else if template.starts_with("/delegations/") {
        &target.delegation
    } else {
        &target.run
    };
    let query = if template.ends_with("/diff") {
        "?from=1&to=2"
    } else {
        ""
    };
    let path = template
        .replace("{name}", WORKFLOW)
        .replace("{id}", id)
        .replace("{item}", "on_call_aware")
        .replace("{control}", "pause")
        .replace("{env}", target.env)
        .replace("{environment}", target.env)
        .replace("{token}", "no-such-token")
        .replace("{user}", "no-such-user")
        .replace("{hook}", "no-such-hook")
        .replace("{seq}", "1");
    format!("/api/v1{path}{query}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Anonymous,
    Person,
    Token,
    /// A worker token: good on the execution API only.
    Worker,
}

/// A caller: its roles as `(role, scope)` and how it authenticates.
struct Who {
    label: String,
    kind: Kind,
    grants: Vec<(Role, &'static str)>,
    /// A token granted `can_create_tokens`.
    makes_tokens: bool,
    client: Client,
    bearer: Option<String>,
}

impl Who {
    fn holds(&self, roles: &[Role], env: Option<&str>) -> bool {
        self.grants.iter().any(|(role, scope)| {
            roles.contains(role)
                && match env {
                    None => true,
                    Some(env) => *scope == "*" || *scope == env,
                }
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allow,
    /// 401: no principal.
    Unauthenticated,
    /// 403: a principal without the right.
    Forbidden,
}

fn expect(rule: Rule, who: &Who, env: Option<&str>) -> Expect {
    // A worker token is no credential outside the execution API, not even
    // for public routes (the edge refuses it before anything else).
    if let Rule::Signed = rule {
        return Expect::Allow;
    }
    if who.kind == Kind::Worker {
        return match rule {
            Rule::Workers => Expect::Allow,
            _ => Expect::Unauthenticated,
        };
    }
    let allowed = match rule {
        Rule::Public | Rule::Signed => return Expect::Allow,
        _ if who.kind == Kind::Anonymous => return Expect::Unauthenticated,
        Rule::Authenticated => true,
        Rule::People => who.kind == Kind::Person,
        Rule::Anywhere(roles) => who.holds(roles, None),
        Rule::InEnv(roles) => who.holds(roles, Some(env.expect("an environment-scoped rule"))),
        Rule::AdminOver if who.kind == Kind::Token && !who.makes_tokens => false,
        Rule::Decide => {
            let env = env.expect("an environment-scoped rule");
            who.holds(APPROVERS, Some(env)) && !(who.kind == Kind::Token && env == "prod")
        }
        Rule::AdminOver => match env.expect("a scope") {
            // Only admin@* may grant in every environment.
            "*" => who.grants.contains(&(Admin, "*")),
            scope => who.holds(ADMINS, Some(scope)),
        },
        Rule::AdminEverywhere => who.grants.contains(&(Admin, "*")),
        Rule::PersonAdminEverywhere => {
            who.kind == Kind::Person && who.grants.contains(&(Admin, "*"))
        }
        Rule::Delegate => {
            who.kind == Kind::Person
                && who.holds(APPROVERS, Some(env.expect("an environment-scoped rule")))
        }
        Rule::DelegatorOrAdmin => {
            (who.kind == Kind::Person && who.grants == [(Approver, "*")])
                || who.holds(ADMINS, Some(env.expect("an environment-scoped rule")))
        }
        // Only bearer tokens are read there: a session is nobody.
        Rule::Workers if who.kind == Kind::Person => return Expect::Unauthenticated,
        Rule::Workers => false,
    };
    if allowed {
        Expect::Allow
    } else {
        Expect::Forbidden
    }
}

/// Service tokens made for the matrix (the first is also the taken name).
const TOKENS: &[(&str, &[(Role, &str)])] = &[
    (TAKEN_TOKEN, &[(Viewer, "*")]),
    ("mx-viewer-prod", &[(Viewer, "prod")]),
    ("mx-operator-dev", &[(Operator, "dev")]),
    ("mx-operator-all", &[(Operator, "*")]),
    ("mx-approver-all", &[(Approver, "*")]),
    ("mx-approver-stage", &[(Approver, "stage")]),
    ("mx-admin-all", &[(Admin, "*")]),
    ("mx-admin-dev", &[(Admin, "dev")]),
    ("mx-admin-prod", &[(Admin, "prod")]),
    ("mx-auditor-all", &[(Auditor, "*")]),
    ("mx-auditor-stage", &[(Auditor, "stage")]),
    (
        "mx-viewer-all-operator-prod",
        &[(Viewer, "*"), (Operator, "prod")],
    ),
];

/// Tokens granted `can_create_tokens`: only they may make tokens, within
/// their own admin reach.
const MAKER_TOKENS: &[(&str, &[(Role, &str)])] = &[
    ("mx-maker-admin-dev", &[(Admin, "dev")]),
    ("mx-maker-viewer-all", &[(Viewer, "*")]),
];

async fn principals(app: &TestApp) -> Vec<Who> {
    let mut all = vec![Who {
        label: "anonymous".into(),
        kind: Kind::Anonymous,
        grants: Vec::new(),
        makes_tokens: false,
        client: new_client(),
        bearer: None,
    }];
    // Made by a person (not the bootstrap token, which asks for the
    // approvals), so four eyes leaves the decisions to authorization.
    let admin = new_client();
    let resp = admin
        .post(app.url("/auth/dev/sign-in"))
        .form(&[("username", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303, "sign in as admin");
    let made = TOKENS
        .iter()
        .map(|t| (t, false))
        .chain(MAKER_TOKENS.iter().map(|t| (t, true)));
    for ((name, grants), makes_tokens) in made {
        let roles: Vec<String> = grants.iter().map(|(r, s)| format!("{r}@{s}")).collect();
        let resp = admin
            .post(app.url("/api/v1/tokens"))
            .json(&json!({"name": name, "roles": roles, "can_create_tokens": makes_tokens}))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let created: Value = resp.json().await.unwrap();
        assert_eq!(status, 201, "token {name}: {created}");
        let maker = if makes_tokens { " (makes tokens)" } else { "" };
        all.push(Who {
            label: format!("token {}{maker}", roles.join("+")),
            kind: Kind::Token,
            grants: grants.to_vec(),
            makes_tokens,
            client: new_client(),
            bearer: Some(created["secret"].as_str().unwrap().to_owned()),
        });
    }
    let (status, created) = app
        .api_post("/tokens", json!({"name": "mx-worker", "worker": true}))
        .await;
    assert_eq!(status, 201, "worker token: {created}");
    all.push(Who {
        label: "worker token".into(),
        kind: Kind::Worker,
        grants: Vec::new(),
        makes_tokens: false,
        client: new_client(),
        bearer: Some(created["secret"].as_str().unwrap().to_owned()),
    });
    // The dev-mode demo users, each holding their role in every environment.
    for role in Role::ALL {
        let client = new_client();
        let resp = client
            .post(app.url("/auth/dev/sign-in"))
            .form(&[("username", role.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 303, "sign in as {role}");
        all.push(Who {
            label: format!("user {role}@*"),
            kind: Kind::Person,
            grants: vec![(role, "*")],
            makes_tokens: false,
            client,
            bearer: None,
        });
    }
    all
}

/// The test server's principals really hold what the matrix assumes.
async fn check_grants(app: &TestApp, who: &Who) {
    // (A worker token can't even ask who it is: `/me` refuses it.)
    if matches!(who.kind, Kind::Anonymous | Kind::Worker) {
        return;
    }
    let mut req = who.client.get(app.url("/api/v1/me"));
    if let Some(token) = &who.bearer {
        req = req.bearer_auth(token);
    }
    let me: Value = req.send().await.unwrap().json().await.unwrap();
    let held: BTreeSet<String> = me["roles"]
        .as_array()
        .unwrap_or_else(|| panic!("{}: {me}", who.label))
        .iter()
        .map(|r| {
            format!(
                "{}@{}",
                r["role"].as_str().unwrap(),
                r["environment"].as_str().unwrap()
            )
        })
        .collect();
    let assumed: BTreeSet<String> = who.grants.iter().map(|(r, s)| format!("{r}@{s}")).collect();
    assert_eq!(held, assumed, "{}", who.label);
}

/// Queued runs and pending approval requests in every environment: the
/// workflows are applied (active in dev), made active in the other
/// environments directly in the database (no route promotes yet), and
/// asked for once in each; no worker picks the runs up.
async fn fixture(app: &TestApp) -> Fixture {
    for spec in [SPEC, GATED] {
        let (status, body) = app.apply(spec).await;
        assert_eq!(status, 201, "{body}");
    }
    for env in &ENVS[1..] {
        app.exec_sql(&format!(
            "INSERT INTO workflow_environments
                 (workflow_id, environment, version, schedule_enabled, next_fire_at, activated_at, activated_by)
             SELECT workflow_id, '{env}', version, schedule_enabled, next_fire_at, activated_at, activated_by
             FROM workflow_environments WHERE environment = 'dev'"
        ))
        .await;
    }
    let (mut runs, mut approvals) = (BTreeMap::new(), BTreeMap::new());
    for env in ENVS {
        let (status, run) = app
            .api_post(
                &format!("/workflows/{WORKFLOW}/runs"),
                json!({"environment": env, "inputs": {"who": "matrix"}}),
            )
            .await;
        assert_eq!(status, 201, "run in {env}: {run}");
        runs.insert(*env, run["id"].as_str().unwrap().to_owned());
        approvals.insert(*env, pending_approval(&app.client, &app.url(""), env).await);
    }
    // Version 2 (same input) goes to stage at once; into prod it waits
    // for an approval and a checklist no case can complete.
    let (status, body) = app.apply(SPEC_V2).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .api_post(
            &format!("/workflows/{WORKFLOW}/promotions"),
            json!({"to_environment": "stage", "reason": "matrix"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .api_post(
            &format!("/workflows/{WORKFLOW}/promotions"),
            json!({"to_environment": "prod", "reason": "matrix"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let promotion = body["promotion"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Fixture {
        promotion,
        runs,
        approvals,
        delegation: revoked_delegation(app).await,
    }
}

/// A delegation by the approver user in the last environment, revoked at
/// once.
async fn revoked_delegation(app: &TestApp) -> String {
    let approver = app.person("approver").await;
    let until = chrono::Utc::now() + chrono::Duration::days(1);
    let (status, body) = approver
        .post(
            "/delegations",
            json!({"to": "operator", "environment": LAST[0], "until": until}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let (status, body) = approver
        .post(&format!("/delegations/{id}/revoke"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    id
}

/// A new approval request in `env`, asked for with the bootstrap token (so
/// none of the matrix's principals is its requester).
async fn pending_approval(client: &Client, base: &str, env: &str) -> String {
    let resp = client
        .post(format!("{base}/api/v1/workflows/{GATED_WORKFLOW}/runs"))
        .bearer_auth(TOKEN)
        .json(&json!({"environment": env}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 202, "approval request in {env}: {body}");
    body["id"].as_str().unwrap().to_owned()
}

/// What `row`'s case in `env` refers to.
async fn target(
    client: &Client,
    base: &str,
    fixture: &Fixture,
    row: &Row,
    env: &'static str,
) -> Target {
    let approval = match fixture.approvals.get(env) {
        Some(_) if row.decides => pending_approval(client, base, env).await,
        Some(shared) => shared.clone(),
        None => String::new(),
    };
    Target {
        env,
        run: fixture.runs.get(env).cloned().unwrap_or_default(),
        approval,
        promotion: fixture.promotion.clone(),
        delegation: fixture.delegation.clone(),
    }
}

/// Sends one case's request; the answer's status and JSON body.
async fn send(base: &str, who: &Who, row: &Row, target: &Target) -> (u16, Value) {
    let (method, path) = match row.edge {
        Edge::Rest(method, template) => (
            Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
            concrete_path(template, target),
        ),
        Edge::ServerFn(name) => (Method::POST, format!("/ui/{name}")),
        Edge::Exec(name) => (Method::POST, format!("/exec/v1/{name}")),
        Edge::Hook(template) => (Method::POST, template.replace("{hook}", "no-such-hook")),
    };
    let mut req = who.client.request(method, format!("{base}{path}"));
    if let Edge::ServerFn(_) = row.edge {
        // As the hydrated dashboard calls it: JSON back, real statuses.
        req = req.header("accept", "application/json");
    }
    if let Some(token) = &who.bearer {
        req = req.bearer_auth(token);
    }
    req = match (row.body)(target) {
        Body::Empty if matches!(row.edge, Edge::ServerFn(_)) => req.form(&[] as &[(&str, &str)]),
        Body::Empty => req,
        Body::Json(v) => req.json(&v),
        Body::Yaml(text) => req.header("content-type", "application/yaml").body(text),
        Body::Form(fields) => req.form(&fields),
    };
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The error kind in an answer: the REST envelope's `error.code`, or the
/// server function's `PortError` kind.
fn error_kind(edge: Edge, body: &Value) -> Option<&str> {
    match edge {
        Edge::Rest(..) | Edge::Exec(_) | Edge::Hook(_) => body["error"]["code"].as_str(),
        // A credential the edge refuses never reaches the server function,
        // and is answered in the REST shape.
        Edge::ServerFn(_) => body["Port"]["kind"]
            .as_str()
            .or(body["error"]["code"].as_str()),
    }
}

/// What is wrong with one case's answer, if anything.
fn verdict(edge: Edge, expected: Expect, status: u16, body: &Value) -> Option<String> {
    let fine = match expected {
        // Authorization passed: what the route says next is its business,
        // but a request that never reached the port proves nothing.
        Expect::Allow => !matches!(status, 400 | 401 | 403 | 405 | 415) && status < 500,
        Expect::Unauthenticated => {
            status == 401 && error_kind(edge, body) == Some("unauthenticated")
        }
        Expect::Forbidden => status == 403 && error_kind(edge, body) == Some("forbidden"),
    };
    (!fine).then(|| {
        let mut text = body.to_string();
        text.truncate(300);
        format!("expected {expected:?}, got {status} {text}")
    })
}

/// The documented REST operations, as (method, path).
async fn documented_operations(app: &TestApp) -> BTreeSet<Edge> {
    let doc: Value = reqwest::get(app.url(API_DOC))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            // Leaked so the set compares with the table's static strings.
            let method: &'static str = Box::leak(method.clone().into_boxed_str());
            if path.starts_with("/hooks/") {
                ops.insert(Edge::Hook(Box::leak(path.clone().into_boxed_str())));
                continue;
            }
            let path = path
                .strip_prefix("/api/v1")
                .unwrap_or_else(|| panic!("an operation outside /api/v1: {path}"));
            let path: &'static str = Box::leak(path.to_owned().into_boxed_str());
            ops.insert(Edge::Rest(method, path));
        }
    }
    ops
}

/// Every server function this binary serves (the `server_fn` inventory the
/// router is built from).
fn registered_server_fns() -> BTreeSet<Edge> {
    leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _method)| {
            let name = path
                .strip_prefix("/ui/")
                .unwrap_or_else(|| panic!("a server function outside /ui/: {path}"));
            Edge::ServerFn(name)
        })
        .collect()
}

#[tokio::test]
async fn every_route_answers_every_principal_as_the_table_says() {
    let app = TestApp::spawn_with(&["--dev", "--worker-slots", "0"]).await;
    let rows = table();

    // The table covers exactly the routes that exist.
    let mut tabled = BTreeSet::new();
    for row in &rows {
        assert!(
            tabled.insert(row.edge),
            "{} is in the table twice",
            row.edge
        );
    }
    let mut existing = documented_operations(&app).await;
    existing.extend(registered_server_fns());
    existing.extend(
        gantry_server::api::exec::ENDPOINTS
            .iter()
            .map(|name| Edge::Exec(name)),
    );
    let missing: Vec<String> = existing.difference(&tabled).map(Edge::to_string).collect();
    assert!(
        missing.is_empty(),
        "no authorization rule for {}: add a row to authz_matrix::table()",
        missing.join(", ")
    );
    let stale: Vec<String> = tabled.difference(&existing).map(Edge::to_string).collect();
    assert!(
        stale.is_empty(),
        "the table has rows for routes that don't exist: {}",
        stale.join(", ")
    );

    let fixture = Arc::new(fixture(&app).await);
    let who = principals(&app).await;
    for w in &who {
        check_grants(&app, w).await;
    }

    // One task per principal, each going through the table in order.
    let rows = Arc::new(rows);
    let base = app.url("");
    let base = base.trim_end_matches('/').to_owned();
    let mut tasks = tokio::task::JoinSet::new();
    for w in who {
        let (rows, fixture, base) = (rows.clone(), fixture.clone(), base.clone());
        let setup = new_client();
        tasks.spawn(async move {
            let mut cases = 0;
            let mut failures = Vec::new();
            for row in rows.iter() {
                let envs: Vec<Option<&'static str>> = if row.envs.is_empty() {
                    vec![None]
                } else {
                    row.envs.iter().copied().map(Some).collect()
                };
                for env in envs {
                    let expected = expect(row.rule, &w, env);
                    let target = target(&setup, &base, &fixture, row, env.unwrap_or("dev")).await;
                    let (status, body) = send(&base, &w, row, &target).await;
                    cases += 1;
                    if let Some(problem) = verdict(row.edge, expected, status, &body) {
                        let at = env.map(|e| format!(" in {e}")).unwrap_or_default();
                        failures.push(format!("{} by {}{at}: {problem}", row.edge, w.label));
                    }
                }
            }
            (cases, failures)
        });
    }
    let (mut cases, mut failures) = (0, Vec::new());
    while let Some(done) = tasks.join_next().await {
        let (n, f) = done.expect("a principal's task");
        cases += n;
        failures.extend(f);
    }
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {cases} cases disagree with the table:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("authorization matrix: {cases} cases agree with the table");
}

/// Cross-site request forgery (http/csrf.rs): every server function (the
/// dashboard's forms post to them, with or without JavaScript), every
/// REST write and the sign-out form, sent with an admin's valid session
/// cookie from another site, is refused with 403 before it does anything;
/// the same session from the site's own pages, and a bearer token from
/// anywhere, are not.
#[tokio::test]
async fn every_write_refuses_a_session_sent_from_another_site() {
    let app = TestApp::spawn_with(&["--dev", "--worker-slots", "0"]).await;
    let admin = app.person("admin").await;
    let mut writes: Vec<(Method, String)> = registered_server_fns()
        .into_iter()
        .filter_map(|e| match e {
            Edge::ServerFn(name) => Some((Method::POST, format!("/ui/{name}"))),
            _ => None,
        })
        .collect();
    for edge in documented_operations(&app).await {
        if let Edge::Rest(method, path) = edge
            && method != "get"
        {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            writes.push((method, format!("/api/v1{path}")));
        }
    }
    // The pages' forms posted without JavaScript (server/src/pages/mod.rs),
    // and signing out.
    for form in [
        "/admin/tokens",
        "/alerts/rules/new",
        "/alerts/rules/edit",
        "/alerts/channels",
        "/alerts/silences",
        "/workflows",
        "/admin/webhooks",
        "/auth/sign-out",
    ] {
        writes.push((Method::POST, form.to_owned()));
    }
    assert!(writes.len() > 60, "{} writes", writes.len());
    let audit_before = app.count_sql("SELECT count(*) FROM audit_log").await;
    for (method, path) in &writes {
        let (status, body) = admin.cross_site(method.clone(), path).await;
        assert_eq!(status, 403, "{method} {path}: {body}");
        assert_eq!(
            body["error"]["code"], "forbidden",
            "{method} {path}: {body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("did not come from this site"),
            "{method} {path}: {body}"
        );
    }
    // Nothing happened: no audit record, and the session still works.
    assert_eq!(
        app.count_sql("SELECT count(*) FROM audit_log").await,
        audit_before
    );
    let (status, me) = admin.get("/me").await;
    assert_eq!(status, 200, "{me}");
    // From the site's own pages the same session writes.
    let (status, body) = admin.post("/workflows", json!({})).await;
    assert_ne!(status, 403, "{body}");
    // A token needs no provenance: it is no ambient credential.
    let resp = Client::new()
        .post(app.url("/api/v1/workflows"))
        .bearer_auth(TOKEN)
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/yaml")
        .body("name: x\nsteps:\n  - id: a\n    run: \"true\"\n")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
}
