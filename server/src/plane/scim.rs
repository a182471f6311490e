//! SCIM 2.0 provisioning through the port: an identity provider holding a
//! SCIM token lists, creates, replaces, patches and deletes people and
//! groups. The rules are `gantry_core::scim` (schema, normalize, PATCH,
//! filters, projection); this file loads, decides, writes with optimistic
//! concurrency and audits.

use crate::plane::GantryPlane;
use crate::store::scim::{
    GroupFields, Ref, ScimGroupRow, ScimUserRow, ScimWrite, ScimWritten, UserFields,
};
use async_trait::async_trait;
use gantry_core::PrincipalKind;
use gantry_core::audit::{AuditAction, AuditEvent};
use gantry_core::port::{RequestContext, ScimPort};
use gantry_core::scim::{
    self, ResourceKind, ScimAnswer, ScimError, ScimRequest, filter_matches, list_response,
};
use serde_json::{Value, json};

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

/// A resource as loaded: its stored document and version.
struct Loaded {
    id: String,
    stored: Value,
    version: i64,
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
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
                let (full, version) = self.scim_full(kind, &id).await?;
                Ok(ScimAnswer {
                    etag: Some(scim::etag(&version.to_string())),
                    ..ScimAnswer::ok(scim::project(
                        kind,
                        &full,
                        &query.attributes,
                        &query.excluded,
                    ))
                })
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

