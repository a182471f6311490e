//! People, for access reviews and offboarding: the user list with every
//! role and what granted it, and disabling or re-enabling an account, which
//! ends its sessions at once.

use crate::plane::{GantryPlane, internal};
use crate::store::UserRecord;
use async_trait::async_trait;
use gantry_core::audit::{AuditAction, AuditEvent};
use gantry_core::identity::explain_roles;
use gantry_core::port::{RequestContext, UserPort};
use gantry_core::privacy::{ErasureReport, PersonExport};
use gantry_core::rbac::Action;
use gantry_core::user::{UserQuery, UserSource, UserSummary};
use gantry_core::{PortError, RoleGrant, UserId};

#[async_trait]
impl UserPort for GantryPlane {
    async fn list_users(
        &self,
        ctx: &RequestContext,
        query: UserQuery,
    ) -> Result<Vec<UserSummary>, PortError> {
        self.authorize_view(ctx, &Action::ViewUsers, "user/")
            .await?;
        let users = self.store.list_users().await.map_err(internal)?;
        let mut groups = self.store.scim_memberships().await.map_err(internal)?;
        let mut listed = Vec::new();
        for (user, grants) in users {
            let groups = groups
                .remove(&user.id.0)
                .unwrap_or_default()
                .into_iter()
                .map(|g| g.display)
                .collect();
            let user = summary(user, &grants, groups)?;
            if query.matches(&user) {
                listed.push(user);
            }
        }
        Ok(listed)
    }

    async fn user(
        &self,
        ctx: &RequestContext,
        id_or_username: &str,
    ) -> Result<UserSummary, PortError> {
        match self.authorize(ctx, &Action::ViewUsers) {
            // The refusal's record names the account by id (a username in
            // the clear would outlive the person's erasure).
            Err(err @ PortError::Forbidden { .. }) => {
                let resource = self.account_resource(id_or_username).await;
                return self
                    .view_denied(ctx, &Action::ViewUsers, &resource, err)
                    .await;
            }
            Err(err) => return Err(err),
            Ok(_) => {}
        }
        let user = self.find_user(id_or_username).await?;
        self.summary_of(user).await
    }

    async fn set_user_disabled(
        &self,
        ctx: &RequestContext,
        id_or_username: &str,
        disabled: bool,
    ) -> Result<UserSummary, PortError> {
        let action = if disabled {
            AuditAction::UserDisable
        } else {
            AuditAction::UserEnable
        };
        let event = self.event(ctx, action, format!("user/{id_or_username}"));
        let result = async {
            let me = self.authorize(ctx, &Action::ManageUsers)?;
            let user = self.find_user(id_or_username).await?;
            if disabled && user.id == me.id {
                return Err(PortError::Conflict {
                    message: "you can't disable your own account; ask another admin".into(),
                });
            }
            let event = AuditEvent {
                resource: format!("user/{}", user.id),
                ..event.clone()
            }
            .detail("username", user.username.clone());
            let changed = self
                .store
                .set_user_disabled(&user.id, disabled, self.clock.now(), event)
                .await
                .map_err(internal)?;
            if !changed {
                return Err(PortError::not_found(format!("user {id_or_username:?}")));
            }
            tracing::info!(request_id = %ctx.request_id, user = %me.username, account = %user.username,
                disabled, "account access changed");
            let user = self.find_user(&user.id.0).await?;
            self.summary_of(user).await
        }
        .await;
        self.settle_about_account(event, id_or_username, result)
            .await
    }

    async fn export_user(
        &self,
        ctx: &RequestContext,
        id_or_username: &str,
    ) -> Result<PersonExport, PortError> {
        self.export_person(ctx, id_or_username).await
    }

    async fn erase_user(
        &self,
        ctx: &RequestContext,
        id_or_username: &str,
    ) -> Result<ErasureReport, PortError> {
        self.erase_person(ctx, id_or_username).await
    }
}

impl GantryPlane {
    pub(super) async fn summary_of(&self, user: UserRecord) -> Result<UserSummary, PortError> {
        let grants = self.store.grants_for(&user.id).await.map_err(internal)?;
        let groups = if user.scim_managed {
            self.store
                .scim_user(&user.id.0)
                .await
                .map_err(internal)?
                .map(|row| row.groups.into_iter().map(|g| g.display).collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        summary(user, &grants, groups)
    }

    /// An account by id (a UUID) or else by username.
    pub(super) async fn find_user(&self, id_or_username: &str) -> Result<UserRecord, PortError> {
        let by_id = if uuid::Uuid::parse_str(id_or_username).is_ok() {
            self.store
                .user_by_id(&UserId(id_or_username.to_owned()))
                .await
                .map_err(internal)?
        } else {
            None
        };
        let found = match by_id {
            Some(user) => Some(user),
            None => self
                .store
                .user_by_username(id_or_username)
                .await
                .map_err(internal)?,
        };
        found.ok_or_else(|| PortError::not_found(format!("user {id_or_username:?}")))
    }
}

fn summary(
    user: UserRecord,
    grants: &[RoleGrant],
    groups: Vec<String>,
) -> Result<UserSummary, PortError> {
    let source = UserSource::parse(&user.source)
        .ok_or_else(|| internal(format!("stored user source {:?}", user.source)))?;
    Ok(UserSummary {
        id: user.id.0,
        username: user.username,
        display_name: user.display_name,
        email: user.email,
        source,
        disabled: user.disabled,
        roles: explain_roles(grants),
        created_at: user.created_at,
        last_sign_in_at: user.last_sign_in_at,
        scim_managed: user.scim_managed,
        groups,
        provisioned_at: user.provisioned_at,
    })
}
