//! Extractors that refuse in the API's error shape: a body or query string
//! that can't be read gets `{"error": {"code": "invalid" | "too_large", …}}`
//! with axum's status for it (400 malformed, 415 not sent as JSON, 422 not
//! the expected fields, 413 too large) instead of axum's plain-text
//! rejection, the same from every handler.

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON body (`Content-Type: application/json`) as `T`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

/// The query string as `T`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

/// The raw body, for handlers that parse it themselves (a spec in YAML, an
/// optional JSON body).
#[derive(Debug, Clone, Default)]
pub struct ApiBody(pub Bytes);

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        Self::unreadable(e.status(), e.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        // Always a query string that doesn't fit `T`: a 400.
        Self::bad_request(e.body_text())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(e: BytesRejection) -> Self {
        let message = format!("could not read the request body: {}", e.body_text());
        Self::unreadable(e.status(), message)
    }
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    Query<T>: FromRequestParts<S, Rejection = QueryRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

impl<S> FromRequest<S> for ApiBody
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(Bytes::from_request(req, state).await?))
    }
}

/// An optional JSON body read from an [`ApiBody`]: none at all (or only
/// whitespace) and JSON `null`, as the document's `oneOf [body, null]`
/// allows, both mean `T::default()`. `shape` shows what a body looks like,
/// for the error.
pub fn optional_json<T: DeserializeOwned + Default>(
    body: &[u8],
    shape: &str,
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice::<Option<T>>(body)
        .map(Option::unwrap_or_default)
        .map_err(|e| ApiError::bad_request(format!("the body must be {shape}, null or empty: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::{Body, to_bytes};
    use axum::extract::DefaultBodyLimit;
    use axum::http::{StatusCode, header};
    use axum::routing::post;
    use serde::Deserialize;
    use serde_json::Value;
    use tower::ServiceExt;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Wanted {
        #[allow(dead_code, reason = "only its parsing is tested")]
        n: u32,
    }

    async fn json(ApiJson(_): ApiJson<Wanted>) -> StatusCode {
        StatusCode::NO_CONTENT
    }

    async fn query(ApiQuery(_): ApiQuery<Wanted>) -> StatusCode {
        StatusCode::NO_CONTENT
    }

    async fn raw(ApiBody(bytes): ApiBody) -> String {
        bytes.len().to_string()
    }

    /// The status and the error's code, or `None` for an answer that is
    /// not the API's error envelope.
    async fn call(uri: &str, content_type: Option<&str>, body: &str) -> (u16, Option<String>) {
        let app = Router::new()
            .route("/json", post(json))
            .route("/query", post(query))
            .route("/body", post(raw))
            .layer(DefaultBodyLimit::max(64));
        let mut request = Request::post(uri);
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let request = request.body(Body::from(body.to_owned())).unwrap();
        let response = app.oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let code = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_owned));
        if code.is_some() {
            let envelope: Value = serde_json::from_slice(&bytes).unwrap();
            assert!(envelope["error"]["message"].is_string(), "{envelope}");
        }
        (status, code)
    }

    #[tokio::test]
    async fn bad_json_bodies_get_the_api_error_with_axums_status() {
        let json = Some("application/json");
        let invalid = Some("invalid".to_owned());
        assert_eq!(call("/json", json, r#"{"n": 1}"#).await, (204, None));
        assert_eq!(call("/json", json, "{").await, (400, invalid.clone()));
        assert_eq!(
            call("/json", None, r#"{"n": 1}"#).await,
            (415, invalid.clone())
        );
        assert_eq!(
            call("/json", Some("text/plain"), r#"{"n": 1}"#).await,
            (415, invalid.clone())
        );
        assert_eq!(
            call("/json", json, r#"{"n": -1}"#).await,
            (422, invalid.clone())
        );
        assert_eq!(
            call("/json", json, r#"{"n": 1, "m": 2}"#).await,
            (422, invalid)
        );
        let long = format!(r#"{{"n": 1, "pad": "{}"}}"#, "x".repeat(100));
        assert_eq!(
            call("/json", json, &long).await,
            (413, Some("too_large".to_owned()))
        );
    }

    #[tokio::test]
    async fn bad_query_strings_get_a_400_api_error() {
        let invalid = Some("invalid".to_owned());
        assert_eq!(call("/query?n=1", None, "").await, (204, None));
        assert_eq!(call("/query?n=x", None, "").await, (400, invalid.clone()));
        assert_eq!(
            call("/query?n=1&m=2", None, "").await,
            (400, invalid.clone())
        );
        assert_eq!(call("/query", None, "").await, (400, invalid));
    }

    #[tokio::test]
    async fn an_oversized_raw_body_gets_a_413_api_error() {
        assert_eq!(call("/body", None, "12345").await, (200, None));
        assert_eq!(
            call("/body", None, &"x".repeat(100)).await,
            (413, Some("too_large".to_owned()))
        );
    }
}
