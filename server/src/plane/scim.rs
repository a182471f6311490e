//! SCIM 2.0 provisioning through the port: an identity provider holding a
//! SCIM token lists, creates, replaces, patches and deletes people and
//! groups. The rules and the JSON shaping are `gantry_core::scim` (schema,
//! normalize, PATCH, filters, representation, projection, list responses);
//! this file authorizes, loads, writes with optimistic concurrency and
//! audits.

use crate::plane::GantryPlane;
use crate::store::scim::{
    GroupFields, ScimGroupRow, ScimUserRow, ScimWrite, ScimWritten, UserFields, Window,
};
use async_trait::async_trait;
use gantry_core::PrincipalKind;
use gantry_core::audit::{AuditAction, AuditEvent};
use gantry_core::port::{RequestContext, ScimPort};
use gantry_core::scim::{self, ResourceKind, ScimAnswer, ScimError, ScimRequest, StoredResource};
use serde_json::Value;

/// The most resources one list page holds (advertised as maxResults).
pub const MAX_RESULTS: usize = 200;
/// The largest body accepted (advertised as maxPayloadSize).
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;
/// A write that finds its resource changed since it was read is retried
/// from a fresh read this many times before answering 409.
const WRITE_ATTEMPTS: usize = 5;

/// A resource as the store has it.
enum Row {
    User(ScimUserRow),
    Group(ScimGroupRow),
}

impl Row {
    fn stored(&self) -> StoredResource<'_> {
        match self {
            Row::User(row) => row.stored(),
            Row::Group(row) => row.stored(),
        }
    }
}

#[async_trait]
impl ScimPort for GantryPlane {
    async fn scim(
        &self,
        ctx: &RequestContext,
        request: ScimRequest,
    ) -> Result<ScimAnswer, ScimError> {
        match &ctx.principal {
            None => {
                return Err(ScimError::unauthorized(
                    "send Authorization: Bearer with a SCIM token (Admin → Service tokens)",
                ));
            }
            Some(p) if p.kind != PrincipalKind::ScimClient => {
                let refusal = "only a SCIM token provisions; make one on Admin → Service tokens";
                let event = self
                    .event(ctx, AuditAction::ViewDenied, "scim/v2")
                    .detail("error", refusal);
                self.append_standalone(AuditEvent {
                    outcome: gantry_core::audit::Outcome::Denied,
                    ..event
                })
                .await;
                return Err(ScimError::forbidden(refusal));
            }
            Some(_) => {}
        }
        let base = self.base_url().to_owned();
        match request {
            ScimRequest::ServiceProviderConfig => Ok(ScimAnswer::ok(
                scim::service_provider_config(&base, MAX_RESULTS, MAX_PAYLOAD_BYTES),
            )),
            ScimRequest::ResourceTypes => Ok(ScimAnswer::ok(scim::resource_types(&base))),
            ScimRequest::ResourceType(name) => scim::resource_type(&base, &name)
                .map(ScimAnswer::ok)
                .ok_or_else(|| ScimError::not_found(format!("no resource type {name:?}"))),
            ScimRequest::Schemas => Ok(ScimAnswer::ok(scim::schemas_document(&base))),
            ScimRequest::Schema(urn) => scim::schema(&base, &urn)
                .map(ScimAnswer::ok)
                .ok_or_else(|| ScimError::not_found(format!("no schema {urn:?}"))),
            ScimRequest::List { kind, query } => self.scim_list(&[kind], &query).await,
            ScimRequest::Search { kind, query } => match kind {
                Some(kind) => self.scim_list(&[kind], &query).await,
                None => self.scim_list(&ResourceKind::ALL, &query).await,
            },
            ScimRequest::Get { kind, id, query } => {
                let query = scim::parse_list_query(kind, &query, MAX_RESULTS)?;
                // `excludedAttributes=members` (Entra ID asks it) spares
                // reading a large group's members.
                let related = scim::related_needed(kind, &query);
                let found = self
                    .scim_by(kind, scim::Narrowing::Id(&id), &related)
                    .await?;
                let row = found.first().ok_or_else(|| not_found(kind, &id))?;
                let full = self.full(row);
                let projected = scim::project(kind, &full, &query.attributes, &query.excluded);
                Ok(ScimAnswer::resource(projected, row.stored().version))
            }
            ScimRequest::Create { kind, body } => {
                let event = self.scim_event(ctx, kind, "create", "new");
                let result = self.scim_create(kind, &body, &event).await;
                self.scim_settle(event, result).await
            }
            ScimRequest::Replace {
                kind,
                id,
                body,
                if_match,
            } => {
                let replace = |_: &Value| scim::normalize(kind, &body);
                self.scim_change(ctx, kind, &id, if_match.as_deref(), "PUT", replace)
                    .await
            }
            ScimRequest::Patch {
                kind,
                id,
                body,
                if_match,
            } => {
                let patch = |stored: &Value| scim::apply_patch(kind, stored, &body);
                self.scim_change(ctx, kind, &id, if_match.as_deref(), "PATCH", patch)
                    .await
            }
            ScimRequest::Delete { kind, id, if_match } => {
                let event = self.scim_event(ctx, kind, "delete", &id);
                let result = self
                    .scim_delete(kind, &id, if_match.as_deref(), &event)
                    .await;
                self.scim_settle(event, result).await
            }
        }
    }
}

