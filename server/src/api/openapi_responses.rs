//! The answers every operation can give whatever its handler does, added to
//! each operation of the OpenAPI document where its own annotation doesn't
//! already describe them: they come from layers in front of every handler
//! (authentication, rate limits, the body extractors, the database), so
//! writing them on 88 handlers by hand drifted (schemathesis found 429, 500
//! and 503 missing nearly everywhere). A handler's own wording wins.

use utoipa::Modify;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

pub struct StandardResponses;

/// Answers of every operation.
const EVERY: &[(&str, &str)] = &[
    (
        "429",
        "Too many requests: the caller's rate limit for this class of request \
         (`read`, `write`, `trigger`) is spent. Retry after `Retry-After` seconds; the \
         `RateLimit` headers say more.",
    ),
    (
        "500",
        "Internal error (the `reference` is in the server's log).",
    ),
    ("503", "The database is unavailable; retry shortly."),
];

/// Answers of an operation that needs credentials.
const SECURED: &[(&str, &str)] = &[
    (
        "401",
        "No credentials, or a token that is unknown, revoked or expired.",
    ),
    ("403", "The caller's roles don't allow this."),
];

/// Answers of an operation with a request body.
const WITH_BODY: &[(&str, &str)] = &[
    (
        "400",
        "The body is not well-formed (not JSON, or not UTF-8).",
    ),
    ("413", "The body is larger than the server accepts."),
    (
        "415",
        "The body is not sent with the content type this operation takes.",
    ),
    (
        "422",
        "The body does not fit this operation's schema (`error.message` says where).",
    ),
];

/// Answers of an operation with query parameters.
const WITH_QUERY: &[(&str, &str)] = &[(
    "400",
    "A query parameter is malformed or out of range (`error.message` names it).",
)];

impl Modify for StandardResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        let secured_by_default = openapi
            .security
            .as_ref()
            .is_some_and(|s| requires_credentials(s));
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                add_standard(op, secured_by_default);
            }
        }
    }
}

fn add_standard(op: &mut Operation, secured_by_default: bool) {
    let secured = op
        .security
        .as_ref()
        .map_or(secured_by_default, |s| requires_credentials(s));
    let mut wanted: Vec<(&str, &str)> = EVERY.to_vec();
    if secured {
        wanted.extend_from_slice(SECURED);
    }
    if op.request_body.is_some() {
        wanted.extend_from_slice(WITH_BODY);
    }
    let has_query = op.parameters.iter().flatten().any(|p| match p {
        RefOr::T(p) => matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query),
        RefOr::Ref(_) => false,
    });
    if has_query {
        wanted.extend_from_slice(WITH_QUERY);
    }
    for (status, description) in wanted {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(error_response(description)));
    }
}

/// Whether a security requirement list demands credentials: `[{}]` (or
/// `[]`) is an operation anyone may call.
fn requires_credentials(requirements: &[utoipa::openapi::security::SecurityRequirement]) -> bool {
    requirements.iter().any(|r| {
        serde_json::to_value(r)
            .ok()
            .and_then(|v| v.as_object().map(|o| !o.is_empty()))
            .unwrap_or(false)
    })
}

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                .build(),
        )
        .build()
}
