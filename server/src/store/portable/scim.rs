//! SCIM provisioning's SQL for both databases, compiled once per adapter
//! like the rest of `portable/`. Every write checks, changes, recomputes grants and
//! appends its audit record in one transaction; a write that can't be done
//! returns before changing anything (the transaction is dropped).

use super::audit::append_in;
use super::{Adapter, Db, begin_write};
use crate::store::StoreResult;
use crate::store::scim::{
    GroupFields, Ref, ScimGroupRow, ScimRecord, ScimStore, ScimUserRow, ScimWrite, ScimWritten,
    UserFields, Window,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gantry_core::UserId;
use gantry_core::role_mapping::RoleMapping;
use gantry_core::scim::{Narrowing, Related};
use serde_json::Value;
use sqlx::Row;
use sqlx::types::Json;
use std::collections::{BTreeSet, HashMap};

type Tx = crate::store::write_turn::WriteTx<Db>;

/// A write's result and whose grants it may have changed.
struct Outcome {
    written: ScimWritten,
    touched: Vec<String>,
}

impl Outcome {
    fn refused(written: ScimWritten) -> StoreResult<Outcome> {
        Ok(Outcome {
            written,
            touched: Vec::new(),
        })
    }

    fn done(id: String, touched: Vec<String>) -> StoreResult<Outcome> {
        Ok(Outcome {
            written: ScimWritten::Done { id },
            touched,
        })
    }
}

const USER_COLUMNS: &str = "id, scim_resource, scim_version, created_at, provisioned_at";

fn user_row(row: &<Db as sqlx::Database>::Row, groups: Vec<Ref>) -> StoreResult<ScimUserRow> {
    let Json(resource): Json<Value> = row.try_get("scim_resource")?;
    let created_at: DateTime<Utc> = row.try_get("created_at")?;
    let provisioned_at: Option<DateTime<Utc>> = row.try_get("provisioned_at")?;
    Ok(ScimUserRow {
        id: UserId(row.try_get("id")?),
        resource,
        version: row.try_get("scim_version")?,
        created_at,
        provisioned_at: provisioned_at.unwrap_or(created_at),
        groups,
    })
}

fn group_row(row: &<Db as sqlx::Database>::Row, members: Vec<Ref>) -> StoreResult<ScimGroupRow> {
    let Json(resource): Json<Value> = row.try_get("resource")?;
    Ok(ScimGroupRow {
        id: row.try_get("id")?,
        resource,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        members,
    })
}

/// `(key, ref)` pairs grouped by key, order kept.
fn grouped(pairs: Vec<(String, String, String)>) -> HashMap<String, Vec<Ref>> {
    let mut by: HashMap<String, Vec<Ref>> = HashMap::new();
    for (key, id, display) in pairs {
        by.entry(key).or_default().push(Ref { id, display });
    }
    by
}

/// A read of references: `(owner, id, display)` rows, the owners given
/// by `owners` (all when `None`) and the references by `related`.
struct RefQuery<'q> {
    /// Up to `WHERE`.
    select: &'static str,
    owner_column: &'static str,
    value_column: &'static str,
    order: &'static str,
    owners: Option<&'q [String]>,
    related: &'q Related<'q>,
}

impl RefQuery<'_> {
    async fn fetch(self, pool: &sqlx::Pool<Db>) -> StoreResult<HashMap<String, Vec<Ref>>> {
        let mut q = sqlx::QueryBuilder::<Db>::new(self.select);
        q.push(" WHERE 1 = 1");
        let lists = [
            (
                self.owner_column,
                self.owners.map(|o| o.iter().map(String::as_str).collect()),
            ),
            (
                self.value_column,
                match self.related {
                    Related::Only(values) => Some(values.clone()),
                    _ => None,
                },
            ),
        ];
        for (column, values) in lists {
            let Some(values) = values else { continue };
            q.push(format!(" AND {column} IN ("));
            let mut list = q.separated(", ");
            for value in values {
                list.push_bind(value.to_owned());
            }
            list.push_unseparated(")");
        }
        q.push(" ORDER BY ").push(self.order);
        let pairs: Vec<(String, String, String)> = q.build_query_as().fetch_all(pool).await?;
        Ok(grouped(pairs))
    }
}

