//! The error bodies machines get: SCIM's (RFC 7644) and the REST API's one shape,
//! `{"error": {"code": "…", "message": "…", "details": …}}`, whose `code`
//! is one of [`ErrorCode`]'s wire strings.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::PortError;
use gantry_core::spec::SpecProblem;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub details: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::Invalid, message)
    }

    /// A request the extractors could not read, with axum's status for it
    /// (400 malformed, 415 not JSON, 422 not the expected fields, 413 too
    /// large): `too_large` for 413, `invalid` for the rest.
    pub fn unreadable(status: StatusCode, message: impl Into<String>) -> Self {
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            ErrorCode::TooLarge
        } else {
            ErrorCode::Invalid
        };
        Self::new(status, code, message)
    }
}

impl From<PortError> for ApiError {
    fn from(e: PortError) -> Self {
        let status =
            StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = e.to_string();
        let (code, details) = match &e {
            PortError::Unauthenticated => (ErrorCode::Unauthenticated, Value::Null),
            PortError::Forbidden { .. } => (ErrorCode::Forbidden, Value::Null),
            PortError::StepUpRequired { .. } => (ErrorCode::StepUpRequired, Value::Null),
            PortError::NotFound { .. } => (ErrorCode::NotFound, Value::Null),
            PortError::Invalid { field, .. } => (ErrorCode::Invalid, json!({ "field": field })),
            PortError::Unprocessable { problems, .. } => {
                (ErrorCode::Unprocessable, json!({ "problems": problems }))
            }
            PortError::TooLarge { .. } => (ErrorCode::TooLarge, Value::Null),
            PortError::Conflict { .. } => (ErrorCode::Conflict, Value::Null),
            PortError::Unavailable { .. } => (ErrorCode::Unavailable, Value::Null),
            PortError::Internal { reference } => {
                (ErrorCode::Internal, json!({ "reference": reference }))
            }
        };
        Self {
            status,
            code,
            message,
            details,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorEnvelope {
            error: ErrorBody {
                code: self.code,
                message: self.message,
                details: self.details,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

/// Every error answer of the API.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// What went wrong, for programs (`code`) and for people (`message`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// What is wrong and how to fix it.
    pub message: String,
    #[serde(skip_serializing_if = "Value::is_null")]
    #[schema(value_type = ErrorDetails, required = false)]
    pub details: Value,
}

/// The machine-readable kind of an error: every `code` the API sends. The
/// wire strings are part of the API (clients and the OpenAPI document rely
/// on them): add codes, never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 401: no credentials, or an unknown, revoked or expired token.
    Unauthenticated,
    /// 401: a sensitive action needs a recent sign-in; sign in again
    /// (`/auth/login?step_up=1&next=…`), then repeat it. Only for people
    /// signed in through a session, never for service tokens.
    StepUpRequired,
    /// 403: the principal may not do this.
    Forbidden,
    /// 404: no such workflow, run, version or endpoint.
    NotFound,
    /// 400: a malformed request; `details.field` names the field when known.
    Invalid,
    /// 422: well-formed, but the content breaks rules; `details.problems` lists them.
    Unprocessable,
    /// 413: the body (a spec, or any request) is over the size limit.
    TooLarge,
    /// 409: conflicts with the current state.
    Conflict,
    /// 408: the request body did not arrive in time; send it whole and at
    /// once.
    RequestTimeout,
    /// 429: a rate limit reached (the `RateLimit` headers say which), or
    /// too many failed authentication attempts from this address; wait for
    /// `Retry-After` seconds.
    RateLimited,
    /// 503: a dependency (the database) is unavailable; try again shortly.
    Unavailable,
    /// 500: our fault; quote `details.reference` when reporting it.
    Internal,
}

/// Extra structure for some codes; absent when there is none.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetails {
    /// `invalid`: the request field at fault.
    #[serde(default)]
    pub field: Option<String>,
    /// `unprocessable`: every problem found, each with its field path.
    #[serde(default)]
    pub problems: Option<Vec<SpecProblem>>,
    /// `internal`: the reference under which the cause was logged.
    #[serde(default)]
    pub reference: Option<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

/// SCIM's media type (RFC 7644 §3.1).
pub const SCIM_JSON: &str = "application/scim+json";

/// A SCIM error as the client hears it.
pub fn scim_error(err: &gantry_core::scim::ScimError) -> Response {
    use axum::http::{HeaderValue, header};
    let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, err.body().to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"gantry-scim\""),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    fn every_port_error() -> Vec<PortError> {
        vec![
            PortError::Unauthenticated,
            PortError::forbidden("r"),
            PortError::StepUpRequired {
                message: "m".into(),
            },
            PortError::not_found("w"),
            PortError::invalid("f", "m"),
            PortError::Unprocessable {
                message: "m".into(),
                problems: vec![SpecProblem::new("steps[0]", "bad")],
            },
            PortError::TooLarge {
                message: "m".into(),
            },
            PortError::Conflict {
                message: "m".into(),
            },
            PortError::Unavailable {
                message: "m".into(),
            },
            PortError::Internal {
                reference: "r".into(),
            },
        ]
    }

    /// The documented schema (`ErrorEnvelope`, `ErrorCode`, `ErrorDetails`)
    /// must describe what is actually sent, for every error the port returns.
    #[tokio::test]
    async fn every_error_matches_the_documented_shape() {
        let mut errors: Vec<ApiError> =
            every_port_error().into_iter().map(ApiError::from).collect();
        errors.push(ApiError::bad_request("m"));
        errors.push(ApiError::unreadable(StatusCode::PAYLOAD_TOO_LARGE, "m"));
        errors.push(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            ErrorCode::RequestTimeout,
            "m",
        ));
        for e in errors {
            let status = e.status;
            let resp = e.into_response();
            assert_eq!(resp.status(), status);
            let bytes = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
            let body: Value = serde_json::from_slice(&bytes).unwrap();
            let object = body.as_object().unwrap();
            assert_eq!(object.len(), 1, "{body}");
            let error = body["error"].as_object().unwrap();
            assert!(
                error
                    .keys()
                    .all(|k| ["code", "message", "details"].contains(&k.as_str())),
                "{body}"
            );
            assert!(error["message"].is_string(), "{body}");
            serde_json::from_value::<ErrorCode>(error["code"].clone()).unwrap();
            if let Some(details) = error.get("details") {
                serde_json::from_value::<ErrorDetails>(details.clone()).unwrap();
            }
        }
    }

    /// The wire strings clients match on never change.
    #[test]
    fn every_code_keeps_its_wire_string() {
        let codes = [
            (ErrorCode::Unauthenticated, "unauthenticated"),
            (ErrorCode::StepUpRequired, "step_up_required"),
            (ErrorCode::Forbidden, "forbidden"),
            (ErrorCode::NotFound, "not_found"),
            (ErrorCode::Invalid, "invalid"),
            (ErrorCode::Unprocessable, "unprocessable"),
            (ErrorCode::TooLarge, "too_large"),
            (ErrorCode::Conflict, "conflict"),
            (ErrorCode::RequestTimeout, "request_timeout"),
            (ErrorCode::RateLimited, "rate_limited"),
            (ErrorCode::Unavailable, "unavailable"),
            (ErrorCode::Internal, "internal"),
        ];
        for (code, wire) in codes {
            assert_eq!(serde_json::to_value(code).unwrap(), json!(wire));
            assert_eq!(
                serde_json::from_value::<ErrorCode>(json!(wire)).unwrap(),
                code
            );
        }
    }

    #[test]
    fn unreadable_requests_are_invalid_unless_too_large() {
        for (status, code) in [
            (StatusCode::BAD_REQUEST, ErrorCode::Invalid),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::Invalid),
            (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Invalid),
            (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge),
        ] {
            let e = ApiError::unreadable(status, "m");
            assert_eq!((e.status, e.code), (status, code));
        }
    }
}
