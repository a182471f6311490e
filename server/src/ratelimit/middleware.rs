//! The rate-limit layer: after authentication (the principal is known),
//! before the handler. Limited answers carry the IETF `RateLimit-Policy`
//! and `RateLimit` headers (draft-ietf-httpapi-ratelimit-headers); a
//! refusal is 429 with `Retry-After` and says which limit, in the API's
//! error shape.

use super::Limiter;
use crate::http::error::{ApiError, ErrorCode};
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gantry_core::port::RequestContext;
use gantry_core::ratelimit::{RouteClass, Standing, classify, quota_for};
use gantry_core::{Principal, PrincipalKind};
use std::sync::Arc;

pub async fn limit(State(limiter): State<Arc<Limiter>>, req: Request, next: Next) -> Response {
    // Nested routers see their own part of the path; the class needs all.
    let path = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned());
    let Some(class) = classify(req.method().as_str(), &path) else {
        return next.run(req).await;
    };
    let ctx = req.extensions().get::<RequestContext>();
    let principal = ctx.and_then(|c| c.principal.as_ref());
    // Before anyone is signed in (and for deliveries, whose signature is
    // checked after this), the bucket is the client address's.
    let by_address = matches!(class, RouteClass::SignIn | RouteClass::Webhook);
    let subject = match principal {
        Some(p) if !by_address => format!("principal:{}", p.id.0),
        _ => format!(
            "address:{}",
            ctx.and_then(|c| c.source_ip.as_deref())
                .unwrap_or("unknown")
        ),
    };
    let overrides = limiter.overrides().await;
    let (token, groups) = principal.map_or((None, Vec::new()), |p| (token_id(p), groups_of(p)));
    let quota = quota_for(
        class,
        limiter.default_quota(class),
        if by_address { None } else { token },
        if by_address { &[] } else { &groups },
        &overrides,
    );
    let Some(quota) = quota else {
        return next.run(req).await;
    };
    metrics::counter!("gantry_rate_limit_checks_total", "class" => class.as_str()).increment(1);
    match limiter
        .check(&format!("{}:{subject}", class.as_str()), quota)
        .await
    {
        Ok(standing) if standing.allowed => {
            let mut resp = next.run(req).await;
            add_headers(&mut resp, class, &standing);
            resp
        }
        Ok(standing) => {
            metrics::counter!("gantry_rate_limit_rejections_total", "class" => class.as_str())
                .increment(1);
            tracing::info!(class = class.as_str(), %subject, quota = %quota, "rate limited");
            let mut resp = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                format!(
                    "rate limit for {} requests ({quota}) reached; retry after {} s (RateLimit \
                     headers say more; an admin can raise it: Admin → Rate limits)",
                    class.as_str(),
                    standing.retry_after_seconds
                ),
            )
            .into_response();
            add_headers(&mut resp, class, &standing);
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(standing.retry_after_seconds),
            );
            resp
        }
        Err(_) => {
            metrics::counter!("gantry_rate_limit_store_errors_total", "class" => class.as_str())
                .increment(1);
            if limiter.fails_open(class) {
                return next.run(req).await;
            }
            let mut resp = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "the rate limiter's store (the database) is unavailable, and this kind of request \
                 is refused until it is back; try again shortly",
            )
            .into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(1u32));
            resp
        }
    }
}

/// A service token's id, for token overrides.
fn token_id(p: &Principal) -> Option<&str> {
    (p.kind == PrincipalKind::ServiceToken).then_some(p.id.0.as_str())
}

/// The identity-provider groups a person's roles come from (their grants'
/// `group:NAME` sources), for group overrides.
fn groups_of(p: &Principal) -> Vec<&str> {
    let mut groups: Vec<&str> = p
        .grants
        .iter()
        .filter_map(|g| g.source.strip_prefix("group:"))
        .collect();
    groups.sort_unstable();
    groups.dedup();
    groups
}

fn add_headers(resp: &mut Response, class: RouteClass, standing: &Standing) {
    let name = class.as_str();
    let policy = format!(
        "\"{name}\";q={};w={}",
        standing.quota.requests, standing.quota.window_seconds
    );
    let state = format!(
        "\"{name}\";r={};t={}",
        standing.remaining, standing.reset_seconds
    );
    for (header_name, value) in [("ratelimit-policy", policy), ("ratelimit", state)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(header_name, value);
        }
    }
}
