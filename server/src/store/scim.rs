//! SCIM provisioning in the store: the resources an identity provider
//! manages (people and groups), each write in one transaction with its
//! audit record and with the group-derived grants of everyone it touches
//! recomputed. Both adapters implement it from `portable/scim.rs`.

use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::UserId;
use gantry_core::audit::AuditEvent;
use gantry_core::role_mapping::RoleMapping;
use gantry_core::scim::{Narrowing, Related, ResourceKind, StoredResource};
use serde_json::Value;
use std::collections::HashMap;

/// A group a person belongs to, or a member of a group, by id and name.
pub use gantry_core::scim::ResourceRef as Ref;

/// A person the identity provider manages.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimUserRow {
    pub id: UserId,
    /// What the provider last sent, normalized (no id, meta or password).
    pub resource: Value,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub provisioned_at: DateTime<Utc>,
    pub groups: Vec<Ref>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScimGroupRow {
    pub id: String,
    /// Normalized, without its members (those are rows of their own).
    pub resource: Value,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub members: Vec<Ref>,
}

impl ScimUserRow {
    /// The row as `core::scim`'s representation rules see it.
    pub fn stored(&self) -> StoredResource<'_> {
        StoredResource {
            kind: ResourceKind::User,
            id: &self.id.0,
            document: &self.resource,
            created: self.created_at,
            last_modified: self.provisioned_at,
            version: self.version,
            related: &self.groups,
        }
    }
}

impl ScimGroupRow {
    /// The row as `core::scim`'s representation rules see it.
    pub fn stored(&self) -> StoredResource<'_> {
        StoredResource {
            kind: ResourceKind::Group,
            id: &self.id,
            document: &self.resource,
            created: self.created_at,
            last_modified: self.updated_at,
            version: self.version,
            related: &self.members,
        }
    }
}

/// The columns a person's resource sets.
#[derive(Debug, Clone, Copy)]
pub struct UserFields<'a> {
    pub resource: &'a Value,
    pub username: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub external_id: Option<&'a str>,
    pub active: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct GroupFields<'a> {
    pub resource: &'a Value,
    pub display_name: &'a str,
    pub external_id: Option<&'a str>,
    /// User ids, with the label the provider gave each (if any).
    pub members: &'a [(String, Option<String>)],
}

#[derive(Debug, Clone, Copy)]
pub enum ScimWrite<'a> {
    CreateUser(UserFields<'a>),
    /// Only while the stored version is still `version`.
    ReplaceUser {
        id: &'a str,
        version: i64,
        fields: UserFields<'a>,
    },
    DeleteUser {
        id: &'a str,
    },
    CreateGroup(GroupFields<'a>),
    ReplaceGroup {
        id: &'a str,
        version: i64,
        fields: GroupFields<'a>,
    },
    DeleteGroup {
        id: &'a str,
    },
}

/// What became of a write. Anything but `Done` changed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScimWritten {
    /// The resource's id (a new person's or group's, or the one written).
    Done {
        id: String,
    },
    NotFound,
    /// Someone else changed it since it was read.
    Stale,
    /// Another person has that userName, or another group that displayName.
    Taken,
    /// These member ids are not people the provider manages.
    UnknownMembers(Vec<String>),
}

/// Builds the write's audit record once the resource's id is known.
pub type ScimRecord = Box<dyn FnOnce(&str) -> AuditEvent + Send>;

/// Which of the resources, in their order, a read returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// How many to pass over.
    pub offset: usize,
    /// At most this many; `None`: all the rest.
    pub limit: Option<usize>,
}

impl Window {
    pub const ALL: Window = Window {
        offset: 0,
        limit: None,
    };
}

#[async_trait]
pub trait ScimStore: Send + Sync + 'static {
    /// The people the provider manages, by username, in `window`, with
    /// as many of their groups as `related` asks for.
    async fn scim_users(
        &self,
        window: Window,
        related: &Related<'_>,
    ) -> StoreResult<Vec<ScimUserRow>>;

    /// How many people the provider manages.
    async fn scim_user_count(&self) -> StoreResult<usize>;

    /// The managed people `key` finds (by id; by userName, case aside; or
    /// by externalId, exactly, which the provider doesn't promise is
    /// unique), by username.
    async fn scim_users_by(
        &self,
        key: Narrowing<'_>,
        related: &Related<'_>,
    ) -> StoreResult<Vec<ScimUserRow>>;

    async fn scim_user(&self, id: &str) -> StoreResult<Option<ScimUserRow>> {
        let mut found = self.scim_users_by(Narrowing::Id(id), &Related::All).await?;
        Ok(found.pop())
    }

    /// Each managed person's groups (by user id), without their resources:
    /// what the Users page shows.
    async fn scim_memberships(&self) -> StoreResult<HashMap<String, Vec<Ref>>>;

    /// The groups, by display name, in `window`, with as many of their
    /// members as `related` asks for.
    async fn scim_groups(
        &self,
        window: Window,
        related: &Related<'_>,
    ) -> StoreResult<Vec<ScimGroupRow>>;

    async fn scim_group_count(&self) -> StoreResult<usize>;

    /// The groups `key` finds (a displayName case aside), by display name.
    async fn scim_groups_by(
        &self,
        key: Narrowing<'_>,
        related: &Related<'_>,
    ) -> StoreResult<Vec<ScimGroupRow>>;

    /// Applies one write with its audit record, in one transaction.
    ///
    /// Creating a person adopts an existing account the provider doesn't
    /// manage yet when its username (or else its e-mail) matches, case
    /// aside: someone who signed in through single sign-on before being
    /// provisioned stays the same account. Demo accounts are never adopted.
    /// An inactive or deleted person is disabled at once (their sessions
    /// end); deleting also drops their memberships. Everyone whose groups
    /// change gets their `group:…` grants recomputed through `mapping`.
    async fn scim_write(
        &self,
        write: ScimWrite<'_>,
        mapping: &RoleMapping,
        now: DateTime<Utc>,
        audit: ScimRecord,
    ) -> StoreResult<ScimWritten>;
}
