//! `/scim/v2`: the SCIM 2.0 service provider's HTTP edge (RFC 7644). Thin,
//! like the REST API: each handler turns the request into one
//! [`ScimRequest`], asks the port, and writes the answer as
//! `application/scim+json`. Authorization, validation and audit happen in
//! the port (`plane/scim.rs`).

use crate::plane::scim::MAX_PAYLOAD_BYTES;
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use gantry_core::port::{RequestContext, SharedControlPlane};
use gantry_core::scim::{ResourceKind, ScimAnswer, ScimError, ScimRequest};
use serde_json::Value;

pub use crate::http::error::SCIM_JSON;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ServiceProviderConfig", get(service_provider_config))
        .route("/ResourceTypes", get(resource_types))
        .route("/ResourceTypes/{name}", get(resource_type))
        .route("/Schemas", get(schemas))
        .route("/Schemas/{id}", get(schema))
        .route("/.search", post(search_all))
        // Advertised as unsupported in ServiceProviderConfig; RFC 7644
        // answers 501 for both (§3.7, §3.11).
        .route(
            "/Bulk",
            any(|| async {
                error(&ScimError::new(
                    501,
                    None,
                    "bulk operations are not supported; send each change on its own",
                ))
            }),
        )
        .route(
            "/Me",
            any(|| async {
                error(&ScimError::new(
                    501,
                    None,
                    "/Me is not supported: a SCIM token acts for a provider, not a person",
                ))
            }),
        )
        .route("/{resource}", get(list).post(create))
        .route(
            "/{resource}/{id}",
            get(read)
                .put(replace)
                .patch(patch)
                .delete(delete)
                .post(search),
        )
        .fallback(|| async { error(&ScimError::not_found("no such SCIM endpoint")) })
}

pub use crate::http::error::scim_error as error;

fn answer(result: Result<ScimAnswer, ScimError>) -> Response {
    let answer = match result {
        Ok(a) => a,
        Err(e) => return error(&e),
    };
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut resp = match answer.body {
        Some(body) => (status, body.to_string()).into_response(),
        None => status.into_response(),
    };
    let headers = resp.headers_mut();
    if status != StatusCode::NO_CONTENT {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    }
    for (name, value) in [
        (header::ETAG, answer.etag),
        (header::LOCATION, answer.location),
    ] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, v);
        }
    }
    resp
}

async fn ask(
    plane: &SharedControlPlane,
    ctx: &RequestContext,
    request: Result<ScimRequest, ScimError>,
) -> Response {
    match request {
        Ok(request) => answer(plane.scim(ctx, request).await),
        Err(e) => error(&e),
    }
}

fn kind_of(resource: &str) -> Result<ResourceKind, ScimError> {
    ResourceKind::ALL
        .into_iter()
        .find(|k| k.endpoint() == resource)
        .ok_or_else(|| ScimError::not_found(format!("no SCIM endpoint /{resource}")))
}

fn pairs(query: Option<String>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn if_match(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The body as JSON: at most [`MAX_PAYLOAD_BYTES`], sent as SCIM or plain
/// JSON (clients differ), and well-formed.
async fn json_body(headers: &HeaderMap, body: Body) -> Result<Value, ScimError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !essence.is_empty() && essence != SCIM_JSON && essence != "application/json" {
        return Err(ScimError::invalid_syntax(format!(
            "send the body as {SCIM_JSON} (or application/json), not {essence}"
        )));
    }
    let bytes = axum::body::to_bytes(body, MAX_PAYLOAD_BYTES)
        .await
        .map_err(|_| {
            ScimError::payload_too_large(format!(
                "the body is larger than the {MAX_PAYLOAD_BYTES} bytes this server accepts"
            ))
        })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))
}

async fn service_provider_config(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> Response {
    ask(&plane, &ctx, Ok(ScimRequest::ServiceProviderConfig)).await
}

async fn resource_types(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> Response {
    ask(&plane, &ctx, Ok(ScimRequest::ResourceTypes)).await
}

async fn resource_type(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(name): Path<String>,
) -> Response {
    ask(&plane, &ctx, Ok(ScimRequest::ResourceType(name))).await
}

async fn schemas(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
) -> Response {
    ask(&plane, &ctx, Ok(ScimRequest::Schemas)).await
}

async fn schema(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> Response {
    ask(&plane, &ctx, Ok(ScimRequest::Schema(id))).await
}

async fn list(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(resource): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let request = kind_of(&resource).map(|kind| ScimRequest::List {
        kind,
        query: pairs(query),
    });
    ask(&plane, &ctx, request).await
}

async fn read(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path((resource, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let request = kind_of(&resource).map(|kind| ScimRequest::Get {
        kind,
        id,
        query: pairs(query),
    });
    ask(&plane, &ctx, request).await
}

async fn create(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path(resource): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request = async {
        let kind = kind_of(&resource)?;
        let body = json_body(&headers, body).await?;
        Ok(ScimRequest::Create { kind, body })
    };
    ask(&plane, &ctx, request.await).await
}

/// PUT and PATCH: the resource or PatchOp in the body, `If-Match` beside it.
async fn change(
    resource: &str,
    headers: &HeaderMap,
    body: Body,
    build: impl FnOnce(ResourceKind, Value, Option<String>) -> ScimRequest,
) -> Result<ScimRequest, ScimError> {
    let kind = kind_of(resource)?;
    let body = json_body(headers, body).await?;
    Ok(build(kind, body, if_match(headers)))
}

async fn replace(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path((resource, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request = change(&resource, &headers, body, |kind, body, if_match| {
        ScimRequest::Replace {
            kind,
            id,
            body,
            if_match,
        }
    });
    ask(&plane, &ctx, request.await).await
}

async fn patch(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path((resource, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request = change(&resource, &headers, body, |kind, body, if_match| {
        ScimRequest::Patch {
            kind,
            id,
            body,
            if_match,
        }
    });
    ask(&plane, &ctx, request.await).await
}

async fn delete(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path((resource, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let request = kind_of(&resource).map(|kind| ScimRequest::Delete {
        kind,
        id,
        if_match: if_match(&headers),
    });
    ask(&plane, &ctx, request).await
}

async fn search_all(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request = async {
        let body = json_body(&headers, body).await?;
        let query = gantry_core::scim::search_query(&body)?;
        Ok(ScimRequest::Search { kind: None, query })
    };
    ask(&plane, &ctx, request.await).await
}

/// `POST /{resource}/.search`; a POST to any other resource path is not
/// something SCIM defines.
async fn search(
    State(plane): State<SharedControlPlane>,
    Extension(ctx): Extension<RequestContext>,
    Path((resource, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request = async {
        let kind = kind_of(&resource)?;
        if id != ".search" {
            return Err(ScimError::new(
                405,
                None,
                format!("POST is not defined on /{resource}/{{id}}; use PUT or PATCH to change it"),
            ));
        }
        let body = json_body(&headers, body).await?;
        let query = gantry_core::scim::search_query(&body)?;
        Ok(ScimRequest::Search {
            kind: Some(kind),
            query,
        })
    };
    ask(&plane, &ctx, request.await).await
}
