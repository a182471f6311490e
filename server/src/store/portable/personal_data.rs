//! A person's rows across the database, exported or erased in one go. The
//! places are listed once ([`PLACES`]), from docs/privacy.md's inventory:
//! export and erasure can't disagree about where a person is.

use super::audit::{AUDIT_COLUMNS, append_in, records_from_rows};
use super::{Adapter, Db, begin_write};
use crate::store::StoreResult;
use crate::store::personal_data::Erasure;
use crate::store::personal_data::{PersonRows, PersonalDataStore};
use async_trait::async_trait;
use gantry_core::UserId;
use gantry_core::audit::{AuditEvent, AuditRecord, personal::ERASED};
use gantry_core::privacy::ErasureReport;
use serde_json::{Map, Value};
use sqlx::QueryBuilder;
use sqlx::{Column, Row};
use std::collections::BTreeMap;

type DbRow = <Db as sqlx::Database>::Row;
type Tx = crate::store::write_turn::WriteTx<Db>;

/// One table a person appears in, by the column holding their id.
struct Place {
    table: &'static str,
    /// The column holding the person's user id.
    by: &'static str,
    /// Columns holding their name or username: the pseudonym replaces them.
    names: &'static [&'static str],
    /// Columns of words they wrote: they read "[erased]" after.
    words: &'static [&'static str],
    /// Columns never exported (hashes of credentials).
    omit: &'static [&'static str],
    /// The name columns may hold a credential's label beside the person's
    /// id ("token NAME" when their token acted): replaced only where they
    /// hold one of the person's names.
    mixed: bool,
}

const fn place(table: &'static str, by: &'static str) -> Place {
    Place {
        table,
        by,
        names: &[],
        words: &[],
        omit: &[],
        mixed: false,
    }
}

/// Every table outside `users` and the audit log that names a person by
/// id, with what an erasure changes in it (docs/privacy.md's inventory).
/// A name column beside an id a token may fill ("token NAME" beside its
/// maker's id) is only replaced where it holds one of the person's names.
const PLACES: &[Place] = &[
    Place {
        names: &["triggered_by"],
        ..place("runs", "triggered_by_id")
    },
    Place {
        names: &["requested_by_name"],
        words: &["reason"],
        ..place("approval_requests", "requested_by_id")
    },
    Place {
        words: &["reason"],
        ..place("approval_requests", "requested_by_person")
    },
    Place {
        names: &["decided_by_name"],
        words: &["comment"],
        ..place("approval_requests", "decided_by_id")
    },
    Place {
        names: &["made_by_person_name"],
        omit: &["token_hash"],
        ..place("api_tokens", "made_by_person")
    },
    Place {
        names: &["created_by"],
        mixed: true,
        ..place("workflow_versions", "created_by_person")
    },
    Place {
        names: &["updated_by_name"],
        ..place("environment_policies", "updated_by_id")
    },
    Place {
        names: &["requested_by_name"],
        words: &["reason"],
        ..place("promotion_requests", "requested_by_id")
    },
    Place {
        names: &["decided_by_name"],
        words: &["comment"],
        ..place("promotion_requests", "decided_by_id")
    },
    Place {
        names: &["by_name"],
        words: &["comment"],
        ..place("promotion_approvals", "by_id")
    },
    Place {
        names: &["on_behalf_of_name"],
        ..place("promotion_approvals", "on_behalf_of_id")
    },
    Place {
        names: &["by_name"],
        words: &["evidence"],
        ..place("promotion_ticks", "by_id")
    },
    Place {
        names: &["from_name"],
        ..place("approval_delegations", "from_id")
    },
    Place {
        names: &["to_name"],
        ..place("approval_delegations", "to_id")
    },
    Place {
        names: &["actor_name"],
        words: &["reason"],
        mixed: true,
        ..place("deployments", "actor_id")
    },
    Place {
        names: &["started_by_name"],
        ..place("canaries", "started_by_id")
    },
    Place {
        names: &["created_by_name"],
        words: &["reason"],
        ..place("freeze_windows", "created_by_id")
    },
    Place {
        names: &["deleted_by_name"],
        ..place("freeze_windows", "deleted_by_id")
    },
    Place {
        names: &["by_name"],
        words: &["reason"],
        ..place("freeze_breaks", "by_id")
    },
    Place {
        names: &["reviewed_by_name"],
        words: &["review_comment"],
        ..place("freeze_breaks", "reviewed_by_id")
    },
    Place {
        names: &["display"],
        ..place("scim_group_members", "user_id")
    },
    place("role_grants", "user_id"),
    // Break-glass passkeys: exported without the key; erasure deletes
    // them (below), an erased account signs in no more.
    Place {
        omit: &["credential", "credential_id"],
        ..place("passkeys", "user_id")
    },
];