/// The groups of the people `users` lists (every person when `None`),
/// by user id.
async fn groups_of_users(
    pool: &sqlx::Pool<Db>,
    users: Option<&[String]>,
    related: &Related<'_>,
) -> StoreResult<HashMap<String, Vec<Ref>>> {
    RefQuery {
        select: "SELECT m.user_id, g.id, g.display_name FROM scim_group_members m
                 JOIN scim_groups g ON g.id = m.group_id",
        owner_column: "m.user_id",
        value_column: "m.group_id",
        order: "g.display_name",
        owners: users,
        related,
    }
    .fetch(pool)
    .await
}

/// The members of the groups `groups` lists (every group when `None`), by
/// group id.
async fn members_of_groups(
    pool: &sqlx::Pool<Db>,
    groups: Option<&[String]>,
    related: &Related<'_>,
) -> StoreResult<HashMap<String, Vec<Ref>>> {
    RefQuery {
        select: "SELECT m.group_id, u.id, COALESCE(m.display, u.display_name)
                 FROM scim_group_members m JOIN users u ON u.id = m.user_id",
        owner_column: "m.group_id",
        value_column: "m.user_id",
        order: "u.username",
        owners: groups,
        related,
    }
    .fetch(pool)
    .await
}

/// Up to this many ids are read by name (`IN (…)`); past it, every
/// membership is read once instead of binding thousands of values.
const LISTED_IDS: usize = 500;

/// `rows`' ids when there are few enough to list, else `None` (all).
fn listed(rows: &[<Db as sqlx::Database>::Row]) -> StoreResult<Option<Vec<String>>> {
    if rows.len() > LISTED_IDS {
        return Ok(None);
    }
    Ok(Some(
        rows.iter()
            .map(|row| row.try_get("id"))
            .collect::<Result<_, _>>()?,
    ))
}

/// `LIMIT` and `OFFSET` values for `window` (SQL has no "no limit" both
/// databases take as a bound value, so the largest integer stands in).
fn bounds(window: Window) -> (i64, i64) {
    let clamp = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    (window.limit.map_or(i64::MAX, clamp), clamp(window.offset))
}

/// The `WHERE` condition finding what `key` names (its value is `$1`).
fn key_condition(key: Narrowing<'_>, id: &str, name: &str, external: &str) -> (String, String) {
    match key {
        Narrowing::Id(v) => (format!("{id} = $1"), v.to_owned()),
        Narrowing::Name(v) => (format!("lower({name}) = lower($1)"), v.to_owned()),
        Narrowing::ExternalId(v) => (format!("{external} = $1"), v.to_owned()),
    }
}

impl Adapter {
    /// `rows` (of users) with as many of their groups as `related` asks.
    async fn users_with_groups(
        &self,
        rows: Vec<<Db as sqlx::Database>::Row>,
        related: &Related<'_>,
    ) -> StoreResult<Vec<ScimUserRow>> {
        let mut groups = match related {
            Related::Skip => HashMap::new(),
            _ if rows.is_empty() => HashMap::new(),
            _ => groups_of_users(&self.pool, listed(&rows)?.as_deref(), related).await?,
        };
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                user_row(row, groups.remove(&id).unwrap_or_default())
            })
            .collect()
    }

    /// `rows` (of groups) with as many of their members as `related` asks.
    async fn groups_with_members(
        &self,
        rows: Vec<<Db as sqlx::Database>::Row>,
        related: &Related<'_>,
    ) -> StoreResult<Vec<ScimGroupRow>> {
        let mut members = match related {
            Related::Skip => HashMap::new(),
            _ if rows.is_empty() => HashMap::new(),
            _ => members_of_groups(&self.pool, listed(&rows)?.as_deref(), related).await?,
        };
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                group_row(row, members.remove(&id).unwrap_or_default())
            })
            .collect()
    }
}

const GROUP_COLUMNS: &str = "id, resource, version, created_at, updated_at";

#[async_trait]
impl ScimStore for Adapter {
    async fn scim_users(
        &self,
        window: Window,
        related: &Related<'_>,
    ) -> StoreResult<Vec<ScimUserRow>> {
        let (limit, offset) = bounds(window);
        // The page starts at the username `offset` places down
        // `users_scim_username`, found from the index alone; then only the
        // page's rows are read. (`OFFSET` on the rows themselves reads
        // every row it passes over: 30 ms half-way down 100,000 people on
        // PostgreSQL.)
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users
             WHERE scim_resource IS NOT NULL AND username >= (
                 SELECT username FROM users WHERE scim_resource IS NOT NULL
                 ORDER BY username LIMIT 1 OFFSET $2)
             ORDER BY username LIMIT $1"
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        self.users_with_groups(rows, related).await
    }

