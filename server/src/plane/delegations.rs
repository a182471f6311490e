//! Delegating approvals in the port: an approver going on leave lends their
//! approval right in one environment to a named person for a while. The
//! rules are `core::promotion::delegation`'s; promotions (`promotions.rs`)
//! and run approvals (`approvals.rs`) read the delegations in force through
//! [`GantryPlane::delegated_rights`].

use crate::plane::{GantryPlane, internal, principal_for, uuid_or_not_found};
use crate::store::delegations::{DelegationQuery, Revoked, StoredDelegation};
use async_trait::async_trait;
use gantry_core::approval::Person;
use gantry_core::audit::{AuditAction, AuditEvent};
use gantry_core::port::{DelegationPort, RequestContext};
use gantry_core::promotion::Delegation;
use gantry_core::promotion::delegation::{Actor, may_revoke};
use gantry_core::promotion::delegation_view::{DelegationFilter, DelegationView, NewDelegation};
use gantry_core::promotion::rules::may_delegate;
use gantry_core::rbac::{Action, decide};
use gantry_core::{Environment, PortError, Principal};

/// Lists stop here.
const LIST_LIMIT: u32 = 500;

impl GantryPlane {
    /// The delegations in force in `env` now, each with its delegator as
    /// they are now (their roles may have changed since they delegated; a
    /// disabled delegator's right is gone, so their delegation is left out).
    pub(crate) async fn delegated_rights(
        &self,
        env: &Environment,
    ) -> Result<Vec<(Delegation, Principal)>, PortError> {
        let mut out = Vec::new();
        for d in self
            .store
            .delegations(env.as_str(), self.clock.now())
            .await
            .map_err(internal)?
        {
            if let Some(p) =
                principal_for(&self.store, &gantry_core::UserId(d.from.id.clone()), None)
                    .await
                    .map_err(internal)?
            {
                out.push((d, p));
            }
        }
        Ok(out)
    }

    fn view_of(&self, stored: StoredDelegation) -> DelegationView {
        DelegationView::at(
            stored.id,
            stored.delegation,
            stored.created_at,
            stored.revoked_at,
            self.clock.now(),
        )
    }

    async fn delegate_checked(
        &self,
        ctx: &RequestContext,
        new: NewDelegation,
        event: &mut AuditEvent,
    ) -> Result<DelegationView, PortError> {
        let me = ctx.require_principal()?;
        let env = self.environment(&new.environment)?;
        event.environment = Some(env.as_str().to_owned());
        let username = new.to.trim();
        if username.is_empty() {
            return Err(PortError::invalid(
                "to",
                "name the person who approves for you, by their username",
            ));
        }
        let account = self
            .store
            .user_by_username(username)
            .await
            .map_err(internal)?;
        let now = self.clock.now();
        let delegation = Delegation {
            // A token is refused by the rule below (people only), before
            // anything is said about the account named.
            from: Person {
                id: me.id.0.clone(),
                name: me.display_name.clone(),
            },
            to: account.as_ref().map_or_else(
                || Person {
                    id: String::new(),
                    name: username.to_owned(),
                },
                |a| Person {
                    id: a.id.0.clone(),
                    name: a.display_name.clone(),
                },
            ),
            environment: env.as_str().to_owned(),
            from_time: new.from_time.unwrap_or(now),
            until: new.until,
        };
        event.set_detail("to", username);
        event.set_detail("from_time", delegation.from_time.to_rfc3339());
        event.set_detail("until", delegation.until.to_rfc3339());
        may_delegate(&Actor::person(me), &delegation, &env, &self.freshness())?;
        let Some(account) = account else {
            return Err(PortError::not_found(format!("account {username:?}")));
        };
        let delegate = principal_for(&self.store, &account.id, None)
            .await
            .map_err(internal)?
            .ok_or_else(|| {
                PortError::invalid(
                    "to",
                    format!(
                        "{}'s account is disabled; name someone who can sign in",
                        account.display_name
                    ),
                )
            })?;
        // Someone who can't open the request page would approve blind.
        let sees = decide(
            &delegate,
            &Action::ViewEnvironment {
                environment: env.clone(),
            },
        );
        if !sees.is_allowed() {
            return Err(PortError::invalid(
                "to",
                format!(
                    "{} holds no role in {env}, so they couldn't see what they'd approve; an \
                     admin can give them viewer there first",
                    account.display_name
                ),
            ));
        }
        let stored = StoredDelegation {
            id: uuid::Uuid::now_v7().to_string(),
            delegation,
            created_at: now,
            revoked_at: None,
        };
        event.resource = format!("delegation/{}", stored.id);
        event.set_detail("to_person", stored.delegation.to.id.clone());
        self.store
            .create_delegation(&stored, event.clone())
            .await
            .map_err(internal)?;
        tracing::info!(request_id = %ctx.request_id, user = %me.username, delegation = %stored.id,
            environment = %env, to = %username, "approvals delegated");
        Ok(self.view_of(stored))
    }