/// Columns holding a name with no id beside it: replaced where they equal
/// one of the person's names that no other account has now.
const NAMED_ONLY: &[(&str, &str)] = &[
    ("api_tokens", "created_by"),
    ("api_tokens", "revoked_by"),
    ("runs", "attention_closed_by"),
    ("workflow_environments", "activated_by"),
    ("bundle_imports", "imported_by"),
    ("alert_rules", "created_by"),
    ("alert_channels", "created_by"),
    ("alert_silences", "created_by"),
    ("webhooks", "created_by"),
    ("rate_limit_overrides", "created_by"),
];

/// JSON columns holding people as `{"id":…,"name":…}` (the ledger's
/// approvers, checklist and freeze break).
const PEOPLE_IN_JSON: &[(&str, &str)] = &[
    ("deployments", "approvers"),
    ("deployments", "checklist"),
    ("deployments", "freeze_break"),
];

/// Prose that quotes a name after "by " ("paused by NAME", "ticked by
/// NAME", "sent by NAME") or before an act ("NAME created token …").
const PROSE: &[(&str, &str)] = &[
    ("canaries", "why"),
    ("deployments", "reason"),
    ("deployments", "checklist"),
    ("alert_instances", "summary"),
    ("alert_transitions", "summary"),
    ("alert_notifications", "body"),
    ("alert_notifications", "request"),
];
const BEFORE_NAME: &[&str] = &["by "];
const AFTER_NAME: &[&str] = &[
    " created token",
    " broke the freeze",
    " changed the promotion policy",
    "'s rollback",
];

/// A column's value as JSON, whatever its type in either database.
fn cell(row: &DbRow, i: usize) -> Value {
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return v.map_or(Value::Null, Value::String);
    }
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    if let Ok(v) = row.try_get::<Option<i32>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    if let Ok(v) = row.try_get::<Option<chrono::DateTime<chrono::Utc>>, _>(i) {
        return v.map_or(Value::Null, |t| Value::String(t.to_rfc3339()));
    }
    if let Ok(v) = row.try_get::<Option<Value>, _>(i) {
        return v.unwrap_or(Value::Null);
    }
    Value::String("(a value of a type this export can't show)".into())
}

fn row_json(row: &DbRow, omit: &[&str]) -> Map<String, Value> {
    row.columns()
        .iter()
        .filter(|c| !omit.contains(&c.name()))
        .map(|c| (c.name().to_owned(), cell(row, c.ordinal())))
        .collect()
}

#[async_trait]
impl PersonalDataStore for Adapter {
    async fn person_rows(&self, user: &UserId) -> StoreResult<PersonRows> {
        let mut out = PersonRows::new();
        for p in PLACES {
            let rows = sqlx::query(&format!(
                "SELECT * FROM {} WHERE {} = $1 ORDER BY 1",
                p.table, p.by
            ))
            .bind(&user.0)
            .fetch_all(&self.pool)
            .await?;
            if !rows.is_empty() {
                out.entry(p.table.to_owned())
                    .or_default()
                    .extend(rows.iter().map(|r| row_json(r, p.omit)));
            }
        }
        // Sessions: when each ends, never its id or contents.
        let sessions = sqlx::query(
            "SELECT expiry_date FROM sessions WHERE data LIKE '%' || $1 || '%' ORDER BY 1",
        )
        .bind(&user.0)
        .fetch_all(&self.pool)
        .await?;
        if !sessions.is_empty() {
            out.insert(
                "sessions".into(),
                sessions.iter().map(|r| row_json(r, &[])).collect(),
            );
        }
        Ok(out)
    }