    async fn scim_user_count(&self) -> StoreResult<usize> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE scim_resource IS NOT NULL")
                .fetch_one(&self.pool)
                .await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    async fn scim_memberships(&self) -> StoreResult<HashMap<String, Vec<Ref>>> {
        groups_of_users(&self.pool, None, &Related::All).await
    }

    async fn scim_users_by(
        &self,
        key: Narrowing<'_>,
        related: &Related<'_>,
    ) -> StoreResult<Vec<ScimUserRow>> {
        let (condition, value) = key_condition(key, "id", "username", "external_id");
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users
             WHERE {condition} AND scim_resource IS NOT NULL ORDER BY username"
        ))
        .bind(value)
        .fetch_all(&self.pool)
        .await?;
        self.users_with_groups(rows, related).await
    }

    async fn scim_groups(
        &self,
        window: Window,
        related: &Related<'_>,
    ) -> StoreResult<Vec<ScimGroupRow>> {
        let (limit, offset) = bounds(window);
        let rows = sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM scim_groups ORDER BY display_name LIMIT $1 OFFSET $2"
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        self.groups_with_members(rows, related).await
    }

    async fn scim_group_count(&self) -> StoreResult<usize> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM scim_groups")
            .fetch_one(&self.pool)
            .await?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    async fn scim_groups_by(
        &self,
        key: Narrowing<'_>,
        related: &Related<'_>,
    ) -> StoreResult<Vec<ScimGroupRow>> {
        let (condition, value) = key_condition(key, "id", "display_name", "external_id");
        let rows = sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM scim_groups WHERE {condition} ORDER BY display_name"
        ))
        .bind(value)
        .fetch_all(&self.pool)
        .await?;
        self.groups_with_members(rows, related).await
    }

    async fn scim_write(
        &self,
        write: ScimWrite<'_>,
        mapping: &RoleMapping,
        now: DateTime<Utc>,
        audit: ScimRecord,
    ) -> StoreResult<ScimWritten> {
        let mut tx = begin_write(&self.writes).await?;
        let outcome = async {
            match write {
                ScimWrite::CreateUser(fields) => create_user(&mut tx, fields, now).await,
                ScimWrite::ReplaceUser {
                    id,
                    version,
                    fields,
                } => replace_user(&mut tx, id, version, fields, now).await,
                ScimWrite::DeleteUser { id } => delete_user(&mut tx, id, now).await,
                ScimWrite::CreateGroup(fields) => create_group(&mut tx, fields, now).await,
                ScimWrite::ReplaceGroup {
                    id,
                    version,
                    fields,
                } => replace_group(&mut tx, id, version, fields, now).await,
                ScimWrite::DeleteGroup { id } => delete_group(&mut tx, id).await,
            }
        }
        .await;
        // The checks above read before writing; on PostgreSQL a concurrent
        // transaction can still take the same name first, and the unique
        // index answers. The transaction is dropped, so nothing changed.
        let outcome = match outcome {
            Err(e) if e.is_unique_violation() => return Ok(ScimWritten::Taken),
            other => other?,
        };
        let ScimWritten::Done { id } = &outcome.written else {
            return Ok(outcome.written);
        };
        let touched: BTreeSet<&String> = outcome.touched.iter().collect();
        for user in touched {
            recompute_grants(&mut tx, user, mapping).await?;
        }
        append_in(&mut tx, audit(id)).await?;
        tx.commit().await?;
        Ok(outcome.written)
    }
}

/// An account with this username, case aside: `(id, source, managed)`.
async fn by_username(
    tx: &mut Tx,
    username: &str,
    except: &str,
) -> StoreResult<Option<(String, String, bool)>> {
    Ok(sqlx::query_as(
        "SELECT id, source, scim_resource IS NOT NULL FROM users
         WHERE lower(username) = lower($1) AND id <> $2",
    )
    .bind(username)
    .bind(except)
    .fetch_optional(&mut **tx)
    .await?)
}

