//! Break-glass passkeys through the port ([`gantry_core::break_glass`]):
//! registration (admin in every environment, step-up, not from a
//! break-glass session, a cap per person), listing, revoking, and the
//! passkey sign-in that gives a time-boxed admin session. WebAuthn is
//! webauthn-rs's ([`relying_party`]); each ceremony's state waits in the
//! database between its two calls and is taken once.

pub mod relying_party;

use crate::plane::{GantryPlane, actor_of, internal, principal_for};
use crate::store::passkeys::{Ceremony, CeremonyPurpose, NewPasskey, PasskeyRefused};
use async_trait::async_trait;
use base64::Engine as _;
use gantry_core::audit::AuditAction;
use gantry_core::break_glass::{
    BREAK_GLASS_DETAIL, BreakGlassSession, PasskeyCeremony, PasskeyView, passkey_name,
};
use gantry_core::port::{PasskeyPort, RequestContext};
use gantry_core::rbac::{Action, Decision, decide};
use gantry_core::{PortError, UserId};
use relying_party::CEREMONY_TIMEOUT;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use webauthn_rs::Webauthn;
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Uuid,
};

/// The WebAuthn user handle for an account: derived from its id (stable,
/// and no personal data in it).
fn user_handle(id: &UserId) -> Uuid {
    let digest = Sha256::digest(format!("gantry-passkey-user/v1\n{}", id.0));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

/// A credential id as the store keeps it (base64url).
fn credential_id(id: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

/// A stored credential read back; one that doesn't parse is the store's
/// fault, not the caller's.
fn stored_passkey(credential: &str) -> Result<Passkey, PortError> {
    serde_json::from_str(credential).map_err(|e| internal(format!("a stored passkey: {e}")))
}

fn ceremony_state<T: serde::de::DeserializeOwned>(state: &str) -> Result<T, PortError> {
    serde_json::from_str(state).map_err(|e| internal(format!("a stored ceremony: {e}")))
}

/// The browser's answer, as webauthn-rs reads it.
fn answer<T: serde::de::DeserializeOwned>(credential: serde_json::Value) -> Result<T, PortError> {
    serde_json::from_value(credential).map_err(|e| {
        PortError::invalid(
            "credential",
            format!("send the browser's answer (PublicKeyCredential.toJSON()): {e}"),
        )
    })
}

/// What a registration's record is about: the caller's account.
fn registrant(ctx: &RequestContext) -> String {
    ctx.principal.as_ref().map_or_else(
        || "user/anonymous".to_owned(),
        |p| format!("user/{}", p.id.0),
    )
}

/// A ceremony that isn't (any more): it expired, or was finished already.
fn gone(what: &str) -> PortError {
    PortError::not_found(format!(
        "this {what} (it expired or was finished already: start again)"
    ))
}

impl GantryPlane {
    fn relying_party(&self) -> Result<&Arc<Webauthn>, PortError> {
        self.settings
            .break_glass
            .relying_party
            .as_ref()
            .map_err(|why| PortError::Unavailable {
                message: format!("break-glass passkeys are unavailable here: {why}"),
            })
    }

    /// A ceremony of `purpose` for `user`, its state kept until its
    /// finish; the options for the browser.
    async fn keep_ceremony(
        &self,
        purpose: CeremonyPurpose,
        user: &UserId,
        state: &impl serde::Serialize,
        options: &impl serde::Serialize,
    ) -> Result<PasskeyCeremony, PortError> {
        let state = serde_json::to_string(state).map_err(internal)?;
        let options = serde_json::to_value(options).map_err(internal)?;
        let now = self.clock.now();
        let expires_at = now + CEREMONY_TIMEOUT;
        let ceremony = Ceremony {
            id: uuid::Uuid::new_v4().to_string(),
            purpose,
            user_id: user.clone(),
            state,
            expires_at,
        };
        self.store
            .begin_passkey_ceremony(&ceremony, now)
            .await
            .map_err(internal)?;
        Ok(PasskeyCeremony {
            ceremony: ceremony.id,
            options,
            expires_at,
        })
    }

    /// The caller, if they may register a passkey now.
    fn may_register<'a>(
        &self,
        ctx: &'a RequestContext,
    ) -> Result<&'a gantry_core::Principal, PortError> {
        let me = self.authorize(ctx, &Action::RegisterPasskey)?;
        if me.break_glass_until.is_some() {
            return Err(PortError::forbidden(
                "a break-glass session can't register passkeys (one stolen passkey must not \
                 make more): sign in through single sign-on",
            ));
        }
        self.require_recent_sign_in(me, None)?;
        Ok(me)
    }

    fn at_cap(&self) -> PortError {
        let cap = self.settings.break_glass.max_passkeys;
        PortError::Conflict {
            message: format!(
                "you hold {cap} break-glass passkeys, the most allowed here \
                 (--break-glass-max-passkeys): revoke one first"
            ),
        }
    }
}