    /// A list over one resource type, or over several for a search at the
    /// root: a filter that doesn't apply to a type (it names an attribute
    /// the type lacks) leaves that type out rather than failing the search.
    async fn scim_list(
        &self,
        kinds: &[ResourceKind],
        query: &[(String, String)],
    ) -> Result<ScimAnswer, ScimError> {
        let mut matching: Vec<(ResourceKind, scim::ListQuery, Value)> = Vec::new();
        let mut first_error = None;
        let mut start_index = 1;
        let mut count = MAX_RESULTS;
        let mut parsed_any = false;
        for &kind in kinds {
            let parsed = match scim::parse_list_query(kind, query, MAX_RESULTS) {
                Ok(parsed) => parsed,
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            parsed_any = true;
            (start_index, count) = (parsed.start_index, parsed.count);
            let candidates = match parsed.filter.as_ref().and_then(|f| unique_key(kind, f)) {
                Some(name) => self.scim_named(kind, name).await?,
                None => self.scim_all(kind).await?,
            };
            for full in candidates {
                if parsed
                    .filter
                    .as_ref()
                    .is_none_or(|f| filter_matches(kind, f, &full))
                {
                    matching.push((kind, parsed.clone(), full));
                }
            }
        }
        if !parsed_any {
            return Err(first_error.unwrap_or_else(|| ScimError::internal("no resource type")));
        }
        let total = matching.len();
        let page: Vec<Value> = scim::page(matching, start_index, count)
            .into_iter()
            .map(|(kind, q, full)| scim::project(kind, &full, &q.attributes, &q.excluded))
            .collect();
        Ok(ScimAnswer::ok(list_response(total, start_index, page)))
    }

    /// Every resource of `kind`, in full.
    async fn scim_all(&self, kind: ResourceKind) -> Result<Vec<Value>, ScimError> {
        let rows: Vec<Row> = match kind {
            ResourceKind::User => {
                let users = self.store.scim_users().await.map_err(store_error)?;
                users.into_iter().map(Row::User).collect()
            }
            ResourceKind::Group => {
                let groups = self.store.scim_groups().await.map_err(store_error)?;
                groups.into_iter().map(Row::Group).collect()
            }
        };
        Ok(rows.into_iter().map(|row| self.full(row).0).collect())
    }

    /// The resource whose unique name (userName, a group's displayName) is
    /// `name`, as a list of at most one: what `unique_key` filters need.
    async fn scim_named(&self, kind: ResourceKind, name: &str) -> Result<Vec<Value>, ScimError> {
        let row = match kind {
            ResourceKind::User => self
                .store
                .scim_user_named(name)
                .await
                .map_err(store_error)?
                .map(Row::User),
            ResourceKind::Group => self
                .store
                .scim_group_named(name)
                .await
                .map_err(store_error)?
                .map(Row::Group),
        };
        Ok(row.into_iter().map(|row| self.full(row).0).collect())
    }

    /// One resource as stored; 404 when there is none.
    async fn scim_row(&self, kind: ResourceKind, id: &str) -> Result<Row, ScimError> {
        let row = match kind {
            ResourceKind::User => self
                .store
                .scim_user(id)
                .await
                .map_err(store_error)?
                .map(Row::User),
            ResourceKind::Group => self
                .store
                .scim_group(id)
                .await
                .map_err(store_error)?
                .map(Row::Group),
        };
        row.ok_or_else(|| ScimError::not_found(format!("no {} {id:?}", kind.name())))
    }

    /// One resource in full, with its version; 404 when there is none.
    async fn scim_full(&self, kind: ResourceKind, id: &str) -> Result<(Value, i64), ScimError> {
        Ok(self.full(self.scim_row(kind, id).await?))
    }

    /// A stored resource as clients see it, with its version.
    fn full(&self, row: Row) -> (Value, i64) {
        match row {
            Row::User(row) => {
                let version = row.version;
                (self.user_full(row), version)
            }
            Row::Group(row) => {
                let version = row.version;
                (self.group_full(row), version)
            }
        }
    }

    fn user_full(&self, row: ScimUserRow) -> Value {
        let mut full = scim::with_meta(
            ResourceKind::User,
            &row.resource,
            &row.id.0,
            &time(row.created_at),
            &time(row.provisioned_at),
            &row.version.to_string(),
            self.base_url(),
        );
        // The manager's URI, derived from their id like every `$ref`.
        let manager = full
            .pointer_mut("/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/manager")
            .and_then(Value::as_object_mut);
        if let Some(manager) = manager
            && let Some(id) = manager.get("value").and_then(Value::as_str)
        {
            let uri = format!("{}/scim/v2/Users/{id}", self.base_url());
            manager.insert("$ref".into(), Value::String(uri));
        }
        if !row.groups.is_empty() {
            let groups: Vec<Value> = row
                .groups
                .iter()
                .map(|g| self.reference(ResourceKind::Group, g))
                .collect();
            full["groups"] = Value::Array(groups);
        }
        full
    }

    fn group_full(&self, row: ScimGroupRow) -> Value {
        let mut full = scim::with_meta(
            ResourceKind::Group,
            &row.resource,
            &row.id,
            &time(row.created_at),
            &time(row.updated_at),
            &row.version.to_string(),
            self.base_url(),
        );
        if !row.members.is_empty() {
            let members: Vec<Value> = row
                .members
                .iter()
                .map(|m| self.reference(ResourceKind::User, m))
                .collect();
            full["members"] = Value::Array(members);
        }
        full
    }

    /// `{value, $ref, display, type}` pointing at a resource of `kind`.
    fn reference(&self, kind: ResourceKind, r: &Ref) -> Value {
        json!({
            "value": r.id,
            "$ref": format!("{}/scim/v2/{}/{}", self.base_url(), kind.endpoint(), r.id),
            "display": r.display,
            "type": kind.name(),
        })
    }

    /// A loaded resource as the PATCH rules see it: stored attributes, and
    /// for a group its members as `{value}` (they are rows of their own).
    async fn scim_load(&self, kind: ResourceKind, id: &str) -> Result<Loaded, ScimError> {
        Ok(match self.scim_row(kind, id).await? {
            Row::User(row) => Loaded {
                id: row.id.0,
                stored: row.resource,
                version: row.version,
            },
            Row::Group(row) => {
                let mut stored = row.resource;
                if !row.members.is_empty() {
                    stored["members"] = row
                        .members
                        .iter()
                        .map(|m| json!({"value": m.id, "display": m.display}))
                        .collect();
                }
                Loaded {
                    id: row.id,
                    stored,
                    version: row.version,
                }
            }
        })
    }

    async fn scim_create(
        &self,
        kind: ResourceKind,
        body: &Value,
        event: &AuditEvent,
    ) -> Result<ScimAnswer, ScimError> {
        let doc = scim::normalize(kind, body)?;
        let written = self.scim_write(kind, &doc, None, event).await?;
        let id = match written {
            ScimWritten::Done { id } => id,
            other => return Err(refusal(kind, other)),
        };
        let (full, version) = self.scim_full(kind, &id).await?;
        let location = full["meta"]["location"].as_str().map(str::to_owned);
        Ok(ScimAnswer {
            status: 201,
            body: Some(full),
            etag: Some(scim::etag(&version.to_string())),
            location,
        })
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
            let loaded = self.scim_load(kind, id).await?;
            if let Some(tag) = if_match
                && !scim::if_match(tag, &loaded.version.to_string())
            {
                return Err(ScimError::precondition(format!(
                    "the {} changed since that ETag; read it again",
                    kind.name()
                )));
            }
            let doc = change(&loaded.stored)?;
            if doc == loaded.stored {
                // Nothing to change (Entra repeats itself): answer without
                // a write, a new version or an audit record.
                let (full, _) = self.scim_full(kind, &loaded.id).await?;
                return Ok(ScimAnswer {
                    etag: Some(scim::etag(&loaded.version.to_string())),
                    ..ScimAnswer::ok(full)
                });
            }
            match self
                .scim_write(kind, &doc, Some((&loaded.id, loaded.version)), event)
                .await?
            {
                ScimWritten::Done { .. } => {
                    let (full, version) = self.scim_full(kind, &loaded.id).await?;
                    return Ok(ScimAnswer {
                        etag: Some(scim::etag(&version.to_string())),
                        ..ScimAnswer::ok(full)
                    });
                }
                ScimWritten::Stale if if_match.is_none() => continue,
                ScimWritten::Stale => {
                    return Err(ScimError::precondition(format!(
                        "the {} changed meanwhile; read it again",
                        kind.name()
                    )));
                }
                other => return Err(refusal(kind, other)),
            }
        }
        Err(ScimError::new(
            409,
            None,
            format!("the {} keeps changing; try again", kind.name()),
        ))
    }