    async fn revoke_checked(
        &self,
        ctx: &RequestContext,
        id: &str,
        event: &mut AuditEvent,
    ) -> Result<DelegationView, PortError> {
        let me = ctx.require_principal()?;
        uuid_or_not_found("delegation", id)?;
        let stored = self
            .store
            .delegation(id)
            .await
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(format!("delegation {id}")))?;
        let d = &stored.delegation;
        event.environment = Some(d.environment.clone());
        event.set_detail("from_person", d.from.id.clone());
        event.set_detail("to_person", d.to.id.clone());
        let env = Environment::parse(&d.environment).map_err(internal)?;
        let person = self.person_behind(me).await?;
        let actor = Actor {
            principal: me,
            person: person.as_ref().map(|p| p.id.as_str()),
        };
        may_revoke(&actor, d, &env)?;
        let now = self.clock.now();
        let over = |what: String| PortError::Conflict {
            message: format!("this delegation {what}; nothing to revoke"),
        };
        if let Some(at) = stored.revoked_at {
            return Err(over(format!("was revoked at {}", at.to_rfc3339())));
        }
        if d.until <= now {
            return Err(over(format!("ended at {}", d.until.to_rfc3339())));
        }
        match self
            .store
            .revoke_delegation(id, now, event.clone())
            .await
            .map_err(internal)?
        {
            Revoked::Done(stored) => {
                tracing::info!(request_id = %ctx.request_id, user = %me.username, delegation = %id,
                    "delegation revoked");
                Ok(self.view_of(*stored))
            }
            Revoked::Already(at) => Err(over(format!("was revoked at {}", at.to_rfc3339()))),
            Revoked::NotFound => Err(PortError::not_found(format!("delegation {id}"))),
        }
    }
}

#[async_trait]
impl DelegationPort for GantryPlane {
    async fn delegate_approvals(
        &self,
        ctx: &RequestContext,
        new: NewDelegation,
    ) -> Result<DelegationView, PortError> {
        let mut event = self.event(ctx, AuditAction::ApprovalDelegate, "delegation/");
        let result = self.delegate_checked(ctx, new, &mut event).await;
        self.settle(event, result).await
    }

    async fn list_delegations(
        &self,
        ctx: &RequestContext,
        filter: DelegationFilter,
    ) -> Result<Vec<DelegationView>, PortError> {
        let me = self
            .authorize_view(ctx, &Action::ViewDashboard, "delegation/")
            .await?;
        let environment = filter
            .environment
            .as_deref()
            .map(|e| self.environment(e))
            .transpose()?;
        let visible = self.visible_environments(me);
        Ok(self
            .store
            .delegation_list(DelegationQuery {
                environment: environment.as_ref().map(Environment::as_str),
                visible: visible.as_deref(),
                limit: LIST_LIMIT,
            })
            .await
            .map_err(internal)?
            .into_iter()
            .map(|s| self.view_of(s))
            .collect())
    }

    async fn revoke_delegation(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<DelegationView, PortError> {
        let mut event = self.event(
            ctx,
            AuditAction::ApprovalDelegationRevoke,
            format!("delegation/{id}"),
        );
        let result = self.revoke_checked(ctx, id, &mut event).await;
        self.settle(event, result).await
    }
}