    async fn person_audit_records(
        &self,
        user: &UserId,
        limit: usize,
    ) -> StoreResult<Vec<AuditRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log
             WHERE actor_id = $1
                OR seq IN (SELECT seq FROM audit_personal WHERE subject = $1)
             ORDER BY seq LIMIT $2"
        ))
        .bind(&user.0)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        records_from_rows(&rows, &mut *self.pool.acquire().await?).await
    }

    async fn erase_person(
        &self,
        user: &UserId,
        pseudonym: &str,
        event: AuditEvent,
    ) -> StoreResult<Erasure> {
        let mut tx = begin_write(&self.writes).await?;
        let account =
            sqlx::query("SELECT username, display_name, email, disabled FROM users WHERE id = $1")
                .bind(&user.0)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(account) = account else {
            return Ok(Erasure::StillEnabled);
        };
        if !account.try_get::<bool, _>("disabled")? {
            return Ok(Erasure::StillEnabled);
        }
        let unconverted: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE format = 1 AND actor_id = $1")
                .bind(&user.0)
                .fetch_one(&mut *tx)
                .await?;
        if unconverted > 0 {
            return Ok(Erasure::Unconverted(
                u64::try_from(unconverted).unwrap_or(0),
            ));
        }
        let known = known_names(&mut tx, user, &account, pseudonym).await?;
        let mut rows: BTreeMap<String, u64> = BTreeMap::new();
        let mut count = |table: &str, n: u64| {
            if n > 0 {
                *rows.entry(table.to_owned()).or_default() += n;
            }
        };
        for p in PLACES {
            for column in p.names {
                let n = if p.mixed && known.all.is_empty() {
                    // An account erased before: no name of theirs is left.
                    0
                } else if p.mixed {
                    let mut q =
                        QueryBuilder::<Db>::new(format!("UPDATE {} SET {column} = ", p.table));
                    q.push_bind(pseudonym)
                        .push(format!(" WHERE {} = ", p.by))
                        .push_bind(&user.0)
                        .push(format!(" AND {column} IN ("));
                    let mut list = q.separated(", ");
                    for name in &known.all {
                        list.push_bind(name.as_str());
                    }
                    q.push(")");
                    q.build().execute(&mut *tx).await?.rows_affected()
                } else {
                    sqlx::query(&format!(
                        "UPDATE {} SET {column} = $1 WHERE {} = $2 AND {column} <> $1",
                        p.table, p.by
                    ))
                    .bind(pseudonym)
                    .bind(&user.0)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                };
                count(p.table, n);
            }
            for column in p.words {
                let n = sqlx::query(&format!(
                    "UPDATE {} SET {column} = $1 WHERE {} = $2 AND {column} NOT IN ('', $1)",
                    p.table, p.by
                ))
                .bind(ERASED)
                .bind(&user.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                count(p.table, n);
            }
        }
        for name in &known.unshared {
            for (table, column) in NAMED_ONLY {
                let n = sqlx::query(&format!(
                    "UPDATE {table} SET {column} = $1 WHERE {column} = $2"
                ))
                .bind(pseudonym)
                .bind(name)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                count(table, n);
            }
            for (table, column) in PROSE {
                let mut n = 0;
                for before in BEFORE_NAME {
                    n += replace_in(
                        &mut tx,
                        table,
                        column,
                        &format!("{before}{name}"),
                        &format!("{before}{pseudonym}"),
                    )
                    .await?;
                }
                for after in AFTER_NAME {
                    n += replace_in(
                        &mut tx,
                        table,
                        column,
                        &format!("{name}{after}"),
                        &format!("{pseudonym}{after}"),
                    )
                    .await?;
                }
                count(table, n);
            }
        }
        // People in the ledger's JSON, as serde writes a person.
        let id_json = serde_json::to_string(&user.0).unwrap_or_default();
        for name in &known.all {
            let name_json = serde_json::to_string(name).unwrap_or_default();
            let from = format!("\"id\":{id_json},\"name\":{name_json}");
            let to = format!(
                "\"id\":{id_json},\"name\":{}",
                serde_json::to_string(pseudonym).unwrap_or_default()
            );
            for (table, column) in PEOPLE_IN_JSON {
                let n = replace_in(&mut tx, table, column, &from, &to).await?;
                count(table, n);
            }
        }
        count("users", erase_account(&mut tx, user, pseudonym).await?);
        let sessions = sqlx::query("DELETE FROM sessions WHERE data LIKE $1")
            .bind(format!("%\"user_id\":{id_json}%"))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        count("sessions", sessions);
        let passkeys = sqlx::query("DELETE FROM passkeys WHERE user_id = $1")
            .bind(&user.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        count("passkeys", passkeys);
        let buckets = sqlx::query("DELETE FROM rate_limit_buckets WHERE key LIKE $1")
            .bind(format!("%:principal:{}", user.0))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        count("rate_limit_buckets", buckets);
        let audit_fields = sqlx::query("DELETE FROM audit_personal WHERE subject = $1")
            .bind(&user.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let record = append_in(
            &mut tx,
            event
                .detail("rows", serde_json::to_value(&rows).unwrap_or_default())
                .detail("audit_fields_erased", audit_fields)
                .detail(
                    "names_shared_with_others",
                    known.all.len() - known.unshared.len(),
                ),
        )
        .await?;
        tx.commit().await?;
        Ok(Erasure::Done(ErasureReport {
            user_id: user.0.clone(),
            pseudonym: pseudonym.to_owned(),
            rows,
            audit_fields_erased: audit_fields,
            audit_seq: record.seq,
        }))
    }
}

/// Every name the person has been written under: the account's, those
/// sealed in the audit log, and those beside their id in person-only
/// columns. `unshared` leaves out names another account has now (a match
/// on a name alone would hit them).
struct KnownNames {
    all: Vec<String>,
    unshared: Vec<String>,
}

async fn known_names(
    tx: &mut Tx,
    user: &UserId,
    account: &DbRow,
    pseudonym: &str,
) -> StoreResult<KnownNames> {
    let mut names = std::collections::BTreeSet::new();
    for column in ["username", "display_name", "email"] {
        if let Some(v) = account.try_get::<Option<String>, _>(column)? {
            names.insert(v);
        }
    }
    let sealed: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT value FROM audit_personal
         WHERE subject = $1 AND field IN ('actor.name', 'details.requested_by', 'details.username', 'details.userName')",
    )
    .bind(&user.0)
    .fetch_all(&mut **tx)
    .await?;
    names.extend(
        sealed
            .iter()
            .filter_map(|v| serde_json::from_str::<Value>(v).ok())
            .filter_map(|v| v.as_str().map(str::to_owned)),
    );
    for p in PLACES.iter().filter(|p| !p.mixed) {
        for column in p.names {
            let found: Vec<Option<String>> = sqlx::query_scalar(&format!(
                "SELECT DISTINCT {column} FROM {} WHERE {} = $1",
                p.table, p.by
            ))
            .bind(&user.0)
            .fetch_all(&mut **tx)
            .await?;
            names.extend(found.into_iter().flatten());
        }
    }
    names.retain(|n| !n.trim().is_empty() && n != pseudonym && n != ERASED);
    let mut unshared = Vec::new();
    for name in &names {
        let others: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE id <> $1 AND (display_name = $2 OR username = $2)",
        )
        .bind(&user.0)
        .bind(name)
        .fetch_one(&mut **tx)
        .await?;
        if others == 0 {
            unshared.push(name.clone());
        }
    }
    Ok(KnownNames {
        all: names.into_iter().collect(),
        unshared,
    })
}

