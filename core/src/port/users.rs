//! Accounts, for access reviews and offboarding.

use super::RequestContext;
use crate::error::PortError;
use crate::privacy::{ErasureReport, PersonExport};
use crate::user::{UserQuery, UserSummary};

/// The user list and disabling or enabling an account.
#[async_trait::async_trait]
pub trait UserPort: Send + Sync {
    /// The accounts `query` asks for (all by default), each with the roles
    /// it holds and what granted each (access reviews). Admins and auditors.
    async fn list_users(
        &self,
        ctx: &RequestContext,
        query: UserQuery,
    ) -> Result<Vec<UserSummary>, PortError>;

    /// One account, by id or username. Admins and auditors.
    async fn user(
        &self,
        ctx: &RequestContext,
        id_or_username: &str,
    ) -> Result<UserSummary, PortError>;

    /// Disables an account (it can't sign in, and every session it has ends
    /// at once) or enables it again (its old sessions stay ended; the person
    /// signs in afresh). Needs admin in every environment; nobody disables
    /// their own account.
    async fn set_user_disabled(
        &self,
        ctx: &RequestContext,
        id_or_username: &str,
        disabled: bool,
    ) -> Result<UserSummary, PortError>;

    /// Everything Gantry holds about one person, as one document (a data
    /// subject's access request). Admins of every environment; audited.
    async fn export_user(
        &self,
        ctx: &RequestContext,
        id_or_username: &str,
    ) -> Result<PersonExport, PortError>;

    /// Erases a departed person: their name, username and e-mail become a
    /// pseudonym everywhere outside the audit log, the words they wrote
    /// read "[erased]", and their personal fields in the audit log are
    /// erased (the chain still verifies). Needs admin in every environment
    /// and a recent sign-in; refused while the account is enabled (the
    /// identity provider deprovisions first) and for your own account.
    async fn erase_user(
        &self,
        ctx: &RequestContext,
        id_or_username: &str,
    ) -> Result<ErasureReport, PortError>;
}
