//! Gantry's dashboard: the HTML shell, the router and every page. Data comes
//! only from server functions (`api`), which call the control-plane port.

// Leptos views are deeply nested types; the hydrate build of the run page
// and the run form needs more than the default 128 levels to lay them out.
#![recursion_limit = "256"]

pub mod api;
mod components;
pub mod csp;
pub mod error;
mod live;
mod live_slo;
mod pages;
mod route_param;
pub mod time;
mod webauthn;

use components::layout::{Frame, UiState};
use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};
use pages::alerts::{
    channels::ChannelsPage, instance::InstancePage, list::AlertsPage,
    notifications::NotificationsPage, rule_page::EditRulePage, rule_page::NewRulePage,
    silences::SilencesPage,
};
use pages::{
    admin::AdminPage, approval::ApprovalPage, approvals::ApprovalsPage, audit::AuditLogPage,
    audit_record::AuditRecordPage, break_glass::BreakGlassPage, ledger::LedgerPage,
    not_found::NotFound, overview::OverviewPage, policies::PoliciesPage,
    preferences::PreferencesPage, promotion::PromotionPage, promotions::PromotionsPage,
    rate_limits::RateLimitsPage, run_detail::RunDetailPage, runs::RunsPage,
    secret_providers::SecretProvidersPage, sign_in::SignInPage, slo::SloPage, tokens::TokensPage,
    users::UsersPage, webhooks::WebhooksPage, workflow_detail::WorkflowDetailPage,
    workflows::WorkflowsPage,
};

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    csp::set_header();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(UiState::default());

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Gantry".to_owned() } else { format!("{page} · Gantry") }
        } />
        // Async SSR on every route: a page is sent whole once its data is
        // ready, so it reads and works without JavaScript and can set its own
        // HTTP status.
        <Router>
            <Frame>
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/") view=OverviewPage ssr=SsrMode::Async />
                    <Route path=path!("/sign-in") view=SignInPage ssr=SsrMode::Async />
                    <Route path=path!("/break-glass") view=BreakGlassPage ssr=SsrMode::Async />
                    <Route path=path!("/preferences") view=PreferencesPage ssr=SsrMode::Async />
                    <Route path=path!("/workflows") view=WorkflowsPage ssr=SsrMode::Async />
                    <Route path=path!("/workflows/:name") view=WorkflowDetailPage ssr=SsrMode::Async />
                    <Route path=path!("/workflows/:name/slo/:environment") view=SloPage ssr=SsrMode::Async />
                    <Route path=path!("/runs") view=RunsPage ssr=SsrMode::Async />
                    <Route path=path!("/runs/:id") view=RunDetailPage ssr=SsrMode::Async />
                    <Route path=path!("/promotions") view=PromotionsPage ssr=SsrMode::Async />
                    <Route path=path!("/promotions/ledger") view=LedgerPage ssr=SsrMode::Async />
                    <Route path=path!("/promotions/policies") view=PoliciesPage ssr=SsrMode::Async />
                    <Route path=path!("/promotions/:id") view=PromotionPage ssr=SsrMode::Async />
                    <Route path=path!("/approvals") view=ApprovalsPage ssr=SsrMode::Async />
                    <Route path=path!("/approvals/:id") view=ApprovalPage ssr=SsrMode::Async />
                    <Route path=path!("/alerts") view=AlertsPage ssr=SsrMode::Async />
                    <Route path=path!("/alerts/rules/new") view=NewRulePage ssr=SsrMode::Async />
                    <Route path=path!("/alerts/rules/edit") view=EditRulePage ssr=SsrMode::Async />
                    <Route path=path!("/alerts/channels") view=ChannelsPage ssr=SsrMode::Async />
                    <Route path=path!("/alerts/silences") view=SilencesPage ssr=SsrMode::Async />
                    <Route path=path!("/alerts/notifications") view=NotificationsPage ssr=SsrMode::Async />
                    <Route path=path!("/alerts/instances/:fingerprint") view=InstancePage ssr=SsrMode::Async />
                    <Route path=path!("/audit") view=AuditLogPage ssr=SsrMode::Async />
                    <Route path=path!("/audit/:seq") view=AuditRecordPage ssr=SsrMode::Async />
                    <Route path=path!("/admin") view=AdminPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/tokens") view=TokensPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/users") view=UsersPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/webhooks") view=WebhooksPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/rate-limits") view=RateLimitsPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/secret-providers") view=SecretProvidersPage ssr=SsrMode::Async />
                </Routes>
            </Frame>
        </Router>
    }
}