    async fn scim_delete(
        &self,
        kind: ResourceKind,
        id: &str,
        if_match: Option<&str>,
        event: &AuditEvent,
    ) -> Result<ScimAnswer, ScimError> {
        let (_, version) = self.scim_full(kind, id).await?;
        if let Some(tag) = if_match
            && !scim::if_match(tag, &version.to_string())
        {
            return Err(ScimError::precondition(format!(
                "the {} changed since that ETag; read it again",
                kind.name()
            )));
        }
        let write = match kind {
            ResourceKind::User => ScimWrite::DeleteUser { id },
            ResourceKind::Group => ScimWrite::DeleteGroup { id },
        };
        let event = event.clone();
        let written = self
            .store
            .scim_write(
                write,
                &self.settings.role_mapping,
                self.clock.now(),
                Box::new(move |id| AuditEvent {
                    resource: format!("{}/{id}", resource_prefix(kind)),
                    ..event
                }),
            )
            .await
            .map_err(store_error)?;
        match written {
            ScimWritten::Done { .. } => Ok(ScimAnswer {
                status: 204,
                body: None,
                etag: None,
                location: None,
            }),
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
        let text = |key: &str| doc.get(key).and_then(Value::as_str);
        let mut event = event.clone();
        let written = match kind {
            ResourceKind::User => {
                let username = text("userName")
                    .ok_or_else(|| ScimError::invalid_value("userName is required"))?;
                let fields = UserFields {
                    resource: doc,
                    username,
                    display_name: &display_name(doc, username),
                    email: primary_email(doc),
                    external_id: text("externalId"),
                    active: doc.get("active").and_then(Value::as_bool).unwrap_or(true),
                };
                event.set_detail("userName", username);
                event.set_detail("active", fields.active);
                let write = match current {
                    None => ScimWrite::CreateUser(fields),
                    Some((id, version)) => ScimWrite::ReplaceUser {
                        id,
                        version,
                        fields,
                    },
                };
                self.store_scim(write, event).await?
            }
            ResourceKind::Group => {
                let display_name = text("displayName")
                    .ok_or_else(|| ScimError::invalid_value("displayName is required"))?;
                let members: Vec<(String, Option<String>)> = doc
                    .get("members")
                    .and_then(Value::as_array)
                    .map(|list| {
                        list.iter()
                            .filter_map(|m| {
                                let id = m.get("value").and_then(Value::as_str)?;
                                let display = m.get("display").and_then(Value::as_str);
                                Some((id.to_owned(), display.map(str::to_owned)))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                // Members are rows of their own, not part of the document.
                let mut resource = doc.clone();
                if let Some(object) = resource.as_object_mut() {
                    object.remove("members");
                }
                event.set_detail("displayName", display_name);
                event.set_detail("members", members.len());
                let fields = GroupFields {
                    resource: &resource,
                    display_name,
                    external_id: text("externalId"),
                    members: &members,
                };
                let write = match current {
                    None => ScimWrite::CreateGroup(fields),
                    Some((id, version)) => ScimWrite::ReplaceGroup {
                        id,
                        version,
                        fields,
                    },
                };
                self.store_scim(write, event).await?
            }
        };
        Ok(written)
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

/// The name a filter asks for when it is exactly `userName eq "…"` (or a
/// group's `displayName eq "…"`): the lookup providers make before every
/// create, answered by one indexed read instead of a scan. The filter is
/// still applied to what that read finds.
fn unique_key(kind: ResourceKind, filter: &scim::Filter) -> Option<&str> {
    let scim::Filter::Compare {
        path,
        op: scim::CompareOp::Eq,
        value: scim::CompValue::Str(name),
    } = filter
    else {
        return None;
    };
    let key = match kind {
        ResourceKind::User => "userName",
        ResourceKind::Group => "displayName",
    };
    (path.is_core() && path.sub.is_none() && path.name.eq_ignore_ascii_case(key))
        .then_some(name.as_str())
}

fn resource_prefix(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "user",
        ResourceKind::Group => "group",
    }
}

/// What to call a person: displayName, else the formatted or given and
/// family name, else their userName.
fn display_name(doc: &Value, username: &str) -> String {
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let name = doc.get("name");
    text(doc.get("displayName"))
        .or_else(|| text(name.and_then(|n| n.get("formatted"))))
        .or_else(|| {
            let given = text(name.and_then(|n| n.get("givenName")));
            let family = text(name.and_then(|n| n.get("familyName")));
            match (given, family) {
                (Some(g), Some(f)) => Some(format!("{g} {f}")),
                (g, f) => g.or(f),
            }
        })
        .unwrap_or_else(|| username.to_owned())
}

/// The primary e-mail address, else the first.
fn primary_email(doc: &Value) -> Option<&str> {
    let emails = doc.get("emails")?.as_array()?;
    emails
        .iter()
        .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| emails.first())
        .and_then(|e| e.get("value"))
        .and_then(Value::as_str)
}

/// A write the store declined, as the client should hear it.
fn refusal(kind: ResourceKind, written: ScimWritten) -> ScimError {
    match written {
        ScimWritten::Done { .. } => ScimError::internal("unexpected success"),
        ScimWritten::NotFound => ScimError::not_found(format!("no such {}", kind.name())),
        ScimWritten::Stale => ScimError::precondition(format!(
            "the {} changed meanwhile; read it again",
            kind.name()
        )),
        ScimWritten::Taken => ScimError::uniqueness(match kind {
            ResourceKind::User => "another user has that userName",
            ResourceKind::Group => "another group has that displayName",
        }),
        ScimWritten::UnknownMembers(ids) => ScimError::invalid_value(format!(
            "members: no provisioned user has the id {}",
            ids.iter()
                .take(5)
                .map(|id| format!("{id:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// A storage failure: logged under a reference; the client sees only that.
fn store_error(err: impl std::fmt::Display) -> ScimError {
    let reference = uuid::Uuid::new_v4().simple().to_string();
    tracing::error!(%reference, error = %err, "SCIM storage error");
    ScimError::internal(format!("internal error (reference {reference})"))
}
