//! The dashboard's pages: the Leptos routes (rendered on the server, then
//! hydrated) and the form routes a page posts to when it can't use a server
//! function. Sign-in and sign-out stay in `auth/`: they start and end
//! sessions.

pub mod alert_forms;
pub mod bundle_form;
mod plain_form;
pub mod token_form;
pub mod webhook_form;

use crate::state::AppState;
use app::{App, shell};
use axum::Router;
use axum::routing::post;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};

/// Every page, the plain form routes, and the fallback (assets, then 404).
pub fn router(state: &AppState, csp: app::csp::CspSettings) -> Router<AppState> {
    let plane = state.plane.clone();
    let options = state.leptos_options.clone();
    Router::new()
        // The create-token form without JavaScript; GET is the Leptos page.
        .route(app::api::TOKENS_PAGE, post(token_form::create))
        // The Alerts page's forms without JavaScript (`alert_forms`).
        .route(app::api::NEW_RULE_PAGE, post(alert_forms::rule))
        .route(app::api::EDIT_RULE_PAGE, post(alert_forms::rule))
        .route(app::api::CHANNELS_PAGE, post(alert_forms::channel))
        .route(app::api::SILENCES_PAGE, post(alert_forms::silence))
        // The Webhooks page's forms, which may answer a secret (`webhook_form`).
        .route(app::api::WEBHOOKS_PAGE, post(webhook_form::submit))
        // The Workflows page's bundle upload (`bundle_form`).
        .route(app::api::WORKFLOWS_PAGE, post(bundle_form::import))
        .leptos_routes_with_context(
            state,
            generate_route_list(App),
            move || {
                provide_context(plane.clone());
                provide_context(csp.clone());
            },
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
}
