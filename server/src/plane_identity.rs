//! Single sign-on through the port: an identity the edge verified
//! (`auth/oidc.rs`) becomes an account with the roles its groups map to, and
//! every attempt, successful or not, is on the record.

use crate::plane::{GantryPlane, internal};
use crate::store::users::OidcUpsert;
use gantry_core::audit::{
    Actor, ActorKind, AuditAction, AuditEvent, MAX_FIELD_CHARS, Outcome, clip,
};
use gantry_core::port::RequestContext;
use gantry_core::{PortError, Principal, UserId, VerifiedIdentity};

/// How audit records name the sign-in method.
const METHOD: &str = "oidc";

impl GantryPlane {
    pub(crate) async fn do_oidc_sign_in(
        &self,
        ctx: &RequestContext,
        identity: VerifiedIdentity,
    ) -> Result<Principal, PortError> {
        if self.settings.sso.is_none() {
            return Err(PortError::not_found("single sign-on"));
        }
        let grants = self.settings.role_mapping.grants_for(&identity.groups);
        let base = self
            .event(
                ctx,
                AuditAction::SignIn,
                format!("user/{}", clip(identity.username.clone(), MAX_FIELD_CHARS)),
            )
            .detail("method", METHOD)
            .detail("groups", identity.groups.clone());
        let record = {
            let base = base.clone();
            let name = identity.display_name.clone();
            Box::new(move |id: &UserId| AuditEvent {
                actor: Actor {
                    kind: ActorKind::User,
                    id: id.0.clone(),
                    name,
                },
                resource: format!("user/{id}"),
                ..base
            })
        };
        let outcome = self
            .store
            .upsert_oidc_user(&identity, &grants, self.clock.now(), record)
            .await
            .map_err(internal);
        let result = match outcome {
            Ok(OidcUpsert::SignedIn(id)) => crate::auth::principal_for(&self.store, &id, None)
                .await
                .map_err(internal)?
                .ok_or_else(|| PortError::forbidden("the account was disabled meanwhile")),
            Ok(OidcUpsert::Disabled(_)) => Err(PortError::forbidden(format!(
                "the account {:?} is disabled; ask an administrator",
                identity.username
            ))),
            Ok(OidcUpsert::UsernameTaken) => Err(PortError::Conflict {
                message: format!(
                    "the username {:?} belongs to another account here; ask an administrator",
                    identity.username
                ),
            }),
            Err(e) => Err(e),
        };
        match result {
            Ok(principal) => {
                tracing::info!(
                    request_id = %ctx.request_id,
                    user = %principal.username,
                    roles = %principal.roles_summary(),
                    "single sign-on"
                );
                Ok(principal)
            }
            Err(e) => self.settle(base, Err(e)).await,
        }
    }

    pub(crate) async fn do_record_failed_sign_in(&self, ctx: &RequestContext, reason: &str) {
        let mut event = self
            .event(ctx, AuditAction::SignIn, "user")
            .detail("method", METHOD)
            .detail("error", clip(reason.to_owned(), MAX_FIELD_CHARS));
        event.outcome = Outcome::Failed;
        self.append_standalone(event).await;
    }
}