impl GantryPlane {
    fn base_url(&self) -> &str {
        self.settings.public_url.trim_end_matches('/')
    }

    fn scim_event(
        &self,
        ctx: &RequestContext,
        kind: ResourceKind,
        verb: &str,
        id: &str,
    ) -> AuditEvent {
        let action = match (kind, verb) {
            (ResourceKind::User, "create") => AuditAction::ScimUserCreate,
            (ResourceKind::User, "delete") => AuditAction::ScimUserDelete,
            (ResourceKind::User, _) => AuditAction::ScimUserUpdate,
            (ResourceKind::Group, "create") => AuditAction::ScimGroupCreate,
            (ResourceKind::Group, "delete") => AuditAction::ScimGroupDelete,
            (ResourceKind::Group, _) => AuditAction::ScimGroupUpdate,
        };
        self.event(ctx, action, format!("{}/{id}", resource_prefix(kind)))
    }

    /// PUT or PATCH (`method`), audited.
    async fn scim_change(
        &self,
        ctx: &RequestContext,
        kind: ResourceKind,
        id: &str,
        if_match: Option<&str>,
        method: &str,
        change: impl Fn(&Value) -> Result<Value, ScimError>,
    ) -> Result<ScimAnswer, ScimError> {
        let event = self
            .scim_event(ctx, kind, "update", id)
            .detail("method", method);
        let result = self.scim_update(kind, id, if_match, &event, change).await;
        self.scim_settle(event, result).await
    }

    /// Records a refused or failed change (a success is on the record with
    /// the change itself).
    async fn scim_settle(
        &self,
        mut event: AuditEvent,
        result: Result<ScimAnswer, ScimError>,
    ) -> Result<ScimAnswer, ScimError> {
        if let Err(err) = &result {
            event.outcome = gantry_core::audit::Outcome::Failed;
            event.set_detail("error", err.to_string());
            self.append_standalone(event).await;
        }
        result
    }

    /// A list over one resource type, or a search over several. An
    /// unfiltered list is counted and paged in the database; a filter with
    /// an `eq` on an indexed attribute reads only what that finds; any
    /// other filter reads every resource of the type and tests each. Each
    /// reads only as much of the related references as it needs.
    async fn scim_list(
        &self,
        kinds: &[ResourceKind],
        query: &[(String, String)],
    ) -> Result<ScimAnswer, ScimError> {
        let queries = scim::parse_search(kinds, query, MAX_RESULTS)?;
        let mut pager = scim::Pager::new(&queries);
        let mut page = Vec::new();
        for (kind, query) in &queries {
            let kind = *kind;
            let related = scim::related_needed(kind, query);
            let Some(filter) = &query.filter else {
                let total = self.scim_count(kind).await?;
                if let Some((offset, limit)) = pager.take(total) {
                    let window = Window {
                        offset,
                        limit: Some(limit),
                    };
                    let rows = self.scim_rows(kind, window, &related).await?;
                    page.extend(rows.iter().map(|row| (kind, self.full(row))));
                }
                continue;
            };
            let rows = match scim::narrowing(kind, filter) {
                Some(key) => self.scim_by(kind, key, &related).await?,
                None => self.scim_rows(kind, Window::ALL, &related).await?,
            };
            let matches: Vec<_> = rows
                .iter()
                .map(|row| self.full(row))
                .filter(|full| scim::wanted(kind, query, full))
                .map(|full| (kind, full))
                .collect();
            page.extend(pager.take_from(matches));
        }
        Ok(ScimAnswer::ok(pager.response(&queries, page)))
    }

