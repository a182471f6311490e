//! Service tokens through the port: list, create, revoke, each change
//! audited in its own transaction; and their secrets: generated with a
//! recognizable prefix (so secret scanners can find leaked ones), stored
//! only as a SHA-256 hash. Tokens carry 256 random bits, so a plain hash is
//! the right tool (a slow password hash buys nothing against guessing, and
//! costs every request).

use crate::plane::{GantryPlane, internal};
use crate::store::tokens::{Created, NewTokenRecord};
use async_trait::async_trait;
use base64::Engine;
use gantry_core::PortError;
use gantry_core::audit::{AuditAction, AuditEvent};
use gantry_core::port::{RequestContext, TokenPort};
use gantry_core::rbac::Action;
use gantry_core::token::{
    CreatedToken, NewToken, ServiceToken, TokenKind, TokenMaker, check_token_maker, parse_grant,
    plan_token,
};
use gantry_core::{EnvScope, Role};
use rand::RngCore;
use sha2::{Digest, Sha256};

#[async_trait]
impl TokenPort for GantryPlane {
    async fn list_tokens(&self, ctx: &RequestContext) -> Result<Vec<ServiceToken>, PortError> {
        self.authorize_view(ctx, &Action::ManageTokens, "token/")
            .await?;
        self.store.list_tokens().await.map_err(internal)
    }

    async fn create_token(
        &self,
        ctx: &RequestContext,
        request: NewToken,
    ) -> Result<CreatedToken, PortError> {
        let event = self.event(
            ctx,
            AuditAction::TokenCreate,
            format!("token/{}", request.name),
        );
        let result = self.create_token_checked(ctx, request, &event).await;
        self.settle(event, result).await
    }

    async fn revoke_token(
        &self,
        ctx: &RequestContext,
        id_or_name: &str,
    ) -> Result<ServiceToken, PortError> {
        let event = self.event(ctx, AuditAction::TokenRevoke, format!("token/{id_or_name}"));
        let result = async {
            let me = self.authorize(ctx, &Action::ManageTokens)?;
            // Revoking is held to the same reach as granting: an admin of
            // dev can't switch off a token that works in prod.
            let token = self
                .store
                .find_token(id_or_name)
                .await
                .map_err(internal)?
                .ok_or_else(|| PortError::not_found(format!("token {id_or_name:?}")))?;
            if matches!(
                token.kind,
                TokenKind::Scim | TokenKind::Worker | TokenKind::Metrics
            ) {
                self.authorize(ctx, &Action::ManageUsers)?;
            }
            for text in &token.roles {
                let (role, scope) = parse_grant(text, &self.settings.environments)
                    .or_else(|_| stored_grant(text))
                    .map_err(internal)?;
                self.authorize(ctx, &Action::GrantTokenRole { role, scope })?;
            }
            let revoked = self
                .store
                .revoke_token(
                    id_or_name,
                    &me.display_name,
                    self.clock.now(),
                    event.clone(),
                )
                .await
                .map_err(internal)?
                .ok_or_else(|| PortError::not_found(format!("token {id_or_name:?}")))?;
            tracing::info!(request_id = %ctx.request_id, user = %me.username, token = %revoked.name,
                "service token revoked");
            Ok(revoked)
        }
        .await;
        self.settle(event, result).await
    }
}

impl GantryPlane {
    async fn create_token_checked(
        &self,
        ctx: &RequestContext,
        request: NewToken,
        event: &AuditEvent,
    ) -> Result<CreatedToken, PortError> {
        let me = self.authorize(ctx, &Action::ManageTokens)?;
        let now = self.clock.now();
        let plan = plan_token(&request, &self.settings.environments, now)?;
        if matches!(
            plan.kind,
            TokenKind::Scim | TokenKind::Worker | TokenKind::Metrics
        ) {
            // Provisioning decides who exists and (through groups) who
            // holds what, everywhere; a worker runs steps of every
            // environment; metrics name the workflows of every one.
            self.authorize(ctx, &Action::ManageUsers)?;
        }
        for (role, scope) in &plan.grants {
            self.authorize(
                ctx,
                &Action::GrantTokenRole {
                    role: *role,
                    scope: scope.clone(),
                },
            )?;
        }
        // A token makes tokens only when granted to, never one outliving
        // it; what it makes acts for the same person it does.
        let maker = match self.token_behind(me).await? {
            Some(token) => TokenMaker::Token {
                name: token.name,
                expires_at: token.expires_at,
                can_create_tokens: token.can_create_tokens,
            },
            None => TokenMaker::Person,
        };
        check_token_maker(&maker, &plan, now)?;
        let person = self.person_behind(me).await?;
        self.require_recent_sign_in(me, None)?;
        let secret = generate();
        let grants: Vec<_> = plan
            .grants
            .iter()
            .map(|(role, scope)| (*role, scope.to_string()))
            .collect();
        let created = self
            .store
            .create_token(
                NewTokenRecord {
                    name: &plan.name,
                    token_hash: &hash(&secret),
                    hint: &hint(&secret),
                    grants: &grants,
                    expires_at: Some(plan.expires_at),
                    created_by: &me.display_name,
                    maker: person.as_ref(),
                    can_create_tokens: plan.can_create_tokens,
                    kind: plan.kind,
                },
                now,
                event.clone(),
            )
            .await
            .map_err(internal)?;
        match created {
            Created::Token(token) => {
                tracing::info!(request_id = %ctx.request_id, user = %me.username, token = %token.name,
                    "service token created");
                Ok(CreatedToken {
                    token: *token,
                    secret,
                })
            }
            Created::NameTaken => Err(PortError::Conflict {
                message: format!(
                    "a token named {:?} exists (revoked tokens keep their names); choose another name",
                    plan.name
                ),
            }),
        }
    }
}

/// A stored `role@scope` whose environment this server no longer lists: it
/// still counts, so revoking needs admin there (or everywhere).
fn stored_grant(text: &str) -> Result<(Role, EnvScope), String> {
    let (role, scope) = text
        .split_once('@')
        .ok_or_else(|| format!("stored grant {text:?}"))?;
    let role = Role::parse(role).ok_or_else(|| format!("stored role {role:?}"))?;
    let scope = EnvScope::parse(scope).map_err(|e| e.to_string())?;
    Ok((role, scope))
}

/// Every Gantry token starts with this.
pub const TOKEN_PREFIX: &str = "gantry_";

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