async fn create_user(tx: &mut Tx, f: UserFields<'_>, now: DateTime<Utc>) -> StoreResult<Outcome> {
    let adopt = match by_username(tx, f.username, "").await? {
        Some((_, source, managed)) if managed || source == "dev" => {
            return Outcome::refused(ScimWritten::Taken);
        }
        Some((id, _, _)) => Some(id),
        None => match f.email {
            Some(email) => {
                sqlx::query_scalar(
                    "SELECT id FROM users
                 WHERE lower(email) = lower($1) AND scim_resource IS NULL AND source <> 'dev'
                 ORDER BY created_at LIMIT 1",
                )
                .bind(email)
                .fetch_optional(&mut **tx)
                .await?
            }
            None => None,
        },
    };
    let id = match adopt {
        Some(id) => {
            // Adopted inactive: whatever sessions it had end now.
            write_user(tx, &id, f, now, !f.active).await?;
            id
        }
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            sqlx::query(
                "INSERT INTO users (id, username, display_name, email, source, disabled, created_at,
                                    updated_at, external_id, scim_resource, scim_version, provisioned_at)
                 VALUES ($1, $2, $3, $4, 'scim', $5, $6, $6, $7, $8, 1, $6)",
            )
            .bind(&id)
            .bind(f.username)
            .bind(f.display_name)
            .bind(f.email)
            .bind(!f.active)
            .bind(now)
            .bind(f.external_id)
            .bind(Json(f.resource))
            .execute(&mut **tx)
            .await?;
            id
        }
    };
    // Managed now: their group grants come from provisioned groups only.
    Outcome::done(id.clone(), vec![id])
}