/// `REPLACE` of `from` by `to` in one text column, where it occurs.
async fn replace_in(
    tx: &mut Tx,
    table: &str,
    column: &str,
    from: &str,
    to: &str,
) -> StoreResult<u64> {
    let sql = format!(
        "UPDATE {table} SET {column} = REPLACE({column}, $1, $2) \
         WHERE {column} LIKE $3 ESCAPE '\\'"
    );
    Ok(sqlx::query(&sql)
        .bind(from)
        .bind(to)
        .bind(format!("%{}%", like_escape(from)))
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

/// LIKE's wildcards in `text` taken literally.
fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The account itself: names and e-mail become the pseudonym, what ties
/// it to the identity provider goes, and a SCIM resource keeps only what
/// says the account is not active.
async fn erase_account(tx: &mut Tx, user: &UserId, pseudonym: &str) -> StoreResult<u64> {
    let n = sqlx::query(
        "UPDATE users SET username = $1, display_name = $1, email = NULL, external_id = NULL,
                oidc_subject = NULL, oidc_issuer = NULL, preferences = '{}'
         WHERE id = $2",
    )
    .bind(pseudonym)
    .bind(&user.0)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    sqlx::query("UPDATE users SET scim_resource = $1 WHERE id = $2 AND scim_resource IS NOT NULL")
        .bind(serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": pseudonym,
            "displayName": pseudonym,
            "active": false,
        }))
        .bind(&user.0)
        .execute(&mut **tx)
        .await?;
    Ok(n)
}
