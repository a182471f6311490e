//! `GET /metrics` on the main port, for a Prometheus that can only reach
//! that port: a metrics token (`gantry token create --metrics`) and nothing
//! else gets in; never anonymous. The same answer as `--metrics-bind`'s
//! listener.

use crate::auth::AuthState;
use crate::http::error::ApiResult;
use crate::runtime::metrics::Scrape;
use axum::extract::{Extension, State};
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use gantry_core::port::{RequestContext, SharedControlPlane};

pub const PATH: &str = "/metrics";

#[derive(Clone)]
struct Door {
    plane: SharedControlPlane,
    scrape: Scrape,
}

/// The route, with its own door (a bearer token, no session) and state.
pub fn route<S: Clone + Send + Sync + 'static>(
    auth: AuthState,
    plane: SharedControlPlane,
    scrape: Scrape,
) -> MethodRouter<S> {
    get(serve)
        .layer(axum::middleware::from_fn_with_state(
            auth,
            crate::auth::resolve_metrics_scraper,
        ))
        .with_state(Door { plane, scrape })
}

async fn serve(
    State(door): State<Door>,
    Extension(ctx): Extension<RequestContext>,
) -> ApiResult<Response> {
    door.plane.authorize_metrics_scrape(&ctx).await?;
    Ok(door.scrape.answer().await)
}
