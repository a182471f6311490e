//! API bearer tokens at the edge: which principal a presented token stands
//! for, and the bootstrap token. Making and hashing their secrets is the
//! plane's (`plane/tokens.rs`).

use crate::plane::tokens::{TOKEN_PREFIX, generate, hash, hint};
use crate::store::tokens::SystemToken;
use crate::store::{SharedStore, StoreResult};
use chrono::{DateTime, Utc};
use gantry_core::audit::{Actor, AuditAction, AuditEvent};
use gantry_core::token::TokenKind;
use gantry_core::{Principal, PrincipalKind, Role, UserId};

/// The token made (or set) at start-up until service tokens exist.
pub const BOOTSTRAP_TOKEN_NAME: &str = "bootstrap";

/// The principal a presented token stands for, if it is live.
pub async fn principal_for_token(
    store: &SharedStore,
    token: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<Principal>> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    Ok(store
        .token_by_hash(&hash(token), now)
        .await?
        .map(|t| Principal {
            id: UserId(t.id),
            kind: match t.kind {
                TokenKind::Service => PrincipalKind::ServiceToken,
                TokenKind::Scim => PrincipalKind::ScimClient,
                TokenKind::Worker => PrincipalKind::Worker,
                TokenKind::Metrics => PrincipalKind::MetricsScraper,
            },
            username: t.name.clone(),
            display_name: match t.kind {
                TokenKind::Service => format!("token {}", t.name),
                TokenKind::Scim => format!("SCIM client {}", t.name),
                TokenKind::Worker => format!("worker {}", t.name),
                TokenKind::Metrics => format!("metrics scraper {}", t.name),
            },
            email: None,
            grants: t.grants,
            signed_in_at: None,
            break_glass_until: None,
        }))
}

/// Installs the bootstrap token: the configured one, or a new one when none
/// was ever made (a revoked bootstrap token stays revoked: no new admin
/// credential appears in the logs of a restart). Returns a newly generated
/// token so it can be shown once.
pub async fn ensure_bootstrap(
    store: &SharedStore,
    configured: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<String>> {
    let grants = [(Role::Admin, "*".to_owned())];
    let audit = |how: &str| {
        AuditEvent::new(
            now,
            Actor::system("startup"),
            AuditAction::TokenCreate,
            format!("token/{BOOTSTRAP_TOKEN_NAME}"),
        )
        .detail("source", how)
    };
    if let Some(token) = configured {
        store
            .upsert_token(
                SystemToken {
                    name: BOOTSTRAP_TOKEN_NAME,
                    token_hash: &hash(token),
                    hint: &hint(token),
                    grants: &grants,
                },
                now,
                audit("configured"),
            )
            .await?;
        return Ok(None);
    }
    if store.token_exists(BOOTSTRAP_TOKEN_NAME).await? {
        return Ok(None);
    }
    let token = generate();
    store
        .upsert_token(
            SystemToken {
                name: BOOTSTRAP_TOKEN_NAME,
                token_hash: &hash(&token),
                hint: &hint(&token),
                grants: &grants,
            },
            now,
            audit("generated"),
        )
        .await?;
    Ok(Some(token))
}
