//! The REST API's one error shape:
//! `{"error": {"code": "…", "message": "…", "details": …}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gantry_core::PortError;
use serde_json::{Value, json};

pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid", message)
    }
}

impl From<PortError> for ApiError {
    fn from(e: PortError) -> Self {
        let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = e.to_string();
        let (code, details) = match &e {
            PortError::Unauthenticated => ("unauthenticated", Value::Null),
            PortError::Forbidden { .. } => ("forbidden", Value::Null),
            PortError::NotFound { .. } => ("not_found", Value::Null),
            PortError::Invalid { field, .. } => ("invalid", json!({ "field": field })),
            PortError::Unprocessable { problems, .. } => ("unprocessable", json!({ "problems": problems })),
            PortError::TooLarge { .. } => ("too_large", Value::Null),
            PortError::Conflict { .. } => ("conflict", Value::Null),
            PortError::Unavailable { .. } => ("unavailable", Value::Null),
            PortError::Internal { reference } => ("internal", json!({ "reference": reference })),
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
        let mut error = json!({ "code": self.code, "message": self.message });
        if !self.details.is_null() {
            error["details"] = self.details;
        }
        (self.status, Json(json!({ "error": error }))).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
