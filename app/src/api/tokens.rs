//! Server functions for service tokens: list, create (the one answer that
//! carries a secret) and revoke. Admins only; the port decides, including
//! which roles a new token may carry.
//!
//! A secret must never travel through a URL, a cookie or the session, so a
//! create form posted without JavaScript does not come here (a server
//! function answers plain posts with a redirect, which would lose it): it
//! goes to the server's plain `POST /admin/tokens` route, which calls the
//! port and renders the tokens page with a [`PlainCreate`] in context.

use crate::error::AppError;
use chrono::{DateTime, Utc};
use gantry_core::token::{CreatedToken, NewToken, ServiceToken};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr;

/// The tokens page, and where its create form posts without JavaScript.
pub const TOKENS_PAGE: &str = "/admin/tokens";

/// What a create form posted without JavaScript came to: the server
/// provides it as context while it renders the tokens page in answer to
/// that post, so the page shows the secret (or the problem) at once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlainCreate {
    /// What was asked for, to fill the form again after a refusal.
    pub request: NewToken,
    pub result: Result<CreatedToken, AppError>,
}

/// Every token, with the time their states were judged at (it comes with
/// the data so the server and the hydrating browser agree).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenList {
    pub tokens: Vec<ServiceToken>,
    pub now: DateTime<Utc>,
}

/// A creation request from the form's fields, exactly as both the server
/// function and the plain form route receive them: empty fields mean "not
/// given", so the port names what is missing.
pub fn token_request(name: &str, roles: &[String], expires_in: &str, scim: bool) -> NewToken {
    let expires_in = expires_in.trim();
    NewToken {
        name: name.trim().to_owned(),
        roles: roles
            .iter()
            .map(|r| r.trim())
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        expires_in: (!expires_in.is_empty()).then(|| expires_in.to_owned()),
        scim,
        // Worker tokens are made on the CLI or REST API (docs/workers.md).
        worker: false,
        // Metrics tokens too (docs/observability.md).
        metrics: false,
        // The dashboard's form makes tokens for scripts, never token makers.
        can_create_tokens: false,
    }
}

/// A ticked checkbox: browsers send `on` (or the value it carries).
fn checked(value: &str) -> bool {
    matches!(value, "on" | "true" | "1")
}

/// A creation request from a url-encoded form body (`name`, `expires_in`
/// and one `roles[]` per ticked box; `roles` and `roles[N]` are read too).
pub fn token_request_from_form(pairs: &[(String, String)]) -> NewToken {
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let roles: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "roles" || (k.starts_with("roles[") && k.ends_with(']')))
        .map(|(_, v)| v.clone())
        .collect();
    token_request(
        field("name"),
        &roles,
        field("expires_in"),
        checked(field("scim")),
    )
}

#[server(prefix = "/ui", endpoint = "tokens")]
pub async fn list_tokens() -> Result<TokenList, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let tokens = ssr::answer(plane.list_tokens(&ctx).await)?;
    Ok(TokenList {
        tokens,
        now: crate::time::now(),
    })
}

/// Makes a token; the answer is the only place its secret appears, so it
/// is never cached. Only for the hydrated page: a plain form post here
/// would be answered with a redirect that drops the secret, so it is
/// refused before anything is made.
#[server(prefix = "/ui", endpoint = "create_token")]
pub async fn create_token(
    name: String,
    #[server(default)] roles: Vec<String>,
    #[server(default)] expires_in: String,
    #[server(default)] scim: String,
) -> Result<CreatedToken, AppError> {
    let (plane, ctx) = ssr::port().await?;
    if ssr::plain_form_post() {
        return ssr::answer(Err(gantry_core::PortError::invalid(
            "form",
            format!("post this form to {TOKENS_PAGE}, which shows the new secret"),
        )));
    }
    ssr::no_store();
    let request = token_request(&name, &roles, &expires_in, checked(&scim));
    ssr::answer(plane.create_token(&ctx, request).await)
}

/// Revokes a token by id. A plain form post returns to the tokens page
/// (without any error a previous post left in its address); the hydrated
/// page just reloads its list.
#[server(prefix = "/ui", endpoint = "revoke_token")]
pub async fn revoke_token(id: String) -> Result<ServiceToken, AppError> {
    let (plane, ctx) = ssr::port().await?;
    let token = ssr::answer(plane.revoke_token(&ctx, &id).await)?;
    if ssr::plain_form_post() {
        ssr::redirect_to(TOKENS_PAGE);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn form_fields_become_a_request() {
        let request = token_request_from_form(&pairs(&[
            ("name", " ci-deploy "),
            ("roles[]", "operator@dev"),
            ("roles[]", "viewer@*"),
            ("roles", " "),
            ("roles[2]", "auditor@prod"),
            ("rolesx", "admin@*"),
            ("expires_in", "30d"),
        ]));
        assert_eq!(
            request,
            NewToken {
                name: "ci-deploy".into(),
                roles: vec![
                    "operator@dev".into(),
                    "viewer@*".into(),
                    "auditor@prod".into()
                ],
                expires_in: Some("30d".into()),
                scim: false,
                worker: false,
                metrics: false,
                can_create_tokens: false,
            }
        );
        let empty = token_request_from_form(&[]);
        assert_eq!(empty, NewToken::default());
    }
}