#[async_trait]
impl PasskeyPort for GantryPlane {
    async fn passkeys(&self, ctx: &RequestContext) -> Result<Vec<PasskeyView>, PortError> {
        let me = ctx.require_principal()?;
        let everyone = decide(me, &Action::ViewUsers).is_allowed();
        self.store
            .passkeys((!everyone).then_some(&me.id))
            .await
            .map_err(internal)
    }

    async fn start_passkey_registration(
        &self,
        ctx: &RequestContext,
    ) -> Result<PasskeyCeremony, PortError> {
        let event = self.event(ctx, AuditAction::PasskeyRegister, registrant(ctx));
        let result = async {
            let me = self.may_register(ctx)?;
            let rp = self.relying_party()?;
            let held = self
                .store
                .passkey_credentials(&me.id)
                .await
                .map_err(internal)?;
            if held.len() >= self.settings.break_glass.max_passkeys as usize {
                return Err(self.at_cap());
            }
            let exclude = held
                .iter()
                .map(|p| stored_passkey(&p.credential).map(|k| k.cred_id().clone()))
                .collect::<Result<Vec<_>, _>>()?;
            let (options, state) = rp
                .start_passkey_registration(
                    user_handle(&me.id),
                    &me.username,
                    &me.display_name,
                    Some(exclude),
                )
                .map_err(|e| internal(format!("starting a passkey registration: {e}")))?;
            let state: &PasskeyRegistration = &state;
            self.keep_ceremony(CeremonyPurpose::Register, &me.id, state, &options)
                .await
        }
        .await;
        self.settle(event, result).await
    }

    async fn finish_passkey_registration(
        &self,
        ctx: &RequestContext,
        ceremony: &str,
        name: &str,
        credential: serde_json::Value,
    ) -> Result<PasskeyView, PortError> {
        let event = self.event(ctx, AuditAction::PasskeyRegister, registrant(ctx));
        let result = async {
            let me = self.may_register(ctx)?;
            let name = passkey_name(name)?;
            let event = event.clone().detail("name", name.clone());
            let rp = self.relying_party()?;
            let now = self.clock.now();
            let taken = self
                .store
                .take_passkey_ceremony(ceremony, CeremonyPurpose::Register, now)
                .await
                .map_err(internal)?
                .ok_or_else(|| gone("registration"))?;
            if taken.user_id != me.id {
                return Err(PortError::forbidden(
                    "this registration was begun by someone else",
                ));
            }
            let state: PasskeyRegistration = ceremony_state(&taken.state)?;
            let answer: RegisterPublicKeyCredential = answer(credential)?;
            let passkey = rp
                .finish_passkey_registration(&answer, &state)
                .map_err(|e| {
                    PortError::invalid("credential", format!("the passkey did not verify: {e}"))
                })?;
            let new = NewPasskey {
                id: uuid::Uuid::new_v4().to_string(),
                user_id: me.id.clone(),
                name,
                credential_id: credential_id(passkey.cred_id()),
                credential: serde_json::to_string(&passkey).map_err(internal)?,
                created_at: now,
            };
            match self
                .store
                .add_passkey(&new, self.settings.break_glass.max_passkeys, event)
                .await
                .map_err(internal)?
            {
                Ok(view) => {
                    tracing::warn!(user = %me.username, passkey = %view.id, "break-glass passkey registered");
                    Ok(view)
                }
                Err(PasskeyRefused::AtCap) => Err(self.at_cap()),
                Err(PasskeyRefused::Duplicate) => Err(PortError::Conflict {
                    message: "this passkey is registered already".into(),
                }),
            }
        }
        .await;
        self.settle(event, result).await
    }