/// `(version, disabled)` of a person the provider manages.
async fn managed_user(tx: &mut Tx, id: &str) -> StoreResult<Option<(i64, bool)>> {
    Ok(sqlx::query_as(
        "SELECT scim_version, disabled FROM users WHERE id = $1 AND scim_resource IS NOT NULL",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?)
}

async fn replace_user(
    tx: &mut Tx,
    id: &str,
    version: i64,
    f: UserFields<'_>,
    now: DateTime<Utc>,
) -> StoreResult<Outcome> {
    let Some((current, disabled)) = managed_user(tx, id).await? else {
        return Outcome::refused(ScimWritten::NotFound);
    };
    if current != version {
        return Outcome::refused(ScimWritten::Stale);
    }
    if by_username(tx, f.username, id).await?.is_some() {
        return Outcome::refused(ScimWritten::Taken);
    }
    // Deactivating ends every session at once; reactivating revives none.
    write_user(tx, id, f, now, !f.active && !disabled).await?;
    Outcome::done(id.to_owned(), Vec::new())
}

/// Sets a managed person's row from their resource (a new version), ending
/// their sessions when `ends_sessions`.
async fn write_user(
    tx: &mut Tx,
    id: &str,
    f: UserFields<'_>,
    now: DateTime<Utc>,
    ends_sessions: bool,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE users SET username = $1, display_name = $2, email = $3, external_id = $4,
                scim_resource = $5, scim_version = scim_version + 1, provisioned_at = $6,
                updated_at = $6, disabled = $7,
                session_epoch = CASE WHEN $8 THEN session_epoch + 1 ELSE session_epoch END
         WHERE id = $9",
    )
    .bind(f.username)
    .bind(f.display_name)
    .bind(f.email)
    .bind(f.external_id)
    .bind(Json(f.resource))
    .bind(now)
    .bind(!f.active)
    .bind(ends_sessions)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn delete_user(tx: &mut Tx, id: &str, now: DateTime<Utc>) -> StoreResult<Outcome> {
    if managed_user(tx, id).await?.is_none() {
        return Outcome::refused(ScimWritten::NotFound);
    }
    // The account stays (the audit log names it), disabled and no longer
    // the provider's; provisioning it again adopts it by its username.
    sqlx::query(
        "UPDATE users SET scim_resource = NULL, disabled = TRUE, session_epoch = session_epoch + 1,
                provisioned_at = $1, updated_at = $1
         WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM scim_group_members WHERE user_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Outcome::done(id.to_owned(), vec![id.to_owned()])
}

/// Member ids that are not people the provider manages.
async fn unknown_members(
    tx: &mut Tx,
    members: &[(String, Option<String>)],
) -> StoreResult<Vec<String>> {
    let mut unknown = Vec::new();
    for (member, _) in members {
        let known: Option<String> =
            sqlx::query_scalar("SELECT id FROM users WHERE id = $1 AND scim_resource IS NOT NULL")
                .bind(member)
                .fetch_optional(&mut **tx)
                .await?;
        if known.is_none() {
            unknown.push(member.clone());
        }
    }
    Ok(unknown)
}

async fn group_named(tx: &mut Tx, name: &str, except: &str) -> StoreResult<bool> {
    let other: Option<String> = sqlx::query_scalar(
        "SELECT id FROM scim_groups WHERE lower(display_name) = lower($1) AND id <> $2",
    )
    .bind(name)
    .bind(except)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(other.is_some())
}

async fn set_members(
    tx: &mut Tx,
    group: &str,
    members: &[(String, Option<String>)],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM scim_group_members WHERE group_id = $1")
        .bind(group)
        .execute(&mut **tx)
        .await?;
    // One row per person: the first label given wins.
    let mut seen = BTreeSet::new();
    for (member, display) in members {
        if !seen.insert(member) {
            continue;
        }
        sqlx::query(
            "INSERT INTO scim_group_members (group_id, user_id, display) VALUES ($1, $2, $3)",
        )
        .bind(group)
        .bind(member)
        .bind(display)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn members_of(tx: &mut Tx, group: &str) -> StoreResult<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT user_id FROM scim_group_members WHERE group_id = $1")
            .bind(group)
            .fetch_all(&mut **tx)
            .await?,
    )
}

async fn create_group(tx: &mut Tx, f: GroupFields<'_>, now: DateTime<Utc>) -> StoreResult<Outcome> {
    if group_named(tx, f.display_name, "").await? {
        return Outcome::refused(ScimWritten::Taken);
    }
    let unknown = unknown_members(tx, f.members).await?;
    if !unknown.is_empty() {
        return Outcome::refused(ScimWritten::UnknownMembers(unknown));
    }
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO scim_groups (id, display_name, external_id, resource, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 1, $5, $5)",
    )
    .bind(&id)
    .bind(f.display_name)
    .bind(f.external_id)
    .bind(Json(f.resource))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    set_members(tx, &id, f.members).await?;
    Outcome::done(id, f.members.iter().map(|(m, _)| m.clone()).collect())
}

async fn replace_group(
    tx: &mut Tx,
    id: &str,
    version: i64,
    f: GroupFields<'_>,
    now: DateTime<Utc>,
) -> StoreResult<Outcome> {
    let current: Option<i64> = sqlx::query_scalar("SELECT version FROM scim_groups WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    match current {
        None => return Outcome::refused(ScimWritten::NotFound),
        Some(v) if v != version => return Outcome::refused(ScimWritten::Stale),
        Some(_) => {}
    }
    if group_named(tx, f.display_name, id).await? {
        return Outcome::refused(ScimWritten::Taken);
    }
    let unknown = unknown_members(tx, f.members).await?;
    if !unknown.is_empty() {
        return Outcome::refused(ScimWritten::UnknownMembers(unknown));
    }
    let mut touched = members_of(tx, id).await?;
    sqlx::query(
        "UPDATE scim_groups SET display_name = $1, external_id = $2, resource = $3,
                version = version + 1, updated_at = $4
         WHERE id = $5",
    )
    .bind(f.display_name)
    .bind(f.external_id)
    .bind(Json(f.resource))
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    set_members(tx, id, f.members).await?;
    touched.extend(f.members.iter().map(|(m, _)| m.clone()));
    Outcome::done(id.to_owned(), touched)
}

async fn delete_group(tx: &mut Tx, id: &str) -> StoreResult<Outcome> {
    let touched = members_of(tx, id).await?;
    let deleted = sqlx::query("DELETE FROM scim_groups WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    if deleted.rows_affected() == 0 {
        return Outcome::refused(ScimWritten::NotFound);
    }
    Outcome::done(id.to_owned(), touched)
}

/// Replaces a person's `group:…` grants with what their provisioned groups
/// give. A group counts under its display name and its externalId (Entra
/// ID puts the group's object id there, the value its ID tokens carry).
async fn recompute_grants(tx: &mut Tx, user: &str, mapping: &RoleMapping) -> StoreResult<()> {
    let groups: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT g.display_name, g.external_id FROM scim_group_members m
         JOIN scim_groups g ON g.id = m.group_id WHERE m.user_id = $1",
    )
    .bind(user)
    .fetch_all(&mut **tx)
    .await?;
    let names: Vec<String> = groups
        .into_iter()
        .flat_map(|(name, external)| std::iter::once(name).chain(external))
        .collect();
    sqlx::query("DELETE FROM role_grants WHERE user_id = $1 AND source LIKE 'group:%'")
        .bind(user)
        .execute(&mut **tx)
        .await?;
    let grants: BTreeSet<(String, String, String)> = mapping
        .grants_for(&names)
        .into_iter()
        .map(|g| (g.role.as_str().to_owned(), g.scope.to_string(), g.source))
        .collect();
    for (role, environment, source) in grants {
        sqlx::query(
            "INSERT INTO role_grants (user_id, role, environment, source) VALUES ($1, $2, $3, $4)",
        )
        .bind(user)
        .bind(role)
        .bind(environment)
        .bind(source)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
