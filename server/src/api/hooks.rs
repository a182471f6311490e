//! `POST /hooks/{hook}`: deliveries from GitHub, GitLab or Stripe-style
//! senders (docs/webhooks.md). No session and no bearer token: the
//! signature over the raw body is the credential, checked by the port, so
//! the body is read here as bytes, untouched, up to 1 MiB (413 beyond).
//! Answers: 202 with what the delivery did (a run started, an approval
//! request filed, or an event type the hook ignores), 401 for a refused
//! signature, 404 for no such hook, and the port's errors otherwise.

use crate::api::error::{ApiError, ErrorCode, ErrorEnvelope};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json};
use gantry_core::port::{RequestContext, SharedControlPlane};
use gantry_core::webhook::{DeliveryAnswer, InboundDelivery, MAX_BODY_BYTES};

pub const PREFIX: &str = "/hooks";

pub fn router(
    state: AppState,
    limits: std::sync::Arc<crate::ratelimit::Limiter>,
) -> Router<AppState> {
    Router::new()
        .route("/{hook}", post(deliver))
        // Per sending address, before the signature is checked: a flood of
        // deliveries to made-up hooks costs neither a lookup nor a record.
        .layer(axum::middleware::from_fn_with_state(
            limits,
            crate::ratelimit::middleware::limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::auth::resolve_anonymous,
        ))
}

/// A delivery from a sender: starts the hook's workflow when its
/// signature holds. No bearer token or session: `X-Gantry-Signature`
/// (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, with
/// `X-Gantry-Event` and `X-Gantry-Delivery`) or, for hooks in GitHub mode,
/// `X-Hub-Signature-256` with `X-GitHub-Event` and `X-GitHub-Delivery`.
/// See docs/webhooks.md.
#[utoipa::path(
    post,
    path = "/hooks/{hook}",
    operation_id = "deliver_webhook",
    tag = "webhooks",
    security(()),
    params(
        ("hook" = String, Path, description = "The hook's name."),
        ("X-Gantry-Signature" = Option<String>, Header, description = "Gantry mode: `t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\">`; at most 5 minutes old."),
        ("X-Hub-Signature-256" = Option<String>, Header, description = "GitHub mode: `sha256=<hex HMAC-SHA256 of the raw body>`."),
        ("X-Gantry-Delivery" = Option<String>, Header, description = "Gantry mode: the delivery's id, accepted once (default: the signature)."),
        ("X-GitHub-Delivery" = Option<String>, Header, description = "GitHub mode: the delivery's id, accepted once (required)."),
        ("X-Gantry-Event" = Option<String>, Header, description = "Gantry mode: the event type, matched against the hook's `events`."),
        ("X-GitHub-Event" = Option<String>, Header, description = "GitHub mode: the event type."),
    ),
    request_body(content = Object, description = "The sender's payload, at most 1 MiB, signed byte for byte; JSON where inputs are mapped from it.", content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted: a run started, an approval request filed, or an event type the hook ignores.", body = DeliveryAnswer),
        (status = 401, description = "The signature is missing, malformed, wrong, made with a retired secret or stale, or the delivery id was accepted before.", body = ErrorEnvelope),
        (status = 404, description = "No such hook.", body = ErrorEnvelope),
        (status = 413, description = "A body over 1 MiB.", body = ErrorEnvelope),
        (status = 422, description = "Signed correctly, but the run's inputs are invalid.", body = ErrorEnvelope),
    )
)]
pub async fn deliver(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(hook): Path<String>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return too_large();
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return too_large();
    };
    let delivery = inbound(&parts.headers, body.to_vec());
    match plane.deliver_webhook(&ctx, &hook, delivery).await {
        Ok(DeliveryAnswer::Rejected { reason }) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            format!("signature refused: {reason}"),
        )
        .into_response(),
        Ok(answer) => (StatusCode::ACCEPTED, Json(answer)).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn too_large() -> Response {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::TooLarge,
        format!("a webhook delivery's body is at most {MAX_BODY_BYTES} bytes"),
    )
    .into_response()
}

/// The headers the port looks at. Both modes' event and delivery headers
/// are read; a hook's mode decides which signature header counts, and
/// only one family is sent by any one sender.
fn inbound(headers: &HeaderMap, body: Vec<u8>) -> InboundDelivery {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    InboundDelivery {
        gantry_signature: text("x-gantry-signature"),
        hub_signature: text("x-hub-signature-256"),
        event: text("x-gantry-event").or_else(|| text("x-github-event")),
        delivery_id: text("x-gantry-delivery").or_else(|| text("x-github-delivery")),
        body,
    }
}
