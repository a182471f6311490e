//! `POST /hooks/{hook}`: deliveries from GitHub, GitLab or Stripe-style
//! senders (docs/webhooks.md). No session and no bearer token: the
//! signature over the raw body is the credential, checked by the port, so
//! the body is read here as bytes, untouched, up to 1 MiB (413 beyond).
//! Answers: 202 with what the delivery did (a run started, an approval
//! request filed, or an event type the hook ignores), 401 for a refused
//! signature, 404 for no such hook, and the port's errors otherwise.

use crate::api::error::{ApiError, ErrorCode};
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

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/{hook}", post(deliver))
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::auth::resolve_anonymous,
        ))
}

async fn deliver(
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
