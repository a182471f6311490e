//! REST API v1 (JSON). Thin: every handler parses its request (with the
//! `extract` extractors, which refuse in the API's error shape), calls one
//! port method with the caller's `RequestContext`, and maps the answer.
//! Authorization and validation happen in the port.

mod alerts;
mod approvals;
mod audit;
mod bundles;
mod canaries;
mod dead_letters;
mod delegations;
mod freezes;
/// `POST /hooks/{hook}`: inbound webhook deliveries (no session, no token).
pub mod hooks;
/// The error envelope lives with the HTTP plumbing, which answers in it
/// too (the edge's 408/413, authentication's 401/429).
pub use crate::http::error;
pub mod exec;
pub mod extract;
pub mod metrics;
pub mod openapi;
mod openapi_responses;
mod passkeys;
mod promotions;
mod rate_limits;
mod retention;
mod runs;
pub mod scim;
mod secrets;
mod slos;
mod tokens;
mod users;
mod webhooks;
mod workflows;

use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use error::{ApiError, ErrorCode};
use gantry_core::spec::MAX_SPEC_BYTES;

/// The REST API; `environments` are the server's, which its OpenAPI
/// document lists.
pub fn router(environments: &gantry_core::Environments) -> Router<AppState> {
    Router::new()
        .route("/workflows", get(workflows::list).post(workflows::apply))
        .route("/workflows/{name}", get(workflows::get))
        .route("/workflows/{name}/versions", get(workflows::versions))
        .route("/workflows/{name}/schedule", put(workflows::set_schedule))
        .route("/workflows/{name}/runs", post(runs::trigger_named))
        .route("/bundles", post(bundles::import))
        .route("/runs", get(runs::list).post(runs::trigger))
        .route("/runs/rerun", post(dead_letters::rerun))
        .route("/runs/dismiss", post(dead_letters::dismiss))
        .route("/runs/{id}", get(runs::get))
        .route("/runs/{id}/logs", get(runs::logs))
        .route("/runs/{id}/cancel", post(runs::cancel))
        .route("/runs/{id}/secret-accesses", get(secrets::run_accesses))
        .route("/approvals", get(approvals::list))
        .route("/approvals/{id}", get(approvals::get))
        .route("/approvals/{id}/approve", post(approvals::approve))
        .route("/approvals/{id}/reject", post(approvals::reject))
        .route(
            "/delegations",
            get(delegations::list).post(delegations::create),
        )
        .route("/delegations/{id}/revoke", post(delegations::revoke))
        .route("/workflows/{name}/promotions", post(promotions::request))
        .route("/workflows/{name}/rollback", post(promotions::roll_back))
        .route("/workflows/{name}/diff", get(promotions::diff))
        .route("/promotions", get(promotions::list))
        .route("/promotions/{id}", get(promotions::get))
        .route("/promotions/{id}/approve", post(promotions::approve))
        .route("/promotions/{id}/reject", post(promotions::reject))
        .route("/promotions/{id}/cancel", post(promotions::cancel))
        .route("/promotions/{id}/checklist/{item}", post(promotions::mark))
        .route("/deployments", get(promotions::deployments))
        .route("/verifications", get(promotions::verifications))
        .route("/canaries", get(canaries::list))
        .route("/canaries/{id}", get(canaries::get))
        .route("/canaries/{id}/{control}", post(canaries::control))
        .route("/environments/policies", get(promotions::policies))
        .route(
            "/environments/{env}/policy",
            get(promotions::policy).put(promotions::set_policy),
        )
        .route("/freezes", get(freezes::overview))
        .route(
            "/environments/{env}/freezes",
            get(freezes::list).post(freezes::create),
        )
        .route("/environments/{env}/freezes/{id}", delete(freezes::delete))
        .route("/promotions/{id}/break-freeze", post(freezes::break_freeze))
        .route("/freeze-breaks/{id}/review", post(freezes::review))
        .route("/me", get(tokens::me))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{token}", delete(tokens::revoke))
        .route("/users", get(users::list))
        .route("/users/{user}", get(users::get))
        .route("/users/{user}/disable", post(users::disable))
        .route("/users/{user}/enable", post(users::enable))
        .route("/users/{user}/export", get(users::export))
        .route("/users/{user}/erase", post(users::erase))
        .route("/secret-providers", get(secrets::providers))
        .route("/secrets/invalidate", post(secrets::invalidate))
        .route("/alerts", get(alerts::list_instances))
        .route("/alerts/history", get(alerts::list_history))
        .route("/alerts/notifications", get(alerts::list_notifications))
        .route(
            "/alerts/rules",
            get(alerts::list_rules).post(alerts::create_rule),
        )
        .route("/alerts/rules/backtest", post(alerts::backtest_rule))
        .route(
            "/alerts/rules/{name}",
            get(alerts::get_rule)
                .put(alerts::replace_rule)
                .delete(alerts::delete_rule),
        )
        .route(
            "/alerts/channels",
            get(alerts::list_channels).post(alerts::create_channel),
        )
        .route(
            "/alerts/channels/{name}",
            put(alerts::replace_channel).delete(alerts::delete_channel),
        )
        .route("/alerts/channels/{name}/test", post(alerts::test_channel))
        .route(
            "/alerts/silences",
            get(alerts::list_silences).post(alerts::create_silence),
        )
        .route("/alerts/silences/{id}/expire", post(alerts::expire_silence))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route(
            "/webhooks/{hook}",
            get(webhooks::get).delete(webhooks::delete),
        )
        .route("/webhooks/{hook}/rotate", post(webhooks::rotate))
        .route(
            "/webhooks/{hook}/retire-previous",
            post(webhooks::retire_previous),
        )
        .route("/retention", get(retention::get))
        .route("/retention/purge", post(retention::purge))
        .route(
            "/passkeys",
            get(passkeys::list).post(passkeys::finish_registration),
        )
        .route(
            "/passkeys/registrations",
            post(passkeys::start_registration),
        )
        .route("/passkeys/{id}", delete(passkeys::revoke))
        .route("/rate-limits", get(rate_limits::get))
        .route("/rate-limits/overrides", post(rate_limits::set_override))
        .route(
            "/rate-limits/overrides/{id}",
            delete(rate_limits::delete_override),
        )
        .route("/slos", get(slos::list))
        .route("/workflows/{name}/slos/{environment}", get(slos::get))
        .route("/audit", get(audit::list))
        .route("/audit/verify", get(audit::verify))
        .route("/audit/{seq}", get(audit::get))
        // The one route open to anonymous callers (`auth::is_public`).
        .route(
            "/openapi.json",
            get(openapi::document).layer(axum::Extension(openapi::document_for(environments))),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Room for a spec at the limit plus JSON quoting; the port answers
        // larger specs with a 413 that says what the limit is.
        .layer(DefaultBodyLimit::max(MAX_SPEC_BYTES * 2 + 4096))
}

/// A known path with a method it doesn't take: 405 in the API's shape
/// (axum's own answer has no body; its `Allow` header stays).
async fn method_not_allowed(
    method: axum::http::Method,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::Invalid,
        format!(
            "{method} is not a method of {}; the Allow header lists those that are, and \
             /api/v1/openapi.json documents them",
            uri.path()
        ),
    )
}

/// Anything under `/api` outside `/api/v1` (an old or misspelt version).
pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "no such API endpoint; see /api/v1/openapi.json",
    )
}