    async fn scim_count(&self, kind: ResourceKind) -> Result<usize, ScimError> {
        match kind {
            ResourceKind::User => self.store.scim_user_count().await,
            ResourceKind::Group => self.store.scim_group_count().await,
        }
        .map_err(store_error)
    }

    /// The resources of `kind` in `window`, in their order.
    async fn scim_rows(
        &self,
        kind: ResourceKind,
        window: Window,
        related: &scim::Related<'_>,
    ) -> Result<Vec<Row>, ScimError> {
        let rows = match kind {
            ResourceKind::User => self
                .store
                .scim_users(window, related)
                .await
                .map(|rows| rows.into_iter().map(Row::User).collect()),
            ResourceKind::Group => self
                .store
                .scim_groups(window, related)
                .await
                .map(|rows| rows.into_iter().map(Row::Group).collect()),
        };
        rows.map_err(store_error)
    }

    /// The resources of `kind` that `key` finds.
    async fn scim_by(
        &self,
        kind: ResourceKind,
        key: scim::Narrowing<'_>,
        related: &scim::Related<'_>,
    ) -> Result<Vec<Row>, ScimError> {
        let rows = match kind {
            ResourceKind::User => self
                .store
                .scim_users_by(key, related)
                .await
                .map(|rows| rows.into_iter().map(Row::User).collect()),
            ResourceKind::Group => self
                .store
                .scim_groups_by(key, related)
                .await
                .map(|rows| rows.into_iter().map(Row::Group).collect()),
        };
        rows.map_err(store_error)
    }

    /// One resource, in full; 404 when there is none.
    async fn scim_row(&self, kind: ResourceKind, id: &str) -> Result<Row, ScimError> {
        let found = self
            .scim_by(kind, scim::Narrowing::Id(id), &scim::Related::All)
            .await?;
        found.into_iter().next().ok_or_else(|| not_found(kind, id))
    }

    /// One resource in full, with its version; 404 when there is none.
    async fn scim_full(&self, kind: ResourceKind, id: &str) -> Result<(Value, i64), ScimError> {
        let row = self.scim_row(kind, id).await?;
        Ok((self.full(&row), row.stored().version))
    }

    /// A stored resource as clients see it.
    fn full(&self, row: &Row) -> Value {
        scim::represent(&row.stored(), self.base_url())
    }

    async fn scim_create(
        &self,
        kind: ResourceKind,
        body: &Value,
        event: &AuditEvent,
    ) -> Result<ScimAnswer, ScimError> {
        let doc = scim::normalize(kind, body)?;
        let id = match self.scim_write(kind, &doc, None, event).await? {
            ScimWritten::Done { id } => id,
            other => return Err(refusal(kind, other)),
        };
        let (full, version) = self.scim_full(kind, &id).await?;
        Ok(ScimAnswer::created(full, version))
    }

    /// PUT and PATCH: read, compute the new document from the stored one,
    /// write while the version still matches; on a lost race, again.
    async fn scim_update(
        &self,
        kind: ResourceKind,
        id: &str,
        if_match: Option<&str>,
        event: &AuditEvent,
        change: impl Fn(&Value) -> Result<Value, ScimError>,
    ) -> Result<ScimAnswer, ScimError> {
        for _ in 0..WRITE_ATTEMPTS {
            let row = self.scim_row(kind, id).await?;
            let stored = row.stored();
            scim::check_if_match(kind, if_match, stored.version)?;
            let before = scim::patch_base(&stored);
            let doc = change(&before)?;
            if doc == before {
                // Nothing to change (Entra repeats itself): answer without
                // a write, a new version or an audit record.
                return Ok(ScimAnswer::resource(self.full(&row), stored.version));
            }
            let current = Some((stored.id, stored.version));
            match self.scim_write(kind, &doc, current, event).await? {
                ScimWritten::Done { .. } => {
                    let (full, version) = self.scim_full(kind, stored.id).await?;
                    return Ok(ScimAnswer::resource(full, version));
                }
                ScimWritten::Stale if if_match.is_none() => continue,
                other => return Err(refusal(kind, other)),
            }
        }
        Err(ScimError::keeps_changing(kind))
    }

