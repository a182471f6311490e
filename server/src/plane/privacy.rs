//! A person's data on request (issue 22, docs/privacy.md): exporting all
//! of it as one document, and erasing a departed person so that their
//! name, username and e-mail read as a pseudonym everywhere while the audit
//! chain still verifies. Both need admin in every environment and are
//! audited; erasing also needs a recent sign-in.

use crate::plane::{GantryPlane, internal};
use crate::store::personal_data::Erasure;
use gantry_core::audit::{AuditAction, AuditEvent};
use gantry_core::port::RequestContext;
use gantry_core::privacy::{EXPORT_FORMAT, ErasureReport, PersonExport, pseudonym};
use gantry_core::rbac::Action;
use gantry_core::{PortError, UserId};

impl GantryPlane {
    /// Records a refusal or failure about an account naming it by id when
    /// it exists (a username in the clear would outlive the person's
    /// erasure); the lookup happens only then.
    pub(super) async fn settle_about_account<T>(
        &self,
        mut event: AuditEvent,
        id_or_username: &str,
        result: Result<T, PortError>,
    ) -> Result<T, PortError> {
        if result.is_err() {
            event.resource = self.account_resource(id_or_username).await;
        }
        self.settle(event, result).await
    }

    /// `user/<id>` for an account that exists, else as asked.
    pub(super) async fn account_resource(&self, id_or_username: &str) -> String {
        match self.find_user(id_or_username).await {
            Ok(user) => format!("user/{}", user.id.0),
            Err(_) => format!("user/{id_or_username}"),
        }
    }

    pub(super) async fn export_person(
        &self,
        ctx: &RequestContext,
        id_or_username: &str,
    ) -> Result<PersonExport, PortError> {
        let event = self.event(
            ctx,
            AuditAction::UserExport,
            format!("user/{id_or_username}"),
        );
        let result = async {
            self.authorize(ctx, &Action::ManageUsers)?;
            let user = self.find_user(id_or_username).await?;
            let id = user.id.clone();
            let account = self.summary_of(user).await?;
            let scim_resource = self
                .store
                .scim_user(&id.0)
                .await
                .map_err(internal)?
                .map(|row| row.resource);
            let records = self.store.person_rows(&id).await.map_err(internal)?;
            let mut audit_records = self
                .store
                .person_audit_records(&id, PersonExport::AUDIT_LIMIT + 1)
                .await
                .map_err(internal)?;
            let audit_truncated = audit_records.len() > PersonExport::AUDIT_LIMIT;
            audit_records.truncate(PersonExport::AUDIT_LIMIT);
            // The export's own record goes in before the document leaves:
            // no record, no export.
            let event = AuditEvent {
                resource: format!("user/{}", id.0),
                ..event.clone()
            }
            .detail("audit_records", audit_records.len())
            .detail("rows", records.values().map(Vec::len).sum::<usize>());
            self.store.append_audit(event).await.map_err(internal)?;
            Ok(PersonExport {
                format: EXPORT_FORMAT.into(),
                exported_at: self.clock.now(),
                account,
                scim_resource,
                records,
                audit_records,
                audit_truncated,
            })
        }
        .await;
        self.settle_about_account(event, id_or_username, result)
            .await
    }

    pub(super) async fn erase_person(
        &self,
        ctx: &RequestContext,
        id_or_username: &str,
    ) -> Result<ErasureReport, PortError> {
        let event = self.event(
            ctx,
            AuditAction::UserErase,
            format!("user/{id_or_username}"),
        );
        let result = async {
            let me = self.authorize(ctx, &Action::ManageUsers)?;
            // Irreversible: a person must have signed in recently (a
            // service token has no sign-in to renew).
            self.require_recent_sign_in(me, None)?;
            let user = self.find_user(id_or_username).await?;
            if user.id == me.id {
                return Err(PortError::Conflict {
                    message: "you can't erase your own account; ask another admin".into(),
                });
            }
            if !user.disabled {
                return Err(PortError::Conflict {
                    message: "the account is still active: deprovision it at the identity \
                              provider (or disable it) first, then erase"
                        .into(),
                });
            }
            let id: UserId = user.id.clone();
            let event = AuditEvent {
                resource: format!("user/{}", id.0),
                ..event.clone()
            };
            let report = match self
                .store
                .erase_person(&id, &pseudonym(&id.0), event)
                .await
                .map_err(internal)?
            {
                Erasure::Done(report) => report,
                Erasure::StillEnabled => {
                    return Err(PortError::Conflict {
                        message: "the account was enabled again meanwhile; nothing was erased"
                            .into(),
                    });
                }
                Erasure::Unconverted(records) => {
                    return Err(PortError::Conflict {
                        message: format!(
                            "{records} of this person's audit records predate erasable records and \
                             were not converted, because the audit chain did not verify when \
                             `gantry serve` started (see its log and `gantry audit verify`); \
                             nothing was erased"
                        ),
                    });
                }
            };
            tracing::info!(request_id = %ctx.request_id, user = %me.username, erased = %id.0,
                audit_fields = report.audit_fields_erased, "person erased");
            Ok(report)
        }
        .await;
        self.settle_about_account(event, id_or_username, result)
            .await
    }
}