    async fn revoke_passkey(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<PasskeyView, PortError> {
        let event = self.event(ctx, AuditAction::PasskeyRevoke, format!("passkey/{id}"));
        let result = async {
            let me = ctx.require_principal()?;
            let found = self
                .store
                .passkey(id)
                .await
                .map_err(internal)?
                .ok_or_else(|| PortError::not_found(format!("passkey {id}")))?;
            if found.user_id != me.id.0 {
                self.authorize(ctx, &Action::ManageUsers)?;
            }
            let event = event
                .clone()
                .detail("owner", found.user_id.clone())
                .detail("name", found.name.clone());
            self.store
                .revoke_passkey(id, event)
                .await
                .map_err(internal)?
                .ok_or_else(|| PortError::not_found(format!("passkey {id}")))
        }
        .await;
        self.settle(event, result).await
    }

    async fn start_break_glass(
        &self,
        _ctx: &RequestContext,
        username: &str,
    ) -> Result<PasskeyCeremony, PortError> {
        let rp = self.relying_party()?;
        let none = || {
            PortError::not_found(
                "a break-glass passkey for that account (an admin registers one on the Users \
                 page while single sign-on works)",
            )
        };
        let user = self
            .store
            .user_by_username(username.trim())
            .await
            .map_err(internal)?
            .filter(|u| !u.disabled)
            .ok_or_else(none)?;
        let passkeys = self
            .store
            .passkey_credentials(&user.id)
            .await
            .map_err(internal)?
            .iter()
            .map(|p| stored_passkey(&p.credential))
            .collect::<Result<Vec<_>, _>>()?;
        if passkeys.is_empty() {
            return Err(none());
        }
        let (options, state) = rp
            .start_passkey_authentication(&passkeys)
            .map_err(|e| internal(format!("starting a passkey sign-in: {e}")))?;
        let state: &PasskeyAuthentication = &state;
        self.keep_ceremony(CeremonyPurpose::SignIn, &user.id, state, &options)
            .await
    }

    async fn finish_break_glass(
        &self,
        ctx: &RequestContext,
        ceremony: &str,
        credential: serde_json::Value,
    ) -> Result<BreakGlassSession, PortError> {
        let mut event = self.event(ctx, AuditAction::BreakGlassSignIn, "user/unknown");
        let result = async {
            let rp = self.relying_party()?;
            let now = self.clock.now();
            let taken = self
                .store
                .take_passkey_ceremony(ceremony, CeremonyPurpose::SignIn, now)
                .await
                .map_err(internal)?
                .ok_or_else(|| gone("sign-in"))?;
            event.resource = format!("user/{}", taken.user_id.0);
            let state: PasskeyAuthentication = ceremony_state(&taken.state)?;
            let answer: PublicKeyCredential = answer(credential)?;
            let verified = rp
                .finish_passkey_authentication(&answer, &state)
                .map_err(|e| PortError::forbidden(format!("the passkey did not verify: {e}")))?;
            let used = credential_id(verified.cred_id());
            let stored = self
                .store
                .passkey_credentials(&taken.user_id)
                .await
                .map_err(internal)?
                .into_iter()
                .find(|p| p.credential_id == used)
                .ok_or_else(|| PortError::forbidden("that passkey was revoked"))?;
            let view = stored.view;
            let mut passkey = stored_passkey(&stored.credential)?;
            // The signature counter moves on.
            passkey.update_credential(&verified);
            let principal = principal_for(&self.store, &taken.user_id, None)
                .await
                .map_err(internal)?
                .ok_or_else(|| PortError::forbidden("the account is disabled"))?;
            if let Decision::Deny { reason: why } = decide(&principal, &Action::RegisterPasskey) {
                return Err(PortError::forbidden(format!(
                    "break-glass gives an admin session, and this account no longer is one: {why}"
                )));
            }
            let until = now
                + chrono::Duration::from_std(self.settings.break_glass.session)
                    .unwrap_or(chrono::Duration::hours(1));
            let principal = gantry_core::Principal {
                signed_in_at: Some(now),
                break_glass_until: Some(until),
                ..principal
            };
            event.actor = actor_of(&principal);
            let record = event
                .clone()
                .detail(BREAK_GLASS_DETAIL, true)
                .detail("passkey_id", view.id.clone())
                .detail("passkey", view.name.clone())
                .detail("until", until.to_rfc3339());
            let credential = serde_json::to_string(&passkey).map_err(internal)?;
            if !self
                .store
                .passkey_used(&view.id, &credential, now, record)
                .await
                .map_err(internal)?
            {
                return Err(PortError::forbidden("that passkey was revoked"));
            }
            // Loud on purpose: break-glass is an event someone must look at.
            tracing::error!(
                user = %principal.username,
                passkey = %view.id,
                until = %until.to_rfc3339(),
                "break-glass sign-in: an admin session without single sign-on"
            );
            Ok(BreakGlassSession { principal, until })
        }
        .await;
        self.settle(event, result).await
    }
}