    async fn scim_delete(
        &self,
        kind: ResourceKind,
        id: &str,
        if_match: Option<&str>,
        event: &AuditEvent,
    ) -> Result<ScimAnswer, ScimError> {
        let row = self.scim_row(kind, id).await?;
        scim::check_if_match(kind, if_match, row.stored().version)?;
        let write = match kind {
            ResourceKind::User => ScimWrite::DeleteUser { id },
            ResourceKind::Group => ScimWrite::DeleteGroup { id },
        };
        match self.store_scim(write, event.clone()).await? {
            ScimWritten::Done { .. } => Ok(ScimAnswer::no_content()),
            other => Err(refusal(kind, other)),
        }
    }

    /// Writes a normalized document: creates it (`current` none) or
    /// replaces the one at `current = (id, version)`.
    async fn scim_write(
        &self,
        kind: ResourceKind,
        doc: &Value,
        current: Option<(&str, i64)>,
        event: &AuditEvent,
    ) -> Result<ScimWritten, ScimError> {
        let mut event = event.clone();
        match kind {
            ResourceKind::User => {
                let columns = scim::user_columns(doc)?;
                event.set_detail("userName", columns.username);
                event.set_detail("active", columns.active);
                let fields = UserFields {
                    resource: doc,
                    username: columns.username,
                    display_name: &columns.display_name,
                    email: columns.email,
                    external_id: columns.external_id,
                    active: columns.active,
                };
                let write = match current {
                    None => ScimWrite::CreateUser(fields),
                    Some((id, version)) => ScimWrite::ReplaceUser {
                        id,
                        version,
                        fields,
                    },
                };
                self.store_scim(write, event).await
            }
            ResourceKind::Group => {
                let columns = scim::group_columns(doc)?;
                event.set_detail("displayName", columns.display_name);
                event.set_detail("members", columns.members.len());
                let fields = GroupFields {
                    resource: &columns.document,
                    display_name: columns.display_name,
                    external_id: columns.external_id,
                    members: &columns.members,
                };
                let write = match current {
                    None => ScimWrite::CreateGroup(fields),
                    Some((id, version)) => ScimWrite::ReplaceGroup {
                        id,
                        version,
                        fields,
                    },
                };
                self.store_scim(write, event).await
            }
        }
    }

    async fn store_scim(
        &self,
        write: ScimWrite<'_>,
        event: AuditEvent,
    ) -> Result<ScimWritten, ScimError> {
        let prefix = match write {
            ScimWrite::CreateUser(_)
            | ScimWrite::ReplaceUser { .. }
            | ScimWrite::DeleteUser { .. } => resource_prefix(ResourceKind::User),
            _ => resource_prefix(ResourceKind::Group),
        };
        self.store
            .scim_write(
                write,
                &self.settings.role_mapping,
                self.clock.now(),
                Box::new(move |id| AuditEvent {
                    resource: format!("{prefix}/{id}"),
                    ..event
                }),
            )
            .await
            .map_err(store_error)
    }
}

fn resource_prefix(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "user",
        ResourceKind::Group => "group",
    }
}

fn not_found(kind: ResourceKind, id: &str) -> ScimError {
    ScimError::not_found(format!("no {} {id:?}", kind.name()))
}

/// A write the store declined, as the client should hear it.
fn refusal(kind: ResourceKind, written: ScimWritten) -> ScimError {
    match written {
        ScimWritten::Done { .. } => ScimError::internal("unexpected success"),
        ScimWritten::NotFound => ScimError::not_found(format!("no such {}", kind.name())),
        ScimWritten::Stale => ScimError::changed_meanwhile(kind),
        ScimWritten::Taken => ScimError::name_taken(kind),
        ScimWritten::UnknownMembers(ids) => ScimError::unknown_members(&ids),
    }
}

/// A storage failure: logged under a reference; the client sees only that.
fn store_error(err: impl std::fmt::Display) -> ScimError {
    let reference = uuid::Uuid::new_v4().simple().to_string();
    tracing::error!(%reference, error = %err, "SCIM storage error");
    ScimError::internal(format!("internal error (reference {reference})"))
}
