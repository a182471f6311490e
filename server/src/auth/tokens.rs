//! API bearer tokens: generated with a recognizable prefix (so secret
//! scanners can find leaked ones), stored only as a SHA-256 hash. Tokens
//! carry 256 random bits, so a plain hash is the right tool (a slow password
//! hash buys nothing against guessing, and costs every request).

use crate::store::{SharedStore, StoreResult};
use base64::Engine;
use chrono::{DateTime, Utc};
use gantry_core::audit::{Actor, AuditAction, AuditEvent};
use gantry_core::token::TokenKind;
use gantry_core::{Principal, PrincipalKind, Role, UserId};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Every Gantry token starts with this.
pub const TOKEN_PREFIX: &str = "gantry_";

/// The token made (or set) at start-up until service tokens exist.
pub const BOOTSTRAP_TOKEN_NAME: &str = "bootstrap";

pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The first characters of a token, shown to tell tokens apart: the prefix
/// and 4 random characters (24 bits; the other 232 stay secret).
pub fn hint(token: &str) -> String {
    let shown: String = token.chars().take(TOKEN_PREFIX.len() + 4).collect();
    format!("{shown}…")
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

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
            },
            username: t.name.clone(),
            display_name: match t.kind {
                TokenKind::Service => format!("token {}", t.name),
                TokenKind::Scim => format!("SCIM client {}", t.name),
                TokenKind::Worker => format!("worker {}", t.name),
            },
            email: None,
            grants: t.grants,
            signed_in_at: None,
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
                BOOTSTRAP_TOKEN_NAME,
                &hash(token),
                &hint(token),
                &grants,
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
            BOOTSTRAP_TOKEN_NAME,
            &hash(&token),
            &hint(&token),
            &grants,
            now,
            audit("generated"),
        )
        .await?;
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hashed() {
        let a = generate();
        let b = generate();
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_ne!(a, b);
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
        assert!(!hash(&a).contains(&a));
    }
}
